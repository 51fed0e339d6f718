"""Several PBXs (AMI_PBXS): one bridge each, calls carry their PBX, commands go to the agent's PBX.

Two PBX simulators on two ports, both with an agent at extension 1001 (extensions are each PBX's
own), and the embedded bridge service (`telephony.bridge.run`), which runs one active/standby
bridge per configured PBX. The same recorded call (the same Linkedid) is played on both PBXs:
two calls, one per PBX, each with its own agent; a transfer to 110 asked by one agent reaches
only that agent's PBX.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.core.exceptions import ImproperlyConfigured

from hotline.events import agent_group
from hotline.models import Role
from hotline.services.tickets import find_or_create_caller
from telephony import bridge as bridge_module
from telephony import control, presence
from telephony import pbx as pbxs
from telephony.models import AgentState, BridgeLease, Call
from telephony.simulator import PBXSimulator, SimulatorConfig
from tests.conftest import make_user

pytestmark = pytest.mark.django_db(transaction=True)


def _pbx(name: str, port: int) -> dict[str, Any]:
    return {"name": name, "host": "127.0.0.1", "port": port, "username": "hotline", "secret": "hotline-secret"}


async def _until(predicate, timeout: float):
    async def loop():
        while not (result := await predicate()):
            await asyncio.sleep(0.05)
        return result

    return await asyncio.wait_for(loop(), timeout)


async def _true(value: bool) -> bool:
    return value


def test_two_pbxs_same_linkedid_two_calls_each_with_its_own_agent_and_commands_go_to_the_agents_pbx(settings, agent):
    # agent (王, 1001) has no PBX of their own: the first configured one, "xt". 李 has 1001 on "sy".
    other = make_user("agent_li", Role.AGENT, "XT12345", agent_extension="1001")
    AgentState.objects.create(user=other, status="offline", pbx="sy")

    async def main():
        stop = asyncio.Event()
        sims = {
            name: PBXSimulator(SimulatorConfig(port=0, generate=False, seed=seed, talk=(8, 8)))
            for name, seed in (("xt", 1), ("sy", 2))
        }
        sim_tasks = [asyncio.create_task(sim.run(stop)) for sim in sims.values()]
        await _until(lambda: _true(all(sim.server is not None and sim.server.sockets for sim in sims.values())), 5)
        ports = {name: sim.server.sockets[0].getsockname()[1] for name, sim in sims.items()}
        settings.AMI_PBXS = [_pbx(name, port) for name, port in ports.items()]
        layer = get_channel_layer()
        pops: dict[str, list[dict]] = {}
        inboxes = {}
        for user in (agent, other):
            inboxes[user.username] = await layer.new_channel()
            await layer.group_add(agent_group(user.pk), inboxes[user.username])
        bridges = asyncio.create_task(bridge_module.run(stop))
        try:
            # Each agent presses Ready on their own PBX (again, until its bridge is up).
            for user in (agent, other):
                await _until(_ready(user), 15)
            assert set(sims["xt"].members) == {"Local/1001@agents"} == set(sims["sy"].members)
            assert [a for a, _ in sims["xt"].received if a == "queueadd"] == ["queueadd"]
            assert [a for a, _ in sims["sy"].received if a == "queueadd"] == ["queueadd"]

            # The same recorded call, the same Linkedid, on both PBXs; each agent's phone rings with its pop.
            call = sims["xt"].new_call("answered")
            # A caller known already (with a name): on the in-memory SQLite of the tests a pop's read of
            # the caller table fails while a batch that creates the caller is uncommitted (a file or
            # PostgreSQL does not); the pop is at-most-once, and this test wants to see both.
            number = next(m.group(1) for _, text in call if (m := re.search(r"CallerIDNum: (\d{11})", text)))
            await database_sync_to_async(find_or_create_caller)(number, "测试来电人")
            playing = []
            for name, user in (("xt", agent), ("sy", other)):
                playing.append(asyncio.create_task(sims[name].play(call)))
                while True:
                    message = await asyncio.wait_for(layer.receive(inboxes[user.username]), 10)
                    if message["type"] == "call.screen_pop":
                        pops[user.username] = message
                        break

            def both_answered():
                rows = Call.objects.filter(answered_at__isnull=False, ended_at__isnull=True)
                return {c.pbx: c for c in rows} if rows.count() == 2 else None

            calls = await _until(database_sync_to_async(both_answered), 20)
            assert pops["agent_wang"]["linkedid"] == pops["agent_li"]["linkedid"] == calls["xt"].linkedid

            # 李 transfers their call to 110: the Redirect goes to "sy" only. A replayed call does not act
            # on actions, so once the Redirect is in, "sy" says what a PBX then shows: the caller's
            # channel running the 110 context (its second priority; the bridge reports nothing before).
            transfer = asyncio.create_task(sync_to_async(control.transfer_to_110)(other, "来电人称有人持刀伤人"))
            await _until(lambda: _true(any(a == "redirect" for a, _ in sims["sy"].received)), 10)
            join = next(text for _, text in call if text.startswith("Event: QueueCallerJoin\r\n"))
            sims["sy"].broadcast(_in_110(join))
            referral = await transfer
            assert referral.call_linkedid == calls["sy"].linkedid
            redirects = {name: [m for a, m in sim.received if a == "redirect"] for name, sim in sims.items()}
            assert not redirects["xt"] and len(redirects["sy"]) == 1
            # 王 takes a break after the call: the pause goes to "xt" only.
            await sync_to_async(presence.set_agent_state)(agent, "paused", "lunch")
            pauses = {name: [m for a, m in sim.received if a == "queuepause"] for name, sim in sims.items()}
            assert [m.first("Reason") for m in pauses["xt"]] == ["", "lunch"] and len(pauses["sy"]) == 1

            def both_ended():
                rows = Call.objects.filter(ended_at__isnull=False)
                return {c.pbx: c for c in rows} if rows.count() == 2 else None

            ended = await _until(database_sync_to_async(both_ended), 30)
            for task in playing:
                task.cancel()
            return calls, ended
        finally:
            stop.set()
            await asyncio.wait_for(bridges, 15)
            await asyncio.gather(*sim_tasks, return_exceptions=True)

    def _ready(user):
        async def attempt():
            try:
                await sync_to_async(presence.set_agent_state)(user, "ready")
            except control.BridgeError:  # its bridge is still starting or logging in
                return False
            return True

        return attempt

    settings.BRIDGE_COMMAND_TIMEOUT = 2
    calls, ended = asyncio.run(asyncio.wait_for(main(), 90))
    assert calls["xt"].linkedid == calls["sy"].linkedid and calls["xt"].pbx_epoch == calls["sy"].pbx_epoch
    assert (calls["xt"].agent_id, calls["sy"].agent_id) == (agent.pk, other.pk)
    assert ended["sy"].outcome == "transferred_110" and ended["xt"].outcome == "answered"
    assert AgentState.objects.get(user=agent).pbx == "" and control.pbx_of(agent) == "xt"
    assert set(BridgeLease.objects.values_list("pbx", "holder")) == {("xt", ""), ("sy", "")}  # released on stop


def test_ami_pbxs_from_the_environment_and_its_bad_values(monkeypatch, settings):
    from config.settings import _ami_pbxs

    monkeypatch.setenv("AMI_SY_SECRET", "s3cret")
    monkeypatch.setenv("AMI_SY_QUEUE_LOG_PATH", "/var/log/asterisk-sy/queue_log")
    parsed = _ami_pbxs(["xt=10.0.0.1:5038", "sy=pbx-sy.example:5039"])
    assert [(p["name"], p["host"], p["port"]) for p in parsed] == [
        ("xt", "10.0.0.1", 5038),
        ("sy", "pbx-sy.example", 5039),
    ]
    assert parsed[1]["secret"] == "s3cret" and parsed[1]["queue_log_path"].endswith("asterisk-sy/queue_log")
    assert parsed[0]["username"] == settings.AMI_USERNAME
    for bad in (["xt"], ["xt=host"], ["XT=host:1"], ["xt=host:port"], ["xt=a:1", "xt=b:2"]):
        with pytest.raises(ImproperlyConfigured, match="AMI_PBXS"):
            _ami_pbxs(bad)
    settings.AMI_PBXS = parsed
    assert pbxs.names() == ["xt", "sy"] and pbxs.default_name() == "xt"
    assert "s3cret" not in repr(pbxs.get("sy"))
    with pytest.raises(ValueError, match="no PBX 'hz'"):
        pbxs.get("hz")
    settings.AMI_PBXS = []
    assert pbxs.names() == ["main"]


def test_ami_bridge_needs_a_pbx_name_when_several_are_configured(settings):
    from django.core.management import CommandError, call_command

    settings.AMI_PBXS = [_pbx("xt", 1), _pbx("sy", 2)]
    with pytest.raises(CommandError, match="--pbx"):
        call_command("ami_bridge")
    with pytest.raises(CommandError, match="no PBX 'hz'"):
        call_command("ami_bridge", pbx="hz")


def test_the_wallboard_shows_every_pbx_queue_and_says_when_one_bridge_is_down(supervisor):
    from tests.web.test_consumers import connect_as, receive_until, send_group

    def picture(pbx: str, waiting: int, connected: bool) -> dict:
        queue = {"waiting": waiting, "longest_wait": 0, "agents": {}, "agent_counts": {}}
        return {
            "type": "wallboard.queues",
            "pbx": pbx,
            "queues": {"12345": queue},
            "bridge": {"connected": connected, "since": 0},
        }

    async def scenario() -> tuple[str, str]:
        comm, _ = await connect_as(supervisor, "/ws/wallboard/")
        await comm.receive_from(timeout=5)
        await send_group("wallboard", picture("xt", 3, True))
        await send_group("wallboard", picture("sy", 5, False))
        both = await receive_until(comm, "sy 12345")
        await send_group("wallboard", picture("sy", 5, True))
        up = await receive_until(comm, "sy 12345")
        await comm.disconnect()
        return both, up

    both, up = asyncio.run(asyncio.wait_for(scenario(), 30))
    assert "xt 12345" in both and 'data-testid="wb-bridge-down"' in both
    assert "xt 12345" in up and 'data-testid="wb-bridge-down"' not in up


@pytest.fixture
def admin_client(seeded):
    from django.test import Client

    from hotline.models import User

    client = Client()
    client.force_login(User.objects.create_superuser("pbx_admin", password="x-Very-long-9"))
    return client


def test_an_admin_sets_an_offline_agents_pbx_among_the_configured_ones_only(settings, agent, admin_client):
    settings.AMI_PBXS = [_pbx("xt", 1), _pbx("sy", 2)]
    state = AgentState.objects.create(user=agent, status="offline")
    url = f"/admin/telephony/agentstate/{agent.pk}/change/"
    page = admin_client.get(url).content.decode()
    assert 'value="sy"' in page and 'value="hz"' not in page
    assert admin_client.post(url, {"pbx": "hz"}).status_code == 200  # not a choice: the form again
    assert admin_client.post(url, {"pbx": "sy"}).status_code == 302
    state.refresh_from_db()
    assert state.pbx == "sy" and control.pbx_of(agent) == "sy"
    AgentState.objects.filter(pk=state.pk).update(status="ready")
    assert admin_client.post(url, {"pbx": "xt"}).status_code == 200
    state.refresh_from_db()
    assert state.pbx == "sy"  # refused while the phone is in sy's queues


def _in_110(join: str) -> str:
    """The Newexten of the caller's channel (from its QueueCallerJoin) at priority 2 of emergency,110."""
    keep = ("Channel", "ChannelState", "ChannelStateDesc", "CallerIDNum", "CallerIDName", "Uniqueid", "Linkedid")
    lines = [line for line in join.split("\r\n") if line.split(": ", 1)[0] in keep]
    where = ["Context: emergency", "Exten: 110", "Priority: 2", "Extension: 110", "Application: Dial"]
    return "\r\n".join(
        ["Event: Newexten", "Privilege: dialplan,all", *lines, *where, "AppData: PJSIP/110@police-trunk,60"]
    )
