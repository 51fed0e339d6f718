"""Desks (专席) on the real Asterisk: the recordings in telephony/traces/desks/, through the tracker into Call rows.

What the real PBX taught: a desk with nobody logged in answers QUEUESTATUS=JOINEMPTY with no
QueueCallerJoin (the queue shows only in the Newexten of Queue()), a desk timeout sends the same
QueueCallerAbandon + QueueCallerLeave + TIMEOUT as any queue, and HoldTime in the general queue counts
from the join there only.
"""

from __future__ import annotations

import pytest

from callback.callbacks import MISSED
from telephony import lifecycle as lc
from telephony import services
from telephony.models import Call
from telephony.tracker import CallTracker, TrackerConfig
from tests.telephony.traces import parse_trace, replay

pytestmark = pytest.mark.django_db

DESKS = TrackerConfig(queues=frozenset({"12345", "12345-business", "12345-dialect"}))


def record(name: str) -> Call:
    _, events = replay(f"desks/{name}", DESKS)
    for event in events:
        services.apply_lifecycle(event)
    (call,) = Call.objects.all()
    return call


def kinds(name: str) -> list[str]:
    return [e.kind for e in replay(f"desks/{name}", DESKS)[1]]


def test_queue_add_with_a_penalty_is_what_the_real_pbx_reports():
    added = [m for m in parse_trace("desks/desk_business") if m.name == "QueueMemberAdded"]
    assert [(m.first("Queue"), m.first("Interface"), m.first("Penalty")) for m in added] == [
        ("12345", "Local/1001@agents", "0"),
        ("12345", "Local/1002@agents", "0"),
        ("12345-business", "Local/1002@agents", "2"),
    ]


def test_a_business_key_caller_is_answered_at_the_business_desk_by_the_skilled_agent_only():
    _, events = replay("desks/desk_business", DESKS)
    rung = {e.interface for e in events if isinstance(e, lc.AgentRinging)}
    assert rung == {"Local/1002@agents"}
    call = record("desk_business")
    assert (call.desk, call.queue, call.outcome, call.ivr_choice) == (
        "12345-business",
        "12345-business",
        "answered",
        "business",
    )


def test_a_dialect_desk_with_nobody_overflows_at_once_and_is_answered_not_refused():
    assert kinds("desk_overflow_empty")[:3] == ["ivr_choice", "offered", "overflowed"]
    call = record("desk_overflow_empty")
    assert (call.desk, call.queue, call.outcome) == ("12345-dialect", "12345", "answered")
    assert call.outcome not in MISSED  # no callback for a call that was answered


def test_a_desk_timeout_overflows_and_the_wait_at_the_desk_counts():
    assert "timeout" not in kinds("desk_overflow_timeout")
    call = record("desk_overflow_timeout")
    assert (call.desk, call.queue, call.outcome) == ("12345-business", "12345", "answered")
    # 4 s at the desk (its HoldTime) + 1 s in 12345 (AgentConnect HoldTime there).
    assert call.wait_seconds == 5


def test_the_callers_history_sends_them_to_the_dialect_desk():
    call = record("desk_history")
    assert (call.desk, call.queue, call.outcome) == ("12345-dialect", "12345-dialect", "answered")


def test_without_the_overflow_mark_a_desk_timeout_stays_a_timeout():
    """A dialplan that queues at a desk without HOTLINE_OVERFLOW: the tracker must not guess an overflow."""
    messages = [m for m in parse_trace("desks/desk_overflow_timeout") if m.first("Variable") != lc.OVERFLOW_VARIABLE]
    tracker = CallTracker(DESKS)
    out = [e for m in messages if m.kind == "event" for e in tracker.feed(m)]
    assert "timeout" in [e.kind for e in out] and "overflowed" not in [e.kind for e in out]


def test_queue_log_of_the_real_pbx_tells_a_desk_overflow_from_a_missed_call():
    """The lab's queue_log: a desk timeout (EXITWITHTIMEOUT at 12345-business, ENTERQUEUE in 12345, same callid)
    is one answered call that overflowed; recovered after an outage it keeps its desk."""
    from datetime import UTC, datetime

    from telephony.queue_log import parse_line, summarize
    from telephony.services import recover_logged_calls
    from telephony.traces import TRACES_DIR

    lines = [parse_line(raw) for raw in (TRACES_DIR / "desks" / "queue_log").read_text().splitlines()]
    calls = {c.caller_number: c for c in summarize(lines).values()}
    overflowed = calls["13800138002"]
    assert (overflowed.desk, overflowed.queue, overflowed.outcome) == ("12345-business", "12345", "answered")
    assert overflowed.wait_seconds == 5  # 4 s at the desk + 1 s in 12345, as the tracker counts it
    assert (calls["13800138003"].desk, calls["13800138003"].queue) == ("", "12345-dialect")
    # The dialect caller turned away at the door: no line of the desk, only its ENTERQUEUE in 12345.
    assert (calls["13800138001"].desk, calls["13800138001"].queue) == ("", "12345")

    Call.objects.create(
        pbx_epoch=1, linkedid="1795953302.12", caller_uniqueid="1795953302.13", outcome="unknown",
        ended_at=datetime.fromtimestamp(1795953311, tz=UTC),
    )  # fmt: skip
    recover_logged_calls(1, [overflowed], {"1001": "Local/1001@agents"})
    call = Call.objects.get(linkedid="1795953302.12")
    assert (call.desk, call.queue, call.outcome, call.wait_seconds) == ("12345-business", "12345", "answered", 5)
