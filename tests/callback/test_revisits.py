"""Revisits: scheduled when a ticket waits for one, answered by phone, SMS or IVR, and they decide the ticket."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from callback import queries, revisits
from callback.models import Revisit, RevisitStatus, SmsMessage
from callback.sms import services as sms
from hotline import jobs
from hotline.errors import IllegalTransition, InvalidInput, NotAllowed
from hotline.models import Assignment, Ticket, TimelineEntry
from hotline.services import tickets
from tests.callback.conftest import due_revisit, revisit_pending_ticket

pytestmark = pytest.mark.django_db


def test_a_ticket_waiting_for_a_revisit_gets_exactly_one_scheduled_for_the_next_working_day(pending_ticket) -> None:
    jobs.run_once()
    jobs.run_once()
    assert revisits.schedule_revisit(pending_ticket) == Revisit.objects.get()
    revisit = Revisit.objects.get()
    lead = Assignment.objects.get(ticket=pending_ticket)
    assert (revisit.status, revisit.assignment, revisit.unit) == ("scheduled", lead, lead.unit)
    today = datetime.now(UTC).astimezone(revisits.conf.calling_hours().tz).date()
    assert revisit.scheduled_for.astimezone(revisits.conf.calling_hours().tz).date() > today


def test_a_friday_revisit_is_scheduled_for_monday_morning(agent, dispatcher, yuhu) -> None:
    friday = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
    with time_machine.travel(friday, tick=False):
        ticket = revisit_pending_ticket(agent, dispatcher, yuhu)
        revisit = revisits.schedule_revisit(ticket)
    assert revisit.scheduled_for == datetime(2026, 11, 30, 0, 30, tzinfo=UTC)  # Monday 08:30 Shanghai


def test_a_satisfied_answer_closes_the_ticket(pending_ticket, agent) -> None:
    revisit = due_revisit(pending_ticket)
    revisits.record_result(revisit, agent, rating="satisfied", solved=True, comment="处理得很及时")
    revisit.refresh_from_db()
    pending_ticket.refresh_from_db()
    assert (revisit.status, revisit.rating, revisit.solved) == ("done", "satisfied", True)
    assert revisit.completed_at is not None
    assert pending_ticket.status == "closed"
    entry = TimelineEntry.objects.get(ticket=pending_ticket, action="revisit.done")
    assert entry.actor == agent and entry.data["rating"] == "satisfied"
    assert TimelineEntry.objects.get(ticket=pending_ticket, action="ticket.closed").actor == agent


def test_a_close_that_fails_leaves_the_answer_unrecorded(pending_ticket, agent, monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise IllegalTransition("the close failed")

    monkeypatch.setattr(revisits, "close_ticket", refuse)
    revisit = due_revisit(pending_ticket)
    with pytest.raises(IllegalTransition):
        revisits.record_result(revisit, agent, rating="satisfied", solved=True)
    revisit.refresh_from_db()
    assert (revisit.status, revisit.rating, revisit.attempts) == ("scheduled", "", 0)
    assert not TimelineEntry.objects.filter(ticket=pending_ticket, action__startswith="revisit.").exists()


def test_a_dispatcher_who_records_an_unsatisfied_answer_is_the_one_who_reopened(pending_ticket, dispatcher) -> None:
    revisit = due_revisit(pending_ticket)
    revisits.record_result(revisit, dispatcher, rating="unsatisfied", solved=False)
    assert TimelineEntry.objects.get(ticket=pending_ticket, action="ticket.reopened").actor == dispatcher


def test_an_unsatisfied_answer_reopens_at_the_same_unit_with_the_callers_words(pending_ticket, agent) -> None:
    revisit = due_revisit(pending_ticket)
    revisits.record_result(revisit, agent, rating="very_unsatisfied", solved=False, comment="晚上还是很吵")
    pending_ticket.refresh_from_db()
    assert pending_ticket.status == "in_progress" and pending_ticket.reopen_count == 1
    redo = Assignment.objects.filter(ticket=pending_ticket).latest("pk")
    assert redo.reopen_of == revisit.assignment and redo.unit == revisit.unit
    reopened = TimelineEntry.objects.get(ticket=pending_ticket, action="ticket.reopened")
    assert "晚上还是很吵" in reopened.note and "非常不满意" in reopened.note
    assert reopened.actor == agent  # the agent who took the answer sent it back, not "the system"


def test_an_agent_may_reopen_only_through_a_revisit(pending_ticket, agent) -> None:
    """An agent's unsatisfied revisit reopens; the same agent cannot reopen a ticket by hand."""
    with pytest.raises(NotAllowed):
        tickets.reopen_ticket(Ticket.objects.get(pk=pending_ticket.pk), agent, "我想重办")
    pending_ticket.refresh_from_db()
    assert pending_ticket.status == "revisit_pending"


