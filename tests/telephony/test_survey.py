"""The IVR survey: originate_survey -> the citizen presses a key -> SurveyAnswered -> the registered handler.

Pure translator tests first (events shaped like the recorded callback Originate), then the
recording of the call, then the simulator + bridge in one loop (see test_commands.run_with_bridge).
"""

from __future__ import annotations

import threading

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async

from callback import revisits
from callback.models import Revisit
from hotline.errors import IllegalTransition, InvalidInput
from hotline.models import Ticket
from telephony import control, services
from telephony.ami.protocol import Message
from telephony.lifecycle import CallbackOriginated, CallEnded, SurveyAnswered
from telephony.models import Call
from telephony.tracker import CallTracker, TrackerConfig
from tests.callback.conftest import revisit_pending_ticket
from tests.telephony.test_commands import _until, run_with_bridge
from tests.telephony.traces import parse_trace

LINKEDID = "1795770300.40"
CHANNEL = "Local/13800138000@pstn-0000000c;1"


def channel_event(
    name: str, *lines: tuple[str, str], uniqueid: str = LINKEDID, linkedid: str = "", channel: str = CHANNEL
) -> Message:
    """An event of the survey call's first channel, with the header fields Asterisk 22 puts on it."""
    return Message(
        "event",
        {
            "Event": name,
            "Privilege": "dialplan,all" if name in ("VarSet", "Newexten") else "call,all",
            "Channel": channel,
            "ChannelState": "6",
            "ChannelStateDesc": "Up",
            "CallerIDNum": "12345",
            "CallerIDName": "12345",
            "Context": "survey",
            "Exten": "s",
            "Priority": "1",
            "Uniqueid": uniqueid,
            "Linkedid": linkedid or uniqueid,
            **dict(lines),
        },
    )


def varset(variable: str, value: str, **kw) -> Message:
    return channel_event("VarSet", ("Variable", variable), ("Value", value), **kw)


def originate_response(action_id: str = "lx-7", *, context: str = "survey", uniqueid: str = LINKEDID) -> Message:
    return Message(
        "event",
        {
            "Event": "OriginateResponse",
            "Privilege": "call,all",
            "ActionID": action_id,
            "Response": "Success",
            "Channel": CHANNEL,
            "Context": context,
            "Exten": "s",
            "Reason": "4",
            "Uniqueid": uniqueid,
            "CallerIDNum": "12345",
            "CallerIDName": "12345",
        },
    )


def feed(tracker: CallTracker, *messages: Message) -> list:
    out = []
    for message in messages:
        out += tracker.feed(message, 100.0)
    return out


def answers(events: list) -> list[tuple[str, str, str]]:
    return [(e.linkedid, e.reference, e.digit) for e in events if isinstance(e, SurveyAnswered)]


# --- the translator ----------------------------------------------------------------------------


def test_the_key_press_of_a_survey_call_becomes_survey_answered_with_the_reference_from_varset() -> None:
    tracker = CallTracker(pbx_epoch=1795770000)
    events = feed(
        tracker,
        varset("HOTLINE_PURPOSE", "revisit_ivr"),
        varset("HOTLINE_REFERENCE", "revisit:7"),
        originate_response(),
        varset("HOTLINE_SURVEY_RESULT", "1"),
    )
    (originated,) = [e for e in events if isinstance(e, CallbackOriginated)]
    assert (originated.purpose, originated.reference, originated.number, originated.interface) == (
        "revisit_ivr",
        "revisit:7",
        "13800138000",
        "",  # no agent leg: nobody's console is involved
    )
    (answer,) = [e for e in events if isinstance(e, SurveyAnswered)]
    assert (answer.linkedid, answer.pbx_epoch, answer.at, answer.reference, answer.digit) == (
        LINKEDID,
        1795770000,
        100.0,
        "revisit:7",
        "1",
    )
    assert answer.as_dict()["kind"] == "survey_answered"
    # The same VarSet again (a duplicate delivery) is no second answer; the Hangup ends the call.
    ended = feed(tracker, varset("HOTLINE_SURVEY_RESULT", "1"), channel_event("Hangup", ("Cause", "16")))
    assert answers(ended) == []
    (summary,) = [e for e in ended if isinstance(e, CallEnded)]
    assert (summary.outcome, summary.caller_number) == ("callback", "13800138000")
    assert tracker.calls == {}


def test_without_the_variables_in_the_stream_the_reference_comes_from_the_originate_action_id() -> None:
    tracker = CallTracker()
    tracker.expect_originate("lx-9", purpose="revisit_ivr", reference="revisit:12", number="13800138000")
    events = feed(tracker, originate_response("lx-9"), varset("HOTLINE_SURVEY_RESULT", "3"))
    assert answers(events) == [(LINKEDID, "revisit:12", "3")]
    (originated,) = [e for e in events if isinstance(e, CallbackOriginated)]
    assert (originated.purpose, originated.action_id) == ("revisit_ivr", "lx-9")


def test_a_dialplan_that_prefixes_the_reference_itself_is_understood() -> None:
    tracker = CallTracker()
    events = feed(tracker, originate_response(), varset("HOTLINE_SURVEY_RESULT", "revisit:5:2"))
    assert answers(events) == [(LINKEDID, "revisit:5", "2")]


