"""Hold, mute, consult and blind transfer are reported as the PBX shows them.

Driven by real Asterisk 22.10.1 recordings (telephony/traces/hold.ami, mute.ami, consult_*.ami,
blind_transfer.ami; telephony/traces/README.md "Call controls"):

* the shipped Asterisk config (docs/asterisk/) has the contexts, the feature code, the music class
  and the AMI filter the controls rely on;
* the translator follows the recorded calls: one call (the consulted leg shares its Linkedid),
  the caller held and back, the consulted party's DIALSTATUS;
* over real TCP (PBX simulator speaking the recordings -> bridge -> channel layer -> control), each
  control succeeds only once the PBX showed it, and the bad inputs are refused with nothing changed.
"""

from __future__ import annotations

import asyncio
import re

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async

from telephony import bridge as bridge_module
from telephony import control, services
from telephony.call_controls import NOT_ON_HOLD, ON_HOLD
from telephony.commands import CALL_ENDED, INVALID_NUMBER, NO_CALL, NOT_ANSWERED, CommandConfig
from telephony.lifecycle import AgentReleased, CallEnded
from telephony.models import Call
from telephony.traces import TRACES_DIR
from telephony.tracker import TrackerConfig
from tests.telephony.recorded_pbx import RecordedPBX, Session, recorded_actions, recorded_sends
from tests.telephony.test_commands import _until, run_with_bridge
from tests.telephony.test_threeway import ASTERISK, _answered_call, _ended, _options, _priorities, _sections
from tests.telephony.traces import final_calls, parse_trace, replay

UNIT = "073155558888"  # the lab's unit phone that answers (telephony/traces/README.md)
BUSY, UNREACHABLE = "073155550000", "073155559999"

# --- the shipped config -----------------------------------------------------------------------


def test_the_shipped_dialplan_has_the_hold_and_transfer_contexts_the_commands_use():
    dialplan = _sections(ASTERISK / "extensions.conf")
    config = CommandConfig()
    hold = _priorities(dialplan[config.hold_context])["_X."]
    # A maximum hold time (S, the global HOTLINE_HOLD_MAX), then the caller is moved on.
    assert hold[1] == (
        "BridgeWait",
        'hotline-hold-${EXTEN},participant,m(default)S(${IF($["${HOTLINE_HOLD_MAX}" = ""]?300:${HOTLINE_HOLD_MAX})})',
    )
    assert hold[2] == ("Goto", "hotline-hold-end,${EXTEN},1")
    assert int(_options(dialplan["globals"])["HOTLINE_HOLD_MAX"]) > 0
    held = _priorities(dialplan[config.held_context])
    # The agent's channel waits silently and ends when the caller hung up meanwhile.
    assert any(app == "GotoIf" and "CHANNEL_EXISTS(${HOTLINE_HOLD_CALLER})" in data for app, data in held["_X."])
    # The agent's channel gone (hung up, phone dropped) with the caller still held: the caller is moved on.
    ((app, data),) = held["h"]
    assert app == "ExecIf" and "ChannelRedirect(${HOTLINE_HOLD_CALLER},hotline-hold-end," in data
    assert ("Set", "HOTLINE_HOLD_ROOM=${EXTEN}") in held["_X."]
    end = _priorities(dialplan["hotline-hold-end"])["_X."]
    assert ("Playback", "hotline/hold-ended") in end and end[-1][0] == "Hangup"
    unhold = _priorities(dialplan[config.unhold_context])["_X."]
    # Bridge() from the dialplan, not the AMI Bridge action (that one loses app_queue's AgentComplete);
    # T: the agent may still transfer after a hold.
    assert unhold[1][0] == "Bridge" and unhold[1][1].startswith("${HOTLINE_HOLD_CALLER},") and "T" in unhold[1][1]
    transfer = _priorities(dialplan[config.transfer_context])
    assert transfer["_1XXX"][-1] == ("Goto", "agents,${EXTEN},1")
    assert ("Set", 'CALLERID(all)="12345" <12345>') in transfer["_X."]
    # Atxfer works only for an agent that Queue() lets transfer (option t).
    queues = [data for steps in _priorities(dialplan["choice"]).values() for app, data in steps if app == "Queue"]
    assert queues and all(data.split(",")[1] == "t" for data in queues)
    assert TrackerConfig().transfer_context == config.transfer_context


