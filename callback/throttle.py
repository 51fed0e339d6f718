"""Counts per clock window in the configured cache: how often a ticket number or a sender may fail.

The same buckets and cache keys as the /track/ page and the public API (``web/public.py``:
``Bucket``, ``check``, ``count``), so a ticket number's failed lookups count together whichever
way they come — web, SMS or WeChat — and Redis makes every process count together.
``callback`` may not import ``web`` (docs/architecture.md), hence this module; ``web/public.py``
can import these three names instead of keeping its own copy.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from django.core.cache import cache

HOUR, DAY = 3600, 86400  # the limits count per clock hour and per (UTC) day


class Throttled(Exception):
    """Too many failures in this window: try again in ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Bucket:
    """A count per clock window (an hour, a day) of one subject: a ticket number, an address, a sender."""

    scope: str  # "ticket", "address", "sender"
    value: str
    limit: int
    seconds: int = HOUR

    def window(self, now: float) -> tuple[str, int]:
        """This window's cache key and the seconds until the next window (the Retry-After)."""
        number = int(now // self.seconds)
        # Hashed: odd input makes a safe, short key, and the cache holds no phone numbers.
        digest = hashlib.sha256(f"{self.scope}\x00{self.value}".encode()).hexdigest()[:32]
        return f"{self.seconds}:{number}:{digest}", max(1, (number + 1) * self.seconds - int(now))


def check(kind: str, buckets: list[Bucket], now: float | None = None) -> None:
    """Raise :class:`Throttled` if any bucket is full in its current window."""
    now = time.time() if now is None else now
    windows = {f"public:{kind}:{b.window(now)[0]}": (b, b.window(now)[1]) for b in buckets}
    counts = cache.get_many(list(windows))
    waits = [wait for key, (b, wait) in windows.items() if int(counts.get(key) or 0) >= b.limit]
    if waits:
        raise Throttled(max(waits))


def count(kind: str, buckets: list[Bucket], now: float | None = None) -> None:
    """Add one to each bucket's count for its current window (atomic on Redis: SET NX, then INCR)."""
    now = time.time() if now is None else now
    for bucket in buckets:
        key = f"public:{kind}:{bucket.window(now)[0]}"
        cache.add(key, 0, timeout=bucket.seconds + 60)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr: this is the first of a new window
            cache.set(key, 1, timeout=bucket.seconds + 60)
