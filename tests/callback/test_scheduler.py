"""The jobs in-process (embedded default) and as the run_jobs worker command."""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async
from django.core.management import call_command

from callback import scheduler
from callback.models import CallbackTask
from tests.callback.conftest import MORNING, missed_call

# The scheduler works from its own thread and connection, as in `serve`: nothing may be left uncommitted.
pytestmark = pytest.mark.django_db(transaction=True)


def test_the_embedded_scheduler_runs_rounds_until_stopped(seeded) -> None:
    missed_call(at=MORNING)

    async def one_round() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(scheduler.run(stop))
        for _ in range(200):
            await asyncio.sleep(0.05)
            if await database_sync_to_async(CallbackTask.objects.exists)():  # closes its connection after
                break
        stop.set()
        await asyncio.wait_for(task, 10)

    asyncio.run(one_round())
    assert CallbackTask.objects.count() == 1


def test_run_jobs_once_reports_each_step(seeded, capsys) -> None:
    missed_call(at=MORNING)
    call_command("run_jobs", "--once")
    out = capsys.readouterr().out
    assert "callbacks.ingest=1" in out and "sms.send=0" in out
    call_command("run_jobs", "--once")
    assert CallbackTask.objects.count() == 1
