"""Desks (专席): skills decide the queues an agent joins, callers routed to a desk are recorded with it.

Over real TCP: the PBX simulator speaks AMI, the real bridge follows it, and Ready/Off go through
``telephony.presence`` → channel layer → bridge → AMI, as from the console.
"""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async

from hotline.models import Role
from telephony.models import AgentSkill, Call
from telephony.presence import set_agent_state
from tests.conftest import make_user
from tests.telephony.test_commands import _until, run_with_bridge

pytestmark = pytest.mark.django_db(transaction=True)

GENERAL, BUSINESS, DIALECT = "12345", "12345-business", "12345-dialect"
QUEUES = (GENERAL, BUSINESS, DIALECT)


@pytest.fixture
def desk_settings(settings):
    settings.AMI_QUEUES = list(QUEUES)
    settings.AMI_DESK_BUSINESS, settings.AMI_DESK_DIALECT = BUSINESS, DIALECT
    return settings


def _agent(username: str, extension: str):
    return make_user(username, Role.AGENT, "XT12345", agent_extension=extension)


async def _call_of(queued) -> Call | None:
    """The row of a simulated caller (by its channel in the queue), once it has ended."""

    def read():
        call = Call.objects.filter(caller_uniqueid=queued.entry["Uniqueid"]).first()
        return call if call is not None and call.ended_at is not None else None

    return await sync_to_async(read)()


def test_ready_joins_the_skilled_desks_with_their_penalty_and_off_leaves_them_all(seeded, desk_settings):
    business = _agent("agent_qi", "1002")
    AgentSkill.objects.create(user=business, queue=BUSINESS, penalty=2)
    # A skill naming a desk the PBX does not have (written past the admin's check, or AMI_QUEUES changed since).
    AgentSkill.objects.create(user=business, queue="12345-nowhere", penalty=0)
    plain = _agent("agent_lu", "1003")  # no skill at all

    async def body(sim, messages):
        await sync_to_async(set_agent_state)(business, "ready")
        await sync_to_async(set_agent_state)(plain, "ready")
        assert sim.member_queues["Local/1002@agents"] == {GENERAL: 0, BUSINESS: 2}
        assert sim.member_queues["Local/1003@agents"] == {GENERAL: 0}
        queue_adds = [m for name, m in sim.received if name == "queueadd" and "1002" in m.first("Interface")]
        assert {(m.first("Queue"), m.first("Penalty")) for m in queue_adds} == {(GENERAL, "0"), (BUSINESS, "2")}

        # The wallboard picture lists the agent under each of their desks.
        def listed(queue: str) -> bool:
            return bool(messages) and "Local/1002@agents" in messages[-1]["queues"].get(queue, {}).get("agents", {})

        await _until(lambda: _async(listed(BUSINESS) and listed(GENERAL)), 5)

        # A pause pauses every desk of the agent; logging off leaves all of them.
        await sync_to_async(set_agent_state)(business, "paused", "lunch")
        assert sim.members["Local/1002@agents"]["Paused"] == "1"
        pauses = [m for name, m in sim.received if name == "queuepause" and "1002" in m.first("Interface")]
        assert pauses and not pauses[-1].first("Queue")  # no Queue: all the member's queues
        await sync_to_async(set_agent_state)(business, "offline")
        assert "Local/1002@agents" not in sim.member_queues and "Local/1002@agents" not in sim.members

        # A skill taken away while logged in: the next Ready leaves that desk.
        await sync_to_async(set_agent_state)(business, "ready")
        await sync_to_async(AgentSkill.objects.filter(user=business, queue=BUSINESS).delete)()
        await sync_to_async(set_agent_state)(business, "ready")
        assert sim.member_queues["Local/1002@agents"] == {GENERAL: 0}

    run_with_bridge(desk_settings, body, queues=QUEUES)


