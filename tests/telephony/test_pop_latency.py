"""The screen pop never waits for the database writes of the events before it (issue 13, point 7).

The PBX simulator on real TCP, the real bridge, database and channel layer. The bridge's write of a
caller joining the queue is held (the database is slow: a long commit, a lock); meanwhile an agent
logs in, the PBX rings them, and the pop must reach the agent's console at once, not after the write.
Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from hotline.events import agent_group
from telephony import bridge as bridge_module
from telephony import services
from telephony.models import Call
from telephony.services import WALLBOARD_GROUP
from telephony.simulator import PBXSimulator, SimulatorConfig

pytestmark = pytest.mark.django_db(transaction=True)

NUMBER = "13800138000"


async def _until(predicate, timeout: float, interval: float = 0.02) -> None:
    async def loop() -> None:
        while not await predicate():
            await asyncio.sleep(interval)

    await asyncio.wait_for(loop(), timeout)


async def _collect(layer, channel: str, into: list[dict[str, Any]]) -> None:
    while True:
        into.append(await layer.receive(channel))


def test_the_pop_goes_out_while_the_write_before_it_is_still_held(agent, settings, monkeypatch) -> None:
    armed, entered, release = threading.Event(), threading.Event(), threading.Event()
    real_apply_batch = services.apply_batch

    def slow_database(steps, outbox=None, **kwargs):
        # The first write after arming stands for a database that takes its time; it then runs for real.
        if armed.is_set() and not release.is_set():
            entered.set()
            release.wait(20)
        return real_apply_batch(steps, outbox, **kwargs)

    monkeypatch.setattr(services, "apply_batch", slow_database)

    async def scenario() -> dict[str, Any]:
        layer = get_channel_layer()
        wallboard, console = await layer.new_channel(), await layer.new_channel()
        await layer.group_add(WALLBOARD_GROUP, wallboard)
        await layer.group_add(agent_group(agent.pk), console)
        board_messages: list[dict[str, Any]] = []
        console_messages: list[dict[str, Any]] = []
        collectors = [
            asyncio.create_task(_collect(layer, wallboard, board_messages)),
            asyncio.create_task(_collect(layer, console, console_messages)),
        ]
        # No member at boot: the caller waits in the queue until extension 1001 logs in.
        sim = PBXSimulator(SimulatorConfig(port=0, generate=False, seed=3, agents=(), talk=(1.0, 1.0)))
        sim_stop, bridge_stop = asyncio.Event(), asyncio.Event()
        sim_task = asyncio.create_task(sim.run(sim_stop))
        bridge_task = call = None
        try:
            await _until(lambda: _listening(sim), 5)
            settings.AMI_HOST, settings.AMI_PORT = "127.0.0.1", sim.server.sockets[0].getsockname()[1]
            bridge = bridge_module.from_settings()
            bridge_task = asyncio.create_task(bridge.run(bridge_stop))
            await _until(lambda: _any(board_messages, "wallboard.queues"), 10)  # connected and resynced

            armed.set()
            call = asyncio.create_task(sim.queue_call(number=NUMBER))
            await _until(lambda: _is_set(entered), 10)  # the caller's join is being written, slowly
            await bridge.client.action(
                "QueueAdd", {"Queue": "12345", "Interface": "Local/1001@agents", "MemberName": "agent1001"}
            )
            await _until(lambda: _any(console_messages, "call.screen_pop"), 10)
            still_held = entered.is_set() and not release.is_set()
            rows_at_pop = await _read(Call.objects.filter(caller_number=NUMBER).count)()
            release.set()

            async def ended() -> bool:
                return await _read(Call.objects.filter(caller_number=NUMBER, ended_at__isnull=False).exists)()

            await asyncio.wait_for(call, 20)
            await _until(ended, 20)
            row = await _read(Call.objects.values("outcome", "agent_id").get)(caller_number=NUMBER)
        finally:
            release.set()
            bridge_stop.set()
            sim_stop.set()
            if call is not None:
                call.cancel()
            if bridge_task is not None:
                await asyncio.wait_for(bridge_task, 15)
            await asyncio.wait_for(sim_task, 10)
            for collector in collectors:
                collector.cancel()
            await asyncio.gather(*collectors, return_exceptions=True)
        pop = next(m for m in console_messages if m["type"] == "call.screen_pop")
        return {"still_held": still_held, "rows_at_pop": rows_at_pop, "pop": pop, "row": row}

    result = asyncio.run(asyncio.wait_for(scenario(), 90))

    # The pop reached the console while the write of the events before it was still held:
    # not one row of the call existed yet.
    assert result["still_held"] and result["rows_at_pop"] == 0
    assert result["pop"]["caller_number"] == NUMBER
    assert result["pop"]["event"]["interface"] == "Local/1001@agents"
    # Nothing was lost by not waiting: once the database answered, the call was recorded to its end.
    assert result["row"] == {"outcome": "answered", "agent_id": agent.pk}


def _read(function):
    """A read beside the bridge's writes: not in the thread the held write occupies."""
    return database_sync_to_async(function, thread_sensitive=False)


