"""The web side commands the bridge over the channel layer; the bridge acts on a real AMI socket.

One asyncio loop runs the PBX simulator, the real bridge and the requesting side, so
the in-memory channel layer carries the requests exactly as in ``make demo`` (and
Redis carries them in CI). Every wait is bounded.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.layers import InMemoryChannelLayer, get_channel_layer

from hotline.models import Referral
from telephony import bridge as bridge_module
from telephony import control
from telephony.commands import Commands, serve_commands
from telephony.models import Call
from telephony.pbx import command_group
from telephony.services import WALLBOARD_GROUP
from telephony.simulator import PBXSimulator, SimulatorConfig
from telephony.tracker import CallTracker, TrackerConfig

pytestmark = pytest.mark.django_db(transaction=True)

BRIDGE_GROUP = command_group("main")


async def _until(predicate, timeout: float, interval: float = 0.05):
    async def loop():
        while not (result := await predicate()):
            await asyncio.sleep(interval)
        return result

    return await asyncio.wait_for(loop(), timeout)


def run_with_bridge(settings, body, *, speed: float = 1.0, **simulator: Any):
    """Start the simulator and the bridge, run ``body(sim, board_messages)``, stop both.

    ``simulator`` sets more SimulatorConfig fields (e.g. ``survey_digit``).
    """

    async def main():
        layer = get_channel_layer()
        board = await layer.new_channel()
        await layer.group_add(WALLBOARD_GROUP, board)
        messages: list[dict[str, Any]] = []

        async def collect():
            while True:
                message = await layer.receive(board)
                if message["type"] == "wallboard.queues":
                    messages.append(message)

        collector = asyncio.create_task(collect())
        stop = asyncio.Event()
        sim = PBXSimulator(SimulatorConfig(port=0, generate=False, speed=speed, agents=("1001",), seed=3, **simulator))
        sim_task = asyncio.create_task(sim.run(stop))
        bridge_task = None
        try:
            await _until(lambda: _listening(sim), 5, 0.01)
            settings.AMI_HOST, settings.AMI_PORT = "127.0.0.1", sim.server.sockets[0].getsockname()[1]
            bridge_task = asyncio.create_task(bridge_module.from_settings().run(stop))
            await _until(lambda: _true(bool(messages)), 10)  # the resync snapshot: the bridge is up
            return await body(sim, messages)
        finally:
            stop.set()
            if bridge_task is not None:
                await asyncio.wait_for(bridge_task, 10)
            await asyncio.wait_for(sim_task, 10)
            collector.cancel()
            await layer.group_discard(WALLBOARD_GROUP, board)

    return asyncio.run(asyncio.wait_for(main(), 90))


async def _listening(sim: PBXSimulator) -> bool:
    return sim.server is not None and bool(sim.server.sockets)


async def _true(value: bool) -> bool:
    return value


def _agent_state(messages: list[dict[str, Any]]) -> dict[str, Any] | None:
    if not messages:
        return None
    return messages[-1]["queues"].get("12345", {}).get("agents", {}).get("Local/1001@agents")


def test_log_in_pause_and_ready_reach_the_pbx_and_the_wallboard(settings):
    async def body(sim, messages):
        added = await control.send_command("queue_add", extension="1001", name="agent1001")
        assert added["ok"] and added["interface"] == "Local/1001@agents"
        assert sim.members["Local/1001@agents"]["Paused"] == "0"
        await _until(lambda: _true((_agent_state(messages) or {}).get("state") == "ready"), 5)

        await control.send_command("pause", extension="1001", paused=True, reason="lunch")
        assert sim.members["Local/1001@agents"]["PausedReason"] == "lunch"
        await _until(lambda: _true((_agent_state(messages) or {}).get("reason") == "lunch"), 5)
        assert _agent_state(messages)["state"] == "paused"

        await control.send_command("pause", extension="1001", paused=False)
        await _until(lambda: _true((_agent_state(messages) or {}).get("state") == "ready"), 5)
        await control.send_command("queue_remove", extension="1001")
        await _until(lambda: _true(_agent_state(messages) is None), 5)
        # Logging out twice is not an error for the console.
        assert (await control.send_command("queue_remove", extension="1001"))["ok"]

    run_with_bridge(settings, body)


def test_refusals_come_back_as_clear_errors(settings):
    async def body(sim, messages):
        with pytest.raises(control.CommandFailed, match="no call in progress"):
            await control.send_command("transfer_110", extension="1001")
        with pytest.raises(control.CommandFailed, match="unknown command"):
            await control.send_command("format_disk")
        with pytest.raises(control.CommandFailed, match="not an agent extension"):
            await control.send_command("pause", extension="1001@evil\r\nAction: Logoff", paused=True)
        with pytest.raises(control.CommandFailed, match="not a dialable number"):
            await control.send_command("originate", extension="1001", number="13800138000;rm")
        with pytest.raises(control.CommandFailed, match="Interface not found"):
            await control.send_command("pause", extension="1999", paused=True)

    run_with_bridge(settings, body)


def test_a_callback_originate_rings_the_agent_first_and_is_recorded(settings, agent):
    async def body(sim, messages):
        result = await control.send_command(
            "originate", extension="1001", number="13800138000", purpose="callback", reference="cb-1", timeout=20
        )
        assert result["success"] and result["linkedid"]
        call = await _until(
            lambda: database_sync_to_async(Call.objects.filter(linkedid=result["linkedid"]).first)(), 10
        )
        assert call.outcome == "callback"
        assert call.caller_number == "13800138000"
        assert call.purpose == "callback"

    run_with_bridge(settings, body)


def test_a_revisit_dial_is_recorded_with_its_purpose_not_as_a_plain_callback(settings, agent):
    async def body(sim, messages):
        # Two dials at once: each Call gets the purpose of its own Originate (kept per ActionID).
        revisit, callback = await asyncio.gather(
            control.send_command(
                "originate",
                extension="1001",
                number="13800138001",
                purpose="revisit",
                reference="revisit:9",
                timeout=20,
            ),
            control.send_command(
                "originate", extension="1001", number="13800138002", purpose="callback", reference="cb-2", timeout=20
            ),
        )
        originate = [m for action, m in sim.received if action == "originate"]
        assert sorted(tuple(m.getlist("Variable")) for m in originate) == [
            ("HOTLINE_PURPOSE=callback", "HOTLINE_REFERENCE=cb-2"),
            ("HOTLINE_PURPOSE=revisit", "HOTLINE_REFERENCE=revisit:9"),
        ]

        def recorded():
            rows = Call.objects.filter(linkedid__in=[revisit["linkedid"], callback["linkedid"]])
            return {c.caller_number: (c.purpose, c.outcome) for c in rows} if rows.count() == 2 else None

        assert await _until(database_sync_to_async(recorded), 10) == {
            "13800138001": ("revisit", "callback"),
            "13800138002": ("callback", "callback"),
        }

    run_with_bridge(settings, body)


@pytest.mark.slow  # a paced replay: waits for the recorded call to reach the agent
def test_transfer_to_110_moves_the_live_call_and_leaves_a_referral(settings, agent):
    async def body(sim, messages):
        # A queued call the simulated PBX acts on: the Redirect sends the caller into the 110 context,
        # which the bridge must see before it reports the transfer (and the referral is written).
        playing = asyncio.create_task(sim.queue_call())

        def answered_live_call():
            return Call.objects.filter(answered_at__isnull=False, ended_at__isnull=True).first()

        call = await _until(database_sync_to_async(answered_live_call), 15)
        referral = await sync_to_async(control.transfer_to_110)(agent, "来电人称有人持刀伤人")
        assert referral.call_linkedid == call.linkedid and referral.ticket is None
        redirect = next(m for action, m in reversed(sim.received) if action == "redirect")
        assert redirect.first("Context") == "emergency" and redirect.first("Exten") == "110"

        async def ended():
            fresh = await database_sync_to_async(Call.objects.get)(pk=call.pk)
            return fresh if fresh.ended_at else None

        # The simulated caller hangs up later; the console's transfer outranks the PBX's summary.
        final = await _until(ended, 20)
        assert final.outcome == "transferred_110"
        assert await database_sync_to_async(Referral.objects.count)() == 1
        await asyncio.wait_for(playing, 20)

    run_with_bridge(settings, body, talk=(30.0, 30.0))


def test_no_bridge_means_a_clear_timeout_not_a_hang(db):
    with pytest.raises(control.BridgeUnavailable, match="did not answer"):
        control.call_bridge("pause", timeout=0.3, extension="1001", paused=True)


class FlakyLayer(InMemoryChannelLayer):
    """The in-memory layer whose first receive on the bridge's channel fails, like Redis timing out."""

    failures = 0

    async def receive(self, channel):
        if FlakyLayer.failures == 0 and await self.group_channels(BRIDGE_GROUP) == [channel]:
            FlakyLayer.failures += 1
            raise ConnectionError("Timeout reading from 127.0.0.1:6379")
        return await super().receive(channel)

    async def group_channels(self, group):
        return list(self.groups.get(group, {}))


