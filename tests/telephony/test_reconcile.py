"""Reconciling with the PBX after a reconnect: the translator's part, on events of the real client_gap recording."""

from __future__ import annotations

from telephony.ami.protocol import AMIParser, Message
from telephony.lifecycle import CallAnswered, CallbackOriginated, CallEnded, CallOffered, CallTransferred
from telephony.queue_log import LoggedCall
from telephony.reconcile import live_callers
from telephony.traces import TRACES_DIR
from telephony.tracker import CallTracker, TrackerConfig

CONFIG = TrackerConfig(queues=frozenset({"12345"}))


def _part2_lists() -> tuple[list[Message], list[Message]]:
    messages = AMIParser().feed((TRACES_DIR / "outage/client_gap.part2.ami").read_bytes())
    channels = [m for m in messages if m.kind == "event" and m.name == "CoreShowChannel"]
    status = [m for m in messages if m.kind == "event" and m.first("ActionID") == "client_gap.part2-3"]
    return channels, status


def _ev(**fields: str) -> Message:
    return Message("event", dict(fields))


def test_the_resync_snapshot_gives_every_caller_in_a_queue_or_talking() -> None:
    channels, status = _part2_lists()
    now = 1795925277.7
    callers = {c.caller_number: c for c in live_callers(channels, status, {}, targets_110=CONFIG.targets_110, now=now)}
    # #9, #10, #12 bridged with an agent; #13, #14 waiting; #15 not yet in the queue; #8 (at 110) unknown here.
    assert set(callers) == {"13464979954", "17494749569", "17696679620", "15340739077", "15706980573"}
    assert all(callers[n].answered for n in ("13464979954", "17494749569", "17696679620"))
    assert callers["17494749569"].interface == "Local/1003@agents"
    assert callers["15340739077"].queue == "12345" and not callers["15340739077"].answered
    assert callers["15340739077"].offered_at == now - 4  # QueueEntry Wait: 4
    assert callers["15340739077"].caller_name == "赵先生"
    # Known to the bridge, the redirected #8 is found at 110.
    known = live_callers(
        channels, status, {}, targets_110=CONFIG.targets_110, known=frozenset({"1795925260.34"}), now=now
    )
    assert [c.at_110 for c in known if c.caller_number == "15246267612"] == [("emergency", "110")]


def test_an_adopted_caller_is_offered_and_answered_once() -> None:
    channels, status = _part2_lists()
    tracker = CallTracker(CONFIG)
    events = []
    for caller in live_callers(channels, status, {}, targets_110=CONFIG.targets_110, now=1795925277.7):
        events += tracker.adopt_live(caller)
        events += tracker.adopt_live(caller)  # twice: nothing new
    assert sum(isinstance(e, CallOffered) for e in events) == 5
    assert sum(isinstance(e, CallAnswered) for e in events) == 3


def test_an_agent_complete_makes_an_adopted_unanswered_call_answered() -> None:
    """The bridge restarted and adopted a waiting call from its rows; the AgentConnect fell in the gap."""
    tracker = CallTracker(CONFIG)
    tracker.adopt("1.0", pbx_epoch=0, queue="12345", caller_number="13800000001", caller_uniqueid="1.1")
    out = tracker.feed(
        _ev(
            Event="AgentComplete",
            Linkedid="1.0",
            Interface="Local/1001@agents",
            MemberName="agent1001",
            HoldTime="7",
            TalkTime="14",
            Reason="agent",
            Timestamp="1000.0",
        )
    )
    answered = [e for e in out if isinstance(e, CallAnswered)]
    assert answered and answered[0].at == 986.0 and answered[0].wait_seconds == 7
    out = tracker.feed(_ev(Event="Hangup", Linkedid="1.0", Uniqueid="1.1", Timestamp="1000.5"))
    assert [e.outcome for e in out if isinstance(e, CallEnded)] == ["answered"]