def test_an_answer_read_before_the_originate_response_counts_once() -> None:
    tracker = CallTracker()
    events = feed(
        tracker,
        varset("HOTLINE_REFERENCE", "revisit:7"),
        varset("HOTLINE_SURVEY_RESULT", "2"),
        originate_response(),
        varset("HOTLINE_SURVEY_RESULT", "2"),
    )
    assert answers(events) == [(LINKEDID, "revisit:7", "2")]


def test_survey_results_we_cannot_attribute_are_dropped() -> None:
    tracker = CallTracker(TrackerConfig(queues=frozenset({"12345"})))
    # No reference known anywhere: whose answer would it be?
    assert answers(feed(tracker, originate_response(), varset("HOTLINE_SURVEY_RESULT", "1"))) == []
    # An empty key press.
    other = "1795770300.50"
    tracker.expect_originate("lx-2", purpose="revisit_ivr", reference="revisit:3")
    feed(tracker, originate_response("lx-2", uniqueid=other))
    assert feed(tracker, varset("HOTLINE_SURVEY_RESULT", "", uniqueid=other)) == []
    assert answers(feed(tracker, varset("HOTLINE_SURVEY_RESULT", "1", uniqueid=other))) == [(other, "revisit:3", "1")]
    # A caller's own queue call that happens to carry the variable is not a survey of ours.
    queue_call = next(m for m in parse_trace("answered") if m.kind == "event" and m.first("Event") == "QueueCallerJoin")
    tracker.feed(queue_call)
    hijack = Message("event", {**varset("HOTLINE_SURVEY_RESULT", "revisit:1:1"), "Linkedid": queue_call["Linkedid"]})
    assert tracker.feed(hijack) == []


def test_the_purpose_of_a_callback_comes_from_its_action_id_or_from_the_recorded_varsets() -> None:
    """The real callback trace: by ActionID, and by an edited copy whose Originate variables are ours."""
    tracker = CallTracker()
    tracker.expect_originate("callback-1", purpose="revisit", reference="revisit:5")
    events = [e for m in parse_trace("callback_originate") if m.kind == "event" for e in tracker.feed(m)]
    first = next(e for e in events if isinstance(e, CallbackOriginated))
    assert (first.action_id, first.purpose, first.reference) == ("callback-1", "revisit", "revisit:5")
    assert answers(events) == []

    renamed = {"TICKET_ID": "HOTLINE_REFERENCE", "AGENT": "HOTLINE_PURPOSE"}
    values = {"HOTLINE_REFERENCE": "cb-77", "HOTLINE_PURPOSE": "callback"}
    tracker = CallTracker()
    originated = []
    for message in parse_trace("callback_originate"):
        if message.kind != "event":
            continue
        if message.first("Event") == "VarSet" and message.first("Variable") in renamed:
            variable = renamed[message.first("Variable")]
            message = Message("event", {**message, "Variable": variable, "Value": values[variable]})
        originated += [e for e in tracker.feed(message) if isinstance(e, CallbackOriginated)]
    assert [(e.action_id, e.purpose, e.reference) for e in originated] == [
        ("callback-1", "callback", "cb-77"),
        ("callback-2", "", "cb-77"),  # the second Originate of the trace sets TICKET_ID only
        ("callback-3", "", ""),  # failed: no channel, no variables
    ]


# --- recording and handing over ------------------------------------------------------------------

HANDED: list[str] = []
_lock = threading.Lock()


def record_answer(value: str) -> None:
    """A survey handler for tests: remembers what it was given."""
    with _lock:
        HANDED.append(value)


def refuse_answer(value: str) -> None:
    if value.endswith(":9"):
        raise InvalidInput(f"unrecognised survey answer {value!r}")
    raise IllegalTransition("this revisit is already done")


@pytest.fixture
def register_handler():
    """Register another survey handler for one test; the one callback registered at start comes back after."""
    registered = services._survey_handler
    yield services.register_survey_handler
    services.register_survey_handler(registered)


@pytest.fixture
def handed(register_handler):
    register_handler(record_answer)
    HANDED.clear()
    yield HANDED
    HANDED.clear()


@pytest.mark.django_db
def test_a_survey_call_is_recorded_with_its_purpose_and_no_agent(agent) -> None:
    event = CallbackOriginated(
        linkedid=LINKEDID,
        pbx_epoch=1795770000,
        at=100.0,
        number="13800138000",
        interface="",
        success=True,
        reason="4",
        action_id="lx-1",
        purpose="revisit_ivr",
        reference="revisit:7",
    )
    call = services.apply_lifecycle(event)
    assert (call.outcome, call.purpose, call.caller_number) == ("callback", "revisit_ivr", "13800138000")
    assert call.agent_id is None and call.agent_interface == ""


