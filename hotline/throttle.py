"""Counts per clock window in the configured cache: how often a ticket number or a sender may fail.

One module for every way a citizen looks a ticket up — the /track/ page and the public API
(``web/public.py``), SMS and WeChat (``callback/queries.py``), the phone's self-service menu
(``telephony/agi``) — so a ticket number's failed lookups count together whichever way they come,
and Redis makes every process count together. It lives in ``hotline`` because every app may
import ``hotline`` (docs/architecture.md).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from django.conf import settings
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


def lookup_buckets(number: str, who: str, scope: str = "sender") -> list[Bucket]:
    """The limits on looking up a ticket: per ticket number and per asker — a client address
    (``scope="address"``), an SMS/WeChat sender or a calling number — each per hour and per day
    (PUBLIC_TRACK_FAILURES_*)."""
    buckets = [
        Bucket("ticket", number, settings.PUBLIC_TRACK_FAILURES_PER_TICKET),
        Bucket("ticket", number, settings.PUBLIC_TRACK_FAILURES_PER_TICKET_DAY, DAY),
    ]
    if who:
        buckets[:0] = [
            Bucket(scope, who, settings.PUBLIC_TRACK_FAILURES_PER_ADDRESS),
            Bucket(scope, who, settings.PUBLIC_TRACK_FAILURES_PER_ADDRESS_DAY, DAY),
        ]
    return buckets
