"""The background job steps: each app registers its own, the worker loop runs them (STYLE §7).

A step reads what is due from the database, claims each item with a conditional
UPDATE or a unique row, and returns how much it did. Steps can run in any number
of processes at once and can be called alone in tests. Apps register their steps
in ``AppConfig.ready()``, so a round runs them in INSTALLED_APPS order, and within
an app in the order it registered them. The loop itself lives in ``web``
(``run_jobs``, ``web.jobs_loop``). See docs/jobs.md.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from django.db import close_old_connections, connection
from django.utils import timezone

log = logging.getLogger(__name__)

Step = Callable[[datetime], int]
_steps: dict[str, Step] = {}


def register_step(name: str, func: Step) -> None:
    """Add a step, called as ``func(now)``. Registering a name again replaces it in its place."""
    _steps[name] = func


def steps() -> list[tuple[str, Step]]:
    return list(_steps.items())


def run_once(now: datetime | None = None) -> dict[str, int]:
    """Run every step once. A failing step is logged (-1) and the others still run."""
    done: dict[str, int] = {}
    for name, step in steps():
        _fresh_connection()
        try:
            done[name] = int(step(now or timezone.now()) or 0)
        except Exception:  # one broken step must not stop the others; it runs again next round
            log.exception("job step %s failed", name)
            done[name] = -1
    _fresh_connection()
    return done


def _fresh_connection() -> None:
    """Drop a broken or expired connection between steps (never inside a caller's transaction)."""
    if not connection.in_atomic_block:
        close_old_connections()