def test_features_conf_has_the_atxfer_code_and_no_english_prompts():
    features = {name: _options(lines) for name, lines in _sections(ASTERISK / "features.conf").items()}
    assert features["featuremap"]["atxfer"]  # else AMI Atxfer: "No attended transfer feature code found"
    general = features["general"]
    assert general["atxferdropcall"] == "no"  # the agent leaving completes the transfer
    assert general["atxferabort"] and general["transferannouncesound"] == "" and general["xfersound"] == ""
    assert int(general["atxfernoanswertimeout"]) < CommandConfig().consult_timeout


def test_the_music_class_the_hold_plays_exists():
    classes = _sections(ASTERISK / "musiconhold.conf")
    assert _options(classes["default"])["mode"] == "files"


def test_the_ami_filter_and_rights_let_the_controls_see_and_act():
    manager = _sections(ASTERISK / "manager.conf")["lianxin"]
    filters = [re.compile(line.split("=", 1)[1].strip()) for line in manager if line.startswith("eventfilter")]
    wanted = {"MusicOnHoldStart", "MusicOnHoldStop", "BridgeEnter", "BridgeLeave", "DialEnd"}
    wanted |= {"AttendedTransfer", "BlindTransfer"}
    seen = set()
    for name in ("hold", "consult_transfer", "consult_busy", "blind_transfer"):
        for message in parse_trace(name):
            if message.kind == "event" and message.name in wanted:
                text = "\r\n".join(f"{k}: {v}" for k in message for v in message.getlist(k))
                assert any(f.search(text) for f in filters), text[:200]
                seen.add(message.name)
    assert seen == wanted
    # Redirect, Atxfer, BlindTransfer: "call"; MuteAudio: "system" (res_mutestream).
    user = _options([line for line in manager if not line.startswith("event")])
    assert {"call", "system"} <= {c.strip() for c in user["write"].split(",")}


# --- the translator over the recordings ---------------------------------------------------------


def test_a_held_call_is_one_answered_call_and_the_caller_is_back_with_the_agent_after_unhold():
    tracker, events = replay("hold")
    (call,) = final_calls(events).values()
    assert call.outcome == "answered" and call.talk_seconds == 7  # AgentComplete: the hold counts as talk
    moments = []
    fresh = type(tracker)(tracker.config)
    for message in parse_trace("hold"):
        if message.kind == "event":
            fresh.feed(message)
            state = fresh.calls.get(call.linkedid)
            if state is not None and state.answered:
                moment = ("music" if state.hearing_music else "") + ("+together" if state.caller_with_agent() else "")
                if not moments or moments[-1] != moment:
                    moments.append(moment)
    assert moments[:4] == ["", "+together", "", "music"]
    assert "+together" in moments[4:]


