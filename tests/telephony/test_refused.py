"""Callers the queue turned away (full, join-empty, leave-empty) are calls that asked for an agent.

Recorded on a real Asterisk 22 (telephony/traces/outage/refused.*, README "3. refused"): a refused
caller gets no QueueCallerJoin, only ``VarSet QUEUESTATUS=FULL/JOINEMPTY``; one that waited until
the only member paused gets ``QUEUESTATUS=LEAVEEMPTY`` after QueueCallerAbandon/Leave.
"""

from __future__ import annotations

from datetime import date

import pytest

from callback.callbacks import ingest_missed_calls
from callback.models import CallbackTask
from metrics.callcenter import call_stats
from metrics.kpis import Figure
from metrics.periods import Period
from telephony import services
from telephony.lifecycle import CallEnded
from telephony.models import Call
from telephony.tracker import TrackerConfig
from tests.telephony.traces import final_calls, replay

QUEUES = TrackerConfig(queues=frozenset({"12345full", "12345closed"}))
# README table: #1 joined alone and hung up; #2-#5 refused at the door; #6 left when the member paused.
EXPECTED = {
    "13900000011": ("abandoned", "12345full"),
    "13900000012": ("refused", "12345full"),
    "13900000013": ("refused", "12345full"),
    "13900000021": ("refused", "12345closed"),
    "13900000022": ("refused", "12345closed"),
    "13900000023": ("refused", "12345closed"),
}


def test_every_refused_caller_is_a_call_with_the_refused_outcome() -> None:
    _, events = replay("outage/refused.full", QUEUES)
    calls = final_calls(events)
    assert {e.caller_number: (e.outcome, e.queue) for e in calls.values()} == EXPECTED
    named = next(e for e in calls.values() if e.caller_number == "13900000013")
    assert named.caller_name == "王先生"


def test_refused_callers_of_a_queue_we_do_not_follow_are_not_ours() -> None:
    _, events = replay("outage/refused.full", TrackerConfig(queues=frozenset({"12345"})))
    assert final_calls(events) == {}


@pytest.mark.django_db
def test_refused_calls_count_in_the_answer_rate_and_are_called_back() -> None:
    _, events = replay("outage/refused.full", QUEUES)
    for event in events:
        services.apply_lifecycle(event)
    rows = {c.caller_number: c for c in Call.objects.all()}
    assert {n: (c.outcome, c.queue) for n, c in rows.items()} == EXPECTED
    assert all(c.offered_at and c.ended_at for c in rows.values())
    assert rows["13900000023"].wait_seconds == 3
    assert rows["13900000013"].caller_uniqueid == "1795925415.17"

    stats = call_stats(Period.of("day", date(2026, 11, 29)))
    assert stats["answer_rate"] == Figure(0, 6)
    assert stats["refused"] == 5
    # A missed call is called back, whoever hung up: the refused ones too (docs/callbacks.md).
    ingest_missed_calls()
    assert CallbackTask.objects.filter(call__outcome="refused").count() == 5
    assert set(CallbackTask.objects.values_list("call__caller_number", flat=True)) == set(EXPECTED)


def test_a_refused_call_ends_once() -> None:
    _, events = replay("outage/refused.full", QUEUES)
    ended = [e for e in events if isinstance(e, CallEnded)]
    assert len(ended) == len({e.linkedid for e in ended}) == 6
