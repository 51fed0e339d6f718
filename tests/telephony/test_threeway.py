"""Three-way calls with 110 and transfers to 110 are reported as the PBX shows them.

Three layers, all driven by real Asterisk 22.9 recordings (telephony/traces/threeway*.ami,
transfer_lost.ami, see telephony/traces/README.md):

* the shipped Asterisk config (docs/asterisk/) has every context, application, profile and
  prompt the commands use, and its AMI filter lets through the events they wait for;
* the translator follows the recorded calls: the 110 leg belongs to the call, a busy 110 and a
  Redirect to a missing extension are seen for what they are;
* over real TCP (PBX simulator -> bridge -> channel layer -> control), success and failure
  come back to the console as the PBX shows them, and a failure writes no referral.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async

from hotline.models import Referral
from telephony import control
from telephony.commands import CALL_ENDED, NO_ROOM, NOT_ANSWERED, NOT_REACHED, CommandConfig
from telephony.lifecycle import CallTransferred
from telephony.models import Call
from telephony.simulator import frames as sim_frames
from telephony.tracker import TrackerConfig
from tests.telephony.test_commands import _until, run_with_bridge
from tests.telephony.traces import final_calls, parse_trace, replay

ASTERISK = Path(__file__).resolve().parents[2] / "docs" / "asterisk"


# --- the shipped config -----------------------------------------------------------------------


def _sections(path: Path) -> dict[str, list[str]]:
    """An Asterisk .conf file as {section: [lines without comments]}."""
    out: dict[str, list[str]] = {}
    current = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split(";", 1)[0].strip()
        if not line:
            continue
        header = re.fullmatch(r"\[([^\]]+)\]", line)
        if header:
            current = header.group(1)
            out.setdefault(current, [])
        else:
            out.setdefault(current, []).append(line)
    return out


def _priorities(context: list[str]) -> dict[str, list[tuple[str, str]]]:
    """{extension: [(application, data), ...]} of a context's ``exten =>``/``same =>`` lines."""
    out: dict[str, list[tuple[str, str]]] = {}
    exten = ""
    for line in context:
        match = re.match(r"(exten|same)\s*=>\s*(.*)", line)
        if not match:
            continue
        parts = match.group(2).split(",", 2) if match.group(1) == "exten" else ["", *match.group(2).split(",", 1)]
        if match.group(1) == "exten":
            exten = parts[0].strip()
        step = parts[-1]
        app, _, data = step.partition("(")
        out.setdefault(exten, []).append((app.strip(), data.rsplit(")", 1)[0]))
    return out


def _options(section: list[str]) -> dict[str, str]:
    return {k.strip(): v.strip() for k, _, v in (line.partition("=") for line in section)}


def test_the_shipped_dialplan_has_what_the_three_way_and_transfer_commands_use():
    dialplan = _sections(ASTERISK / "extensions.conf")
    config = CommandConfig()
    context_110, exten_110 = config.target_110
    emergency = _priorities(dialplan[context_110])[exten_110]
    # The bridge takes the caller's channel running a *later* priority of 110 as proof (the first
    # Newexten of a Redirect is sent even for a missing extension): the 110 extension needs two.
    assert len(emergency) >= 2 and emergency[-2][0] == "Dial"

    room = _priorities(dialplan[config.threeway_context])["_X."]
    dial = _priorities(dialplan[config.threeway_dial_context])["_X."]
    assert [app for app, _ in room][-2:] == ["ConfBridge", "Hangup"]
    _, dial_data = next(step for step in dial if step[0] == "Dial")
    # The 110 leg is dialled from the agent's channel through the 110 context (one Linkedid),
    # with a pre-dial handler that sets the hotline's caller ID, and G() into the join context.
    assert dial_data.startswith(f"Local/{exten_110}@{context_110},")
    handler = re.search(r"b\(([^^)]+)\^([^^)]+)\^1\)", dial_data)
    join = re.search(r"G\(([^^)]+)\^\$\{EXTEN\}\^1\)", dial_data)
    assert handler and join
    callee = _priorities(dialplan[handler.group(1)])[handler.group(2)]
    assert ("Set", 'CALLERID(all)="12345" <12345>') in callee and callee[-1][0] == "Return"
    joined = _priorities(dialplan[join.group(1)])["_X."]
    # G(): the agent lands on priority 1, the called party on priority 2; both end in the room.
    assert joined[0][0] == "Goto" and joined[1] == ("Set", "HOTLINE_THREEWAY=ANSWER")
    assert ("Set", "HOTLINE_THREEWAY=${DIALSTATUS}") in dial
    assert TrackerConfig().threeway_variable == "HOTLINE_THREEWAY"


