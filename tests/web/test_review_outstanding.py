"""Approving a reply while an assisting unit has not replied asks for confirmation, in the API and
on the center console (issue 12, defect 2)."""

from __future__ import annotations

import pytest

from hotline.models import Assignment, AssignmentStatus, Ticket, TicketStatus, Unit
from hotline.services import dispatch
from tests.conftest import api_as
from tests.factories import new_ticket

from .test_consoles import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def outstanding(agent, yuhu) -> tuple[Ticket, Assignment]:
    ticket = new_ticket(agent)
    lead, helper = dispatch.dispatch_ticket(ticket, agent, Unit.objects.get(code="YH"), [Unit.objects.get(code="ZJJ")])
    dispatch.accept_assignment(lead, yuhu)
    dispatch.reply_assignment(lead, yuhu, "已处理。")
    return ticket, helper


def test_the_api_answers_409_naming_the_outstanding_units_until_confirmed(outstanding, dispatcher):
    ticket, helper = outstanding
    client = api_as(dispatcher)
    url = f"/api/v1/tickets/{ticket.number}/review/"
    refused = client.post(url, {"decision": "approve"}, format="json")
    assert refused.status_code == 409
    assert refused.json()["error"] == "conflict"
    assert refused.json()["outstanding"] == "市住房和城乡建设局"
    done = client.post(url, {"decision": "approve", "confirm_outstanding": True}, format="json")
    assert done.status_code == 200, done.json()
    assert done.json()["status"] in (TicketStatus.REVISIT_PENDING, TicketStatus.CLOSED)
    assert Assignment.objects.get(pk=helper.pk).status == AssignmentStatus.WITHDRAWN


def test_the_center_console_review_form_confirms_outstanding_units(outstanding, dispatcher):
    ticket, helper = outstanding
    center = client_for(dispatcher)
    page = center.post(f"/dispatch/tickets/{ticket.pk}/review/", {"approve": "1"}, follow=True).content.decode()
    assert "市住房和城乡建设局" in page
    assert Ticket.objects.get(pk=ticket.pk).status == TicketStatus.REPLIED
    assert 'name="confirm_outstanding"' in center.get("/dispatch/").content.decode()
    center.post(f"/dispatch/tickets/{ticket.pk}/review/", {"approve": "1", "confirm_outstanding": "on"})
    assert Ticket.objects.get(pk=ticket.pk).status in (TicketStatus.REVISIT_PENDING, TicketStatus.CLOSED)
    assert Assignment.objects.get(pk=helper.pk).status == AssignmentStatus.WITHDRAWN


def test_the_assisting_unit_replies_on_its_console_after_the_lead_replied(outstanding, zhujian, dispatcher):
    ticket, helper = outstanding
    unit = client_for(zhujian)
    unit.post(f"/unit/assignments/{helper.pk}/accept/")
    unit.post(f"/unit/assignments/{helper.pk}/reply/", {"text": "已配合现场检查。"})
    assert Assignment.objects.get(pk=helper.pk).status == AssignmentStatus.REPLIED
    client_for(dispatcher).post(f"/dispatch/tickets/{ticket.pk}/review/", {"approve": "1"})
    assert Ticket.objects.get(pk=ticket.pk).status in (TicketStatus.REVISIT_PENDING, TicketStatus.CLOSED)