def test_an_agent_complete_after_the_hangup_corrects_an_abandon() -> None:
    tracker = CallTracker(CONFIG)
    tracker.adopt("2.0", pbx_epoch=0, queue="12345", caller_number="13800000002", caller_uniqueid="2.1")
    out = tracker.feed(_ev(Event="Hangup", Linkedid="2.0", Uniqueid="2.1", Timestamp="50.0"))
    assert [e.outcome for e in out if isinstance(e, CallEnded)] == ["abandoned"]
    out = tracker.feed(
        _ev(
            Event="AgentComplete",
            Linkedid="2.0",
            Interface="Local/1002@agents",
            HoldTime="3",
            TalkTime="20",
            Reason="caller",
            Timestamp="50.1",
        )
    )
    assert [e.outcome for e in out if isinstance(e, CallEnded)] == ["answered"]


def test_a_call_gone_while_away_ends_as_queue_log_says() -> None:
    tracker = CallTracker(CONFIG, pbx_epoch=7)
    tracker.feed(_ev(Event="QueueCallerJoin", Queue="12345", Linkedid="3.0", Uniqueid="3.1", CallerIDNum="138"))
    tracker.feed(_ev(Event="QueueCallerJoin", Queue="12345", Linkedid="4.0", Uniqueid="4.1", CallerIDNum="139"))
    logged = {
        (7, "3.1"): LoggedCall(callid="3.1", boot=1, outcome="timeout", wait_seconds=8, ended_at=60),
    }
    out = tracker.resync(set(), 100.0, logged)
    assert {e.linkedid: e.outcome for e in out if isinstance(e, CallEnded)} == {"3.0": "timeout", "4.0": "unknown"}


def test_a_redirect_missed_in_the_gap_is_caught_up() -> None:
    channels, status = _part2_lists()
    tracker = CallTracker(CONFIG)
    tracker.feed(
        _ev(
            Event="QueueCallerJoin",
            Queue="12345",
            Linkedid="1795925260.34",
            Uniqueid="1795925260.35",
            CallerIDNum="15246267612",
        )
    )
    tracker.feed(
        _ev(Event="AgentConnect", Queue="12345", Linkedid="1795925260.34", Interface="Local/1003@agents", HoldTime="4")
    )
    callers = live_callers(
        channels, status, {}, targets_110=CONFIG.targets_110, known=frozenset(tracker.calls), now=1795925277.7
    )
    out = [e for c in callers for e in tracker.adopt_live(c)]
    assert [e.to_110 for e in out if isinstance(e, CallTransferred)] == [True]


def test_an_originate_response_for_an_action_id_nobody_knows() -> None:
    """After a reconnect the bridge no longer knows the ActionID: recorded as an outbound call, purpose unknown."""
    tracker = CallTracker(CONFIG)
    response = _ev(
        Event="OriginateResponse",
        ActionID="lx000000-99",
        Response="Success",
        Context="callback",
        Exten="13800000009",
        Channel="Local/1001@agents-00000001;1",
        Uniqueid="9.0",
        Reason="4",
    )
    out = tracker.feed(response)
    assert len(out) == 1 and isinstance(out[0], CallbackOriginated)
    assert (out[0].purpose, out[0].action_id, out[0].number) == ("", "lx000000-99", "13800000009")
    assert tracker.feed(response) == []  # a repeat is nothing new
    elsewhere = _ev(Event="OriginateResponse", ActionID="gap-call-1", Response="Success", Context="callers")
    assert tracker.feed(elsewhere) == []  # another session's Originate into the callers' context


def test_a_caller_refused_after_an_ivr_choice_is_refused() -> None:
    tracker = CallTracker(CONFIG)
    base = {"Linkedid": "5.0", "Uniqueid": "5.1", "CallerIDNum": "13800000005"}
    tracker.feed(_ev(Event="VarSet", Variable="HOTLINE_IVR_CHOICE", Value="2", Timestamp="10.0", **base))
    out = tracker.feed(_ev(Event="VarSet", Variable="QUEUESTATUS", Value="JOINEMPTY", Timestamp="11.0", **base))
    assert [e.kind for e in out] == ["offered", "refused"]
    out = tracker.feed(_ev(Event="Hangup", Timestamp="11.5", **base))
    assert [(e.outcome, e.ivr_choice) for e in out if isinstance(e, CallEnded)] == [("refused", "2")]


