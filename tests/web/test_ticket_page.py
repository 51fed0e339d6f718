"""The center's ticket page (issue 14, point 1 in part): the whole ticket in words, and the
center's hand on it — dispatch to any level-2 unit, reassign, reopen, merge, discard/restore."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from hotline.models import Role, Ticket, Unit
from hotline.services import dispatch, tickets
from tests.conftest import make_user
from tests.factories import dispatched_ticket, lead_assignment, new_ticket


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page(client: Client, ticket: Ticket) -> str:
    response = client.get(reverse("web:ticket", args=[ticket.pk]))
    assert response.status_code == 200
    return response.content.decode()


def timeline(html: str) -> str:
    return html[html.index('data-testid="timeline"') :]


def test_the_timeline_reads_as_sentences_not_codes(agent, dispatcher, yuhu):
    ticket = dispatched_ticket(agent, lead="YH")
    dispatch.accept_assignment(lead_assignment(ticket), yuhu)
    html = timeline(page(client_for(dispatcher), ticket))
    assert "ticket.registered" not in html.replace('data-action="ticket.registered"', "")
    assert "受理登记" in html and "派单至 雨湖区" in html and "签收" in html
    assert "话务员" in html  # who: the agent by role and name
    assert "雨湖区 handler_yuhu" in html  # a unit's user by unit and name


def test_units_cannot_open_the_center_page_and_their_own_page_reads_in_words(agent, yuhu):
    ticket = dispatched_ticket(agent, lead="YH")
    assert client_for(yuhu).get(reverse("web:ticket", args=[ticket.pk])).status_code == 403
    html = client_for(yuhu).get(reverse("web:unit-ticket", args=[ticket.pk])).content.decode()
    assert "派单至 雨湖区" in timeline(html)


def test_every_center_role_opens_any_ticket_and_sees_the_full_phone(agent, dispatcher, supervisor):
    ticket = new_ticket(agent, phone="13800138123")
    for user in (agent, dispatcher, supervisor):
        assert "13800138123" in page(client_for(user), ticket)


def test_the_center_dispatches_by_hand_to_any_level2_unit(agent, dispatcher):
    ticket = new_ticket(agent)
    unit = Unit.objects.get(code="ZJJ")  # not among the rules' suggestions for a noise complaint
    response = client_for(dispatcher).post(reverse("web:ticket-dispatch", args=[ticket.pk]), {"lead": unit.pk})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == "dispatched" and lead_assignment(ticket).unit == unit


def test_a_level3_unit_is_not_offered_and_is_refused(agent, dispatcher):
    ticket = new_ticket(agent)
    street = Unit.objects.filter(level=3).first()
    html = page(client_for(dispatcher), ticket)
    assert f'value="{street.pk}"' not in html[html.index('data-testid="hand-dispatch"') :][:5000]
    client = client_for(dispatcher)
    client.post(reverse("web:ticket-dispatch", args=[ticket.pk]), {"lead": street.pk})
    ticket.refresh_from_db()
    assert ticket.status == "registered"
    assert "lead" in page(client, ticket) or "主办" in page(client, ticket)


def test_reassign_with_a_reason_and_without_one(agent, dispatcher):
    ticket = dispatched_ticket(agent, lead="YH")
    client = client_for(dispatcher)
    url = reverse("web:ticket-reassign", args=[ticket.pk])
    yt = Unit.objects.get(code="YT")
    client.post(url, {"to_unit": yt.pk, "reason": ""})
    assert lead_assignment(ticket).unit.code == "YH"  # refused: the reason is required
    client.post(url, {"to_unit": yt.pk, "reason": "属地为岳塘区"})
    assert lead_assignment(ticket).unit.code == "YT"
    assert "改派" in timeline(page(client, ticket)) or "reassigned" in timeline(page(client, ticket))


def test_discard_restore_and_merge_from_the_page(agent, dispatcher):
    first = new_ticket(agent, phone="13800000021")
    second = new_ticket(agent, phone="13800000022", address="岳塘区5号")
    client = client_for(dispatcher)
    client.post(reverse("web:ticket-discard", args=[second.pk]), {"reason": "重复来电"})
    second.refresh_from_db()
    assert second.status == "discarded"
    client.post(reverse("web:ticket-restore", args=[second.pk]), {"note": ""})
    second.refresh_from_db()
    assert second.status == "registered"
    response = client.post(reverse("web:ticket-merge", args=[second.pk]), {"into": "2099"})
    second.refresh_from_db()
    assert second.status == "registered" and response.status_code == 302  # unknown number: refused, kept
    client.post(reverse("web:ticket-merge", args=[second.pk]), {"into": first.number})
    second.refresh_from_db()
    assert second.status == "merged" and second.merged_into == first
    assert second.number in page(client, first)  # the target lists what was merged into it


def test_an_agent_may_not_discard(agent):
    ticket = new_ticket(agent)
    html = page(client_for(agent), ticket)
    assert 'data-testid="discard"' not in html
    client_for(agent).post(reverse("web:ticket-discard", args=[ticket.pk]), {"reason": "x"})
    ticket.refresh_from_db()
    assert ticket.status == "registered"


def test_reopen_a_closed_ticket(agent, dispatcher, yuhu):
    ticket = dispatched_ticket(agent, lead="YH")
    assignment = lead_assignment(ticket)
    dispatch.accept_assignment(assignment, yuhu)
    dispatch.reply_assignment(assignment, yuhu, "已处理完毕。")
    ticket.refresh_from_db()
    tickets.review_reply(ticket, dispatcher, approve=True)
    ticket.refresh_from_db()
    client = client_for(dispatcher)
    client.post(reverse("web:ticket-reopen", args=[ticket.pk]), {"reason": "来电人反映问题仍未解决"})
    ticket.refresh_from_db()
    assert ticket.status == "in_progress"
    assert "来电人反映问题仍未解决" in timeline(page(client, ticket))


@pytest.mark.parametrize("pk", ["0", "999999"])
def test_unknown_tickets_are_404(dispatcher, pk):
    assert client_for(dispatcher).get(f"/tickets/{pk}/").status_code == 404


def test_admin_role_opens_it_too(agent, seeded):
    admin = make_user("center_admin", Role.ADMIN, "XT12345")
    assert "受理登记" in page(client_for(admin), new_ticket(agent))


def test_a_name_that_carries_its_role_or_unit_is_not_doubled(seeded):
    from django.utils import translation

    from hotline.models import TimelineEntry
    from web.timeline_text import who

    agent = make_user("a9", Role.AGENT, "XT12345", first_name="话务员小李")
    other = make_user("a8", Role.AGENT, "XT12345", first_name="小王")
    handler = make_user("h9", Role.UNIT_HANDLER, "YH", first_name="雨湖区经办人")
    with translation.override("zh-hans"):
        assert who(TimelineEntry(actor=agent)) == "话务员小李"
        assert who(TimelineEntry(actor=other)) == "话务员 小王"
        assert who(TimelineEntry(actor=handler, actor_unit=handler.unit)) == "雨湖区经办人"
        assert who(TimelineEntry(actor=None)) == "系统"
