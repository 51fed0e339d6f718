"""Call-center statistics and staffing over the November calls (see conftest.py)."""

from __future__ import annotations

from datetime import datetime

import pytest

from metrics.callcenter import agent_stats, call_stats, calls_by_hour, calls_by_weekday
from metrics.kpis import Figure
from metrics.staffing import staffing

from .conftest import NOVEMBER, SH

pytestmark = pytest.mark.django_db


def test_call_stats_with_a_five_second_short_abandon_threshold(november):
    stats = call_stats(NOVEMBER, short_abandon_seconds=5, service_level_seconds=20)
    # Asked for an agent: answered 10 s, answered 20 s, abandoned 30 s, timeout, answered then to 110.
    assert stats["answer_rate"] == Figure(3, 5)
    assert stats["answer_rate_15s"] == Figure(2, 5)
    assert stats["service_level"] == Figure(3, 5)
    assert stats["abandon_rate"] == Figure(1, 5)
    assert (stats["short_abandons"], stats["timeouts"], stats["ivr_110"]) == (1, 1, 1)
    assert (stats["transferred_110"], stats["callbacks"]) == (1, 1)
    assert stats["average_speed_of_answer"] == pytest.approx(11.7)  # (10 + 20 + 5) / 3
    assert stats["average_handle_time"] == 120.0  # (100 + 200 + 60) / 3
    assert stats["average_abandon_wait"] == 30.0


def test_calls_per_local_hour_and_weekday(november):
    hours = {row["hour"]: (row["calls"], row["answered"]) for row in calls_by_hour(NOVEMBER, short_abandon_seconds=5)}
    assert len(hours) == 24
    # 09:05, 09:40 and 09:00 Beijing time (01:xx UTC); the abandon at 14:10; the timeout at 20:00.
    assert {h: v for h, v in hours.items() if v != (0, 0)} == {9: (3, 3), 14: (1, 0), 20: (1, 0)}
    days = {row["weekday"]: row["calls"] for row in calls_by_weekday(NOVEMBER, short_abandon_seconds=5)}
    assert days == {1: 3, 2: 1, 3: 0, 4: 0, 5: 0, 6: 1, 7: 0}


def test_agent_stats(november, agent):
    [row] = agent_stats(NOVEMBER, short_abandon_seconds=5)
    assert (row["agent"], row["username"], row["answered"]) == (agent.pk, "agent_wang", 3)
    assert row["answer_share"] == Figure(3, 5)
    assert row["answered_within_15s"] == 2


def test_staffing_per_half_hour(november):
    rows = staffing(NOVEMBER, short_abandon_seconds=5, target_seconds=20)
    assert [r["start"] for r in rows] == [
        datetime(2026, 11, 2, 9, 0, tzinfo=SH),
        datetime(2026, 11, 2, 9, 30, tzinfo=SH),
        datetime(2026, 11, 3, 14, 0, tzinfo=SH),
        datetime(2026, 11, 7, 20, 0, tzinfo=SH),
        datetime(2026, 11, 9, 9, 0, tzinfo=SH),
    ]
    first = rows[0]
    # One call in the half-hour = 2 calls/h of 100 s: A = 0.056 Erlangs, one agent is plenty.
    assert (first["calls"], first["calls_per_hour"], first["average_handle_time"]) == (1, 2, 100.0)
    assert (first["traffic_erlangs"], first["agents_recommended"], first["agents_observed"]) == (0.056, 1, 1)
    # No call answered in the half-hour of the abandon: no handle time, no recommendation.
    assert rows[2]["agents_recommended"] is None and rows[2]["agents_observed"] == 0


def test_desk_stats_count_each_call_at_the_desk_it_was_routed_to(november, agent, settings):
    from metrics.callcenter import desk_stats

    from .conftest import at, call

    settings.AMI_QUEUES = ["12345", "12345-business", "12345-dialect"]
    answered_there = call("d1", at(11, 10, 9), "answered", 6, 60, agent)
    overflowed = call("d2", at(11, 10, 10), "answered", 40, 60, agent)
    given_up = call("d3", at(11, 10, 11), "abandoned", 50)
    Call = type(answered_there)
    Call.objects.filter(pk=answered_there.pk).update(desk="12345-business", queue="12345-business")
    Call.objects.filter(pk=overflowed.pk).update(desk="12345-business", queue="12345")
    Call.objects.filter(pk=given_up.pk).update(desk="12345-dialect", queue="12345")

    stats = desk_stats(NOVEMBER, short_abandon_seconds=5)
    assert list(stats) == ["12345", "12345-business", "12345-dialect"]
    business, dialect, general = stats["12345-business"], stats["12345-dialect"], stats["12345"]
    assert (business["offered"], business["answered_at_desk"], business["overflowed"]) == (2, 1, 1)
    assert business["desk_answer_rate"] == Figure(1, 2) and business["answered_after_overflow"] == 1
    assert business["average_speed_of_answer"] == 23.0  # (6 + 40) / 2: the whole wait, desk and after
    assert (business["answered"], business["abandoned"]) == (1, 0)  # ended in the business queue
    assert (dialect["offered"], dialect["answered_at_desk"], dialect["overflowed"]) == (1, 0, 1)
    assert (dialect["answered"], dialect["abandoned"]) == (0, 0)
    # The month's older calls (no desk: before desks) count under their queue, the general one,
    # which also ended the two overflowed calls: one answered, one abandoned there.
    assert general["offered"] == 5 and general["overflowed"] == 0
    assert (general["answered"], general["abandoned"]) == (3 + 1, 1 + 1)
