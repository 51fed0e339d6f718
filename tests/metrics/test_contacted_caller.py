"""The unit records on its reply whether it contacted the caller (the response rate of an evaluation scheme)."""

from __future__ import annotations

from django.test import Client

from hotline.models import Assignment, TimelineEntry
from hotline.services import dispatch, tickets
from tests.conftest import api_as


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _accepted(agent, handler, complaint, noise):
    ticket = tickets.register_ticket(by=agent, phone="13812345678", content="噪音", category=complaint, topic=noise)
    lead = dispatch.dispatch_ticket(ticket, agent, handler.unit)[0]
    return dispatch.accept_assignment(lead, handler)


def test_api_reply_records_the_contact_and_refuses_a_bad_value(agent, yuhu, complaint, noise):
    lead = _accepted(agent, yuhu, complaint, noise)
    client = api_as(yuhu)
    url = f"/api/v1/assignments/{lead.pk}/reply/"
    bad = client.post(url, {"text": "已电话联系来电人并处理", "contacted_caller": "maybe"}, format="json")
    assert bad.status_code == 400
    lead.refresh_from_db()
    assert lead.status == "accepted" and not lead.contacted_caller
    ok = client.post(url, {"text": "已电话联系来电人并处理", "contacted_caller": True}, format="json")
    assert ok.status_code == 200, ok.json()
    lead.refresh_from_db()
    assert lead.contacted_caller is True
    mine = next(a for a in ok.json()["assignments"] if a["id"] == lead.pk)
    assert mine["contacted_caller"] is True
    entry = TimelineEntry.objects.get(ticket=lead.ticket, action="assignment.replied")
    assert entry.data["contacted_caller"] is True


def test_the_contact_is_optional_and_defaults_to_no(agent, yuhu, complaint, noise):
    lead = _accepted(agent, yuhu, complaint, noise)
    response = api_as(yuhu).post(f"/api/v1/assignments/{lead.pk}/reply/", {"text": "已处理"}, format="json")
    assert response.status_code == 200
    assert Assignment.objects.get(pk=lead.pk).contacted_caller is False


def test_unit_console_reply_form_has_the_box(agent, yuhu, complaint, noise):
    lead = _accepted(agent, yuhu, complaint, noise)
    client = client_for(yuhu)
    page = client.get(f"/unit/tickets/{lead.ticket.pk}/").content.decode()
    assert 'name="contacted_caller"' in page
    client.post(f"/unit/assignments/{lead.pk}/reply/", {"text": "已联系来电人", "contacted_caller": "on"})
    lead.refresh_from_db()
    assert lead.status == "replied" and lead.contacted_caller is True
