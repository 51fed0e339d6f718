"""Issue 11, hole 4: a masked phone stays masked, and the caller's name follows one rule everywhere."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from tests.conftest import api_as
from tests.factories import dispatched_ticket

PHONE = "+8613312343071"


@pytest.fixture(autouse=True)
def fresh_throttle_counts():
    cache.clear()  # the throttle counts per user id in the cache; ids come back after a rollback
    yield
    cache.clear()


def test_a_unit_cannot_test_a_guessed_full_number_against_its_tickets(agent, yuhu):
    ticket = dispatched_ticket(agent, phone="13312343071", caller_name="李秀英")
    client = api_as(yuhu)
    listed = client.get("/api/v1/tickets/").json()["results"]
    assert [t["caller"]["phone"] for t in listed] == ["133****3071"]
    for guess in (PHONE, "+8613312343072"):  # the right number and a wrong one answer alike: refused
        response = client.get("/api/v1/tickets/", {"phone": guess})
        assert response.status_code == 403
        assert response.json()["error"] == "forbidden"
        assert "phone" in response.json()["message"]
    # The center still finds the caller's tickets by number.
    found = api_as(agent).get("/api/v1/tickets/", {"phone": PHONE}).json()["results"]
    assert [t["number"] for t in found] == [ticket.number]


def test_searching_the_ticket_list_is_rate_limited_per_user(agent, dispatcher, settings):
    settings.API_TICKET_SEARCH_RATE = "3/minute"
    client = api_as(agent)
    codes = [client.get("/api/v1/tickets/", {"q": f"guess{i}"}).status_code for i in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    refused = client.get("/api/v1/tickets/", {"phone": PHONE})
    assert refused.status_code == 429
    assert refused.json()["error"] == "throttled"
    assert client.get("/api/v1/tickets/").status_code == 200  # reading the list is no search
    assert api_as(dispatcher).get("/api/v1/tickets/", {"q": "x"}).status_code == 200  # counted per user


def test_the_unit_ticket_page_and_the_api_show_the_caller_alike(agent, yuhu):
    ticket = dispatched_ticket(agent, phone="13312343071", caller_name="李秀英")
    api_caller = api_as(yuhu).get(f"/api/v1/tickets/{ticket.pk}/").json()["caller"]
    assert api_caller == {"phone": "133****3071", "name": ""}
    page = Client()
    page.force_login(yuhu)
    html = page.get(f"/unit/tickets/{ticket.pk}/").content.decode()
    assert "133****3071" in html
    assert "李秀英" not in html
    assert api_as(agent).get(f"/api/v1/tickets/{ticket.pk}/").json()["caller"] == {"phone": PHONE, "name": "李秀英"}


def test_a_revisit_result_is_refused_before_it_is_due_like_its_claim(agent, dispatcher, yuhu):
    from datetime import timedelta

    import time_machine

    from callback import revisits
    from callback.models import Revisit
    from hotline.models import Ticket
    from tests.callback.conftest import revisit_pending_ticket

    ticket = revisit_pending_ticket(agent, dispatcher, yuhu)
    revisit = revisits.schedule_revisit(ticket, channel="phone")
    client = api_as(agent)
    with time_machine.travel(revisit.scheduled_for - timedelta(hours=1), tick=False):
        claim = client.post(f"/api/v1/revisits/{revisit.pk}/claim/")
        early = client.post(f"/api/v1/revisits/{revisit.pk}/result/", {"rating": "satisfied"}, format="json")
    assert (claim.status_code, early.status_code) == (409, 409)
    assert "not due" in early.json()["message"]
    assert Revisit.objects.get(pk=revisit.pk).status == "scheduled"
    assert Ticket.objects.get(pk=ticket.pk).status == "revisit_pending"
    with time_machine.travel(revisit.scheduled_for, tick=False):
        done = client.post(f"/api/v1/revisits/{revisit.pk}/result/", {"rating": "satisfied"}, format="json")
    assert done.status_code == 200 and done.json()["status"] == "done"


def test_the_citizens_own_answer_counts_whenever_it_comes(agent, dispatcher, yuhu):
    from callback import revisits
    from hotline.models import Ticket
    from tests.callback.conftest import revisit_pending_ticket

    ticket = revisit_pending_ticket(agent, dispatcher, yuhu)
    revisit = revisits.schedule_revisit(ticket, channel="sms")  # due tomorrow; the citizen answers today
    revisits.record_digit(revisit, "1", channel="sms")  # what an SMS reply or a survey link records (by=None)
    assert Ticket.objects.get(pk=ticket.pk).status == "closed"
