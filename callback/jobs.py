"""The background jobs, as a list of small claimable steps (STYLE §7).

Each step reads what is due from the database, claims each item with a
conditional UPDATE or a unique row, and returns how much it did. Steps can run
in any number of processes at once and can be called alone in tests. See
docs/jobs.md.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from datetime import datetime

from django.db import close_old_connections, connection
from django.utils import timezone

from callback import callbacks, notifications, revisits, warnings
from callback.sms import services as sms

log = logging.getLogger(__name__)


def run_reports(now: datetime | None = None) -> int:
    """Hook for the report jobs: ``metrics.reports.run_due_reports(now)`` once metrics provides it."""
    try:
        reports = importlib.import_module("metrics.reports")
    except ImportError:
        return 0
    run = getattr(reports, "run_due_reports", None)
    return int(run(now) or 0) if run else 0


STEPS: list[tuple[str, Callable[..., int]]] = [
    ("callbacks.ingest", lambda now: callbacks.ingest_missed_calls()),
    ("callbacks.cancel_got_through", callbacks.cancel_got_through),
    ("callbacks.do_not_call", callbacks.cancel_do_not_call),
    ("callbacks.expire_leases", callbacks.expire_leases),
    ("callbacks.offer", callbacks.offer_callbacks),
    ("revisits.cancel_stale", lambda now: revisits.cancel_stale_revisits()),
    ("revisits.schedule", revisits.schedule_pending_revisits),
    ("revisits.release_claims", revisits.release_expired_claims),
    ("revisits.surveys", revisits.start_due_surveys),
    ("revisits.ivr", revisits.start_due_ivr_surveys),
    ("sms.notify_registered", notifications.notify_registered),
    ("sms.notify_replies", notifications.notify_replies),
    ("sms.recover", sms.recover_stale_sms),
    ("sms.send", sms.send_due_sms),
    ("deadlines.warn", warnings.send_deadline_warnings),
    ("reports", run_reports),
]


def run_once(now: datetime | None = None) -> dict[str, int]:
    """Run every step once. A failing step is logged and the others still run."""
    done: dict[str, int] = {}
    for name, step in STEPS:
        _fresh_connection()
        try:
            done[name] = step(now or timezone.now())
        except Exception:  # one broken step must not stop the others; it runs again next round
            log.exception("job step %s failed", name)
            done[name] = -1
    _fresh_connection()
    return done


def _fresh_connection() -> None:
    """Drop a broken or expired connection between steps (never inside a caller's transaction)."""
    if not connection.in_atomic_block:
        close_old_connections()