@pytest.mark.parametrize(
    ("trace", "why"), [("hold_agent_gone", "the agent's phone dropped"), ("hold_timeout", "HOTLINE_HOLD_MAX")]
)
def test_a_caller_left_on_hold_hears_the_prompt_and_the_call_ends_answered(trace, why):
    """Real Asterisk 22.10.1 with the shipped [hotline-hold]…[hotline-hold-end]: the caller is never
    left alone in the holding bridge; the call stays one answered call, the agent released."""
    tracker, events = replay(trace)
    (call,) = final_calls(events).values()
    assert call.outcome == "answered" and call.interface == "Local/1001@agents"
    released = [e for e in events if isinstance(e, AgentReleased)]
    assert len(released) == 1
    messages = [m for m in parse_trace(trace) if m.kind == "event"]
    caller = next(m.first("Channel") for m in messages if m.name == "AgentConnect")
    on_caller = [m for m in messages if m.first("Channel") == caller]
    played = [i for i, m in enumerate(on_caller) if m.first("AppData") == "hotline/hold-ended"]
    left = [
        i for i, m in enumerate(on_caller) if m.name == "BridgeLeave" and m.first("Context").startswith("hotline-hold")
    ]
    hangup = [i for i, m in enumerate(on_caller) if m.name == "Hangup"]
    # Out of the holding bridge (music stopped), the prompt, then the end of the call.
    assert left and played and hangup and left[-1] < played[0] < hangup[0]
    assert [m.name for m in on_caller if m.name.startswith("MusicOnHold")][-1] == "MusicOnHoldStop"
    if trace == "hold_agent_gone":
        # app_queue reports the agent's part at once (Reason agent), before the caller's prompt.
        complete = next(m for m in messages if m.name == "AgentComplete")
        assert complete.first("Reason") == "agent" and messages.index(complete) < messages.index(on_caller[played[0]])
    else:
        assert any(m.first("AppData").endswith("S(5)") for m in on_caller)  # the lab's HOTLINE_HOLD_MAX
    state = tracker.call(call.linkedid)
    assert not state.hearing_music and state.ended


@pytest.mark.django_db
def test_the_calls_row_is_no_longer_on_hold_once_the_pbx_ended_the_hold():
    """The console's hold wrote on_hold; the PBX then ended the hold itself (hold_agent_gone): the
    ended call's row says answered, not on hold."""
    _, events = replay("hold_agent_gone")
    (linkedid,) = {e.linkedid for e in events}
    pbx_epoch = events[0].pbx_epoch
    for event in events:
        if isinstance(event, CallEnded):
            row = services.set_call_controls(linkedid, pbx_epoch, on_hold=True)  # what 保持 stored
            assert row.on_hold and row.ended_at is None
        services.apply_lifecycle(event)
    row = Call.objects.get(linkedid=linkedid)
    assert (row.outcome, row.on_hold, row.consulting, row.muted) == ("answered", False, "", False)
    assert row.answered_at is not None and row.ended_at is not None and row.talk_seconds is not None


def test_a_consult_transfer_keeps_one_call_and_ends_transferred():
    tracker, events = replay("consult_transfer")
    (call,) = final_calls(events).values()
    assert call.outcome == "transferred"  # an answered outcome (metrics.kpis.ANSWERED_OUTCOMES)
    state = tracker.call(call.linkedid)
    assert state.consult_status == "ANSWER" and state.consult_channel.startswith(f"Local/{UNIT}@hotline-transfer-")
    legs = [
        m for m in parse_trace("consult_transfer") if m.kind == "event" and "@hotline-transfer-" in m.first("Channel")
    ]
    assert legs and {m.first("Linkedid") for m in legs} == {call.linkedid}


@pytest.mark.parametrize(("trace", "status"), [("consult_busy", "BUSY"), ("consult_unreachable", "CONGESTION")])
def test_a_consulted_number_that_fails_leaves_the_caller_with_the_agent(trace, status):
    tracker, events = replay(trace)
    (call,) = final_calls(events).values()
    assert call.outcome == "answered"
    assert tracker.call(call.linkedid).consult_status == status


# --- over real TCP ------------------------------------------------------------------------------

pytestmark_db = pytest.mark.django_db(transaction=True)


def _sent(sim, action: str) -> list:
    return [m for name, m in sim.received if name == action]


