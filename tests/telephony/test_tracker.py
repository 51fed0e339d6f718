"""The pure translator, driven by the real Asterisk 22 traces and by edited copies of them."""

from __future__ import annotations

from collections import Counter

import pytest

from telephony.ami.protocol import Message
from telephony.lifecycle import (
    AgentReleased,
    AgentRingStopped,
    CallAnswered,
    CallbackOriginated,
    CallEnded,
    CallOffered,
    CallTransferred,
    IvrChoiceMade,
)
from telephony.tracker import CallTracker, TrackerConfig, member_interface
from tests.telephony.traces import TRACE_NAMES, final_calls, parse_trace, replay

# trace -> outcome of every call it holds
EXPECTED_OUTCOMES = {
    "answered": {"answered": 1},
    "abandoned": {"abandoned": 1},
    "queue_timeout": {"timeout": 1},
    "emergency_transfer": {"transferred_110": 1},
    "emergency_transfer_blind": {"transferred_110": 1},
    "callback_originate": {"callback": 2},
    "agent_pause": {"answered": 2},
    "restart": {"answered": 1},
    "busy_hour": {"answered": 22, "abandoned": 28},
    # The 110 leg of a three-way call is part of the call (same Linkedid): one call, no phantom ivr_110.
    "threeway": {"answered": 1},
    "threeway_busy": {"answered": 1},
    "threeway_unit": {"answered": 1},
    # Redirected to a 110 extension the PBX lacks: hung up at once, never with 110.
    "transfer_lost": {"answered": 1},
    # Call controls (telephony/call_controls.py): a hold, a mute, a failed or cancelled consultation keep
    # the call answered; a completed consult or blind transfer is "transferred" (an answered outcome).
    "hold": {"answered": 1},
    "mute": {"answered": 1},
    "consult_transfer": {"transferred": 1},
    "consult_busy": {"answered": 1},
    "consult_unreachable": {"answered": 1},
    "consult_cancel": {"answered": 1},
    "consult_extension": {"transferred": 1},
    "blind_transfer": {"transferred": 1},
    # A held caller whose agent left, or held past the maximum: a prompt, hung up, the call answered.
    "hold_agent_gone": {"answered": 1},
    "hold_timeout": {"answered": 1},
}


def test_every_trace_has_an_expectation() -> None:
    assert set(TRACE_NAMES) == set(EXPECTED_OUTCOMES)


@pytest.mark.parametrize("name", TRACE_NAMES)
def test_trace_replay_gives_the_right_calls_and_outcomes(name: str) -> None:
    tracker, events = replay(name)
    calls = final_calls(events)
    assert dict(Counter(c.outcome for c in calls.values())) == EXPECTED_OUTCOMES[name]
    assert tracker.calls == {}  # nothing left dangling


@pytest.mark.parametrize("name", TRACE_NAMES)
def test_replaying_every_event_twice_changes_nothing(name: str) -> None:
    once = final_calls(replay(name)[1])
    tracker = CallTracker(TrackerConfig(queues=frozenset({"12345"})))
    events = []
    for message in parse_trace(name):
        if message.kind == "event":
            events += tracker.feed(message)
            events += tracker.feed(message)
    assert final_calls(events) == once


def test_answered_call_lifecycle_in_order() -> None:
    _, events = replay("answered")
    assert [e.kind for e in events] == ["offered", "ringing", "answered", "agent_released", "ended"]
    offered, ringing, answered, released, ended = events
    assert isinstance(offered, CallOffered) and offered.caller_number == "13800138000"
    assert offered.linkedid == "1795770144.0" and offered.queue == "12345"
    assert ringing.interface == "Local/1001@agents"
    assert isinstance(answered, CallAnswered) and answered.member_name == "agent1001"
    assert (answered.wait_seconds, answered.ring_seconds) == (1, 1)
    # The agent leg hangs up before AgentComplete arrives, so the agent is freed first, talk time comes with the end.
    assert isinstance(released, AgentReleased) and released.reason == "agent_leg_hangup"
    assert isinstance(ended, CallEnded) and (ended.wait_seconds, ended.talk_seconds) == (1, 3)


def test_abandon_is_counted_once_with_its_wait() -> None:
    _, events = replay("abandoned")
    assert [e.kind for e in events] == ["offered", "abandoned", "ended"]
    assert events[1].wait_seconds == 3


