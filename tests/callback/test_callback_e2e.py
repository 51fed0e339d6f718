"""End to end on a real AMI socket: a simulated caller abandons, the job makes a callback,
a ready agent accepts, the real bridge originates (agent leg first), the agent records the outcome;
and an agent dials a phone revisit the same way."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.utils import timezone

from callback import callbacks, revisits
from callback.models import CallbackAttempt, CallbackTask, Revisit, RevisitAttempt
from hotline.models import Ticket
from telephony.models import Call
from tests.callback.conftest import revisit_pending_ticket
from tests.factories import set_presence
from tests.telephony.test_commands import _until, run_with_bridge

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]  # paced calls through the real bridge


def test_an_abandoned_call_is_called_back_by_a_ready_agent(settings, agent) -> None:
    settings.CALLBACK_HOURS = "00:00-23:59:59"  # any time of day the test runs
    settings.CALLBACK_ORIGINATE_TIMEOUT = 30

    async def body(sim, messages):
        caller = asyncio.create_task(sim.play(sim.new_call("abandoned")))

        def missed():
            return Call.objects.filter(outcome="abandoned", ended_at__isnull=False).first()

        call = await _until(database_sync_to_async(missed), 30)
        assert await database_sync_to_async(callbacks.ingest_missed_calls)() == 1
        await database_sync_to_async(set_presence)(agent, "ready")
        assert await database_sync_to_async(callbacks.offer_callbacks)() == 1
        task = await database_sync_to_async(CallbackTask.objects.get)()
        assert task.call_id == call.pk and task.agent_id == agent.pk
        task = await sync_to_async(callbacks.accept_callback)(task, agent)
        assert task.status == "dialing" and task.attempts == 1 and task.linkedid, task.last_error
        originate = next(m for action, m in reversed(sim.received) if action == "originate")
        assert originate.first("Channel").endswith("1001@agents") or "1001" in originate.first("Channel")
        assert originate.first("Exten") == call.caller_number.removeprefix("+86")

        def recorded():
            return Call.objects.filter(linkedid=task.linkedid, outcome="callback").first()

        assert await _until(database_sync_to_async(recorded), 15)
        await asyncio.wait_for(caller, 30)
        done = await database_sync_to_async(callbacks.complete_callback)(task, agent, "reached", "已回复市民")
        assert done.status == "done" and done.completed_at is not None
        attempt = await database_sync_to_async(CallbackAttempt.objects.get)()
        assert (attempt.outcome, attempt.linkedid) == ("reached", task.linkedid)

    run_with_bridge(settings, body)


def test_a_phone_revisit_is_dialled_agent_first_through_the_real_bridge(settings, agent, dispatcher, yuhu) -> None:
    settings.CALLBACK_HOURS = "00:00-23:59:59"
    settings.CALLBACK_ORIGINATE_TIMEOUT = 30
    ticket = revisit_pending_ticket(agent, dispatcher, yuhu)
    revisit = revisits.schedule_revisit(ticket)
    Revisit.objects.filter(pk=revisit.pk).update(scheduled_for=timezone.now())

    async def body(sim, messages):
        dialled = await database_sync_to_async(revisits.dial_revisit)(revisit, agent)
        assert (dialled.status, dialled.agent_id) == ("in_progress", agent.pk), dialled.last_error
        assert dialled.linkedid and dialled.attempts == 0
        originate = next(m for action, m in reversed(sim.received) if action == "originate")
        assert "1001" in originate.first("Channel")  # the agent's leg first
        assert originate.first("Exten") == "13800138000"
        assert set(originate.getlist("Variable")) == {
            "HOTLINE_PURPOSE=revisit",
            f"HOTLINE_REFERENCE=revisit:{revisit.pk}",
        }

        def recorded():
            return Call.objects.filter(linkedid=dialled.linkedid).first()

        assert await _until(database_sync_to_async(recorded), 15)
        return dialled

    dialled = run_with_bridge(settings, body)
    attempt = RevisitAttempt.objects.get()
    assert (attempt.agent, attempt.linkedid, attempt.error) == (agent, dialled.linkedid, "")
    revisits.record_result(dialled, agent, rating="satisfied", solved=True, comment="已经不吵了")
    assert Ticket.objects.get(pk=ticket.pk).status == "closed"
    assert Revisit.objects.get(pk=revisit.pk).attempts == 1
