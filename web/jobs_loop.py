"""The job loop in-process, for the embedded default (settings.EMBEDDED_SERVICES); run_jobs is its worker twin."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from asgiref.sync import sync_to_async
from django.conf import settings

from hotline.jobs import run_once

log = logging.getLogger(__name__)


async def run(stop: asyncio.Event) -> None:
    """Run every job step, then sleep JOBS_INTERVAL_SECONDS, until ``stop`` is set."""
    interval = float(settings.JOBS_INTERVAL_SECONDS)
    log.info("job scheduler running every %.1f s", interval)
    while not stop.is_set():
        try:
            await sync_to_async(run_once, thread_sensitive=False)()
        except Exception:  # keep the web server's process alive; the next round retries
            log.exception("job round failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
