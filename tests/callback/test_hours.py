"""Calling hours, in Shanghai time, including a window that wraps midnight."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from callback.hours import CallingHours


def shanghai(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(UTC)


DAY = CallingHours.parse("08:30-21:00")


def test_inside_and_outside_the_default_window() -> None:
    assert DAY.allows(shanghai(27, 8, 30))
    assert DAY.allows(shanghai(27, 20, 59))
    assert not DAY.allows(shanghai(27, 21, 0))
    assert not DAY.allows(shanghai(27, 8, 29))


def test_a_call_missed_just_before_midnight_is_due_at_half_past_eight_next_morning() -> None:
    assert DAY.next_allowed(shanghai(27, 23, 50)) == shanghai(28, 8, 30)
    assert DAY.next_allowed(shanghai(28, 0, 10)) == shanghai(28, 8, 30)
    assert DAY.next_allowed(shanghai(27, 21, 0)) == shanghai(28, 8, 30)


def test_a_window_that_wraps_midnight() -> None:
    night = CallingHours.parse("20:00-02:00")
    assert night.wraps_midnight
    assert night.allows(shanghai(27, 23, 59)) and night.allows(shanghai(28, 1, 59))
    assert not night.allows(shanghai(28, 2, 0))
    assert night.next_allowed(shanghai(28, 2, 0)) == shanghai(28, 20, 0)
    assert night.next_allowed(shanghai(28, 0, 30)) == shanghai(28, 0, 30)


@pytest.mark.parametrize("text", ["", "8-21", "08:30", "21:00-21:00", "25:00-26:00"])
def test_a_malformed_setting_fails_loudly(text: str) -> None:
    with pytest.raises(ValueError, match="calling hours"):
        CallingHours.parse(text)