async def _listening(sim: PBXSimulator) -> bool:
    return sim.server is not None and bool(sim.server.sockets)


async def _any(messages: list[dict[str, Any]], kind: str) -> bool:
    return any(m["type"] == kind for m in messages)


async def _is_set(event: threading.Event) -> bool:
    return event.is_set()


def test_a_batchs_hints_wait_for_the_screen_pop_in_flight(monkeypatch) -> None:
    """A pop translated while a batch is about to be published goes out first, not behind the batch's hints."""
    from telephony.ami.client import AMIClient, ClientConfig
    from telephony.tracker import CallTracker, TrackerConfig

    sent: list[str] = []

    class Layer:
        async def group_send(self, group: str, message: dict[str, Any]) -> None:
            sent.append(message["type"])

    monkeypatch.setattr(bridge_module, "get_channel_layer", Layer)
    monkeypatch.setattr(bridge_module, "POP_HEAD_START", 30.0)  # no timing in the test: the pop decides

    async def scenario() -> None:
        client = AMIClient(ClientConfig(port=1, username="bench", secret="bench"))
        bridge = bridge_module.Bridge(client, CallTracker(TrackerConfig(queues=frozenset({"12345"}))))
        read = asyncio.Event()

        async def pop() -> None:  # the pop's database read, then its send
            await read.wait()
            await Layer().group_send("agent.1", {"type": "call.screen_pop"})

        task = asyncio.create_task(pop())
        bridge._pops.add(task)
        task.add_done_callback(bridge._pops.discard)
        publishing = asyncio.create_task(
            bridge.publish([([WALLBOARD_GROUP, "agent.2"], {"type": "call.offered"}), (["agent.3"], {"type": "x"})])
        )
        for _ in range(20):
            await asyncio.sleep(0)
        assert sent == [] and not publishing.done()
        read.set()
        await asyncio.wait_for(publishing, 10)
        assert sent == ["call.screen_pop", "call.offered", "call.offered", "x"]

    asyncio.run(scenario())


def test_of_a_batchs_hints_the_wallboard_gets_the_last_of_each_kind_and_agents_get_all(monkeypatch) -> None:
    sent: list[tuple[str, str, str]] = []

    class Layer:
        async def group_send(self, group: str, message: dict[str, Any]) -> None:
            sent.append((group, message["type"], message["linkedid"]))

    monkeypatch.setattr(bridge_module, "get_channel_layer", Layer)

    def hint(kind: str, linkedid: str, agent: int) -> tuple[list[str], dict[str, Any]]:
        return [WALLBOARD_GROUP, f"agent.{agent}"], {"type": f"call.{kind}", "linkedid": linkedid}

    outbox = [hint("offered", "1", 1), hint("offered", "2", 2), hint("ended", "1", 1), hint("offered", "3", 3)]
    outbox.append(hint("ended", "2", 2))

    async def scenario() -> None:
        from telephony.ami.client import AMIClient, ClientConfig
        from telephony.tracker import CallTracker, TrackerConfig

        client = AMIClient(ClientConfig(port=1, username="bench", secret="bench"))
        bridge = bridge_module.Bridge(client, CallTracker(TrackerConfig(queues=frozenset({"12345"}))))
        await bridge.publish(outbox)

    asyncio.run(scenario())
    assert [s for s in sent if s[0] == WALLBOARD_GROUP] == [
        (WALLBOARD_GROUP, "call.offered", "3"),
        (WALLBOARD_GROUP, "call.ended", "2"),
    ]
    assert [s[1:] for s in sent if s[0] != WALLBOARD_GROUP] == [
        ("call.offered", "1"),
        ("call.offered", "2"),
        ("call.ended", "1"),
        ("call.offered", "3"),
        ("call.ended", "2"),
    ]