def test_the_bridge_keeps_answering_after_the_channel_layer_fails(settings, caplog):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": f"{__name__}.FlakyLayer"}}
    FlakyLayer.failures = 0
    commands = Commands(client=None, tracker=CallTracker(TrackerConfig()))

    async def main():
        stop = asyncio.Event()
        server = asyncio.create_task(serve_commands(commands, stop, group=BRIDGE_GROUP, retry_after=0.05))
        layer = get_channel_layer()
        await _until(lambda: _true(bool(layer.groups.get(BRIDGE_GROUP))), 5, 0.01)  # the bridge has joined
        try:
            # The first read fails; the bridge logs it, rejoins its group and answers this request.
            with pytest.raises(control.CommandFailed, match="unknown command"):
                await control.send_command("format_disk", timeout=5)
        finally:
            stop.set()
            await asyncio.wait_for(server, 5)

    asyncio.run(asyncio.wait_for(main(), 20))
    assert FlakyLayer.failures == 1
    assert "cannot read its commands" in caplog.text


def test_after_a_restart_agents_the_pbx_does_not_list_are_offline_not_ready(settings, agent):
    """A demo restart: the PBX's queues hold only 1001 (a member at boot); agent 1002 was left "ready"
    and 1003 "paused" in the database. On connect the bridge marks 1002 and 1003 offline (so their
    consoles no longer claim they take calls), keeps 1001 ready and leaves another PBX's agent alone."""
    from hotline.events import agent_group
    from hotline.models import Role
    from telephony.models import AgentState
    from tests.conftest import make_user

    left_ready = make_user("agent_left_ready", Role.AGENT, "XT12345", agent_extension="1002")
    left_paused = make_user("agent_left_paused", Role.AGENT, "XT12345", agent_extension="1003")
    elsewhere = make_user("agent_elsewhere", Role.AGENT, "XT12345", agent_extension="1004")
    AgentState.objects.create(user=agent, status="ready")
    AgentState.objects.create(user=left_ready, status="ready")
    AgentState.objects.create(user=left_paused, status="paused", reason="lunch")
    AgentState.objects.create(user=elsewhere, status="ready", pbx="other")
    hints: list[dict] = []

    async def body(sim, messages):
        # The resync ran before the first wallboard picture; the hint went to the agent's group then.
        layer = get_channel_layer()
        assert sim.members.keys() == {"Local/1001@agents"}
        channel = await layer.new_channel()
        await layer.group_add(agent_group(left_ready.pk), channel)
        # A second login of the same bridge (the PBX connection dropped) checks again; the hint reaches us.
        await database_sync_to_async(AgentState.objects.filter(user=left_ready).update)(status="ready")
        for writer in list(sim._sessions):
            writer.close()
        hints.append(await asyncio.wait_for(layer.receive(channel), 15))

    run_with_bridge(settings, body)
    states = dict(AgentState.objects.values_list("user__agent_extension", "status"))
    assert states == {"1001": "ready", "1002": "offline", "1003": "offline", "1004": "ready"}
    assert AgentState.objects.get(user=left_paused).reason == ""
    assert hints == [{"type": "agent.state", "status": "offline"}]
