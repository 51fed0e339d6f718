"""Issue 11, hole 7: bad input gets a 4xx JSON error, never a server error or Django's HTML page."""

from __future__ import annotations

import io
import json

import pytest
from django.test import Client
from PIL import Image

from hotline.models import Ticket
from tests.conftest import api_as
from tests.factories import dispatched_ticket, new_ticket


def is_json_error(response, *codes: int) -> bool:
    return response.status_code in codes and response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/assignments/abc/"),
        ("post", "/api/v1/assignments/abc/accept/"),
        ("post", "/api/v1/tickets/%C2%B3/reopen/"),  # "³" is a Unicode digit, not a number
        ("get", "/api/v1/tickets/%D9%A3/"),  # Arabic-Indic three
        ("post", "/api/v1/callbacks/false/accept/"),
        ("post", "/api/v1/callbacks/1e9/decline/"),
        ("get", "/api/v1/revisits/abc/"),
        ("get", "/api/v1/units/abc/"),
        ("post", "/api/v1/extensions/abc/decide/"),
        ("post", "/api/v1/disputes/null/decide/"),
        ("get", "/api/v1/assignments/99999999999999999999999/"),
        ("get", "/api/v1/tickets/99999999999999999999999/"),
    ],
)
def test_ids_that_are_no_numbers_get_a_json_4xx(agent, method, path):
    response = getattr(api_as(agent), method)(path, {}, format="json")
    # 404 (no such id), or 400 where the body is checked first (a required field is missing).
    assert is_json_error(response, 400, 404), (response.status_code, response.content[:200])


@pytest.mark.parametrize(
    "query",
    [
        {"unit": "99999999999999999999999"},
        {"unit": "-99999999999999999999999"},
        {"topic": "99999999999999999999999"},
        {"area": "1e400"},
        {"created_from": "0001-01-01"},
        {"created_to": "9999-12-31"},
        {"page": "99999999999999999999999"},
    ],
)
def test_huge_integers_and_extreme_dates_in_ticket_filters_are_no_server_error(agent, query):
    new_ticket(agent)
    response = api_as(agent).get("/api/v1/tickets/", query)
    assert response.status_code < 500 and response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("path", ["/api/v1/assignments/", "/api/v1/extensions/", "/api/v1/units/", "/api/v1/revisits/"])
@pytest.mark.parametrize("value", ["99999999999999999999999", "-1", "abc"])
def test_huge_integers_in_other_filters_are_no_server_error(agent, path, value):
    response = api_as(agent).get(path, {"unit": value, "ticket": value, "parent": value})
    assert response.status_code < 500 and response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize(
    "query",
    [
        {"period": "month", "date": "9999-12-31"},
        {"period": "year", "date": "9999-12-31"},
        {"period": "week", "date": "9999-12-31"},
        {"period": "week", "date": "0001-01-01"},
        {"period": "day", "date": "0001-01-01"},
        {"from": "0001-01-01", "to": "0001-01-02"},
        {"from": "9999-12-30", "to": "9999-12-31"},
    ],
)
@pytest.mark.parametrize(
    "path", ["/api/v1/metrics/kpis/", "/api/v1/metrics/kpis/units/", "/api/v1/metrics/callcenter/"]
)
def test_extreme_dates_in_metric_periods_get_a_json_400(supervisor, path, query):
    response = api_as(supervisor).get(path, query)
    assert is_json_error(response, 400), (response.status_code, response.content[:300])
    assert "between" in response.json()["message"]


@pytest.mark.parametrize("path", ["/api/v1/metrics/kpis/", "/api/v1/metrics/kpis/units/"])
@pytest.mark.parametrize("unit", ["99999999999999999999999", "-99999999999999999999999"])
def test_a_huge_unit_id_in_metrics_is_no_server_error(supervisor, path, unit):
    response = api_as(supervisor).get(path, {"unit": unit})
    assert response.status_code < 500 and response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize(
    "query",
    [
        {"period": "month", "date": "9999-12-31"},
        {"period": "week", "date": "0001-01-01"},
        {"from": "9999-12-30", "to": "9999-12-31"},
        {"unit": "99999999999999999999999"},
    ],
)
def test_extreme_dates_on_the_dashboard_are_no_server_error(supervisor, query):
    client = Client()
    client.force_login(supervisor)
    for path in ("/dashboard/", "/dashboard/excel/", "/dashboard/drill/satisfaction/"):
        assert client.get(path, query).status_code < 500, path


