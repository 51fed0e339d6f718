"""Dialling a phone revisit: claimed, dialled agent first, logged; a bridge that is down loses nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from callback import revisits
from callback.models import DoNotCall, Revisit, RevisitAttempt
from hotline.errors import IllegalTransition
from hotline.models import Ticket
from tests.conftest import api_as, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_bridge(settings):
    settings.CALLBACK_HOURS = "00:00-23:59:59"
    settings.CALLBACK_ORIGINATE_TIMEOUT = 0.3  # no bridge runs in these tests: it "does not answer" quickly


def due_revisit(ticket: Ticket, channel: str = "phone") -> Revisit:
    revisit = revisits.schedule_revisit(ticket, channel=channel)
    Revisit.objects.filter(pk=revisit.pk).update(scheduled_for=timezone.now() - timedelta(minutes=1))
    revisit.refresh_from_db()
    return revisit


def test_bridge_down_the_revisit_is_due_again_later_and_nothing_is_counted(pending_ticket, agent) -> None:
    revisit = due_revisit(pending_ticket)
    now = timezone.now()
    revisit = revisits.dial_revisit(revisit, agent, now)
    assert (revisit.status, revisit.agent_id, revisit.attempts) == ("scheduled", None, 0)
    assert "did not answer" in revisit.last_error
    assert revisit.scheduled_for == now + timedelta(seconds=settings.CALLBACK_BRIDGE_RETRY_SECONDS)
    (attempt,) = RevisitAttempt.objects.all()
    assert (attempt.agent, attempt.linkedid) == (agent, "") and "did not answer" in attempt.error
    _, due = revisits.revisits_for_agent(agent, now)
    assert revisit not in due  # not before the retry time ...
    later = revisit.scheduled_for + timedelta(seconds=1)
    _, due = revisits.revisits_for_agent(agent, later)
    assert list(due) == [revisit]  # ... then due again for anyone: not lost
    assert Ticket.objects.get(pk=pending_ticket.pk).status == "revisit_pending"


def test_the_dial_action_over_http(pending_ticket, agent) -> None:
    revisit = due_revisit(pending_ticket)
    response = api_as(agent).post(f"/api/v1/revisits/{revisit.pk}/dial/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "scheduled" and "did not answer" in body["last_error"]
    assert api_as(agent).post("/api/v1/revisits/999999/dial/").status_code == 404


def test_only_the_agent_holding_it_dials_a_claimed_revisit(pending_ticket, agent, seeded) -> None:
    other = make_user("agent_chen", "agent", "XT12345", agent_extension="1002")
    revisit = due_revisit(pending_ticket)
    revisits.claim_revisit(revisit, agent)
    with pytest.raises(IllegalTransition, match="taken by someone else"):
        revisits.dial_revisit(revisit, other)
    assert not RevisitAttempt.objects.exists()
    revisits.dial_revisit(revisit, agent)  # the holder may dial (the bridge is down: due again)
    assert RevisitAttempt.objects.get().agent == agent


def test_a_revisit_not_yet_due_or_not_by_phone_is_not_dialled(pending_ticket, agent) -> None:
    revisit = revisits.schedule_revisit(pending_ticket)
    with (
        time_machine.travel(revisit.scheduled_for - timedelta(hours=1)),
        pytest.raises(IllegalTransition, match="not due"),
    ):
        revisits.dial_revisit(revisit, agent)
    Revisit.objects.filter(pk=revisit.pk).update(channel="sms")
    with pytest.raises(IllegalTransition, match="only phone"):
        revisits.dial_revisit(revisit, agent)
    assert not RevisitAttempt.objects.exists()


def test_a_number_put_on_the_do_not_call_list_is_not_dialled_and_the_ticket_closes(pending_ticket, agent) -> None:
    revisit = due_revisit(pending_ticket)
    DoNotCall.objects.create(phone=pending_ticket.caller.phone, reason="市民要求")
    with pytest.raises(IllegalTransition, match="do-not-call"):
        revisits.dial_revisit(revisit, agent)
    revisit.refresh_from_db()
    assert revisit.status == "cancelled" and not RevisitAttempt.objects.exists()
    assert Ticket.objects.get(pk=pending_ticket.pk).status == "closed"
