"""The working-day calendar as stored in the database, and how it is seeded.

Seeding takes each year from ``chinese-calendar`` (which carries the State
Council's schedule, 调休 included, up to its last release) and cross-checks it
against ``holidays``. Years past ``chinese-calendar``'s data get the festivals
``holidays`` can compute from the lunar calendar, but stay *provisional* until
an admin enters the official schedule and ticks the year official — which
recomputes every open provisional deadline
(``hotline.services.assignments.recompute_provisional_deadlines``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date

import chinese_calendar  # the chinesecalendar package
import holidays as holidays_pkg
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from hotline.lib.workcal import WorkCalendar
from hotline.models import CalendarDay, CalendarYear


def _chinese(name: object) -> str:
    """chinese-calendar names its days in English ("Spring Festival"); its Holiday enum knows the Chinese."""
    try:
        return chinese_calendar.constants.Holiday(str(name)).chinese
    except ValueError:
        return str(name)


def load_calendar() -> WorkCalendar:
    """The calendar from the database, with computed festivals for years not stored at all."""
    holidays: set[date] = set()
    workdays: set[date] = set()
    for day, kind in CalendarDay.objects.values_list("date", "kind"):
        (holidays if kind == CalendarDay.Kind.HOLIDAY else workdays).add(day)
    years = dict(CalendarYear.objects.values_list("year", "official"))
    this_year = timezone.localdate().year
    for year in range(this_year - 1, this_year + 4):
        if year not in years:
            holidays |= _computed_festivals(year)
    return WorkCalendar.build(
        holidays,
        workdays,
        [year for year, official in years.items() if official],
        tz=settings.TIME_ZONE,
        office_hours=settings.HOTLINE_OFFICE_HOURS,
    )


@functools.lru_cache(maxsize=32)
def _computed_festivals(year: int) -> frozenset[date]:
    """Festivals ``holidays`` computes for a year nobody has entered (lunar dates, no 调休)."""
    return frozenset(holidays_pkg.country_holidays("CN", years=year).keys())


@dataclass
class SeedReport:
    year: int
    official: bool
    source: str
    holidays: int = 0
    workdays: int = 0
    disagreements: list[str] = field(default_factory=list)


def _package_offdays(year: int) -> set[date]:
    """Days off per ``holidays``: weekends and holidays, minus its weekend workdays."""
    # Names in Chinese: the admin and the consoles show them to Chinese staff (holidays' zh_CN, and
    # chinese-calendar's own Chinese name for its English one).
    cn = holidays_pkg.country_holidays("CN", years=year, language="zh_CN")
    workdays = {d for d in getattr(cn, "weekend_workdays", set()) if d.year == year}
    days = {date.fromordinal(o) for o in range(date(year, 1, 1).toordinal(), date(year, 12, 31).toordinal() + 1)}
    return {d for d in days if (d.weekday() >= 5 or d in cn) and d not in workdays}


def seed_year(year: int) -> SeedReport:
    """Fill one year from the packages. A year already marked official is left alone."""
    existing = CalendarYear.objects.filter(year=year).first()
    if existing and existing.official and existing.source.startswith("admin"):
        return SeedReport(year, True, existing.source)
    # Names in Chinese: the admin and the consoles show them to Chinese staff (holidays' zh_CN, and
    # chinese-calendar's own Chinese name for its English one).
    cn = holidays_pkg.country_holidays("CN", years=year, language="zh_CN")
    entries: dict[date, tuple[str, str, str]] = {}
    report: SeedReport
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
        covered = True
    except NotImplementedError:  # a year past the package's data
        covered = False
    if covered:
        source = f"chinese-calendar {chinese_calendar.__version__}"
        report = SeedReport(year, True, source)
        for day, name in chinese_calendar.holidays.items():
            if day.year == year:
                entries[day] = (CalendarDay.Kind.HOLIDAY, str(cn.get(day) or _chinese(name)), "chinese-calendar")
        for day, name in chinese_calendar.workdays.items():
            if day.year == year and day.weekday() >= 5:
                entries[day] = (CalendarDay.Kind.WORKDAY, f"{_chinese(name)}调休上班", "chinese-calendar")
        cc_off = {
            date.fromordinal(o)
            for o in range(date(year, 1, 1).toordinal(), date(year, 12, 31).toordinal() + 1)
            if not chinese_calendar.is_workday(date.fromordinal(o))
        }
        pkg_off = _package_offdays(year)
        for day in sorted(cc_off ^ pkg_off):
            side = "chinese-calendar" if day in cc_off else "holidays"
            report.disagreements.append(f"{day}: a day off only according to {side}")
    else:
        source = f"holidays {holidays_pkg.__version__} (computed festivals, no 调休)"
        report = SeedReport(year, False, source)
        for day, name in cn.items():
            entries[day] = (CalendarDay.Kind.HOLIDAY, str(name), "holidays")
    with transaction.atomic():
        CalendarDay.objects.filter(date__year=year).exclude(source="admin").delete()
        admin_days = set(CalendarDay.objects.filter(date__year=year).values_list("date", flat=True))
        CalendarDay.objects.bulk_create(
            CalendarDay(date=day, kind=kind, name=name[:64], source=src)
            for day, (kind, name, src) in sorted(entries.items())
            if day not in admin_days
        )
        CalendarYear.objects.update_or_create(year=year, defaults={"official": report.official, "source": source})
    report.holidays = sum(1 for k, _n, _s in entries.values() if k == CalendarDay.Kind.HOLIDAY)
    report.workdays = len(entries) - report.holidays
    return report


def provisional_years(horizon: int = 1) -> list[int]:
    """Years from now to ``horizon`` years ahead without an official schedule (admins are warned)."""
    this_year = timezone.localdate().year
    official = set(CalendarYear.objects.filter(official=True).values_list("year", flat=True))
    return [y for y in range(this_year, this_year + horizon + 1) if y not in official]