def test_deeply_nested_json_gets_a_json_400(agent):
    body = '{"content": ' + "[" * 100_000 + "]" * 100_000 + ', "phone": "13800138000", "category": "complaint"}'
    response = api_as(agent).post("/api/v1/tickets/", body, content_type="application/json")
    assert is_json_error(response, 400)
    assert not Ticket.objects.exists()


def test_an_oversized_body_gets_a_json_413(agent, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = json.dumps({"phone": "13800138000", "category": "complaint", "content": "长" * 20_000})
    response = api_as(agent).post("/api/v1/tickets/", body, content_type="application/json")
    assert is_json_error(response, 413), (response.status_code, response.content[:200])
    assert response.json()["error"] == "too_big"
    assert not Ticket.objects.exists()


def test_too_many_fields_get_a_json_400(agent, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 50
    fields = {f"f{i}": "x" for i in range(200)} | {"phone": "13800138000", "category": "complaint", "content": "x"}
    response = api_as(agent).post("/api/v1/tickets/", fields)  # multipart form
    assert is_json_error(response, 400), (response.status_code, response.content[:200])
    assert response.json()["error"] == "too_many_fields"
    assert not Ticket.objects.exists()


INVISIBLE = ["\u200b\u200b\u200b", "\u3000\u3000", "\u200b \u3000\u2060\ufeff", "\u00a0\u200c\u200d", "\u2028\u180e"]


@pytest.mark.parametrize("content", INVISIBLE)
def test_content_made_only_of_invisible_characters_is_refused(agent, content):
    response = api_as(agent).post(
        "/api/v1/tickets/", {"phone": "13800138000", "category": "complaint", "content": content}, format="json"
    )
    assert is_json_error(response, 400)
    assert "content" in response.json()["message"]
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("text", INVISIBLE)
def test_a_reply_or_reason_made_only_of_invisible_characters_is_refused(agent, yuhu, text):
    ticket = dispatched_ticket(agent)
    lead = ticket.assignments.get()
    client = api_as(yuhu)
    client.post(f"/api/v1/assignments/{lead.pk}/accept/")
    assert is_json_error(client.post(f"/api/v1/assignments/{lead.pk}/reply/", {"text": text}, format="json"), 400)
    assert is_json_error(client.post(f"/api/v1/assignments/{lead.pk}/return/", {"reason": text}, format="json"), 400)
    lead.refresh_from_db()
    assert lead.status == "accepted"


def test_visible_text_keeps_its_inner_spaces_and_loses_invisible_padding(agent):
    made = api_as(agent).post(
        "/api/v1/tickets/",
        {"phone": "13800138000", "category": "complaint", "content": "\u200b\u3000路灯 坏了\u3000\u200b"},
        format="json",
    )
    assert made.status_code == 201
    assert made.json()["content"] == "路灯 坏了"


def png(width: int, height: int) -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("1", (width, height)).save(buffer, "PNG", optimize=True)
    buffer.seek(0)
    buffer.name = "big.png"
    return buffer


def test_an_image_over_the_pixel_limit_is_refused_whatever_its_size_in_bytes(agent):
    ticket = new_ticket(agent)
    bomb = png(12_000, 12_000)
    assert len(bomb.getvalue()) < 100_000  # small on the wire
    response = api_as(agent).post(f"/api/v1/tickets/{ticket.pk}/attachments/", {"file": bomb}, format="multipart")
    assert is_json_error(response, 400)
    assert "pixels" in response.json()["message"]
    assert not ticket.attachments.exists()


def test_an_image_within_the_pixel_limit_is_accepted(agent, settings):
    settings.ATTACHMENT_MAX_PIXELS = 100 * 100
    ticket = new_ticket(agent)
    client = api_as(agent)
    ok = client.post(f"/api/v1/tickets/{ticket.pk}/attachments/", {"file": png(100, 100)}, format="multipart")
    assert ok.status_code == 201
    over = client.post(f"/api/v1/tickets/{ticket.pk}/attachments/", {"file": png(100, 101)}, format="multipart")
    assert over.status_code == 400


def test_an_image_past_pillows_own_bomb_limit_is_refused_too(agent, settings):
    settings.ATTACHMENT_MAX_PIXELS = 10**12  # even with our limit set very high
    ticket = new_ticket(agent)
    huge = png(20_000, 20_000)  # 400 million pixels: Pillow refuses to open it at all
    response = api_as(agent).post(f"/api/v1/tickets/{ticket.pk}/attachments/", {"file": huge}, format="multipart")
    assert is_json_error(response, 400)
    assert "pixels" in response.json()["message"]