def test_every_confbridge_call_names_profiles_confbridge_conf_defines():
    # app_confbridge does not load without confbridge.conf, and ConfBridge() fails on an unknown profile.
    dialplan = _sections(ASTERISK / "extensions.conf")
    profiles = {name: _options(lines) for name, lines in _sections(ASTERISK / "confbridge.conf").items()}
    calls = [
        data
        for lines in dialplan.values()
        for steps in _priorities(lines).values()
        for app, data in steps
        if app == "ConfBridge"
    ]
    assert len(calls) >= 3
    for data in calls:
        _, bridge, user, menu = data.split(",")
        assert profiles[bridge]["type"] == "bridge"
        assert profiles[user]["type"] == "user"
        assert profiles[menu]["type"] == "menu"
    # The room lives as long as the citizen: the others leave with them.
    assert profiles["hotline_citizen"]["marked"] == "yes"
    assert profiles["hotline_user"]["end_marked"] == "yes"


def test_every_prompt_the_dialplan_plays_is_recorded_in_the_repository():
    dialplan = _sections(ASTERISK / "extensions.conf")
    sounds = ASTERISK / "sounds"
    listed = {line.split("\t", 1)[0] for line in (sounds / "prompts.tsv").read_text().splitlines() if "\t" in line}
    played = set()
    for lines in dialplan.values():
        for steps in _priorities(lines).values():
            for app, data in steps:
                if app in ("Playback", "Background") or (app == "Read" and "," in data):
                    played.add(data.split(",")[1] if app == "Read" else data.split(",")[0])
    assert {"hotline/threeway-wait", "hotline/threeway-failed"} <= played
    for name in played:
        assert name in listed, name
        wav = sounds / "zh" / f"{name}.wav"
        assert wav.read_bytes()[:4] == b"RIFF" and wav.stat().st_size > 8000, name


def test_the_ami_filter_lets_through_every_event_the_commands_wait_for():
    # manager.conf eventfilter lines are regexes over the event text: an event passes if one matches.
    filters = [
        re.compile(line.split("=", 1)[1].strip())
        for line in _sections(ASTERISK / "manager.conf")["lianxin"]
        if line.startswith("eventfilter")
    ]
    needed = []
    for message in parse_trace("threeway") + parse_trace("threeway_busy") + parse_trace("emergency_transfer"):
        if message.kind != "event":
            continue
        name, variable = message.name, message.first("Variable")
        room = name in ("ConfbridgeJoin", "ConfbridgeLeave") or variable == "HOTLINE_THREEWAY"
        if room or (name == "Newexten" and message.first("Context") == "emergency"):
            needed.append(message)
    assert {m.name for m in needed} == {"ConfbridgeJoin", "ConfbridgeLeave", "VarSet", "Newexten"}
    for message in needed:
        text = "\r\n".join(f"{k}: {v}" for k in message for v in message.getlist(k))
        assert any(f.search(text) for f in filters), text[:200]


# --- the translator over the recordings ---------------------------------------------------------


def test_the_110_leg_of_a_three_way_call_is_part_of_the_call_and_shows_the_hotline_number():
    tracker, events = replay("threeway")
    (call,) = final_calls(events).values()
    assert call.outcome == "answered" and call.caller_number == "13611112222"
    assert not [e for e in events if isinstance(e, CallTransferred)]
    state = tracker.call(call.linkedid)
    assert state.threeway_joined.startswith("Local/110@emergency-") and not state.threeway_failed
    legs = [m for m in parse_trace("threeway") if m.kind == "event" and "@emergency-" in m.first("Channel")]
    assert legs and {m.first("Linkedid") for m in legs} == {call.linkedid}
    # What the police trunk is dialled with: the hotline's number, not the citizen's.
    (trunk,) = [
        m for m in parse_trace("threeway") if m.name == "DialBegin" and "police-trunk" in m.first("DestChannel")
    ]
    assert trunk.first("CallerIDNum") == "12345"


def test_a_busy_110_is_a_failed_three_way_call_and_the_caller_stays_with_the_agent():
    tracker, events = replay("threeway_busy")
    (call,) = final_calls(events).values()
    assert call.outcome == "answered"
    state = tracker.call(call.linkedid)
    assert state.threeway_failed == "NOANSWER" and not state.threeway_joined
    joins = [m.first("Channel") for m in parse_trace("threeway_busy") if m.name == "ConfbridgeJoin"]
    assert sorted(c.split("@")[1].split("-")[0] for c in joins) == ["agents", "callers"]