@pytest.mark.django_db
def test_the_handler_gets_reference_and_digit_and_its_refusals_are_dropped(handed, register_handler) -> None:
    answer = SurveyAnswered(linkedid=LINKEDID, pbx_epoch=1, at=None, reference="revisit:7", digit="2")
    assert services.hand_over_survey_answer(answer) is True
    assert handed == ["revisit:7:2"]
    register_handler(refuse_answer)
    assert services.hand_over_survey_answer(answer) is False  # IllegalTransition: logged, dropped
    bad = SurveyAnswered(linkedid=LINKEDID, pbx_epoch=1, at=None, reference="revisit:7", digit="9")
    assert services.hand_over_survey_answer(bad) is False  # InvalidInput: logged, dropped


# --- end to end: simulator + bridge ---------------------------------------------------------------

pytest_e2e = pytest.mark.django_db(transaction=True)


@pytest_e2e
def test_originate_survey_dials_the_citizen_and_hands_the_key_press_to_the_handler(settings, handed):
    async def body(sim, messages):
        result = await control.send_command(
            "originate_survey", number="13800138000", reference="revisit:42", timeout=20
        )
        assert result["success"] and result["linkedid"] and result["purpose"] == "revisit_ivr"
        (originate,) = [m for action, m in sim.received if action == "originate"]
        assert {k: originate.first(k) for k in ("Channel", "Context", "Exten", "Priority", "Async")} == {
            "Channel": "Local/13800138000@pstn",
            "Context": "survey",
            "Exten": "s",
            "Priority": "1",
            "Async": "true",
        }
        assert originate.getlist("Variable") == ["HOTLINE_PURPOSE=revisit_ivr", "HOTLINE_REFERENCE=revisit:42"]
        await _until(lambda: sync_to_async(lambda: list(handed))(), 10)
        assert handed == ["revisit:42:1"]

        def ended():
            return Call.objects.filter(linkedid=result["linkedid"], ended_at__isnull=False).first()

        call = await _until(database_sync_to_async(ended), 10)
        assert (call.outcome, call.purpose, call.caller_number) == ("callback", "revisit_ivr", "13800138000")
        assert call.agent_id is None
        stored = await database_sync_to_async(lambda: list(call.events.values_list("name", flat=True)))()
        assert "VarSet" in stored  # the key press is in the call's audit trail

    run_with_bridge(settings, body, speed=4)


@pytest_e2e
def test_a_survey_hung_up_without_a_key_press_hands_nothing_over(settings, handed):
    async def body(sim, messages):
        result = await control.send_command("originate_survey", number="13800138000", reference="revisit:43")

        def ended():
            return Call.objects.filter(linkedid=result["linkedid"], ended_at__isnull=False).first()

        assert (await _until(database_sync_to_async(ended), 10)).purpose == "revisit_ivr"
        assert handed == []

    run_with_bridge(settings, body, speed=4, survey_digit="")


@pytest_e2e
def test_bad_survey_requests_are_refused(settings):
    async def body(sim, messages):
        with pytest.raises(control.CommandFailed, match="not a dialable number"):
            await control.send_command("originate_survey", number="138;Hangup", reference="revisit:1")
        with pytest.raises(control.CommandFailed, match="needs a reference"):
            await control.send_command("originate_survey", number="13800138000", reference="")
        assert not [action for action, _ in sim.received if action == "originate"]

    run_with_bridge(settings, body)


@pytest_e2e
def test_the_real_revisit_handler_closes_the_ticket_when_the_citizen_presses_1(settings, agent, dispatcher, yuhu):
    ticket = revisit_pending_ticket(agent, dispatcher, yuhu)
    revisit = revisits.schedule_revisit(ticket, channel="ivr")
    assert revisit is not None and revisit.status == "scheduled"

    async def body(sim, messages):
        result = await sync_to_async(control.originate_survey)(number="13800138000", reference=f"revisit:{revisit.pk}")
        assert result["success"]

        def done():
            fresh = Revisit.objects.get(pk=revisit.pk)
            return fresh if fresh.status == "done" else None

        answered = await _until(database_sync_to_async(done), 15)
        assert (answered.rating, answered.channel) == ("satisfied", "ivr")

    run_with_bridge(settings, body, speed=4)
    assert Ticket.objects.get(pk=ticket.pk).status == "closed"


@pytest_e2e
def test_a_key_press_the_survey_does_not_know_leaves_the_revisit_open(settings, agent, dispatcher, yuhu):
    ticket = revisit_pending_ticket(agent, dispatcher, yuhu)
    revisit = revisits.schedule_revisit(ticket, channel="ivr")

    async def body(sim, messages):
        result = await control.send_command("originate_survey", number="13800138000", reference=f"revisit:{revisit.pk}")

        def ended():
            return Call.objects.filter(linkedid=result["linkedid"], ended_at__isnull=False).first()

        await _until(database_sync_to_async(ended), 10)
        # The bridge is still alive after dropping the refused answer: it answers the next command.
        assert (await control.send_command("originate_survey", number="13800138001", reference="revisit:0"))["ok"]

    run_with_bridge(settings, body, speed=4, survey_digit="7")
    revisit.refresh_from_db()
    assert revisit.status == "scheduled" and revisit.rating == ""
    assert Ticket.objects.get(pk=ticket.pk).status == "revisit_pending"