@pytestmark_db
def test_hold_then_unhold_is_shown_only_as_the_pbx_reports_it(settings, agent):
    async def body(sim, messages):
        queued = asyncio.create_task(sim.queue_call(number="13611112222"))
        call = await _answered_call()
        held = await sync_to_async(control.hold)(agent)
        assert held.on_hold
        (redirect,) = _sent(sim, "redirect")
        room = call.linkedid.replace(".", "-")
        assert (redirect.first("Context"), redirect.first("Exten"), redirect.first("ExtraContext")) == (
            "hotline-hold",
            room,
            "hotline-held",
        )
        (setvar,) = _sent(sim, "setvar")
        assert setvar.first("Value") == redirect.first("Channel")  # the caller's channel, for Bridge()
        with pytest.raises(control.CommandFailed) as again:
            await sync_to_async(control.hold)(agent)
        assert again.value.code == ON_HOLD
        back = await sync_to_async(control.unhold)(agent)
        assert not back.on_hold
        with pytest.raises(control.CommandFailed) as twice:
            await sync_to_async(control.unhold)(agent)
        assert twice.value.code == NOT_ON_HOLD
        await sync_to_async(control.hang_up)(agent)
        final = await _ended(call)
        await asyncio.wait_for(queued, 30)
        assert final.outcome == "answered"
        assert await database_sync_to_async(Call.objects.count)() == 1

    run_with_bridge(settings, body, speed=2.0, talk=(60.0, 60.0))


@pytestmark_db
def test_the_agents_phone_dropping_while_the_caller_is_held_ends_the_call_answered_and_not_on_hold(settings, agent):
    """The real bridge over real TCP against hold_agent_gone (real Asterisk 22.10.1): the console's hold
    is the bridge's own Setvar + Redirect; then the agent's phone drops, the shipped [hotline-held] h
    moves the caller to the prompt and the PBX ends the call. The row: answered, no longer on hold."""
    names = recorded_actions("hold_agent_gone", TRACES_DIR)
    (drop,) = [offset for offset, aid in recorded_sends("hold_agent_gone", TRACES_DIR) if names[aid] == "Hangup"]

    async def main():
        dropped = asyncio.Event()
        ours = frozenset({"login", "setvar", "redirect", "logoff"})  # the rest: the lab's own (queue, caller, phone)
        session = Session("hold_agent_gone", folder=TRACES_DIR, at_send=True, ours=ours, gate=(drop, dropped))
        pbx = RecordedPBX([session])
        await pbx.start()
        settings.AMI_HOST, settings.AMI_PORT = "127.0.0.1", pbx.port
        settings.AMI_QUEUE_LOG_PATH = ""
        stop = asyncio.Event()
        task = asyncio.create_task(bridge_module.from_settings().run(stop))
        try:
            call = await _answered_call()
            assert (await sync_to_async(control.hold)(agent)).on_hold
            dropped.set()  # the agent's phone drops now
            final = await _ended(call)
            assert (final.outcome, final.on_hold, final.talk_seconds) == ("answered", False, 5)
            assert final.agent_interface == "Local/1001@agents"
            assert await database_sync_to_async(Call.objects.count)() == 1
            with pytest.raises(control.CommandFailed) as gone:  # nothing left to take back
                await sync_to_async(control.unhold)(agent)
            assert gone.value.code == NO_CALL
        finally:
            stop.set()
            await asyncio.wait_for(task, 15)
            await pbx.stop()

    asyncio.run(asyncio.wait_for(main(), 60))


@pytestmark_db
def test_a_hold_on_a_call_that_already_hung_up_is_refused_and_changes_nothing(settings, agent):
    async def body(sim, messages):
        queued = asyncio.create_task(sim.queue_call(number="13611112222"))
        call = await _answered_call()
        await sync_to_async(control.hang_up)(agent)
        ended = await _ended(call)
        await asyncio.wait_for(queued, 30)
        with pytest.raises(control.CommandFailed) as refused:
            await sync_to_async(control.hold)(agent)
        assert refused.value.code == NO_CALL
        assert control.explain(refused.value)
        assert not _sent(sim, "redirect") and not _sent(sim, "setvar")
        fresh = await database_sync_to_async(Call.objects.get)(pk=call.pk)
        assert (fresh.on_hold, fresh.outcome, fresh.ended_at) == (False, "answered", ended.ended_at)

    run_with_bridge(settings, body, speed=2.0, talk=(60.0, 60.0))


