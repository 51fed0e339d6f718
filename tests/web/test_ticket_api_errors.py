"""Bad input gets a clear JSON error, the right status, and changes nothing."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from hotline.models import Assignment, Ticket, TimelineEntry, Unit
from hotline.services import dispatch
from tests.conftest import api_as
from tests.factories import dispatched_ticket, lead_assignment, new_ticket


def register(client, **overrides):
    data = {"phone": "13800138000", "category": "complaint", "content": "路灯坏了一个月没人修"}
    data.update(overrides)
    return client.post("/api/v1/tickets/", data, format="json")


@pytest.mark.parametrize(
    ("phone", "why"),
    [
        ("12345", "not a valid Chinese phone number"),
        ("+1 650 253 0000", "Only Chinese (+86) numbers"),
        ("not a number", "is not a phone number"),
        ("", "phone"),
    ],
)
def test_invalid_or_foreign_phone_numbers_are_refused(agent, phone, why):
    response = register(api_as(agent), phone=phone)
    assert response.status_code == 400
    assert why in response.json()["message"]
    assert not Ticket.objects.exists()


@pytest.mark.parametrize(
    ("phone", "why"),
    [("12345", "不是有效的中国电话号码"), ("+1 650 253 0000", "只受理中国（+86）号码"), ("abc", "不是电话号码")],
)
def test_a_phone_refusal_speaks_the_users_language(agent, phone, why):
    response = register(api_as(agent, "zh-hans"), phone=phone)
    assert response.status_code == 400 and why in response.json()["message"]


@pytest.mark.parametrize("content", ["", "   ", "长" * 20_000])
def test_empty_or_huge_content_is_refused(agent, content):
    response = register(api_as(agent), content=content)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid"
    assert "content" in response.json()["message"]
    assert not Ticket.objects.exists()


def test_unknown_category_and_unit_ids_are_400(agent):
    assert register(api_as(agent), category="nonsense").status_code == 400
    ticket = new_ticket(agent)
    response = api_as(agent).post(f"/api/v1/tickets/{ticket.pk}/dispatch/", {"lead_unit": 999999}, format="json")
    assert response.status_code == 400
    assert "lead_unit" in response.json()["message"]


def test_the_center_cannot_dispatch_straight_to_a_level3_unit(agent):
    ticket = new_ticket(agent)
    street = Unit.objects.get(code="YH01")
    response = api_as(agent).post(f"/api/v1/tickets/{ticket.pk}/dispatch/", {"lead_unit": street.pk}, format="json")
    assert response.status_code == 400
    assert "level-2 units only" in response.json()["message"]
    chinese = api_as(agent, "zh-hans").post(f"/api/v1/tickets/{ticket.pk}/dispatch/", {"lead_unit": street.pk})
    # Without Accept-Language the API speaks the hotline's language, as the consoles do.
    assert chinese.status_code == 400 and chinese.json()["message"] == "中心只向二级单位派单；城正街街道是3级单位"
    ticket.refresh_from_db()
    assert ticket.status == "registered" and not Assignment.objects.filter(ticket=ticket).exists()


def test_a_district_cannot_sub_dispatch_to_another_districts_street(agent, yuhu):
    ticket = dispatched_ticket(agent)
    lead = lead_assignment(ticket)
    dispatch.accept_assignment(lead, yuhu)
    other_street = Unit.objects.get(code="YT01")
    response = api_as(yuhu).post(
        f"/api/v1/assignments/{lead.pk}/sub-dispatch/", {"to_unit": other_street.pk}, format="json"
    )
    assert response.status_code == 400
    assert "not a unit under 雨湖区" in response.json()["message"]


def test_an_inner_deadline_later_than_the_units_own_is_refused(agent, yuhu):
    ticket = dispatched_ticket(agent)
    lead = lead_assignment(ticket)
    dispatch.accept_assignment(lead, yuhu)
    response = api_as(yuhu).post(
        f"/api/v1/assignments/{lead.pk}/sub-dispatch/",
        {"to_unit": Unit.objects.get(code="YH01").pk, "reply_by": "2099-01-01T00:00:00Z"},
        format="json",
    )
    assert response.status_code == 400
    assert "inner deadline" in response.json()["message"]


def test_accepting_after_a_return_is_an_illegal_transition(agent, yuhu):
    ticket = dispatched_ticket(agent)
    lead = lead_assignment(ticket)
    client = api_as(yuhu)
    assert (
        client.post(f"/api/v1/assignments/{lead.pk}/return/", {"reason": "不属于本单位"}, format="json").status_code
        == 200
    )
    response = client.post(f"/api/v1/assignments/{lead.pk}/accept/", {}, format="json")
    assert response.status_code == 409
    assert response.json()["error"] == "illegal_transition"
    ticket.refresh_from_db()
    assert ticket.status == "returned"


def test_a_unit_that_is_not_assigned_cannot_reply_nor_see_the_ticket(agent, yuhu, yuetang):
    ticket = dispatched_ticket(agent)
    lead = lead_assignment(ticket)
    dispatch.accept_assignment(lead, yuhu)
    outsider = api_as(yuetang)
    response = outsider.post(f"/api/v1/assignments/{lead.pk}/reply/", {"text": "已处理"}, format="json")
    assert response.status_code == 403
    assert outsider.get(f"/api/v1/tickets/{ticket.number}/").status_code == 403
    assert ticket.number not in str(outsider.get("/api/v1/tickets/").json())
    lead.refresh_from_db()
    assert lead.status == "accepted"


def test_a_level2_handler_sees_its_streets_tickets_but_not_others(agent, yuhu, chengzheng):
    ticket = dispatched_ticket(agent)
    assert api_as(chengzheng).get(f"/api/v1/tickets/{ticket.pk}/").status_code == 403
    assert api_as(yuhu).get(f"/api/v1/tickets/{ticket.pk}/").status_code == 200


def test_units_see_masked_phone_numbers_and_the_center_sees_them_in_full(agent, yuhu):
    ticket = dispatched_ticket(agent)
    assert api_as(yuhu).get(f"/api/v1/tickets/{ticket.pk}/").json()["caller"]["phone"] == "138****8000"
    assert api_as(agent).get(f"/api/v1/tickets/{ticket.pk}/").json()["caller"]["phone"] == "+8613800138000"


def test_a_unit_handler_cannot_register_or_dispatch(agent, yuhu):
    assert register(api_as(yuhu)).status_code == 403
    ticket = new_ticket(agent)  # not assigned to 雨湖区: it cannot even see it
    response = api_as(yuhu).post(f"/api/v1/tickets/{ticket.pk}/dispatch/", {"lead_unit": 1}, format="json")
    assert response.status_code == 403
    ticket.refresh_from_db()
    assert ticket.status == "registered"


def test_unknown_ticket_is_404_and_anonymous_is_refused(agent):
    assert api_as(agent).get("/api/v1/tickets/2099010100001/").status_code == 404
    from rest_framework.test import APIClient

    response = APIClient().get("/api/v1/tickets/")
    assert response.status_code in (401, 403)
    assert "message" in response.json()


def test_a_stale_version_gets_409_and_the_first_change_stands(agent, dispatcher):
    ticket = new_ticket(agent)
    first = api_as(agent).post(
        f"/api/v1/tickets/{ticket.pk}/dispatch/",
        {"lead_unit": Unit.objects.get(code="YH").pk, "version": ticket.version},
        format="json",
    )
    assert first.status_code == 200
    second = api_as(dispatcher).post(
        f"/api/v1/tickets/{ticket.pk}/discard/", {"reason": "重复", "version": ticket.version}, format="json"
    )
    assert second.status_code == 409
    assert second.json()["error"] == "conflict"
    ticket.refresh_from_db()
    assert ticket.status == "dispatched"


def _png(size=(4, 4)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "red").save(buffer, "PNG")
    return buffer.getvalue()


def test_an_image_attachment_is_stored_and_on_the_timeline(agent, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    ticket = new_ticket(agent)
    upload = SimpleUploadedFile("photo.png", _png(), content_type="image/png")
    response = api_as(agent).post(f"/api/v1/tickets/{ticket.pk}/attachments/", {"file": upload}, format="multipart")
    assert response.status_code == 201, response.json()
    assert response.json()["content_type"] == "image/png"
    assert TimelineEntry.objects.filter(ticket=ticket, action="ticket.attachment_added").exists()


def test_a_non_image_attachment_is_refused(agent, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    ticket = new_ticket(agent)
    upload = SimpleUploadedFile("photo.png", b"%PDF-1.4 not an image", content_type="image/png")
    response = api_as(agent).post(f"/api/v1/tickets/{ticket.pk}/attachments/", {"file": upload}, format="multipart")
    assert response.status_code == 400
    assert "not an image" in response.json()["message"]
    assert not ticket.attachments.exists()


def test_an_oversized_attachment_is_refused(agent, tmp_path, settings):
    # The settings fixture alone: mixed with @override_settings, the limit outlived the test.
    settings.MEDIA_ROOT, settings.HOTLINE_MAX_ATTACHMENT_BYTES = tmp_path, 1024
    ticket = new_ticket(agent)
    upload = SimpleUploadedFile("big.png", _png((400, 400)) + b"\0" * 2048, content_type="image/png")
    response = api_as(agent).post(f"/api/v1/tickets/{ticket.pk}/attachments/", {"file": upload}, format="multipart")
    assert response.status_code == 400
    assert "at most 1024 bytes" in response.json()["message"]
    assert not ticket.attachments.exists()
