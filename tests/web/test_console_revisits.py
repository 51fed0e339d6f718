"""The agent console's revisits and callbacks: the script to read, one-step results, the bridge's word."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from callback import revisits
from callback.models import CallbackTask, Revisit
from hotline.models import Ticket
from tests.callback.conftest import revisit_pending_ticket


def console_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def due_revisit(agent, dispatcher, yuhu, settings):
    settings.CALLBACK_HOURS = "00:00-23:59"
    ticket = revisit_pending_ticket(agent, dispatcher, yuhu)
    revisit = revisits.schedule_revisit(ticket, channel="phone")
    Revisit.objects.filter(pk=revisit.pk).update(scheduled_for=timezone.now() - timedelta(minutes=1))
    return Revisit.objects.get(pk=revisit.pk)


def test_the_console_lists_due_revisits_and_a_dial_without_bridge_keeps_them(agent, due_revisit, settings):
    settings.BRIDGE_COMMAND_TIMEOUT = 0.3
    client = console_client(agent)
    page = client.get("/agent/").content.decode()
    assert due_revisit.ticket.number in page and 'data-testid="revisit-dial"' in page
    panel = client.post(f"/agent/revisits/{due_revisit.pk}/dial/").content.decode()
    assert "did not answer" in panel  # the bridge's own words, not a 500
    fresh = Revisit.objects.get(pk=due_revisit.pk)
    assert fresh.status == "scheduled" and fresh.agent_id is None  # not lost, due again soon


def test_a_held_revisit_shows_the_script_and_its_result_is_one_step(agent, due_revisit):
    revisits.claim_revisit(due_revisit, agent)
    client = console_client(agent)
    page = client.get("/agent/").content.decode()
    assert "已联系城管部门现场处理" in page  # the unit's reply, read out to the caller
    assert 'data-testid="revisit-save"' in page
    panel = client.post(
        f"/agent/revisits/{due_revisit.pk}/result/", {"rating": "unsatisfied", "solved": "no", "comment": "晚上还是吵"}
    ).content.decode()
    assert "error" not in panel.split('id="revisits-h"')[1][:200]
    fresh = Revisit.objects.get(pk=due_revisit.pk)
    assert (fresh.status, fresh.rating, fresh.solved) == ("done", "unsatisfied", False)
    assert Ticket.objects.get(pk=due_revisit.ticket_id).status == "in_progress"  # reopened at the same unit


def test_an_unknown_rating_is_refused_and_changes_nothing(agent, due_revisit):
    revisits.claim_revisit(due_revisit, agent)
    panel = console_client(agent).post(f"/agent/revisits/{due_revisit.pk}/result/", {"rating": "meh"}).content
    assert "未知的满意度评价" in panel.decode()  # the service's message, in the console's language
    assert Revisit.objects.get(pk=due_revisit.pk).status == "in_progress"


def test_a_dialled_callback_gets_its_outcome_in_one_click(agent):
    from hotline.services.tickets import find_or_create_caller

    caller = find_or_create_caller("13800138000")
    task = CallbackTask.objects.create(
        caller=caller,
        number=caller.phone,
        missed_at=timezone.now(),
        next_attempt_at=timezone.now(),
        status="dialing",
        agent=agent,
        attempts=1,
    )
    client = console_client(agent)
    assert 'data-testid="cb-reached"' in client.get("/agent/").content.decode()
    client.post(f"/agent/callbacks/{task.pk}/done/", {"outcome": "reached"})
    task.refresh_from_db()
    assert (task.status, task.outcome) == ("done", "reached")
