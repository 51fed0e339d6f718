"""Calling hours (settings.CALLBACK_HOURS): when the center may phone or text a citizen.

Pure functions, free of Django: the window is local time in the hotline's time
zone and may wrap midnight ("20:00-02:00"). Times are stored in UTC; they are
converted to local time to decide, and back to UTC for arithmetic (STYLE §8).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class CallingHours:
    start: time
    end: time
    tz: ZoneInfo

    @classmethod
    def parse(cls, text: str, tz: str = "Asia/Shanghai") -> CallingHours:
        try:
            first, second = (part.strip() for part in text.split("-"))
            start, end = time.fromisoformat(first), time.fromisoformat(second)
        except ValueError:
            raise ValueError(f"calling hours must look like 08:30-21:00, got {text!r}") from None
        if start == end:
            raise ValueError(f"calling hours {text!r} are empty")
        return cls(start, end, ZoneInfo(tz))

    @property
    def wraps_midnight(self) -> bool:
        return self.end < self.start

    def allows(self, at: datetime) -> bool:
        now = at.astimezone(self.tz).time()
        if self.wraps_midnight:
            return now >= self.start or now < self.end
        return self.start <= now < self.end

    def next_allowed(self, at: datetime) -> datetime:
        """``at`` itself when calling is allowed then, else the next opening of the window (UTC)."""
        if self.allows(at):
            return at
        local = at.astimezone(self.tz)
        opening = datetime.combine(local.date(), self.start, tzinfo=self.tz)
        if opening <= local:
            opening = datetime.combine(local.date() + timedelta(days=1), self.start, tzinfo=self.tz)
        return opening.astimezone(UTC)

    def opening_on(self, day) -> datetime:
        """The window's opening on a local date, in UTC."""
        return datetime.combine(day, self.start, tzinfo=self.tz).astimezone(UTC)