def test_queue_timeout_is_not_an_abandon() -> None:
    _, events = replay("queue_timeout")
    assert [e.kind for e in events] == ["offered", "ringing", "ring_stopped", "timeout", "ended"]
    assert isinstance(events[2], AgentRingStopped) and events[2].reason == "no_answer"
    assert events[3].wait_seconds == 8


def test_redirect_to_110_and_agent_complete_without_ids() -> None:
    _, events = replay("emergency_transfer")
    transfer = next(e for e in events if isinstance(e, CallTransferred))
    assert (transfer.to_110, transfer.mode, transfer.target) == (True, "redirect", "110@emergency")
    (ended,) = [e for e in events if isinstance(e, CallEnded)]
    # AgentComplete had no Linkedid; it was matched on Interface, and its TalkTime includes the 110 leg.
    assert ended.talk_seconds == 8 and ended.interface == "Local/1001@agents"


def test_blind_transfer_to_110() -> None:
    _, events = replay("emergency_transfer_blind")
    transfer = next(e for e in events if isinstance(e, CallTransferred))
    assert (transfer.to_110, transfer.mode) == (True, "blind")
    assert final_calls(events)["1795770188.14"].talk_seconds == 2


def test_blind_transfer_elsewhere_is_transferred() -> None:
    tracker = CallTracker()
    for message in parse_trace("emergency_transfer_blind"):
        if message.get("Event") == "BlindTransfer":
            message = Message("event", {**message, "Context": "departments", "Extension": "2001"})
        if message.get("Event") == "Newexten" and message.get("Context") == "emergency":
            continue
        tracker.feed(message) if message.kind == "event" else None
    assert tracker.call("1795770188.14").outcome == "transferred"


def test_callbacks_success_busy_citizen_and_busy_agent() -> None:
    _, events = replay("callback_originate")
    originated = [e for e in events if isinstance(e, CallbackOriginated)]
    assert [(e.success, e.number, e.interface) for e in originated] == [
        (True, "13800138000", "Local/1001@agents"),
        (True, "13900000000", "Local/1001@agents"),
        (False, "13800138000", "Local/1999@agents"),
    ]
    assert originated[2].linkedid == "" and originated[2].reason == "5"
    assert originated[0].action_id == "callback-1"


def test_hold_time_and_interface_match_agent_complete_without_linkedid() -> None:
    _, events = replay("agent_pause")
    calls = final_calls(events)
    assert {c.member_name: c.talk_seconds for c in calls.values()} == {"agent1001": 5, "agent1002": 1}
    assert {c.member_name: c.wait_seconds for c in calls.values()} == {"agent1001": 1, "agent1002": 3}


def test_busy_hour_counts_and_chinese_names() -> None:
    _, events = replay("busy_hour")
    calls = final_calls(events)
    assert len(calls) == 50
    assert sum(isinstance(e, CallOffered) for e in events) == 50
    assert sum(e.kind == "abandoned" for e in events) == 28
    assert {c.caller_name for c in calls.values()} & {"王先生", "李女士"}
    assert all(c.outcome != "answered" or c.talk_seconds is not None for c in calls.values())


def test_unknown_queue_is_ignored() -> None:
    _, events = replay("answered", TrackerConfig(queues=frozenset({"other"})))
    assert events == []


def test_hangup_before_agent_connect_is_corrected_when_connect_arrives() -> None:
    messages = [m for m in parse_trace("answered") if m.kind == "event"]
    connect = next(i for i, m in enumerate(messages) if m.name == "AgentConnect")
    root_hangup = next(
        i for i, m in enumerate(messages) if m.name == "Hangup" and m.first("Uniqueid") == "1795770144.0"
    )
    reordered = [
        *messages[:connect],
        messages[root_hangup],
        *messages[connect:root_hangup],
        *messages[root_hangup + 1 :],
    ]
    tracker = CallTracker()
    events = [e for m in reordered for e in tracker.feed(m)]
    assert final_calls(events)["1795770144.0"].outcome == "answered"
    # First guess from the early Hangup, then corrected (the late AgentComplete re-sends it with talk time).
    assert [e.outcome for e in events if isinstance(e, CallEnded)] == ["abandoned", "answered", "answered"]