def test_a_business_caller_rings_only_the_skilled_agent_and_the_call_keeps_its_desk(seeded, desk_settings):
    business = _agent("agent_qi", "1002")
    AgentSkill.objects.create(user=business, queue=BUSINESS, penalty=0)

    async def body(sim, messages):
        # 1001 is in the general queue from boot; 1002 joins the general and the business desk.
        await sync_to_async(set_agent_state)(business, "ready")
        call = await sim.queue_call("13900001111", queue=BUSINESS)
        assert call.interface == "Local/1002@agents"
        row = await _until(lambda: _call_of(call), 10)
        assert (row.desk, row.queue, row.outcome) == (BUSINESS, BUSINESS, "answered")
        assert row.agent_id == business.pk
        assert sim.member_queues["Local/1001@agents"] == {GENERAL: 0}  # no business skill: never rung for it

        # A general caller is a general call: its desk is the general queue.
        general = await sim.queue_call("13900002222")
        row = await _until(lambda: _call_of(general), 10)
        assert (row.desk, row.queue) == (GENERAL, GENERAL)

    run_with_bridge(desk_settings, body, queues=QUEUES, speed=4.0)


def test_a_desk_with_nobody_logged_in_overflows_to_the_general_desk_and_the_call_is_not_lost(seeded, desk_settings):
    async def body(sim, messages):
        # Nobody has the dialect skill: the desk turns the caller away at once (joinempty), the general
        # desk's agent 1001 answers. Not a refused call, not a callback: an answered dialect-desk call.
        call = await sim.queue_call("13900003333", queue=DIALECT)
        assert call.interface == "Local/1001@agents"
        row = await _until(lambda: _call_of(call), 10)
        assert (row.desk, row.queue, row.outcome) == (DIALECT, GENERAL, "answered")

    run_with_bridge(desk_settings, body, queues=QUEUES, speed=4.0)


def test_a_desk_busy_past_its_wait_overflows_and_the_whole_wait_counts(seeded, desk_settings):
    business = _agent("agent_qi", "1002")
    AgentSkill.objects.create(user=business, queue=BUSINESS, penalty=0)

    async def body(sim, messages):
        await sync_to_async(set_agent_state)(business, "ready")
        # 1001 (general only) is kept busy by nobody; 1002 talks to a first business caller for 40 s.
        first = asyncio.create_task(sim.queue_call("13900004444", queue=BUSINESS))
        await _until(lambda: _async("Local/1002@agents" in sim.busy), 10)
        second = await sim.queue_call("13900005555", queue=BUSINESS)
        assert second.interface == "Local/1001@agents"  # the desk waited 6 s, then the general desk
        row = await _until(lambda: _call_of(second), 10)
        assert (row.desk, row.queue, row.outcome) == (BUSINESS, GENERAL, "answered")
        assert row.wait_seconds is not None and row.wait_seconds >= 6
        first.cancel()

    run_with_bridge(desk_settings, body, queues=QUEUES, speed=10.0, desk_wait=6.0, talk=(40.0, 40.0))


async def _async(value):
    return value


# --- the desk AGI: which desk the caller's history names, over a real FastAGI socket ------------------


