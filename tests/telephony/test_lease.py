"""Active/standby: the lease row decides which bridge of a PBX is active (telephony/lease.py).

In-process, on the real database, with a short lease: a standby waits while the heartbeat moves,
takes over once it stops (the active died), and an active that cannot reach its database stands
down before the standby may take over. The whole processes are killed in test_standby.py.
"""

from __future__ import annotations

import asyncio
import logging
import time
from unittest import mock

import pytest
from channels.db import database_sync_to_async
from django.db import OperationalError

from telephony import lease as lease_module
from telephony.lease import Lease
from telephony.models import BridgeLease

pytestmark = pytest.mark.django_db(transaction=True)

SECONDS = 1.0


def _hang() -> None:
    time.sleep(3 * SECONDS)
    raise OperationalError("connection timed out")


def _lease(name: str) -> Lease:
    return Lease("main", seconds=SECONDS, beat_every=0.1, holder=name)


async def _acquired(lease: Lease, stop: asyncio.Event, timeout: float) -> float | None:
    """Seconds until ``lease`` became active, None if it did not within ``timeout``."""
    started = time.monotonic()
    try:
        taken = await asyncio.wait_for(lease.acquire(stop), timeout)
    except TimeoutError:
        return None
    return time.monotonic() - started if taken else None


def test_the_second_bridge_waits_as_standby_and_says_so_then_takes_over_when_the_heartbeat_stops(caplog):
    caplog.set_level(logging.WARNING, logger="telephony.lease")

    async def scenario():
        stop = asyncio.Event()
        active, standby = _lease("host-a:1"), _lease("host-b:2")
        assert await _acquired(active, stop, 2) is not None
        stand_down = asyncio.Event()
        keeper = asyncio.create_task(active.keep(stand_down))
        # Three lease periods with a live heartbeat: the standby never takes over.
        assert await _acquired(standby, stop, 3 * SECONDS) is None
        assert not stand_down.is_set()
        keeper.cancel()  # the active process is killed: no release, the heartbeat just stops
        waited = await _acquired(standby, stop, 5 * SECONDS)
        # The lost lease is found by the old holder's next renewal, were it still running.
        assert await lease_module._renew("main", "host-a:1") is False
        return waited

    waited = asyncio.run(scenario())
    assert waited is not None and SECONDS <= waited < SECONDS + 1.0
    messages = [r.getMessage() for r in caplog.records]
    assert any("standby bridge of PBX main: host-a:1 is active" in m for m in messages)
    assert any("no heartbeat from host-a:1" in m for m in messages)


@pytest.mark.parametrize("failure", ["error", "hang"])
def test_an_active_bridge_that_loses_its_database_stands_down_before_the_standby_takes_over(failure):
    """The database answers with an error, or not at all (a dead network: the call sits in its thread)."""

    async def scenario():
        stop = asyncio.Event()
        active, standby = _lease("host-a:1"), _lease("host-b:2")
        assert await _acquired(active, stop, 2) is not None
        stand_down = asyncio.Event()
        real_renew = lease_module._renew

        async def renew(pbx, holder):
            if holder == "host-a:1" and failure == "error":
                raise OperationalError("server closed the connection unexpectedly")
            if holder == "host-a:1":  # as the real call does: in a worker thread that cannot be cancelled
                await database_sync_to_async(_hang, thread_sensitive=False)()
            return await real_renew(pbx, holder)

        with mock.patch.object(lease_module, "_renew", renew):
            started = time.monotonic()
            keeper = asyncio.create_task(active.keep(stand_down))
            taking_over = asyncio.create_task(_acquired(standby, stop, 5 * SECONDS))
            await asyncio.wait_for(stand_down.wait(), 3 * SECONDS)
            stood_down = time.monotonic() - started
            waited = await taking_over
            await keeper
        return stood_down, waited

    stood_down, waited = asyncio.run(scenario())
    assert stood_down < SECONDS  # fence = 0.6 of the lease
    assert waited is not None and waited >= SECONDS > stood_down


def test_a_clean_stop_hands_over_at_once_and_a_lease_taken_away_makes_the_old_holder_stand_down():
    async def scenario():
        stop = asyncio.Event()
        first, second = _lease("host-a:1"), _lease("host-b:2")
        assert await _acquired(first, stop, 2) is not None
        await first.release()
        quick = await _acquired(second, stop, SECONDS)
        # Someone took the row (a standby that saw no heartbeat while this one hung): its next renewal says so.
        stand_down = asyncio.Event()
        keeper = asyncio.create_task(second.keep(stand_down))
        taken = BridgeLease.objects.filter(pbx="main").update
        assert await database_sync_to_async(taken)(holder="host-c:3") == 1
        await asyncio.wait_for(stand_down.wait(), 5 * SECONDS)
        await keeper
        return quick

    quick = asyncio.run(scenario())
    assert quick is not None and quick < SECONDS / 2