def test_a_redirect_to_a_missing_110_extension_is_not_a_transfer():
    # The Newexten of the jump names emergency,119 (here a configured 110 target) at priority 1, then nothing.
    config = TrackerConfig(queues=frozenset({"12345"}), targets_110=frozenset({("emergency", "119")}))
    _, events = replay("transfer_lost", config)
    (call,) = final_calls(events).values()
    assert call.outcome == "answered"
    assert not [e for e in events if isinstance(e, CallTransferred)]
    # The recorded transfer that did reach 110 still counts.
    (done,) = final_calls(replay("emergency_transfer")[1]).values()
    assert done.outcome == "transferred_110"


# --- over real TCP: simulator (speaking the recordings) -> bridge -> control ---------------------

pytestmark_db = pytest.mark.django_db(transaction=True)


async def _answered_call():
    def live():
        return Call.objects.filter(answered_at__isnull=False, ended_at__isnull=True).first()

    return await _until(database_sync_to_async(live), 15)


async def _ended(call: Call) -> Call:
    async def ended():
        fresh = await database_sync_to_async(Call.objects.get)(pk=call.pk)
        return fresh if fresh.ended_at else None

    return await _until(ended, 30)


@pytestmark_db
def test_a_three_way_call_is_reported_once_110_is_in_the_room_with_the_caller(settings, agent):
    async def body(sim, messages):
        queued = asyncio.create_task(sim.queue_call(number="13611112222"))
        call = await _answered_call()
        referral = await sync_to_async(control.transfer_to_110)(agent, "来电人称邻居家中有人持刀", three_way=True)
        assert referral.mode == "three_way" and referral.call_linkedid == call.linkedid
        redirect = next(m for action, m in reversed(sim.received) if action == "redirect")
        room = call.linkedid.replace(".", "-")
        assert (redirect.first("Context"), redirect.first("Exten")) == ("threeway", room)
        assert (redirect.first("ExtraContext"), redirect.first("ExtraExten")) == ("threeway-dial", room)
        assert not [m for action, m in sim.received if action == "originate"]  # no call of its own for 110
        await sync_to_async(control.hang_up)(agent)
        final = await _ended(call)
        await asyncio.wait_for(queued, 30)
        # One call: the 110 leg is no phantom ivr_110 call, and the call keeps its own outcome.
        assert final.outcome == "answered"
        assert await database_sync_to_async(Call.objects.count)() == 1

    run_with_bridge(settings, body, speed=2.0, talk=(60.0, 60.0))


@pytestmark_db
def test_a_busy_110_is_reported_as_a_failure_and_no_referral_is_written(settings, agent):
    async def body(sim, messages):
        queued = asyncio.create_task(sim.queue_call(number="13611112222"))
        call = await _answered_call()
        with pytest.raises(control.CommandFailed) as failed:
            await sync_to_async(control.transfer_to_110)(agent, "来电人称有人溺水", three_way=True)
        assert (failed.value.code, failed.value.detail) == (NOT_ANSWERED, "NOANSWER")
        assert not await database_sync_to_async(Referral.objects.exists)()
        # The caller is still with the agent: the call is live, and the agent can end it.
        fresh = await database_sync_to_async(Call.objects.get)(pk=call.pk)
        assert fresh.ended_at is None
        await sync_to_async(control.hang_up)(agent)
        assert (await _ended(call)).outcome == "answered"
        await asyncio.wait_for(queued, 30)

    run_with_bridge(settings, body, speed=2.0, talk=(60.0, 60.0), threeway_answers=False)


@pytestmark_db
def test_a_pbx_without_confbridge_refuses_the_three_way_call_before_touching_the_call(settings, agent):
    # What the audit saw: no confbridge.conf, so app_confbridge did not load. Asterisk answers
    # ModuleCheck app_confbridge with "Module not loaded" (checked on 22.9): nothing is redirected.
    async def body(sim, messages):
        queued = asyncio.create_task(sim.queue_call(number="13611112222"))
        call = await _answered_call()
        with pytest.raises(control.CommandFailed) as failed:
            await sync_to_async(control.transfer_to_110)(agent, "来电人称有人持刀", three_way=True)
        assert failed.value.code == NO_ROOM
        assert not [m for action, m in sim.received if action == "redirect"]
        assert not await database_sync_to_async(Referral.objects.exists)()
        fresh = await database_sync_to_async(Call.objects.get)(pk=call.pk)
        assert fresh.ended_at is None  # the caller is still with the agent
        await sync_to_async(control.hang_up)(agent)
        await asyncio.wait_for(queued, 30)

    run_with_bridge(settings, body, speed=2.0, talk=(60.0, 60.0), missing_modules=("app_confbridge",))


