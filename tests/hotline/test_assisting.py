"""Issue 12, defect 2: an assisting unit may reply until the center's review; the center approving
while assisting units are outstanding must confirm it, and their parts end withdrawn, not replied."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from hotline.errors import Conflict
from hotline.models import Assignment, AssignmentStatus, Ticket, TicketStatus, TimelineEntry, Unit
from hotline.services import dispatch, tickets
from metrics import kpis
from metrics.kpis import Figure
from metrics.periods import Period
from tests.factories import new_ticket

pytestmark = pytest.mark.django_db


def lead_replied_with_zjj_assisting(agent, yuhu) -> tuple[Ticket, Assignment]:
    """雨湖区 leads and has replied; 市住建局 assists and has done nothing yet."""
    ticket = new_ticket(agent)
    lead, helper = dispatch.dispatch_ticket(ticket, agent, Unit.objects.get(code="YH"), [Unit.objects.get(code="ZJJ")])
    dispatch.accept_assignment(lead, yuhu)
    dispatch.reply_assignment(lead, yuhu, "已处理。")
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.REPLIED
    return ticket, helper


def test_an_assisting_unit_accepts_and_replies_after_the_lead_replied(agent, yuhu, zhujian, dispatcher):
    ticket, helper = lead_replied_with_zjj_assisting(agent, yuhu)
    dispatch.accept_assignment(helper, zhujian)
    dispatch.reply_assignment(helper, zhujian, "已配合现场检查。")
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.REPLIED  # the ticket waits for the review, as before
    tickets.review_reply(ticket, dispatcher, approve=True)  # nothing outstanding: no confirmation needed
    assert Assignment.objects.get(pk=helper.pk).status == AssignmentStatus.REPLIED


def test_approving_while_an_assisting_unit_is_outstanding_needs_confirmation(agent, yuhu, dispatcher):
    ticket, helper = lead_replied_with_zjj_assisting(agent, yuhu)
    with pytest.raises(Conflict) as refused:
        tickets.review_reply(ticket, dispatcher, approve=True)
    assert "市住房和城乡建设局" in refused.value.message
    assert Ticket.objects.get(pk=ticket.pk).status == TicketStatus.REPLIED
    assert Assignment.objects.get(pk=helper.pk).status == AssignmentStatus.PENDING
    # Confirmed after 市住建局's deadline: its part ends withdrawn, not replied, and counts late.
    with time_machine.travel(helper.reply_by + timedelta(hours=1), tick=False):
        tickets.review_reply(Ticket.objects.get(pk=ticket.pk), dispatcher, approve=True, confirm_outstanding=True)
    helper.refresh_from_db()
    assert helper.status == AssignmentStatus.WITHDRAWN and helper.replied_at is None
    approved = TimelineEntry.objects.get(ticket=ticket, action="ticket.reply_approved")
    assert approved.data["outstanding"] == ["市住房和城乡建设局"]
    withdrawn = TimelineEntry.objects.get(ticket=ticket, action="assignment.withdrawn")
    assert withdrawn.assignment_id == helper.pk and withdrawn.data["overdue"] is True
    assert "未答复" in withdrawn.note
    day = timezone.localdate(helper.reply_by)
    figure = kpis.on_time_rate(Period(day, day), helper.unit, rollup=False, now=helper.reply_by + timedelta(days=30))
    assert figure == Figure(0, 1)
