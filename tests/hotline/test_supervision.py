"""催办 and 督办件 through the services: who may, what is recorded on every ticket, what is refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from callback import unit_alerts
from callback.models import SmsMessage, SmsPurpose
from hotline.errors import IllegalTransition, InvalidInput, NotAllowed
from hotline.events import CENTER_GROUP, unit_group
from hotline.models import (
    SupervisionCase,
    SupervisionForm,
    SupervisionNote,
    SupervisionStatus,
    Ticket,
    TimelineEntry,
    Unit,
)
from hotline.services import dispatch, supervision, tickets
from tests.factories import dispatched_ticket, lead_assignment, new_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def pushed(monkeypatch) -> list[tuple[list[str], dict]]:
    sent: list[tuple[list[str], dict]] = []
    monkeypatch.setattr("hotline.events._send", lambda groups, event: sent.append((groups, event)))
    return sent


def _due(days: int = 5):
    return timezone.now() + timedelta(days=days)


# --- 催办 ---------------------------------------------------------------------------------


def test_remind_reaches_the_unit_and_is_on_the_timeline(
    agent, dispatcher, django_capture_on_commit_callbacks, pushed
) -> None:
    ticket = dispatched_ticket(agent)
    assignment = lead_assignment(ticket)
    with django_capture_on_commit_callbacks(execute=True):
        reminded = supervision.remind(ticket, dispatcher, "  请今天内签收并联系群众  ")
    assert reminded == [assignment]
    entry = TimelineEntry.objects.get(ticket=ticket, action="ticket.reminder")
    assert entry.actor == dispatcher and entry.assignment == assignment and entry.note == "请今天内签收并联系群众"
    assert entry.data["notify"] == "liaison" and entry.data["unit_id"] == assignment.unit_id
    reminder = next(e for g, e in pushed if e["type"] == "ticket.reminder")
    assert reminder["note"] == "请今天内签收并联系群众" and reminder["level"] == "manual"
    assert ([unit_group(assignment.unit_id)], reminder) in pushed
    assert any(g == [CENTER_GROUP] and e["action"] == "reminder" for g, e in pushed)


def test_remind_with_assisting_units_reminds_each_top_level_unit(agent, dispatcher) -> None:
    ticket = new_ticket(agent)
    dispatch.dispatch_ticket(ticket, dispatcher, Unit.objects.get(code="YH"), [Unit.objects.get(code="ZJJ")])
    reminded = supervision.remind(ticket, dispatcher, "请抓紧")
    assert sorted(a.unit.code for a in reminded) == ["YH", "ZJJ"]
    assert TimelineEntry.objects.filter(ticket=ticket, action="ticket.reminder").count() == 2


def test_remind_texts_the_liaison_once(agent, dispatcher, settings) -> None:
    Unit.objects.filter(code="YH").update(liaison_phone="13911112222")
    ticket = dispatched_ticket(agent)
    supervision.remind(ticket, dispatcher, "请尽快答复")
    assert unit_alerts.notify_units() == 1
    assert unit_alerts.notify_units() == 0
    message = SmsMessage.objects.get(to="13911112222")
    assert (
        message.purpose == SmsPurpose.UNIT_REMINDER and "请尽快答复" in message.body and ticket.number in message.body
    )


@pytest.mark.parametrize("persona", ["agent", "yuhu"])
def test_remind_is_for_reviewers_only(agent, persona, request) -> None:
    ticket = dispatched_ticket(agent)
    with pytest.raises(NotAllowed):
        supervision.remind(ticket, request.getfixturevalue(persona), "催一下")
    assert not TimelineEntry.objects.filter(ticket=ticket, action="ticket.reminder").exists()


def test_remind_needs_a_note_and_a_unit_at_work(agent, dispatcher, yuhu) -> None:
    ticket = dispatched_ticket(agent)
    with pytest.raises(InvalidInput):
        supervision.remind(ticket, dispatcher, " \u3000 ")
    with pytest.raises(InvalidInput):
        supervision.remind(ticket, dispatcher, "长" * 501)
    waiting = new_ticket(agent)
    with pytest.raises(IllegalTransition):
        supervision.remind(waiting, dispatcher, "请办理")
    assignment = lead_assignment(ticket)
    dispatch.accept_assignment(assignment, yuhu)
    dispatch.reply_assignment(assignment, yuhu, "已协调处理，音乐已在22点前停止。")
    with pytest.raises(IllegalTransition):
        supervision.remind(ticket, dispatcher, "请办理", assignment=assignment)
    assert not TimelineEntry.objects.filter(action="ticket.reminder").exists()


# --- 督办件 -------------------------------------------------------------------------------


def test_open_note_close_a_case_on_a_set_of_tickets(agent, supervisor, django_capture_on_commit_callbacks, pushed):
    unit = Unit.objects.get(code="YH")
    Unit.objects.filter(pk=unit.pk).update(leader_phone="13933334444", leader_name="张区长")
    unit.refresh_from_db()
    first, second = dispatched_ticket(agent), dispatched_ticket(agent, phone="13900001111")
    with django_capture_on_commit_callbacks(execute=True):
        case = supervision.open_case(
            supervisor,
            [first, second],
            SupervisionForm.SPECIAL_TOPIC,
            "广场舞噪音反复投诉",
            _due(),
            title="城正街广场舞噪音",
            unit=unit,
        )
    assert case.status == SupervisionStatus.OPEN and case.leader_name == "张区长"
    assert set(case.tickets.all()) == {first, second}
    for ticket in (first, second):
        entry = TimelineEntry.objects.get(ticket=ticket, action="supervision.opened")
        assert (
            entry.data["case"] == case.pk
            and entry.data["form"] == "special_topic"
            and entry.note == "广场舞噪音反复投诉"
        )
    assert any(unit_group(unit.pk) in g and e["action"] == "supervision" for g, e in pushed)
    # The responsible leader is told once per ticket of the case.
    assert unit_alerts.notify_units() == 2
    assert SmsMessage.objects.filter(to="13933334444", purpose=SmsPurpose.LEADER_NOTICE).count() == 2

    note = supervision.add_note(case, supervisor, "雨湖区回复：已约谈广场舞组织者")
    assert SupervisionNote.objects.get(pk=note.pk).case == case
    assert TimelineEntry.objects.filter(action="supervision.note").count() == 2

    supervision.close_case(case, supervisor, "solved", "已划定活动时间，回访满意")
    case.refresh_from_db()
    assert case.status == SupervisionStatus.CLOSED and case.closed_by == supervisor and case.outcome == "solved"
    assert TimelineEntry.objects.filter(action="supervision.closed").count() == 2
    with pytest.raises(IllegalTransition):
        supervision.add_note(case, supervisor, "再补一句")
    with pytest.raises(IllegalTransition):
        supervision.close_case(case, supervisor, "solved", "再关一次")
    # Nothing is deleted: the closed case and its note stay, the ticket keeps its case.
    assert SupervisionCase.objects.filter(pk=case.pk).exists() and case.notes.count() == 1
    assert list(first.supervisions.all()) == [case]


def test_supervised_marks_follow_open_cases(agent, supervisor) -> None:
    ticket, other = dispatched_ticket(agent), dispatched_ticket(agent, phone="13900002222")
    case = supervision.open_case(supervisor, [ticket], SupervisionForm.BULLETIN, "超期未办", _due())
    assert list(Ticket.objects.filter(supervision.supervised_filter()).filter(pk__in=[ticket.pk, other.pk])) == [ticket]
    assert supervision.supervision_by_ticket([ticket.pk, other.pk]) == {ticket.pk: case}
    supervision.close_case(case, supervisor, "partly", "部分解决")
    assert not Ticket.objects.filter(supervision.supervised_filter()).filter(pk=ticket.pk).exists()


@pytest.mark.parametrize(
    "change, error",
    [
        ({"form": "telepathy"}, InvalidInput),
        ({"reason": "   "}, InvalidInput),
        ({"tickets": []}, InvalidInput),
        ({"due_by": "past"}, InvalidInput),
    ],
)
def test_bad_cases_are_refused_and_leave_nothing(agent, supervisor, change, error) -> None:
    ticket = dispatched_ticket(agent)
    args = {"tickets": [ticket], "form": "written", "reason": "超期", "due_by": _due()}
    args.update(change)
    if args["due_by"] == "past":
        args["due_by"] = timezone.now() - timedelta(hours=1)
    with pytest.raises(error):
        supervision.open_case(supervisor, args["tickets"], args["form"], args["reason"], args["due_by"])
    assert not SupervisionCase.objects.exists()
    assert not TimelineEntry.objects.filter(action__startswith="supervision.").exists()


def test_a_discarded_ticket_cannot_be_supervised_and_the_case_is_not_half_made(agent, dispatcher, supervisor) -> None:
    ticket = dispatched_ticket(agent)
    gone = new_ticket(agent, phone="13900003333")
    tickets.discard_ticket(gone, dispatcher, "重复登记")
    with pytest.raises(IllegalTransition):
        supervision.open_case(supervisor, [ticket, gone], "meeting", "热点问题", _due())
    assert not SupervisionCase.objects.exists()
    assert not TimelineEntry.objects.filter(ticket=ticket, action="supervision.opened").exists()


@pytest.mark.parametrize("persona", ["agent", "yuhu"])
def test_only_reviewers_supervise(agent, supervisor, persona, request) -> None:
    ticket = dispatched_ticket(agent)
    user = request.getfixturevalue(persona)
    with pytest.raises(NotAllowed):
        supervision.open_case(user, [ticket], "written", "超期", _due())
    case = supervision.open_case(supervisor, [ticket], "written", "超期", _due())
    with pytest.raises(NotAllowed):
        supervision.add_note(case, user, "我来补充")
    with pytest.raises(NotAllowed):
        supervision.close_case(case, user, "solved", "我来关闭")


def test_every_form_of_the_seed_exists() -> None:
    assert {"bulletin", "written", "special_topic", "leader_file", "leader_instruction", "meeting"} <= set(
        SupervisionForm.values
    )
