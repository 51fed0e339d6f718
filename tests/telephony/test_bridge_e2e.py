"""End to end: the PBX simulator on real TCP, the real bridge, the real database and channel layer.

One asyncio loop runs the simulator (``PBXSimulator.run``) and the bridge built by
``telephony.bridge.from_settings()``; the bridge writes through ``database_sync_to_async``
from a worker thread, hence a transactional test. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from hotline.events import agent_group
from telephony import bridge as bridge_module
from telephony.models import Call, CallEvent
from telephony.services import WALLBOARD_GROUP
from telephony.simulator import PBXSimulator, SimulatorConfig

pytestmark = pytest.mark.django_db(transaction=True)

CALLS = 8
# IVR calls sent to 110 never reach a queue; they are left out so that every call has one.
MIX = {"answered": 0.6, "abandoned": 0.2, "queue_timeout": 0.1, "emergency_transfer": 0.1}


def _snapshot() -> list[dict[str, Any]]:
    return list(
        Call.objects.values(
            "linkedid",
            "pbx_epoch",
            "outcome",
            "queue",
            "caller_number",
            "agent_id",
            "agent_interface",
            "offered_at",
            "answered_at",
            "ended_at",
            "wait_seconds",
            "talk_seconds",
        )
    )


snapshot = database_sync_to_async(_snapshot)


class CountedSimulator(PBXSimulator):
    """Stops its own traffic after ``CALLS`` calls, so the bridge never faces an open-ended backlog."""

    def __init__(self, config: SimulatorConfig, traffic_stop: asyncio.Event) -> None:
        super().__init__(config)
        self.started = 0
        self.traffic_stop = traffic_stop

    async def arrive(self, scenario: str) -> None:
        self.started += 1
        if self.started >= CALLS:
            self.traffic_stop.set()
        await super().arrive(scenario)


async def _until(predicate, timeout: float, interval: float = 0.05) -> None:
    async def loop() -> None:
        while not await predicate():
            await asyncio.sleep(interval)

    await asyncio.wait_for(loop(), timeout)


async def _collect(layer, channel: str, into: list[dict[str, Any]]) -> None:
    """Read ``channel`` as messages come: the in-memory layer drops what exceeds its capacity."""
    while True:
        into.append(await layer.receive(channel))


async def _settle(into: list[dict[str, Any]]) -> None:
    """Wait until no message has arrived for a moment (messages go out after commit)."""
    while True:
        seen = len(into)
        await asyncio.sleep(0.3)
        if len(into) == seen:
            return


def test_simulated_traffic_through_the_bridge_becomes_call_rows_and_live_messages(agent, settings) -> None:
    async def scenario() -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]], int]:
        layer = get_channel_layer()
        wallboard = await layer.new_channel()
        console = await layer.new_channel()
        await layer.group_add(WALLBOARD_GROUP, wallboard)
        await layer.group_add(agent_group(agent.pk), console)
        wallboard_messages: list[dict[str, Any]] = []
        console_messages: list[dict[str, Any]] = []
        collectors = [
            asyncio.create_task(_collect(layer, wallboard, wallboard_messages)),
            asyncio.create_task(_collect(layer, console, console_messages)),
        ]

        # Extension 1001, the agent persona, is a member at boot; 600 calls a minute at 20x the recorded pace.
        sim_stop, bridge_stop, traffic_stop = asyncio.Event(), asyncio.Event(), asyncio.Event()
        config = SimulatorConfig(
            port=0, generate=False, calls_per_minute=600, speed=20, seed=11, mix=MIX, agents=("1001",)
        )
        sim = CountedSimulator(config, traffic_stop)
        sim_task = asyncio.create_task(sim.run(sim_stop))
        bridge_task = traffic = None
        try:
            await _until(lambda: _ready(sim), 5, 0.01)
            settings.AMI_PORT = sim.server.sockets[0].getsockname()[1]
            settings.AMI_HOST = "127.0.0.1"
            bridge = bridge_module.from_settings()
            bridge_task = asyncio.create_task(bridge.run(bridge_stop))

            # The resync after login publishes the queue snapshot: the bridge is connected and consuming.
            async def resynced() -> bool:
                return any(m["type"] == "wallboard.queues" for m in wallboard_messages)

            await _until(resynced, 10)

            traffic = asyncio.create_task(sim.generate(traffic_stop, drain=True))

            # The simulator stops itself after CALLS calls and plays those in flight to their end.
            await asyncio.wait_for(traffic, 30)

            async def all_ended() -> bool:
                rows = await snapshot()
                return len(rows) == CALLS and all(r["ended_at"] is not None for r in rows)

            # The bridge may still be working through its backlog (a database round trip per event).
            await _until(all_ended, 45, 0.2)
        finally:
            traffic_stop.set()
            bridge_stop.set()
            sim_stop.set()
            if bridge_task is not None:
                await asyncio.wait_for(bridge_task, 10)
            await asyncio.wait_for(sim_task, 10)
            if traffic is not None:
                await asyncio.wait_for(asyncio.gather(traffic, return_exceptions=True), 5)
            await asyncio.wait_for(_settle(wallboard_messages), 10)
            for collector in collectors:
                collector.cancel()
            await asyncio.gather(*collectors, return_exceptions=True)

        rows = await snapshot()
        await layer.group_discard(WALLBOARD_GROUP, wallboard)
        await layer.group_discard(agent_group(agent.pk), console)
        raw_events = await database_sync_to_async(CallEvent.objects.count)()
        assert bridge.processed > 0
        return rows, wallboard_messages, console_messages, raw_events

    rows, wallboard_messages, console_messages, raw_events = asyncio.run(asyncio.wait_for(scenario(), 120))

    assert len(rows) == CALLS
    linkedids = Counter((r["pbx_epoch"], r["linkedid"]) for r in rows)
    assert all(r["linkedid"] for r in rows)
    assert max(linkedids.values()) == 1, "one Call row per PBX call"
    assert len({r["pbx_epoch"] for r in rows}) == 1
    assert raw_events > 0

    # Every call that was offered ended with an outcome of its scenario.
    assert all(r["outcome"] in {"answered", "abandoned", "timeout", "transferred_110"} for r in rows), rows
    assert all(r["queue"] == "12345" and r["caller_number"].startswith("13") for r in rows)
    assert all(r["offered_at"] is not None and r["ended_at"] >= r["offered_at"] for r in rows)

    answered = [r for r in rows if r["outcome"] == "answered"]
    assert answered
    for row in answered:
        assert row["agent_id"] == agent.pk
        assert row["agent_interface"] == "Local/1001@agents"
        assert row["wait_seconds"] is not None and row["talk_seconds"] is not None
        assert row["answered_at"] is not None
    for row in rows:
        if row["outcome"] in {"abandoned", "timeout"}:
            assert row["answered_at"] is None and row["wait_seconds"] is not None

    # Live messages reached the channel layer: the wallboard saw calls offered and ended,
    # the agent's console group saw its calls (with a screen pop while ringing).
    types = Counter(m["type"] for m in wallboard_messages)
    assert types["wallboard.queues"] >= 1
    assert types["call.offered"] >= 1 and types["call.ended"] >= 1
    ended_ids = {m["linkedid"] for m in wallboard_messages if m["type"] == "call.ended"}
    assert ended_ids <= {r["linkedid"] for r in rows}
    console_types = {m["type"] for m in console_messages}
    assert "call.answered" in console_types or "call.ended" in console_types
    pops = [m for m in console_messages if m["type"] == "call.screen_pop"]
    assert pops and {p["linkedid"] for p in pops} <= {r["linkedid"] for r in rows}
    assert all(p["caller_number"].startswith("13") and "previous_tickets" in p for p in pops)
    assert all(m.get("agent_id") in (None, agent.pk) for m in console_messages)


async def _ready(sim: PBXSimulator) -> bool:
    return sim.server is not None and bool(sim.server.sockets)