def test_a_caller_not_reached_three_times_is_unreachable_and_the_ticket_closes(pending_ticket, agent) -> None:
    revisit = due_revisit(pending_ticket)
    for _ in range(3):
        with time_machine.travel(max(revisit.scheduled_for, datetime.now(UTC)), tick=False):
            revisits.record_result(revisit, agent, reached=False)
            revisit.refresh_from_db()
            if revisit.status == "scheduled":
                with pytest.raises(IllegalTransition, match="not due"):  # the next try is hours later
                    revisits.record_result(revisit, agent, reached=False)
    revisit.refresh_from_db()
    pending_ticket.refresh_from_db()
    assert (revisit.status, revisit.attempts, revisit.rating) == ("unreachable", 3, "")
    assert pending_ticket.status == "closed"
    assert TimelineEntry.objects.get(ticket=pending_ticket, action="ticket.closed").actor == agent


def test_the_revisit_of_a_ticket_reopened_meanwhile_is_cancelled_with_a_note(pending_ticket, agent, dispatcher) -> None:
    revisit = due_revisit(pending_ticket)
    tickets.reopen_ticket(Ticket.objects.get(pk=pending_ticket.pk), dispatcher, "市民再次来电反映未解决")
    with pytest.raises(IllegalTransition, match="reopened or closed meanwhile"):
        revisits.record_result(revisit, agent, rating="satisfied")
    revisit.refresh_from_db()
    assert revisit.status == "cancelled"
    assert TimelineEntry.objects.filter(ticket=pending_ticket, action="revisit.cancelled").count() == 1
    assert Ticket.objects.get(pk=pending_ticket.pk).status == "in_progress"


def test_the_job_cancels_revisits_of_reopened_tickets(pending_ticket, dispatcher) -> None:
    revisits.schedule_revisit(pending_ticket)
    tickets.reopen_ticket(Ticket.objects.get(pk=pending_ticket.pk), dispatcher, "市民再次来电反映未解决")
    assert revisits.cancel_stale_revisits() == 1
    assert revisits.cancel_stale_revisits() == 0
    assert Revisit.objects.get().status == "cancelled"


def test_a_caller_who_asked_not_to_be_revisited_is_left_alone(pending_ticket) -> None:
    pending_ticket.caller.no_revisit = True
    pending_ticket.caller.save()
    assert revisits.schedule_revisit(pending_ticket) is None
    assert not Revisit.objects.exists()
    assert Ticket.objects.get(pk=pending_ticket.pk).status == "closed"


def test_two_agents_cannot_claim_the_same_phone_revisit(pending_ticket, agent, settings) -> None:
    from tests.conftest import make_user

    other = make_user("agent_chen", "agent", "XT12345", agent_extension="1002")
    revisit = revisits.schedule_revisit(pending_ticket)
    with time_machine.travel(revisit.scheduled_for + timedelta(minutes=1), tick=False):
        revisits.claim_revisit(revisit, agent)
        with pytest.raises(IllegalTransition):
            revisits.claim_revisit(revisit, other)
        with pytest.raises(IllegalTransition, match="another agent"):
            revisits.record_result(revisit, other, rating="satisfied")


def sms_revisit(ticket: Ticket) -> Revisit:
    revisit = revisits.schedule_revisit(ticket, channel="sms")
    with time_machine.travel(revisit.scheduled_for + timedelta(minutes=1), tick=False):
        assert revisits.start_due_surveys() == 1
        assert revisits.start_due_surveys() == 0
        assert sms.send_due_sms() == 1
    revisit.refresh_from_db()
    return revisit


def test_the_sms_survey_is_sent_once_and_a_reply_of_3_reopens_the_ticket(pending_ticket) -> None:
    revisit = sms_revisit(pending_ticket)
    survey = SmsMessage.objects.get(purpose="revisit_survey")
    assert survey.status == "delivered" and survey.to == pending_ticket.caller.phone
    assert "1 满意" in survey.body and pending_ticket.number in survey.body
    reply = queries.reply_to_sms(pending_ticket.caller.phone, "3 晚上还是很吵")
    assert reply.purpose == "survey_answer" and reply.ticket == pending_ticket and "感谢" in reply.text
    revisit.refresh_from_db()
    assert (revisit.status, revisit.rating, revisit.channel) == ("done", "unsatisfied", "sms")
    assert Ticket.objects.get(pk=pending_ticket.pk).status == "in_progress"


