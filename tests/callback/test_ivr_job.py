"""The IVR revisit job step: due IVR revisits are dialled into the survey, and the key press closes them."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async

from callback import revisits
from callback.models import Revisit
from hotline.models import Ticket
from tests.callback.conftest import revisit_pending_ticket
from tests.telephony.test_commands import _until, run_with_bridge

SH = ZoneInfo("Asia/Shanghai")


@pytest.mark.django_db(transaction=True)
def test_a_due_ivr_revisit_is_dialled_and_the_key_press_closes_the_ticket(settings, agent, dispatcher, yuhu):
    ticket = revisit_pending_ticket(agent, dispatcher, yuhu)
    revisit = revisits.schedule_revisit(ticket, channel="ivr")
    Revisit.objects.filter(pk=revisit.pk).update(scheduled_for=datetime(2020, 1, 1, tzinfo=SH))
    settings.CALLBACK_HOURS = "00:00-23:59"

    async def body(sim, messages):
        assert await sync_to_async(revisits.start_due_ivr_surveys)() == 1
        survey = next(m for action, m in sim.received if action == "originate")
        assert survey.first("Context") == "survey"

        def done():
            fresh = Revisit.objects.get(pk=revisit.pk)
            return fresh if fresh.status == "done" else None

        answered = await _until(database_sync_to_async(done), 15)
        assert (answered.rating, answered.channel) == ("satisfied", "ivr")
        # Run again: nothing is due any more, nobody is dialled twice.
        assert await sync_to_async(revisits.start_due_ivr_surveys)() == 0
        assert len([a for a, _ in sim.received if a == "originate"]) == 1

    run_with_bridge(settings, body, speed=4)
    assert Ticket.objects.get(pk=ticket.pk).status == "closed"


@pytest.mark.django_db(transaction=True)
def test_with_the_bridge_down_the_ivr_revisit_waits_and_is_not_lost(settings, agent, dispatcher, yuhu):
    ticket = revisit_pending_ticket(agent, dispatcher, yuhu)
    revisit = revisits.schedule_revisit(ticket, channel="ivr")
    settings.CALLBACK_HOURS = "00:00-23:59"
    settings.BRIDGE_COMMAND_TIMEOUT = 0.3
    now = revisit.scheduled_for + timedelta(minutes=1)
    with time_machine.travel(now, tick=False):
        assert revisits.start_due_ivr_surveys(now) == 1
    fresh = Revisit.objects.get(pk=revisit.pk)
    assert fresh.status == "scheduled" and fresh.scheduled_for > now and "did not answer" in fresh.note
    assert fresh.attempts == 0