@pytestmark_db
def test_the_pbx_refusing_a_hold_for_a_gone_channel_is_a_clear_refusal(settings, agent):
    # The race: the bridge still follows the call, the PBX no longer has the caller's channel. Asterisk
    # answers the Redirect "Channel does not exist: <channel>" (telephony/traces/hold.ami, its last one).
    from telephony.commands import Commands
    from telephony.tracker import CallState, CallTracker

    async def body(sim, messages):
        from telephony.ami.client import AMIClient, ClientConfig

        port = sim.server.sockets[0].getsockname()[1]
        client = AMIClient(ClientConfig(host="127.0.0.1", port=port, username="hotline", secret="hotline-secret"))
        stop = asyncio.Event()
        running = asyncio.create_task(client.run(stop))
        try:
            await _until(lambda: _connected(client), 5)
            tracker = CallTracker()
            state = CallState(linkedid="1795965000.1", pbx_epoch=0, answered=True, interface="Local/1001@agents")
            state.caller_channel = "Local/13611112222@callers-00000001;2"
            state.agent_channel = "Local/1001@agents-00000002;1"
            tracker.calls[state.linkedid] = state
            with pytest.raises(Exception) as refused:
                await Commands(client, tracker).execute("hold", {"extension": "1001"})
            assert getattr(refused.value, "code", "") == CALL_ENDED
            assert not state.held
        finally:
            stop.set()
            await asyncio.wait_for(running, 5)

    run_with_bridge(settings, body, speed=2.0)


async def _connected(client) -> bool:
    return client.connected.is_set()


@pytestmark_db
def test_mute_and_unmute_reach_the_agents_microphone(settings, agent):
    async def body(sim, messages):
        queued = asyncio.create_task(sim.queue_call(number="13611112222"))
        call = await _answered_call()
        assert (await sync_to_async(control.mute)(agent, True)).muted
        assert not (await sync_to_async(control.mute)(agent, False)).muted
        first, second = _sent(sim, "muteaudio")
        assert (first.first("Direction"), first.first("State"), second.first("State")) == ("in", "on", "off")
        assert first.first("Channel").startswith("Local/1001@agents-")  # the agent's, not the caller's
        await sync_to_async(control.hang_up)(agent)
        await _ended(call)
        await asyncio.wait_for(queued, 30)
        with pytest.raises(control.CommandFailed) as refused:  # no call any more
            await sync_to_async(control.mute)(agent, True)
        assert refused.value.code == NO_CALL

    run_with_bridge(settings, body, speed=2.0, talk=(60.0, 60.0))


@pytestmark_db
def test_a_consult_transfer_is_one_call_and_completes_to_the_unit(settings, agent):
    async def body(sim, messages):
        queued = asyncio.create_task(sim.queue_call(number="13611112222"))
        call = await _answered_call()
        consulting = await sync_to_async(control.consult_transfer)(agent, UNIT)
        assert consulting.consulting == UNIT
        (atxfer,) = _sent(sim, "atxfer")
        assert (atxfer.first("Exten"), atxfer.first("Context")) == (f"{UNIT}#", "hotline-transfer")
        with pytest.raises(control.CommandFailed) as busy_now:
            await sync_to_async(control.hold)(agent)
        assert busy_now.value.code == "consulting"
        done = await sync_to_async(control.complete_transfer)(agent, "雨湖区")
        assert (done.consulting, done.transferred_to) == ("", f"雨湖区 {UNIT}")
        final = await _ended(call)
        await asyncio.wait_for(queued, 30)
        # One call: the consulted leg is part of it; transferred counts as answered.
        assert final.outcome == "transferred"
        assert await database_sync_to_async(Call.objects.count)() == 1

    run_with_bridge(settings, body, speed=2.0, talk=(60.0, 60.0))