@pytestmark_db
def test_a_transfer_whose_caller_never_reaches_110_is_a_failure_without_referral(settings, agent):
    # The bridge's 110 target is an extension the PBX's dialplan lacks: Asterisk says
    # "Redirect successful" and hangs the caller up (telephony/traces/transfer_lost.ami).
    settings.AMI_110_TARGET = ("emergency", "119")

    async def body(sim, messages):
        queued = asyncio.create_task(sim.queue_call(number="13611112222"))
        call = await _answered_call()
        with pytest.raises(control.CommandFailed) as failed:
            await sync_to_async(control.transfer_to_110)(agent, "来电人称有人持刀伤人")
        assert failed.value.code == NOT_REACHED
        assert not await database_sync_to_async(Referral.objects.exists)()
        assert (await _ended(call)).outcome == "answered"  # never transferred_110
        await asyncio.wait_for(queued, 30)

    run_with_bridge(settings, body, speed=2.0, talk=(60.0, 60.0))


@pytestmark_db
def test_an_originate_response_for_an_action_id_the_bridge_does_not_know_changes_nothing(settings, agent):
    async def body(sim, messages):
        # What the old three-way Originate of Local/110@emergency left behind, answered after the
        # bridge gave up on it (or restarted): no call, no referral, and the next Originate works.
        stale = sim_frames.originate_response(
            "bridge-gone-17", "Local/110@emergency-000000ff;1", "", "", sim.ids.uniqueid(), "<unknown>"
        )
        sim.broadcast(stale)
        result = await control.send_command(
            "originate", extension="1001", number="13800138000", purpose="callback", reference="cb-9", timeout=20
        )
        assert result["success"] and result["action_id"] != "bridge-gone-17"
        call = await _until(
            lambda: database_sync_to_async(Call.objects.filter(linkedid=result["linkedid"]).first)(), 10
        )
        assert call.outcome == "callback"
        assert await database_sync_to_async(Call.objects.count)() == 1
        assert not await database_sync_to_async(Referral.objects.exists)()

    run_with_bridge(settings, body)


def test_failure_codes_are_the_ones_the_console_explains():
    from web.views.agent import TRANSFER_FAILURES

    assert set(TRANSFER_FAILURES) == {NOT_ANSWERED, NOT_REACHED, CALL_ENDED, NO_ROOM}


# --- the expert on the line: a unit's duty phone in a three-way call (issue 17.5) ----------------


def test_the_unit_three_way_context_dials_the_number_the_bridge_set_like_the_110_one():
    dialplan = _sections(ASTERISK / "extensions.conf")
    config = CommandConfig()
    steps = _priorities(dialplan[config.threeway_unit_context])["_X."]
    _, dial_data = next(step for step in steps if step[0] == "Dial")
    # Only digits of the number reach Dial(), through [pstn], with the same caller ID handler and join.
    assert dial_data.startswith("Local/${FILTER(0-9,${HOTLINE_THREEWAY_NUMBER})}@pstn,")
    assert "b(threeway-callee^s^1)" in dial_data and "G(threeway-join^${EXTEN}^1)" in dial_data
    assert ("Set", "HOTLINE_THREEWAY=${DIALSTATUS}") in steps and "pstn" in dialplan


def test_the_units_duty_phone_is_part_of_the_call_and_shows_the_hotline_number():
    tracker, events = replay("threeway_unit")
    (call,) = final_calls(events).values()
    assert call.outcome == "answered"
    state = tracker.call(call.linkedid)
    assert state.threeway_joined.startswith("Local/073155558888@pstn-")
    legs = [m for m in parse_trace("threeway_unit") if m.kind == "event" and "@pstn-" in m.first("Channel")]
    assert legs and {m.first("Linkedid") for m in legs} == {call.linkedid}
    (dial,) = [m for m in parse_trace("threeway_unit") if m.name == "DialBegin" and "@pstn-" in m.first("DestChannel")]
    assert dial.first("DestCallerIDNum") == "12345"


