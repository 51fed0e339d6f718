"""The agent's call from the console: hang up, the wrap-up that follows, missed calls with their date."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.template.loader import render_to_string
from django.test import Client
from django.utils import timezone

from hotline.models import Role
from telephony import presence
from telephony.models import AgentState, AgentStatus, Call
from tests.conftest import make_user
from tests.telephony.test_commands import _until, run_with_bridge
from web.views import snapshots as snap


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_hang_up_without_a_call_in_progress_is_a_clear_error_and_asks_no_one(agent, settings):
    settings.BRIDGE_COMMAND_TIMEOUT = 0.2  # were the bridge asked, the answer would be "not answering"
    response = client_for(agent).post("/agent/hang-up/")
    assert response.status_code == 200
    assert 'data-testid="hangup-error"' in response.content.decode()
    assert "bridge" not in response.content.decode().lower()
    Call.objects.create(
        linkedid="1.1", pbx_epoch=1, agent=agent, offered_at=timezone.now(), answered_at=timezone.now(),
        ended_at=timezone.now(),
    )  # fmt: skip
    assert 'data-testid="hangup-error"' in client_for(agent).post("/agent/hang-up/").content.decode()
    assert client_for(agent).get("/agent/hang-up/").status_code == 405


@pytest.mark.django_db
def test_wrap_up_shows_after_a_call_for_the_configured_time(agent, settings):
    settings.AGENT_WRAPUP_SECONDS = 30
    now = timezone.now()
    AgentState.objects.create(user=agent, status=AgentStatus.READY, changed_at=now - timedelta(minutes=10))
    call = Call.objects.create(
        linkedid="2.1", pbx_epoch=1, agent=agent, offered_at=now - timedelta(minutes=4),
        answered_at=now - timedelta(minutes=3), ended_at=now - timedelta(seconds=10),
    )  # fmt: skip
    state = snap.agent_state(agent, call, now=now)
    assert (state["status"], state["seconds_left"]) == ("wrap_up", 20)
    page = client_for(agent).get("/agent/state/").content.decode()
    assert 'data-testid="wrapup-left"' in page and 'hx-trigger="load delay:' in page
    # Over: the chosen state again, and the panel stops asking.
    assert snap.agent_state(agent, call, now=now + timedelta(seconds=25))["status"] == AgentStatus.READY
    settings.AGENT_WRAPUP_SECONDS = 5
    page = client_for(agent).get("/agent/state/").content.decode()
    assert "wrapup-left" not in page and "hx-trigger" not in page
    # A paused agent is shown paused, not in wrap-up.
    settings.AGENT_WRAPUP_SECONDS = 30
    AgentState.objects.filter(user=agent).update(status=AgentStatus.PAUSED, reason="break")
    assert snap.agent_state(agent, call, now=now)["status"] == AgentStatus.PAUSED


def test_missed_calls_show_their_date_and_time():
    missed = datetime(2026, 11, 29, 9, 15, tzinfo=ZoneInfo("Asia/Shanghai"))
    task = SimpleNamespace(pk=1, number="13800138000", missed_at=missed, attempts=0)
    html = render_to_string("web/agent/_missed.html", {"missed_due": [task], "missed_total": 1})
    assert "11-29 09:15" in html


@pytest.mark.django_db
def test_the_wallboard_from_the_database_leaves_out_agents_who_never_logged_in(agent):
    ready = make_user("agent_li", Role.AGENT, "XT12345", agent_extension="1002")
    gone = make_user("agent_zhao", Role.AGENT, "XT12345", agent_extension="1003")
    AgentState.objects.create(user=ready, status=AgentStatus.READY, changed_at=timezone.now())
    AgentState.objects.create(user=gone, status=AgentStatus.OFFLINE, changed_at=timezone.now())
    # ``agent`` never logged in: no row, not counted.
    counts = snap.wallboard_queue_snapshot()["queues"][""]["agent_counts"]
    assert counts == {AgentStatus.READY: 1}


@pytest.mark.slow  # the real bridge and the simulator over TCP
@pytest.mark.django_db(transaction=True)
def test_hang_up_from_the_console_ends_the_call_as_answered(settings, agent):
    """The agent presses ready, a caller is put through, talks would last ten minutes; 挂断 ends it now."""
    settings.AGENT_WRAPUP_SECONDS = 30

    async def body(sim, messages):
        await database_sync_to_async(presence.set_agent_state)(agent, AgentStatus.READY)
        caller = asyncio.create_task(sim.queue_call())

        def answered():
            return Call.objects.filter(answered_at__isnull=False, ended_at__isnull=True, agent=agent).first()

        call = await _until(database_sync_to_async(answered), 15)
        console = await sync_to_async(client_for)(agent)
        response = await sync_to_async(console.post)("/agent/hang-up/")
        assert 'data-testid="hangup-message"' in response.content.decode()
        hangup = next(m for action, m in reversed(sim.received) if action == "hangup")
        assert hangup.first("Channel").startswith("Local/13") and hangup.first("Channel").endswith(";2")

        def ended():
            fresh = Call.objects.get(pk=call.pk)
            return fresh if fresh.ended_at else None

        final = await _until(database_sync_to_async(ended), 15)
        assert final.outcome == "answered" and final.talk_seconds < 600
        await asyncio.wait_for(caller, 15)
        panel = await sync_to_async(console.get)("/agent/state/")
        assert 'data-testid="wrapup-left"' in panel.content.decode()
        # No call any more: the second press says so.
        again = await sync_to_async(console.post)("/agent/hang-up/")
        assert 'data-testid="hangup-error"' in again.content.decode()

    run_with_bridge(settings, body, talk=(600, 600))


@pytest.mark.slow  # the real bridge and the simulator over TCP
@pytest.mark.django_db(transaction=True)
def test_transfer_to_110_from_the_console_shows_the_caller_with_110(settings, agent):
    async def body(sim, messages):
        await database_sync_to_async(presence.set_agent_state)(agent, AgentStatus.READY)
        caller = asyncio.create_task(sim.queue_call())

        def answered():
            return Call.objects.filter(answered_at__isnull=False, ended_at__isnull=True, agent=agent).first()

        call = await _until(database_sync_to_async(answered), 15)
        console = await sync_to_async(client_for)(agent)
        page = (await sync_to_async(console.post)("/agent/transfer-110/", {"reason": "持刀伤人"})).content.decode()
        assert 'data-testid="transfer-ok"' in page and 'data-testid="pop-transferred"' in page
        assert 'data-testid="hang-up"' not in page and 'hx-swap-oob="true"' in page

        def ended():
            fresh = Call.objects.get(pk=call.pk)
            return fresh if fresh.ended_at else None

        final = await _until(database_sync_to_async(ended), 20)
        assert final.outcome == "transferred_110"
        await asyncio.wait_for(caller, 20)

    run_with_bridge(settings, body, talk=(600, 600))