async def _as_asterisk(port: int, calling: str) -> list[str]:
    """Open the FastAGI connection as Asterisk does, answer every command with success; the commands sent."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    env = ["agi_network: yes", "agi_network_script: desk", f"agi_callerid: {calling}", "agi_context: from-pstn", ""]
    writer.write("\n".join(env).encode() + b"\n")
    await writer.drain()
    sent = []
    while line := await asyncio.wait_for(reader.readline(), 10):
        sent.append(line.decode().rstrip("\n"))
        writer.write(b"200 result=1\n")
        await writer.drain()
    writer.close()
    return sent


def _desk_agi(calling: str) -> list[str]:
    from tests.telephony.test_agi import run_against_server

    return run_against_server(lambda port: _as_asterisk(port, calling))


def test_the_desk_agi_sends_a_marked_caller_to_their_desk_and_a_business_caller_to_the_business_desk(
    agent, desk_settings
):
    from hotline.models import Caller
    from telephony.models import CallerDesk
    from tests.factories import new_ticket

    desk_settings.AMI_DESK_WAIT_SECONDS = 25
    wait = 'SET VARIABLE HOTLINE_DESK_WAIT "25"'
    dialect = Caller.objects.create(phone="+8613800138003")
    CallerDesk.objects.create(caller=dialect, queue=DIALECT, note="湘潭话")
    assert _desk_agi("13800138003") == [wait, f'SET VARIABLE HOTLINE_DESK "{DIALECT}"']

    # Last ticket about unpaid wages (0501, under 05 劳动社保): a business matter once 05 is listed.
    new_ticket(agent, phone="13800138004", topic="0501")
    assert _desk_agi("13800138004") == [wait]  # AMI_DESK_BUSINESS_TOPICS empty: history routing is off
    desk_settings.AMI_DESK_BUSINESS_TOPICS = ["05"]
    assert _desk_agi("13800138004") == [wait, f'SET VARIABLE HOTLINE_DESK "{BUSINESS}"']
    # Their newest ticket is about noise (0201): the general desk again.
    new_ticket(agent, phone="13800138004", topic="0201")
    assert _desk_agi("13800138004") == [wait]

    # A stranger, a withheld number, and a mark naming a desk the PBX no longer has: the general desk.
    assert _desk_agi("13900000000") == [wait]
    assert _desk_agi("anonymous") == [wait]
    desk_settings.AMI_QUEUES = [GENERAL, BUSINESS]
    assert _desk_agi("13800138003") == [wait]


# --- the admin: skills name a desk of the phone system --------------------------------------------------


def test_the_admin_refuses_a_skill_for_an_unknown_desk_and_for_staff_without_a_phone(agent, desk_settings):
    from django.test import Client
    from django.utils import translation

    from hotline.models import User

    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(User.objects.create_superuser("desk_admin", password="x-Very-long-9"))
    url = "/admin/telephony/agentskill/add/"
    page = client.post(url, {"user": agent.pk, "queue": "12345-nowhere", "penalty": 0})
    assert page.status_code == 200 and not AgentSkill.objects.exists()
    with translation.override("zh-hans"):
        assert "不是电话系统的专席" in page.content.decode()
    no_phone = make_user("dispatcher_he", Role.DISPATCHER, "XT12345")
    assert client.post(url, {"user": no_phone.pk, "queue": BUSINESS, "penalty": 0}).status_code == 200
    assert client.post(url, {"user": agent.pk, "queue": BUSINESS, "penalty": 3}).status_code == 302
    assert list(AgentSkill.objects.values_list("queue", "penalty")) == [(BUSINESS, 3)]


def test_an_agent_on_a_call_is_busy_in_every_desk_of_theirs_on_the_wallboard(seeded, desk_settings):
    """app_queue reports a member's device state in each of its queues; the simulator does too."""
    business = _agent("agent_qi", "1002")
    AgentSkill.objects.create(user=business, queue=BUSINESS, penalty=0)

    async def body(sim, messages):
        await sync_to_async(set_agent_state)(business, "ready")
        await sync_to_async(set_agent_state)(_agent_1001, "paused", "lunch")
        call = asyncio.create_task(sim.queue_call("13900006666"))  # a general caller: 1002 answers

        def state(queue: str) -> str:
            agents = messages[-1]["queues"].get(queue, {}).get("agents", {}) if messages else {}
            return agents.get("Local/1002@agents", {}).get("state", "")

        await _until(lambda: _async(state(GENERAL) == "on_call" and state(BUSINESS) == "on_call"), 10)
        call.cancel()

    _agent_1001 = _agent("agent_wu", "1001")
    run_with_bridge(desk_settings, body, queues=QUEUES, talk=(20.0, 20.0))