@pytestmark_db
def test_a_unit_on_the_line_answers_and_the_ticket_is_resolved_with_its_answer(settings, agent):
    from hotline.models import Unit
    from hotline.services import tickets
    from tests.factories import new_ticket

    async def body(sim, messages):
        queued = asyncio.create_task(sim.queue_call(number="13611112222"))
        call = await _answered_call()
        unit = await database_sync_to_async(Unit.objects.get)(code="YH")
        result = await sync_to_async(control.conference_unit)(agent, unit)
        assert result["party"].startswith(f"Local/{unit.duty_phone}@pstn-")
        setvar = next(m for action, m in sim.received if action == "setvar")
        assert (setvar.first("Variable"), setvar.first("Value")) == ("HOTLINE_THREEWAY_NUMBER", unit.duty_phone)
        redirect = next(m for action, m in reversed(sim.received) if action == "redirect")
        assert redirect.first("ExtraContext") == "threeway-unit"

        def resolve():
            ticket = new_ticket(agent, phone="13611112222", call_linkedid=call.linkedid)
            return tickets.resolve_on_call(ticket, agent, "雨湖区答复：明日上午派人检修路灯。", unit=unit)

        ticket = await database_sync_to_async(resolve)()
        entries = await database_sync_to_async(lambda: list(ticket.timeline.values_list("action", "note", "data")))()
        answered = [e for e in entries if e[0] == "ticket.unit_answered_on_call"]
        assert answered == [
            (
                "ticket.unit_answered_on_call",
                "雨湖区答复：明日上午派人检修路灯。",
                {"unit": unit.name, "unit_id": unit.pk, "call_linkedid": call.linkedid},
            )
        ]
        assert ticket.resolved_on_call and "ticket.resolved_on_call" in [e[0] for e in entries]
        await sync_to_async(control.hang_up)(agent)
        assert (await _ended(call)).outcome == "answered"
        await asyncio.wait_for(queued, 30)
        assert await database_sync_to_async(Call.objects.count)() == 1  # the unit's leg is no call of its own

    run_with_bridge(settings, body, speed=2.0, talk=(60.0, 60.0))


@pytestmark_db
def test_a_unit_without_a_usable_duty_phone_is_refused_before_anything_is_dialled(settings, agent):
    from hotline.models import Unit

    async def body(sim, messages):
        queued = asyncio.create_task(sim.queue_call(number="13611112222"))
        await _answered_call()
        unit = await database_sync_to_async(Unit.objects.get)(code="YH")
        unit.duty_phone = ""
        with pytest.raises(control.CommandFailed) as failed:
            await sync_to_async(control.conference_unit)(agent, unit)
        assert failed.value.code == control.NO_DUTY_PHONE
        unit.duty_phone = "0731-5555 8888"  # what the model's validator refuses; the bridge refuses it too
        with pytest.raises(control.CommandFailed, match="not a dialable number"):
            await sync_to_async(control.conference_unit)(agent, unit)
        assert not [m for action, m in sim.received if action in ("setvar", "redirect")]
        await sync_to_async(control.hang_up)(agent)
        await asyncio.wait_for(queued, 30)

    run_with_bridge(settings, body, speed=2.0, talk=(60.0, 60.0))


@pytest.mark.django_db
def test_resolving_with_a_units_answer_is_one_step_and_refused_when_the_ticket_moved_on(agent):
    from hotline.errors import IllegalTransition
    from hotline.models import Unit
    from hotline.services import tickets
    from tests.factories import dispatched_ticket

    ticket = dispatched_ticket(agent)
    before = ticket.timeline.count()
    with pytest.raises(IllegalTransition):
        tickets.resolve_on_call(ticket, agent, "雨湖区答复：已处理。", unit=Unit.objects.get(code="YH"))
    assert ticket.timeline.count() == before  # no answer recorded without the resolution


@pytest.mark.django_db
def test_the_units_answer_reads_as_a_sentence_on_the_timeline(agent):
    from django.utils import translation

    from hotline.models import Unit
    from hotline.services import tickets
    from tests.factories import new_ticket
    from web.timeline_text import describe, timeline_entries

    ticket = tickets.resolve_on_call(
        new_ticket(agent), agent, "广场舞噪音已联系城管队劝导。", unit=Unit.objects.get(code="YH")
    )
    with translation.override("zh-hans"):
        lines = [str(line) for line in describe(timeline_entries(ticket))]
    assert any("雨湖区在通话中答复：广场舞噪音已联系城管队劝导。" in line for line in lines), lines
    assert [line.action for line in describe(timeline_entries(ticket))][-2:] == [
        "ticket.unit_answered_on_call",
        "ticket.resolved_on_call",
    ]


def test_the_ami_user_may_send_every_action_the_three_way_commands_use():
    # Redirect and Setvar need the "call" write class, ModuleCheck "system" (manager.c).
    user = _options([line for line in _sections(ASTERISK / "manager.conf")["lianxin"] if not line.startswith("event")])
    write = {c.strip() for c in user["write"].split(",")}
    assert {"call", "system"} <= write