@pytestmark_db
@pytest.mark.parametrize(("number", "status"), [(BUSY, "BUSY"), (UNREACHABLE, "CONGESTION")])
def test_a_consult_transfer_to_a_busy_or_unreachable_number_brings_the_caller_back(settings, agent, number, status):
    async def body(sim, messages):
        queued = asyncio.create_task(sim.queue_call(number="13611112222"))
        call = await _answered_call()
        with pytest.raises(control.CommandFailed) as failed:
            await sync_to_async(control.consult_transfer)(agent, number)
        assert (failed.value.code, failed.value.detail) == (NOT_ANSWERED, status)
        assert "back" in str(failed.value)  # the bridge saw the caller bridged with the agent again
        fresh = await database_sync_to_async(Call.objects.get)(pk=call.pk)
        assert fresh.ended_at is None and fresh.consulting == "" and fresh.transferred_to == ""
        # Not lost: the agent can hold the caller and end the call as usual.
        assert (await sync_to_async(control.hold)(agent)).on_hold
        await sync_to_async(control.hang_up)(agent)
        assert (await _ended(call)).outcome == "answered"
        await asyncio.wait_for(queued, 30)

    run_with_bridge(settings, body, speed=2.0, talk=(60.0, 60.0))


@pytestmark_db
def test_a_cancelled_consult_transfer_brings_the_caller_back(settings, agent):
    async def body(sim, messages):
        queued = asyncio.create_task(sim.queue_call(number="13611112222"))
        call = await _answered_call()
        await sync_to_async(control.consult_transfer)(agent, UNIT)
        back = await sync_to_async(control.cancel_transfer)(agent)
        assert back.consulting == "" and back.transferred_to == ""
        assert len(_sent(sim, "cancelatxfer")) == 1
        await sync_to_async(control.hang_up)(agent)
        assert (await _ended(call)).outcome == "answered"
        await asyncio.wait_for(queued, 30)

    run_with_bridge(settings, body, speed=2.0, talk=(60.0, 60.0))


@pytestmark_db
def test_a_blind_transfer_to_a_unit_is_reported_once_the_pbx_did_it(settings, agent):
    async def body(sim, messages):
        queued = asyncio.create_task(sim.queue_call(number="13611112222"))
        call = await _answered_call()
        done = await sync_to_async(control.blind_transfer)(agent, UNIT, "雨湖区")
        assert done.transferred_to == f"雨湖区 {UNIT}"
        (blind,) = _sent(sim, "blindtransfer")
        assert (blind.first("Context"), blind.first("Exten")) == ("hotline-transfer", UNIT)
        final = await _ended(call)
        await asyncio.wait_for(queued, 30)
        assert final.outcome == "transferred"
        assert await database_sync_to_async(Call.objects.count)() == 1

    run_with_bridge(settings, body, speed=2.0, talk=(60.0, 60.0))


@pytestmark_db
def test_an_invalid_number_and_an_agent_without_a_call_are_refused_before_the_pbx(settings, agent):
    async def body(sim, messages):
        for command in (control.hold, control.unhold, control.cancel_transfer, control.complete_transfer):
            with pytest.raises(control.CommandFailed) as no_call:
                await sync_to_async(command)(agent)
            assert no_call.value.code == NO_CALL
        with pytest.raises(control.CommandFailed) as no_call:
            await sync_to_async(control.blind_transfer)(agent, UNIT)
        assert no_call.value.code == NO_CALL
        queued = asyncio.create_task(sim.queue_call(number="13611112222"))
        call = await _answered_call()
        for bad in ("0731-5555", "", "12", "1" * 21):
            for command in (control.consult_transfer, control.blind_transfer):
                with pytest.raises(control.CommandFailed) as invalid:
                    await sync_to_async(command)(agent, bad)
                assert invalid.value.code == INVALID_NUMBER
        assert not _sent(sim, "atxfer") and not _sent(sim, "blindtransfer")
        assert (await database_sync_to_async(Call.objects.get)(pk=call.pk)).ended_at is None
        await sync_to_async(control.hang_up)(agent)
        await asyncio.wait_for(queued, 30)

    run_with_bridge(settings, body, speed=2.0, talk=(60.0, 60.0))