def test_restart_resync_closes_vanished_calls() -> None:
    messages = [m for m in parse_trace("answered") if m.kind == "event"]
    connect = next(i for i, m in enumerate(messages) if m.name == "AgentConnect")
    tracker = CallTracker()
    for message in messages[: connect + 1]:
        tracker.feed(message)
    tracker.feed(Message("event", {"Event": "QueueCallerJoin", "Queue": "12345", "Linkedid": "9.0", "Uniqueid": "9.0"}))
    tracker.new_pbx_epoch(1795770249)
    closed = tracker.resync(live_linkedids=[], at=100.0)
    ended = {e.linkedid: e for e in closed if isinstance(e, CallEnded)}
    # Neither end was seen, so both are unknown; the answered call keeps who answered it and the wait.
    assert {lid: e.outcome for lid, e in ended.items()} == {"1795770144.0": "unknown", "9.0": "unknown"}
    assert ended["1795770144.0"].member_name == "agent1001" and ended["1795770144.0"].wait_seconds == 1
    assert tracker.calls == {}


def test_uniqueid_reused_after_restart_is_a_new_call() -> None:
    tracker = CallTracker(pbx_epoch=1)
    join = Message("event", {"Event": "QueueCallerJoin", "Queue": "q", "Linkedid": "5.0", "Uniqueid": "5.1"})
    hangup = Message("event", {"Event": "Hangup", "Linkedid": "5.0", "Uniqueid": "5.1"})
    assert [e.kind for e in tracker.feed(join) + tracker.feed(hangup)] == ["offered", "abandoned", "ended"]
    assert tracker.feed(join) == []  # same boot: a duplicate
    tracker.new_pbx_epoch(2)
    (offered,) = tracker.feed(join)
    assert offered.pbx_epoch == 2


def test_ivr_choice_to_110_without_queue() -> None:
    tracker = CallTracker()
    base = {"Channel": "PJSIP/trunk-00000001", "Uniqueid": "7.0", "Linkedid": "7.0", "CallerIDNum": "13800138000"}
    events = tracker.feed(
        Message("event", {"Event": "VarSet", **base, "Variable": "HOTLINE_IVR_CHOICE", "Value": "110"})
    )
    events += tracker.feed(Message("event", {"Event": "Newexten", **base, "Context": "emergency", "Exten": "110"}))
    events += tracker.feed(Message("event", {"Event": "Hangup", **base}))
    assert isinstance(events[0], IvrChoiceMade) and events[0].choice == "110"
    assert isinstance(events[1], CallTransferred) and events[1].mode == "ivr"
    assert events[-1].outcome == "ivr_110" and events[-1].ivr_choice == "110"


def test_ivr_choice_is_carried_to_the_queued_call() -> None:
    tracker = CallTracker()
    base = {"Uniqueid": "8.1", "Linkedid": "8.0", "CallerIDNum": "13800138000"}
    tracker.feed(Message("event", {"Event": "VarSet", **base, "Variable": "HOTLINE_IVR_CHOICE", "Value": "1"}))
    tracker.feed(Message("event", {"Event": "QueueCallerJoin", **base, "Queue": "12345"}))
    (*_, ended) = tracker.feed(Message("event", {"Event": "Hangup", **base}))
    assert (ended.outcome, ended.ivr_choice) == ("abandoned", "1")


def test_unfiltered_noise_and_unknown_events_are_ignored() -> None:
    tracker = CallTracker()
    assert tracker.feed(Message("event", {"Event": "VarSet", "Variable": "DIALEDTIME", "Linkedid": "1.0"})) == []
    assert tracker.feed(Message("event", {"Event": "SomethingNew"})) == []
    assert tracker.feed(Message("event", {"Event": "AgentComplete", "Interface": "Local/9@agents"})) == []
    assert tracker.feed(Message("event", {"Event": "Hangup", "Linkedid": "nope"})) == []


def test_timestamp_header_dates_the_call() -> None:
    tracker = CallTracker()
    join = {"Event": "QueueCallerJoin", "Queue": "q", "Linkedid": "1.0", "Uniqueid": "1.0", "Timestamp": "100.5"}
    (offered,) = tracker.feed(Message("event", join))
    *_, ended = tracker.feed(
        Message("event", {"Event": "Hangup", "Linkedid": "1.0", "Uniqueid": "1.0", "Timestamp": "130.9"})
    )
    assert offered.at == 100.5 and ended.wait_seconds == 30


def test_member_interface_strips_channel_suffix() -> None:
    assert member_interface("Local/1001@agents-00000009;1") == "Local/1001@agents"
    assert member_interface("PJSIP/1001-0000002a") == "PJSIP/1001"
    assert member_interface("Local/1999@agents") == "Local/1999@agents"
