"""Reporting periods: whole local (Asia/Shanghai) days, turned into half-open UTC ranges."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

KINDS = ("day", "week", "month", "quarter", "year", "custom")


def local_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


@dataclass(frozen=True)
class Period:
    """The local days ``first`` to ``last`` inclusive; ``start``/``end`` are the aware instants [start, end)."""

    first: date
    last: date
    kind: str = "custom"

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError(f"period ends ({self.last}) before it starts ({self.first})")

    @classmethod
    def of(cls, kind: str, day: date) -> Period:
        """The day, ISO week (Monday first), month, quarter or year containing ``day``."""
        if kind == "day":
            return cls(day, day, kind)
        if kind == "week":
            monday = day - timedelta(days=day.weekday())
            return cls(monday, monday + timedelta(days=6), kind)
        if kind == "month":
            return cls(day.replace(day=1), _month_end(day.year, day.month), kind)
        if kind == "quarter":
            first_month = 3 * ((day.month - 1) // 3) + 1
            return cls(date(day.year, first_month, 1), _month_end(day.year, first_month + 2), kind)
        if kind == "year":
            return cls(date(day.year, 1, 1), date(day.year, 12, 31), kind)
        raise ValueError(f"unknown period kind {kind!r}; use one of day, week, month, quarter, year")

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time.min, tzinfo=local_tz())

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time.min, tzinfo=local_tz())

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def range(self, field: str) -> dict[str, datetime]:
        """Lookups putting ``field`` inside the period, for ``.filter(**period.range("created_at"))``."""
        return {f"{field}__gte": self.start, f"{field}__lt": self.end}

    def __str__(self) -> str:
        return str(self.first) if self.first == self.last else f"{self.first}..{self.last}"


def _month_end(year: int, month: int) -> date:
    nxt = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return nxt - timedelta(days=1)