@pytest.mark.parametrize("garbage", ["abc", "9", "", "12", "满意吧"])
def test_a_garbage_sms_reply_gets_a_clear_answer_and_changes_nothing(pending_ticket, garbage: str) -> None:
    revisit = sms_revisit(pending_ticket)
    reply = queries.reply_to_sms(pending_ticket.caller.phone, garbage)
    assert "请回复数字：1 满意，2 基本满意，3 不满意" in reply.text
    revisit.refresh_from_db()
    assert (revisit.status, revisit.rating) == ("in_progress", "")
    assert Ticket.objects.get(pk=pending_ticket.pk).status == "revisit_pending"
    assert SmsMessage.objects.filter(direction="in", body=garbage).count() == 1


def test_the_survey_link_answers_by_token_once(pending_ticket) -> None:
    revisit = sms_revisit(pending_ticket)
    revisits.answer_by_token(revisit.token, "2")
    assert Revisit.objects.get().rating == "basically_satisfied"
    with pytest.raises(InvalidInput, match="not valid"):
        revisits.answer_by_token(revisit.token, "1")


def test_an_unanswered_sms_survey_ends_unreachable_after_the_last_try(pending_ticket, settings) -> None:
    settings.REVISIT_MAX_ATTEMPTS = 1
    revisit = sms_revisit(pending_ticket)
    # The survey went out at 08:31; a day later, at 09:31, nobody has answered.
    with time_machine.travel(revisit.lease_until + timedelta(hours=1), tick=False):
        revisits.start_due_surveys()
    revisit.refresh_from_db()
    assert revisit.status == "unreachable"
    assert Ticket.objects.get(pk=pending_ticket.pk).status == "closed"


def test_an_ivr_key_press_records_the_rating(pending_ticket) -> None:
    revisit = revisits.schedule_revisit(pending_ticket, channel="ivr")
    with pytest.raises(InvalidInput):
        revisits.record_ivr(revisit, "#")
    revisits.record_ivr(revisit, "1")
    revisit.refresh_from_db()
    assert (revisit.rating, revisit.channel, revisit.status) == ("satisfied", "ivr", "done")


def test_the_bridge_hands_back_an_ivr_survey_result_once(pending_ticket) -> None:
    revisit = revisits.schedule_revisit(pending_ticket, channel="ivr")
    for garbage in ["", "revisit", "revisit:x:1", f"callback:{revisit.pk}:1", f"revisit:{revisit.pk}:9", "revisit:0:1"]:
        with pytest.raises(InvalidInput):
            revisits.record_ivr_result(garbage)
    assert Revisit.objects.get().status == "scheduled"
    revisits.record_ivr_result(f"revisit:{revisit.pk}:3")
    revisit.refresh_from_db()
    assert (revisit.status, revisit.rating, revisit.channel) == ("done", "unsatisfied", "ivr")
    assert Ticket.objects.get(pk=pending_ticket.pk).status == "in_progress"
    with pytest.raises(IllegalTransition):  # the same VarSet delivered twice
        revisits.record_ivr_result(f"revisit:{revisit.pk}:3")
    assert Ticket.objects.get(pk=pending_ticket.pk).reopen_count == 1


def test_the_rated_unit_appeals_and_a_granted_appeal_leaves_the_kpi(pending_ticket, agent, yuhu, yuetang, dispatcher):
    revisit = due_revisit(pending_ticket)
    revisits.record_result(revisit, agent, rating="unsatisfied", comment="态度不好")
    revisit.refresh_from_db()
    with pytest.raises(NotAllowed):
        revisits.raise_appeal(revisit, yuetang, "不是我们的单位")
    appeal = revisits.raise_appeal(revisit, yuhu, "市民诉求超出法定职责，已依法答复")
    with pytest.raises(IllegalTransition, match="already pending"):
        revisits.raise_appeal(revisit, yuhu, "再次申诉")
    with pytest.raises(NotAllowed):
        revisits.decide_appeal(appeal, agent, grant=True, note="同意")
    revisits.decide_appeal(appeal, dispatcher, grant=True, note="诉求超出职责范围，不计入考核")
    revisit.refresh_from_db()
    assert revisit.excluded_from_kpi
    entry = TimelineEntry.objects.get(ticket=pending_ticket, action="revisit.appeal_granted")
    assert entry.note == "诉求超出职责范围，不计入考核" and entry.actor == dispatcher


def test_a_satisfied_rating_cannot_be_appealed(pending_ticket, agent, yuhu) -> None:
    revisit = due_revisit(pending_ticket)
    revisits.record_result(revisit, agent, rating="satisfied")
    with pytest.raises(IllegalTransition):
        revisits.raise_appeal(Revisit.objects.get(), yuhu, "无")


def test_status_of_a_revisit_uses_the_contract_values() -> None:
    assert set(RevisitStatus.values) == {"scheduled", "in_progress", "done", "unreachable", "cancelled"}
