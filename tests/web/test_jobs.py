"""The job steps each app registers (hotline.jobs), run in-process (embedded default) and by the run_jobs worker."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.core.management import call_command
from django.utils import timezone

from callback.models import CallbackTask
from hotline import jobs
from telephony.models import Call, CallEvent
from tests.callback.conftest import MORNING, missed_call
from web import jobs_loop

# The loop works from its own thread and connection, as in `serve`: nothing may be left uncommitted.
pytestmark = pytest.mark.django_db(transaction=True)


def test_the_embedded_loop_runs_rounds_until_stopped(seeded) -> None:
    missed_call(at=MORNING)

    async def one_round() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(jobs_loop.run(stop))
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


def test_apps_run_in_installed_order_and_each_keeps_its_own_order(seeded) -> None:
    names = [name for name, _ in jobs.steps()]
    assert names.index("deadlines.warn") < names.index("calls.prune_events") < names.index("callbacks.ingest")
    callback_steps = [n for n in names if n.split(".")[0] in ("callbacks", "revisits", "sms")]
    assert callback_steps[:2] == ["callbacks.ingest", "callbacks.cancel_got_through"]
    assert callback_steps[-2:] == ["sms.recover", "sms.send"] and names[-1] == "reports"


def test_raw_call_events_past_their_retention_are_pruned_by_the_job_round(seeded, settings) -> None:
    settings.TELEPHONY_EVENT_RETENTION_DAYS = 90
    call = Call.objects.create(linkedid="1795770000.1", pbx_epoch=1, caller_number="13800138000")
    now = timezone.now()
    for days, fingerprint in ((91, "old"), (89, "recent")):
        CallEvent.objects.create(
            call=call, name="Hangup", fingerprint=fingerprint, payload={}, received_at=now - timedelta(days=days)
        )
    assert jobs.run_once(now)["calls.prune_events"] == 1
    assert list(CallEvent.objects.values_list("fingerprint", flat=True)) == ["recent"]


def test_a_failing_step_is_logged_and_the_others_still_run(seeded, monkeypatch, caplog) -> None:
    def broken(now):
        raise RuntimeError("boom")

    monkeypatch.setitem(jobs._steps, "callbacks.ingest", broken)
    missed_call(at=MORNING)
    done = jobs.run_once()
    assert done["callbacks.ingest"] == -1 and done["sms.send"] == 0 and "reports" in done
    assert "job step callbacks.ingest failed" in caplog.text