def test_a_call_resumed_from_the_database_gets_its_channels_back_so_commands_can_act() -> None:
    """The bridge restarted mid-call: its row gives the call, CoreShowChannels the channels (without
    them a hang-up, a transfer or a hold after the restart said "no call in progress")."""
    channels, status = _part2_lists()
    callers = {
        c.caller_number: c for c in live_callers(channels, status, {}, targets_110=CONFIG.targets_110, now=1795925277.7)
    }
    talking = callers["17494749569"]
    tracker = CallTracker(CONFIG)
    tracker.adopt(
        talking.linkedid,
        pbx_epoch=0,
        queue="12345",
        caller_number=talking.caller_number,
        answered=True,
        interface="Local/1003@agents",
        caller_uniqueid=talking.caller_uniqueid,
    )
    assert tracker.live_call_of("Local/1003@agents").caller_channel == ""
    tracker.adopt_live(talking)
    state = tracker.live_call_of("Local/1003@agents")
    assert state.caller_channel == talking.caller_channel and state.caller_channel.startswith("Local/17494749569@")
    assert state.agent_channel.startswith("Local/1003@agents-") and state.agent_uniqueid
    assert not state.held


def _channel(name: str, uniqueid: str, context: str, application: str, number: str = "13611112222") -> Message:
    return _ev(
        Event="CoreShowChannel",
        Channel=name,
        Uniqueid=uniqueid,
        Linkedid="1795965327.52",
        Context=context,
        Exten="1795965327-52",
        Priority="2",
        Application=application,
        ApplicationData="",
        BridgeId="",
        CallerIDNum=number,
        CallerIDName=number,
        Duration="00:00:09",
    )


def test_a_caller_held_while_the_bridge_was_away_is_adopted_on_hold_and_can_be_taken_back() -> None:
    """The channels of telephony/traces/hold.ami while the caller is held (their names, Uniqueids,
    contexts; the rest of the CoreShowChannel fields as the client_gap recording has them): the caller
    waits in [hotline-hold], the agent's channel in [hotline-held], neither in Queue() nor bridged."""
    channels = [
        _channel("Local/13611112222@callers-00000019;1", "1795965327.52", "callers", "Wait"),
        _channel("Local/13611112222@callers-00000019;2", "1795965327.53", "hotline-hold", "BridgeWait"),
        _channel("Local/1001@agents-0000001a;1", "1795965328.54", "hotline-held", "Wait"),
        _channel("Local/1001@agents-0000001a;2", "1795965328.55", "agents", "Wait", number="1001"),
    ]
    contexts = ("hotline-hold", "hotline-held")
    (held,) = live_callers(channels, [], {}, targets_110=CONFIG.targets_110, now=1795965340.0, hold_contexts=contexts)
    assert held.held and held.answered
    assert held.caller_channel == "Local/13611112222@callers-00000019;2"
    assert (held.agent_channel, held.interface) == ("Local/1001@agents-0000001a;1", "Local/1001@agents")
    # Without the hold contexts (an older config) the held caller is no caller in a queue: not adopted.
    assert live_callers(channels, [], {}, targets_110=CONFIG.targets_110, now=1795965340.0) == []

    tracker = CallTracker(CONFIG)
    tracker.adopt("1795965327.52", pbx_epoch=0, queue="12345", answered=True, interface="Local/1001@agents")
    tracker.adopt_live(held)
    state = tracker.live_call_of("Local/1001@agents")
    # What unhold needs: the call held, both channels known (it redirects the agent's channel).
    assert state.held and state.hearing_music
    assert state.agent_channel == "Local/1001@agents-0000001a;1"
    assert state.caller_channel == "Local/13611112222@callers-00000019;2"
    assert not state.caller_with_agent()


def _consult_snapshot(scenario: str) -> list[Message]:
    """The CoreShowChannels answer a real Asterisk 22.10.1 gave mid-consultation (telephony/traces/outage/README.md)."""
    messages = AMIParser().feed((TRACES_DIR / f"outage/{scenario}.part2.ami").read_bytes())
    return [m for m in messages if m.kind == "event" and m.name == "CoreShowChannel"]


