"""Working-day arithmetic on the Chinese calendar.

A ``WorkCalendar`` knows the exceptions to the Monday–Friday week (statutory
holidays on weekdays, weekend days made workdays by 调休) and which years are
*official*. Arithmetic that touches a non-official year still answers — with
weekends plus whatever holidays are known — and says so through ``provisional``.

Deadlines are in local time (Asia/Shanghai): "N working days" ends at the close
of the Nth working day after the start day; "N working hours" counts office
hours only — one or more spans a day, so a lunch break does not count.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Deadline:
    at: datetime
    provisional: bool


@dataclass
class WorkCalendar:
    holidays: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)
    official_years: frozenset[int] = field(default_factory=frozenset)
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    # The day's office spans in order, e.g. ((08:30, 12:00), (14:00, 17:30)) for a lunch break.
    office_spans: tuple[tuple[time, time], ...] = ((time(8, 30), time(17, 30)),)

    @classmethod
    def build(
        cls,
        holidays: Iterable[date],
        workdays: Iterable[date],
        official_years: Iterable[int],
        tz: str = "Asia/Shanghai",
        office_hours: str = "08:30-17:30",
    ) -> WorkCalendar:
        spans = parse_office_hours(office_hours)
        return cls(frozenset(holidays), frozenset(workdays), frozenset(official_years), ZoneInfo(tz), spans)

    def is_workday(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def add_working_days(self, start: date, days: int) -> tuple[date, bool]:
        """The date that is ``days`` working days after ``start`` (start itself not counted).

        Returns (date, provisional): provisional when any day walked over lies in
        a year without an official schedule.
        """
        if days < 0:
            raise ValueError("days must be >= 0")
        provisional = start.year not in self.official_years
        day = start
        remaining = days
        while remaining:
            day += timedelta(days=1)
            provisional |= day.year not in self.official_years
            if self.is_workday(day):
                remaining -= 1
        return day, provisional

    def days_deadline(self, start: datetime, days: int) -> Deadline:
        """End of the Nth working day after ``start`` (an aware datetime)."""
        local = start.astimezone(self.tz)
        day, provisional = self.add_working_days(local.date(), days)
        end = datetime.combine(day, time(23, 59, 59), tzinfo=self.tz)
        return Deadline(end.astimezone(ZoneInfo("UTC")), provisional)

    def hours_deadline(self, start: datetime, hours: int) -> Deadline:
        """``hours`` office hours after ``start``; time outside the office spans (nights, breaks) does not count."""
        if hours < 0:
            raise ValueError("hours must be >= 0")
        local = start.astimezone(self.tz)
        provisional = local.year not in self.official_years
        remaining = timedelta(hours=hours)
        cursor = local
        # Never loop forever on a calendar with no working day: a year has ~250.
        for _ in range(3660):
            day = cursor.date()
            provisional |= day.year not in self.official_years
            if self.is_workday(day):
                for span_start, span_end in self.office_spans:
                    opens = datetime.combine(day, span_start, tzinfo=self.tz)
                    closes = datetime.combine(day, span_end, tzinfo=self.tz)
                    if cursor >= closes:
                        continue
                    begin = max(cursor, opens)
                    available = closes - begin
                    if remaining <= available:
                        return Deadline((begin + remaining).astimezone(ZoneInfo("UTC")), provisional)
                    remaining -= available
            cursor = datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=self.tz)
        raise ValueError("no working time found within ten years")

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]; negative when end is before start."""
        if end < start:
            return -self.working_days_between(end, start)
        count = 0
        day = start
        while day < end:
            day += timedelta(days=1)
            count += self.is_workday(day)
        return count


def parse_office_hours(text: str) -> tuple[tuple[time, time], ...]:
    """``"08:30-17:30"`` or spans in order, comma-separated: ``"08:30-12:00,14:00-17:30"``."""
    spans = []
    for part in text.split(","):
        try:
            first, second = part.split("-")
            start, end = time.fromisoformat(first.strip()), time.fromisoformat(second.strip())
        except ValueError:
            raise ValueError(f"office hours must look like 08:30-12:00,14:00-17:30, got {text!r}") from None
        if end <= start:
            raise ValueError(f"office hours must end after they start, got {text!r}")
        if spans and start < spans[-1][1]:
            raise ValueError(f"office hour spans must be in order and not overlap, got {text!r}")
        spans.append((start, end))
    return tuple(spans)
