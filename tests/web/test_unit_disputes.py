"""A unit told "raise a dispatch dispute instead" finds the button; the center decides it from the
dispatch queue; a level-2 unit's inbox shows that its street has replied (issue 14, point 2)."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client
from django.urls import reverse

from hotline.models import Assignment, Dispute, Unit
from hotline.services import dispatch
from tests.factories import dispatched_ticket, lead_assignment


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def past_accept_by(assignment: Assignment) -> Assignment:
    Assignment.objects.filter(pk=assignment.pk).update(accept_by=assignment.dispatched_at - timedelta(minutes=1))
    assignment.refresh_from_db()
    return assignment


def test_return_refused_after_accept_by_leads_to_the_dispute_button(agent, yuhu):
    ticket = dispatched_ticket(agent, lead="YH")
    assignment = past_accept_by(lead_assignment(ticket))
    client = client_for(yuhu)
    response = client.post(reverse("web:unit-return", args=[assignment.pk]), {"reason": "不属于本单位"}, follow=True)
    html = response.content.decode()
    assert "派单异议" in html or "dispute" in html.lower()  # the refusal names the dispute
    assert 'data-testid="dispute-form"' in html  # and the page offers it

    response = client.post(
        reverse("web:unit-dispute", args=[assignment.pk]), {"reason": "该路段属岳塘区管辖"}, follow=True
    )
    html = response.content.decode()
    assert 'data-testid="dispute-pending"' in html and 'data-testid="dispute-form"' not in html
    assert Dispute.objects.get(assignment=assignment).reason == "该路段属岳塘区管辖"


def test_a_dispute_needs_a_reason_and_a_street_has_no_button(agent, yuhu, chengzheng):
    ticket = dispatched_ticket(agent, lead="YH")
    assignment = lead_assignment(ticket)
    client_for(yuhu).post(reverse("web:unit-dispute", args=[assignment.pk]), {"reason": "  "})
    assert not Dispute.objects.exists()
    dispatch.accept_assignment(assignment, yuhu)
    child = dispatch.sub_dispatch(assignment, yuhu, chengzheng.unit, instructions="请核实")
    html = client_for(chengzheng).get(reverse("web:unit-ticket", args=[ticket.pk])).content.decode()
    assert 'data-testid="dispute-form"' not in html
    client_for(chengzheng).post(reverse("web:unit-dispute", args=[child.pk]), {"reason": "不归我们"})
    assert not Dispute.objects.exists()


def test_the_center_decides_a_dispute_from_the_queue(agent, yuhu, dispatcher):
    ticket = dispatched_ticket(agent, lead="YH")
    assignment = lead_assignment(ticket)
    client_for(yuhu).post(reverse("web:unit-dispute", args=[assignment.pk]), {"reason": "属地为岳塘区"})
    dispute = Dispute.objects.get()
    center = client_for(dispatcher)
    assert 'data-testid="dispute-row"' in center.get(reverse("web:dispatch")).content.decode()
    yt = Unit.objects.get(code="YT")
    center.post(reverse("web:center-dispute", args=[dispute.pk]), {"reassign_to": yt.pk, "note": "同意改派"})
    dispute.refresh_from_db()
    assert dispute.status == "reassigned" and lead_assignment(ticket).unit == yt
    assert 'data-testid="dispute-row"' not in center.get(reverse("web:dispatch")).content.decode()


def test_the_dispatch_may_stand_and_a_bad_unit_is_404(agent, yuhu, dispatcher):
    ticket = dispatched_ticket(agent, lead="YH")
    client_for(yuhu).post(reverse("web:unit-dispute", args=[lead_assignment(ticket).pk]), {"reason": "不归我们"})
    dispute = Dispute.objects.get()
    center = client_for(dispatcher)
    assert center.post(reverse("web:center-dispute", args=[dispute.pk]), {"reassign_to": "999999"}).status_code == 404
    center.post(reverse("web:center-dispute", args=[dispute.pk]), {"reassign_to": "", "note": "属本单位职责"})
    dispute.refresh_from_db()
    assert dispute.status == "dispatch_stands" and lead_assignment(ticket).unit.code == "YH"


def test_a_unit_handler_cannot_decide(agent, yuhu):
    ticket = dispatched_ticket(agent, lead="YH")
    client_for(yuhu).post(reverse("web:unit-dispute", args=[lead_assignment(ticket).pk]), {"reason": "不归我们"})
    dispute = Dispute.objects.get()
    assert client_for(yuhu).post(reverse("web:center-dispute", args=[dispute.pk]), {}).status_code == 403


def test_the_level2_inbox_shows_that_its_street_replied(agent, yuhu, chengzheng):
    ticket = dispatched_ticket(agent, lead="YH")
    assignment = lead_assignment(ticket)
    dispatch.accept_assignment(assignment, yuhu)
    child = dispatch.sub_dispatch(assignment, yuhu, chengzheng.unit, instructions="请核实")
    dispatch.accept_assignment(child, chengzheng)
    dispatch.reply_assignment(child, chengzheng, "已现场处理。")
    html = client_for(yuhu).get(reverse("web:workbench")).content.decode()
    assert 'data-testid="child-state"' in html
    state = html[html.index('data-testid="child-state"') :][:200]
    assert chengzheng.unit.name in state and ("已答复" in state or "replied" in state)


def test_a_refused_form_comes_back_with_what_the_handler_typed(agent, yuhu):
    ticket = dispatched_ticket(agent, lead="YH")
    assignment = past_accept_by(lead_assignment(ticket))
    reason = "该路段不属于本单位管辖，请改派岳塘区。"
    response = client_for(yuhu).post(reverse("web:unit-return", args=[assignment.pk]), {"reason": reason})
    html = response.content.decode()
    assert response.status_code == 200 and reason in html  # the reason is still in the form
    assert 'data-testid="dispute-form"' in html
    assignment.refresh_from_db()
    assert assignment.status == "pending"  # and nothing changed