def test_a_consultation_under_way_is_found_in_the_channels_and_adopted() -> None:
    """The agent talks to the unit (073155558888) while the caller waits alone with music: the consulted
    leg has the call's Linkedid, waits in the transfer context with the number as Exten, and is bridged
    with the agent's channel. After a restart, 完成转接/取消转接 need that consultation back."""
    channels = _consult_snapshot("consult_restart")
    kwargs = {"targets_110": CONFIG.targets_110, "now": 1795977812.0, "hold_contexts": ("hotline-hold", "hotline-held")}
    (live,) = live_callers(channels, [], {}, transfer_context="hotline-transfer", **kwargs)
    assert (live.consulting, live.consult_answered) == ("073155558888", True)
    assert live.consult_channel == "Local/073155558888@hotline-transfer-00000006;1"
    assert (live.agent_channel, live.interface) == ("Local/1001@agents-00000005;1", "Local/1001@agents")
    assert live.caller_channel == "Local/13611112222@callers-00000004;2" and live.answered and not live.held
    assert live.caller_bridge and live.agent_bridge and live.caller_bridge != live.agent_bridge
    # Without the transfer context (an older config) the call is adopted, but with no consultation.
    (plain,) = live_callers(channels, [], {}, **kwargs)
    assert plain.consulting == ""

    tracker = CallTracker(CONFIG)
    tracker.adopt(live.linkedid, pbx_epoch=0, queue="12345", answered=True, interface="Local/1001@agents")
    assert tracker.adopt_live(live) == []  # nothing new of the call's lifecycle
    state = tracker.live_call_of("Local/1001@agents")
    assert (state.consulting, state.consult_channel, state.consult_status) == (
        "073155558888",
        live.consult_channel,
        "ANSWER",
    )
    assert state.agent_channel == live.agent_channel and state.hearing_music and not state.caller_with_agent()
    # What the PBX sent after the agent's CancelAtxfer (consult_restart_cancel): the caller is back with the agent.
    cancel = _consult_snapshot("consult_restart_cancel")
    (again,) = live_callers(cancel, [], {}, transfer_context="hotline-transfer", **kwargs)
    part2 = AMIParser().feed((TRACES_DIR / "outage/consult_restart_cancel.part2.ami").read_bytes())
    assert _caller_back_after(again, part2)


def test_a_consultation_still_ringing_is_adopted_unanswered_and_can_be_cancelled() -> None:
    """While the number rings its leg is already bridged with the agent's channel (the agent hears the
    ringback), ChannelStateDesc Ringing (consult_ringing, real Asterisk 22.10.1)."""
    messages = AMIParser().feed((TRACES_DIR / "outage/consult_ringing.part1.ami").read_bytes())
    channels = [m for m in messages if m.kind == "event" and m.name == "CoreShowChannel"]
    (live,) = live_callers(
        channels, [], {}, targets_110=CONFIG.targets_110, now=1795978716.0, transfer_context="hotline-transfer"
    )
    assert (live.consulting, live.consult_answered) == ("073155556666", False)
    assert live.agent_channel.startswith("Local/1001@agents-") and live.agent_channel.endswith(";1")
    tracker = CallTracker(CONFIG)
    tracker.adopt(live.linkedid, pbx_epoch=0, queue="12345", answered=True, interface="Local/1001@agents")
    tracker.adopt_live(live)
    state = tracker.live_call_of("Local/1001@agents")
    assert (state.consulting, state.consult_status) == ("073155556666", "")
    # What followed the resync: the CancelAtxfer brings the caller back to the agent.
    after = messages[next(i for i, m in enumerate(messages) if m.name == "CoreShowChannelsComplete") :]
    assert _caller_back_after(live, after)


def _caller_back_after(live, messages) -> bool:
    """Adopt ``live`` at agent 1001, then feed what the PBX sent next: is the caller back with the agent?"""
    tracker = CallTracker(CONFIG)
    tracker.adopt(live.linkedid, pbx_epoch=0, queue="12345", answered=True, interface="Local/1001@agents")
    tracker.adopt_live(live)
    state = tracker.live_call_of("Local/1001@agents")
    for message in messages:
        if message.kind == "event" and message.name != "Hangup":
            tracker.feed(message)
            if state.caller_with_agent():
                return True
    return False
