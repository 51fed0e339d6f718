"""Active/standby: exactly one bridge per PBX is active, the one holding its ``BridgeLease`` row.

Why a lease row with a heartbeat and not a PostgreSQL advisory lock: it works the same on SQLite
(the demo, and the tests that kill a bridge process) and on PostgreSQL; it survives a connection
pool (an advisory lock is bound to one session, which a pool hands around); and "the active one
lost its database" is a fact the active learns by itself — its heartbeat fails — so it stops
acting instead of going on with a lock that PostgreSQL released when the session died.
Redis was not chosen: the bridge's truth is the database, and a Redis outage would then stop
a bridge that can still write calls.

The rules (docs/telephony.md "Active/standby"):

* the active bridge bumps ``beat`` every ``beat_every`` seconds, only while it is still the holder;
* a standby reads the row; it takes the row over only when ``(holder, beat)`` has not changed for
  ``seconds`` by its *own* monotonic clock, with an update conditional on the beat it saw (two
  standbys cannot both win, and the hosts' clocks never have to agree); a released row
  (blank holder, after a clean stop) is taken at once;
* the active stands down when a renewal finds the row taken, or when it has had no successful
  renewal for ``fence`` seconds (< ``seconds``): a bridge that lost its database stops acting
  before a standby can take over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid

from channels.db import database_sync_to_async
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from telephony.models import BridgeLease

log = logging.getLogger(__name__)


def holder_name() -> str:
    """Host, process and a random part: a restarted process with the same pid is someone else."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"[:128]


# --- the database side (sync, each call one short transaction) ---------------------------------


def read(pbx: str) -> tuple[str, int] | None:
    row = BridgeLease.objects.filter(pbx=pbx).values_list("holder", "beat").first()
    return (row[0], row[1]) if row else None


def take(pbx: str, holder: str, seen: tuple[str, int] | None) -> bool:
    """Become the holder if the row is still as ``seen`` (None: there is no row yet)."""
    now = timezone.now()
    if seen is None:
        try:
            with transaction.atomic():
                BridgeLease.objects.create(pbx=pbx, holder=holder, beat=1, acquired_at=now, renewed_at=now)
            return True
        except IntegrityError:  # another bridge created it first
            return False
    taken = BridgeLease.objects.filter(pbx=pbx, holder=seen[0], beat=seen[1]).update(
        holder=holder, beat=F("beat") + 1, acquired_at=now, renewed_at=now
    )
    return taken == 1


def renew(pbx: str, holder: str) -> bool:
    """Bump the heartbeat; False when the row is no longer ours."""
    return BridgeLease.objects.filter(pbx=pbx, holder=holder).update(beat=F("beat") + 1, renewed_at=timezone.now()) == 1


def release(pbx: str, holder: str) -> None:
    """A clean stop: blank the holder, so a standby takes over at once instead of after ``seconds``."""
    BridgeLease.objects.filter(pbx=pbx, holder=holder).update(holder="", beat=F("beat") + 1)


# Each in its own worker thread and connection: the bridge's writer thread may be busy with a batch, and
# a heartbeat must not wait behind it.
_read = database_sync_to_async(read, thread_sensitive=False)
_take = database_sync_to_async(take, thread_sensitive=False)
_renew = database_sync_to_async(renew, thread_sensitive=False)
_release = database_sync_to_async(release, thread_sensitive=False)


class Lease:
    def __init__(self, pbx: str, *, seconds: float = 5.0, beat_every: float | None = None, holder: str = "") -> None:
        self.pbx = pbx
        self.seconds = seconds
        self.beat_every = beat_every if beat_every is not None else max(0.2, seconds / 5)
        # Stand down this long after the last good renewal: well before a standby may take over.
        self.fence = seconds * 0.6
        self.holder = holder or holder_name()
        self.takeovers = 0  # times this process became active

    async def acquire(self, stop: asyncio.Event) -> bool:
        """Wait as standby until this process holds the lease (True), or ``stop`` is set (False)."""
        seen: tuple[str, int] | None = None
        since = time.monotonic()
        said = None
        while not stop.is_set():
            try:
                row = await _read(self.pbx)
                if row is None or not row[0] or row[0] == self.holder:
                    taken = await _take(self.pbx, self.holder, row)
                elif row != seen:
                    seen, since = row, time.monotonic()
                    if said != row[0]:
                        said = row[0]
                        log.warning(
                            "standby bridge of PBX %s: %s is active; taking over if its heartbeat stops for %g s",
                            self.pbx,
                            row[0],
                            self.seconds,
                        )
                    taken = False
                elif time.monotonic() - since >= self.seconds:
                    log.warning(
                        "PBX %s: no heartbeat from %s for %.1f s; taking over",
                        self.pbx,
                        row[0],
                        time.monotonic() - since,
                    )
                    taken = await _take(self.pbx, self.holder, row)
                else:
                    taken = False
            except (DatabaseError, OSError) as exc:  # no database: nobody can be seen, nothing can be taken
                log.warning("PBX %s: the bridge lease cannot be read (%r); waiting as standby", self.pbx, exc)
                seen, taken = None, False
            if taken:
                self.takeovers += 1
                log.warning("active bridge of PBX %s (%s)", self.pbx, self.holder)
                return True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.beat_every)
        return False

    async def keep(self, stand_down: asyncio.Event) -> None:
        """While active: renew every ``beat_every``; set ``stand_down`` when the lease is lost or cannot be renewed.

        A renewal that hangs (a database behind a dead network) is not waited for past the fence: a
        database call in a worker thread cannot be cancelled, so it is left to finish on its own and
        no second one is started meanwhile.
        """
        last_ok = time.monotonic()
        pending: asyncio.Task | None = None
        pending_since = last_ok
        while not stand_down.is_set():
            started = time.monotonic()
            if pending is None:
                pending, pending_since = asyncio.ensure_future(_renew(self.pbx, self.holder)), started
                pending.add_done_callback(_retrieve)
            await asyncio.wait({pending}, timeout=max(0.0, last_ok + self.fence - time.monotonic()))
            if pending.done():
                ours = None
                try:
                    ours = pending.result()
                except (DatabaseError, OSError) as exc:
                    log.warning("PBX %s: the bridge lease cannot be renewed (%r)", self.pbx, exc)
                pending = None
                if ours:
                    last_ok = pending_since
                elif ours is False:
                    log.error("PBX %s: another bridge holds the lease now; standing down", self.pbx)
                    stand_down.set()
                    return
            if time.monotonic() - last_ok >= self.fence:
                log.error(
                    "PBX %s: no lease renewal for %.1f s (database lost?); standing down before a standby takes over",
                    self.pbx,
                    time.monotonic() - last_ok,
                )
                stand_down.set()
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stand_down.wait(), max(0.0, self.beat_every - (time.monotonic() - started)))

    async def release(self) -> None:
        try:
            await _release(self.pbx, self.holder)
        except (DatabaseError, OSError) as exc:
            log.warning("PBX %s: the bridge lease could not be released (%r); a standby waits it out", self.pbx, exc)


def _retrieve(task: asyncio.Task) -> None:
    """A renewal left behind after a stand-down: its outcome is of no interest, but must not be reported as lost."""
    if not task.cancelled():
        task.exception()
