"""Automatic reminders (催办): before accept-by and reply-by, when overdue, escalation to the leader —
each kind once per assignment and deadline, on the timeline, pushed to the unit, texted to its people."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from callback import unit_alerts
from callback.models import SmsMessage, SmsPurpose
from hotline.events import unit_group
from hotline.models import TimelineEntry, Unit
from hotline.services import dispatch
from hotline.services.extensions import decide_extension, request_extension
from routing import warnings
from routing.models import DeadlineWarning
from tests.factories import dispatched_ticket, lead_assignment

pytestmark = pytest.mark.django_db


@pytest.fixture
def pushed(monkeypatch) -> list[tuple[list[str], dict]]:
    sent: list[tuple[list[str], dict]] = []
    monkeypatch.setattr("hotline.events._send", lambda groups, event: sent.append((groups, event)))
    return sent


def _run(moment, capture) -> int:
    with time_machine.travel(moment, tick=False), capture(execute=True):
        return warnings.send_deadline_warnings()


def _actions(ticket) -> list[str]:
    return list(
        TimelineEntry.objects.filter(ticket=ticket, action__startswith="assignment.")
        .exclude(action__in=["assignment.accepted"])
        .order_by("at", "pk")
        .values_list("action", flat=True)
    )


def test_accept_reminder_before_and_after_accept_by_once_each(
    agent, django_capture_on_commit_callbacks, pushed, settings
) -> None:
    settings.REMINDER_ACCEPT_LEAD_HOURS = 2
    ticket = dispatched_ticket(agent)
    assignment = lead_assignment(ticket)
    before = assignment.accept_by - timedelta(minutes=30)
    assert _run(before, django_capture_on_commit_callbacks) == 1
    assert _run(before, django_capture_on_commit_callbacks) == 0
    after = assignment.accept_by + timedelta(minutes=1)
    assert _run(after, django_capture_on_commit_callbacks) == 1
    assert _run(after, django_capture_on_commit_callbacks) == 0
    assert _actions(ticket) == ["assignment.accept_soon", "assignment.accept_overdue"]
    reminders = [(g, e["level"]) for g, e in pushed if e["type"] == "ticket.reminder"]
    assert reminders == [
        ([unit_group(assignment.unit_id)], "accept_soon"),
        ([unit_group(assignment.unit_id)], "accept_overdue"),
    ]


def test_an_accepted_assignment_gets_no_accept_reminder(
    agent, yuhu, django_capture_on_commit_callbacks, pushed
) -> None:
    ticket = dispatched_ticket(agent)
    assignment = lead_assignment(ticket)
    dispatch.accept_assignment(assignment, yuhu)
    assert _run(assignment.accept_by + timedelta(minutes=1), django_capture_on_commit_callbacks) == 0


def test_yellow_red_and_escalation_each_once(agent, yuhu, django_capture_on_commit_callbacks, pushed, settings) -> None:
    settings.REMINDER_ESCALATE_AFTER_HOURS = 4
    ticket = dispatched_ticket(agent)
    assignment = lead_assignment(ticket)
    dispatch.accept_assignment(assignment, yuhu)
    assert _run(assignment.reply_by - timedelta(hours=3), django_capture_on_commit_callbacks) == 1
    assert (
        _run(assignment.reply_by + timedelta(minutes=1), django_capture_on_commit_callbacks) == 1
    )  # red, not yet escalated
    later = assignment.reply_by + timedelta(days=3)  # well past 4 working hours
    assert _run(later, django_capture_on_commit_callbacks) == 1
    assert _run(later, django_capture_on_commit_callbacks) == 0
    assert _actions(ticket) == ["assignment.deadline_yellow", "assignment.deadline_red", "assignment.escalated"]
    escalated = TimelineEntry.objects.get(ticket=ticket, action="assignment.escalated")
    assert escalated.data["notify"] == "leader" and escalated.data["leader"] == assignment.unit.leader_name


def test_lead_times_come_from_settings(agent, yuhu, django_capture_on_commit_callbacks, pushed, settings) -> None:
    settings.REMINDER_REPLY_LEAD_DAYS = 0  # off
    ticket = dispatched_ticket(agent)
    assignment = lead_assignment(ticket)
    dispatch.accept_assignment(assignment, yuhu)
    assert _run(assignment.reply_by - timedelta(hours=3), django_capture_on_commit_callbacks) == 0
    settings.REMINDER_REPLY_LEAD_DAYS = 3
    assert _run(assignment.reply_by - timedelta(days=2), django_capture_on_commit_callbacks) == 1


def test_an_approved_extension_makes_the_next_reminder_new(
    agent, dispatcher, yuhu, django_capture_on_commit_callbacks, pushed
) -> None:
    ticket = dispatched_ticket(agent)
    assignment = lead_assignment(ticket)
    dispatch.accept_assignment(assignment, yuhu)
    assert _run(assignment.reply_by - timedelta(hours=3), django_capture_on_commit_callbacks) == 1
    extension = request_extension(assignment, yuhu, assignment.reply_by + timedelta(days=7), "需要协调多个部门")
    decide_extension(extension, dispatcher, approve=True)
    assignment.refresh_from_db()
    assert _run(assignment.reply_by - timedelta(hours=3), django_capture_on_commit_callbacks) == 1
    assert DeadlineWarning.objects.filter(assignment=assignment, level="yellow").count() == 2


def test_an_assignment_far_from_its_deadline_is_not_warned(agent, yuhu) -> None:
    ticket = dispatched_ticket(agent)
    dispatch.accept_assignment(lead_assignment(ticket), yuhu)
    assert warnings.send_deadline_warnings() == 0


def test_sms_to_the_liaison_once_and_to_the_leader_on_escalation(
    agent, yuhu, django_capture_on_commit_callbacks, pushed, settings
) -> None:
    unit = Unit.objects.get(code="YH")
    Unit.objects.filter(pk=unit.pk).update(
        liaison_phone="13911112222", leader_phone="13933334444", leader_name="张区长"
    )
    ticket = dispatched_ticket(agent)
    assignment = lead_assignment(ticket)
    dispatch.accept_assignment(assignment, yuhu)
    late = assignment.reply_by + timedelta(days=1)
    assert _run(late, django_capture_on_commit_callbacks) == 2  # red + escalated (escalate at once by default)
    with time_machine.travel(late + timedelta(minutes=1), tick=False):
        assert unit_alerts.notify_units() == 2
        assert unit_alerts.notify_units() == 0  # the dedup key: stored once, sent once
        assert _run(late, django_capture_on_commit_callbacks) == 0
        assert unit_alerts.notify_units() == 0
    to_liaison = SmsMessage.objects.get(to="13911112222")
    to_leader = SmsMessage.objects.get(to="13933334444")
    assert to_liaison.purpose == SmsPurpose.UNIT_REMINDER and ticket.number in to_liaison.body
    assert to_leader.purpose == SmsPurpose.LEADER_NOTICE and "张区长" in to_leader.body


def test_a_unit_without_a_liaison_phone_gets_no_sms(agent, yuhu, django_capture_on_commit_callbacks, pushed) -> None:
    Unit.objects.filter(code="YH").update(liaison_phone="", leader_phone="")
    ticket = dispatched_ticket(agent)
    assignment = lead_assignment(ticket)
    dispatch.accept_assignment(assignment, yuhu)
    late = assignment.reply_by + timedelta(days=1)
    assert _run(late, django_capture_on_commit_callbacks) == 2
    with time_machine.travel(late, tick=False):
        assert unit_alerts.notify_units() == 0
    assert not SmsMessage.objects.filter(ticket=ticket).exists()
