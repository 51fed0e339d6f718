"""Issue 11, hole 8: a registration sent again with its idempotency key makes no second ticket."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client

from hotline.errors import Conflict
from hotline.models import Category, IdempotencyKey, Ticket, TimelineEntry
from hotline.services import tickets
from tests.conftest import api_as
from tests.hotline.test_concurrency import run_together

BODY = {"phone": "13800138000", "category": "complaint", "content": "路灯坏了一个月没人修"}


def register(user, key: str, **overrides):
    data = {**BODY, **overrides}
    return api_as(user).post("/api/v1/tickets/", data, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_the_same_key_sent_again_gets_the_first_ticket(agent):
    first = register(agent, "k-1")
    assert first.status_code == 201
    again = [register(agent, "k-1"), register(agent, "k-1")]
    assert [r.status_code for r in again] == [200, 200]
    assert {r.json()["id"] for r in again} == {first.json()["id"]}
    assert Ticket.objects.count() == 1
    assert TimelineEntry.objects.filter(action="ticket.registered").count() == 1


def test_another_key_or_no_key_registers_anew(agent, dispatcher):
    assert register(agent, "k-1").status_code == 201
    assert register(agent, "k-2").status_code == 201
    assert register(dispatcher, "k-1").status_code == 201  # keys are per user
    assert api_as(agent).post("/api/v1/tickets/", BODY, format="json").status_code == 201
    assert api_as(agent).post("/api/v1/tickets/", BODY, format="json").status_code == 201
    assert Ticket.objects.count() == 5


def test_a_key_reused_for_other_content_is_a_conflict_and_changes_nothing(agent):
    first = register(agent, "k-1").json()
    response = register(agent, "k-1", content="另一件事：井盖丢了")
    assert response.status_code == 409
    assert first["number"] in response.json()["message"]
    assert Ticket.objects.count() == 1


@pytest.mark.parametrize("key", ["x" * 65, "tab\there"])
def test_a_malformed_key_is_refused(agent, key):
    response = register(agent, key)
    assert response.status_code == 400
    assert response.json()["field"] == "idempotency_key"
    assert not Ticket.objects.exists() and not IdempotencyKey.objects.exists()


def test_a_refused_registration_keeps_its_key_free_for_the_retry(agent):
    assert register(agent, "k-1", phone="12345").status_code == 400
    assert not IdempotencyKey.objects.exists()
    assert register(agent, "k-1").status_code == 201


def test_the_console_form_carries_a_token_and_a_resent_post_registers_once(agent):
    client = Client()
    client.force_login(agent)
    form = client.get("/agent/register/").content.decode()
    token = re.search(r'name="form_token" value="([^"]+)"', form).group(1)
    post = {
        "phone": "13800138000",
        "category": Category.objects.get(code="complaint").pk,
        "content": "路灯坏了",
        "urgency": "normal",
        "form_token": token,
    }
    pages = [client.post("/agent/register/submit/", post).content.decode() for _ in range(3)]
    assert Ticket.objects.count() == 1
    assert all(Ticket.objects.get().number in page for page in pages)
    other = re.search(r'name="form_token" value="([^"]+)"', client.get("/agent/register/").content.decode())
    assert other.group(1) != token  # every form shown gets its own


def test_the_service_returns_whether_it_made_the_ticket(agent, complaint):
    made = tickets.register_ticket_once(
        idempotency_key="svc", by=agent, phone="13800138000", content="噪音", category=complaint
    )
    repeat = tickets.register_ticket_once(
        idempotency_key="svc", by=agent, phone="138 0013 8000", content=" 噪音 ", category=complaint
    )
    assert made[1] is True and repeat == (made[0], False)  # the same registration, as the service reads it
    with pytest.raises(Conflict):
        tickets.register_ticket_once(
            idempotency_key="svc", by=agent, phone="13800138001", content="噪音", category=complaint
        )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_three_identical_registrations_at_once_make_one_ticket(seeded, agent):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite's in-memory test database has one connection")
    results = run_together(*[lambda: register(agent, "same-click") for _ in range(3)])
    assert sorted(r.status_code for r in results) == [200, 200, 201], [r.content for r in results]
    assert len({r.json()["id"] for r in results}) == 1
    assert Ticket.objects.count() == 1
    assert IdempotencyKey.objects.get().ticket_id == results[0].json()["id"]
