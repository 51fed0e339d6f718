"""Console sockets through the real ASGI stack (origin check → session auth → router → consumer).

Run on the in-memory channel layer, and on Redis in CI (REDIS_URL set).
"""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from asgiref.testing import ApplicationCommunicator
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client

from config.asgi import application
from hotline.events import CENTER_GROUP, agent_group, unit_group
from hotline.models import Role
from hotline.services import dispatch, tickets
from tests.conftest import make_user, unit
from web.consumers import WallboardConsumer

pytestmark = pytest.mark.django_db(transaction=True)


class WebsocketCommunicator(ApplicationCommunicator):
    """The WebSocket side of an ASGI app, as channels.testing's (which needs daphne installed)."""

    def __init__(self, app, path: str, headers: list[tuple[bytes, bytes]]) -> None:
        path, _, query = path.partition("?")
        scope = {
            "type": "websocket",
            "path": path,
            "query_string": query.encode(),
            "headers": headers,
            "subprotocols": [],
        }
        super().__init__(app, scope)

    async def connect(self, timeout: float = 1):
        await self.send_input({"type": "websocket.connect"})
        response = await self.receive_output(timeout)
        if response["type"] == "websocket.close":
            return False, response.get("code", 1000)
        return True, response.get("subprotocol")

    async def receive_from(self, timeout: float = 1) -> str:
        response = await self.receive_output(timeout)
        assert response["type"] == "websocket.send", response
        return response["text"]

    async def disconnect(self, code: int = 1000, timeout: float = 1) -> None:
        await self.send_input({"type": "websocket.disconnect", "code": code})
        await self.wait(timeout)


def run(coro_fn):
    """pytest runs these scenarios synchronously; the socket side runs in one event loop."""
    return async_to_sync(coro_fn)()


ORIGIN = (b"origin", b"http://testserver")
HOST = (b"host", b"testserver")


def session_cookie(user) -> str:
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key


def communicator(
    path: str, session_key: str | None = None, origin: bytes | None = b"http://testserver", csrf_secret: str = ""
):
    headers = [HOST]
    if origin is not None:
        headers.append((b"origin", origin))
    cookies = []
    if session_key:
        cookies.append(f"{settings.SESSION_COOKIE_NAME}={session_key}")
    if csrf_secret:
        cookies.append(f"{settings.CSRF_COOKIE_NAME}={csrf_secret}")
    if cookies:
        headers.append((b"cookie", "; ".join(cookies).encode()))
    return WebsocketCommunicator(application, path, headers=headers)


async def connect_as(user, path: str):
    key = await sync_to_async(session_cookie)(user)
    comm = communicator(path, key)
    connected, _ = await comm.connect(timeout=5)
    assert connected
    return comm, key


async def receive_until(comm, text: str, timeout: float = 5) -> str:
    """Frames until one contains ``text`` (hints coalesce, so a few may come first)."""
    async with asyncio.timeout(timeout):
        while True:
            frame = await comm.receive_from(timeout=timeout)
            if text in frame:
                return frame


async def send_group(group: str, message: dict) -> None:
    await get_channel_layer().group_send(group, message)


@pytest.fixture
def agent2(seeded):
    return make_user("agent_li", Role.AGENT, "XT12345", agent_extension="1002")


def test_an_anonymous_socket_is_refused(seeded):
    async def scenario():
        comm = communicator("/ws/agent/")
        connected, _ = await comm.connect(timeout=5)
        assert not connected

    run(scenario)


@pytest.mark.parametrize(
    "origin",
    [b"https://evil.example", b"null", None, b"http://testserver.evil.com", b"http://evil.com/testserver"],
    ids=["foreign", "null", "missing", "look-alike", "path-trick"],
)
def test_a_socket_from_another_origin_is_refused_even_when_logged_in(agent, origin):
    async def scenario():
        key = await sync_to_async(session_cookie)(agent)
        comm = communicator("/ws/agent/", key, origin=origin)
        connected, _ = await comm.connect(timeout=5)
        assert not connected

    run(scenario)


def test_agent_gets_a_snapshot_on_connect(agent):
    async def scenario():
        comm, _ = await connect_as(agent, "/ws/agent/")
        snapshot = await comm.receive_from(timeout=5)
        assert 'id="agent-state"' in snapshot and 'id="pop"' in snapshot and 'id="missed"' in snapshot
        assert 'hx-swap-oob="true"' in snapshot
        await comm.disconnect()

    run(scenario)


def test_an_agent_never_receives_another_agents_screen_pop(agent, agent2):
    async def scenario():
        mine, _ = await connect_as(agent, "/ws/agent/")
        theirs, _ = await connect_as(agent2, "/ws/agent/")
        await mine.receive_from(timeout=5)
        await theirs.receive_from(timeout=5)
        pop = {
            "type": "call.screen_pop",
            "call_id": 1,
            "linkedid": "1.1",
            "caller_number": "13812345678",
            "caller_id": None,
            "caller_name": "王先生",
            "previous_tickets": [{"id": 1, "number": "2026010100001", "status": "closed", "title": "噪音"}],
            "open_tickets": [],
        }
        await send_group(agent_group(agent2.pk), pop)
        frame = await receive_until(theirs, "13812345678")
        assert "王先生" in frame and "2026010100001" in frame  # full number, name, history, repeat hint
        assert await mine.receive_nothing(timeout=0.5)
        await mine.disconnect()
        await theirs.disconnect()

    run(scenario)


def test_the_ringing_hint_leaves_the_screen_pop_up(agent):
    """call.ringing comes with the pop; re-rendering on it read the agent's last call and covered the pop."""
    from datetime import timedelta

    from django.utils import timezone

    from telephony.models import Call

    before = timezone.now() - timedelta(minutes=3)
    Call.objects.create(
        linkedid="0.1",
        caller_number="13900000001",
        agent=agent,
        offered_at=before,
        answered_at=before,
        ended_at=before + timedelta(minutes=1),
        outcome="answered",
    )

    async def scenario():
        comm, _ = await connect_as(agent, "/ws/agent/")
        await comm.receive_from(timeout=5)
        pop = {
            "type": "call.screen_pop",
            "linkedid": "1.1",
            "caller_number": "13812345678",
            "caller_id": None,
            "caller_name": "",
            "previous_tickets": [],
            "open_tickets": [],
        }
        await send_group(agent_group(agent.pk), pop)
        assert "13812345678" in await comm.receive_from(timeout=5)
        await send_group(agent_group(agent.pk), {"type": "call.ringing", "linkedid": "1.1", "event": {}})
        assert await comm.receive_nothing(timeout=1.5)  # no re-render with the last caller over the pop
        # The answer is news: the console re-reads the call then.
        await send_group(agent_group(agent.pk), {"type": "call.answered", "linkedid": "1.1", "event": {}})
        assert 'id="pop"' in await comm.receive_from(timeout=5)
        await comm.disconnect()

    run(scenario)


def test_a_role_only_joins_its_own_console(agent, yuhu, dispatcher):
    async def scenario():
        for user, path in [
            (agent, "/ws/unit/"),
            (yuhu, "/ws/agent/"),
            (yuhu, "/ws/wallboard/"),
            (dispatcher, "/ws/wallboard/"),
        ]:
            key = await sync_to_async(session_cookie)(user)
            comm = communicator(path, key)
            connected, _ = await comm.connect(timeout=5)
            assert not connected, (user.username, path)

    run(scenario)


def test_a_unit_never_receives_another_units_ticket_updates(yuhu, yuetang, agent, complaint, noise, yuhu_area):
    async def scenario():
        yh, _ = await connect_as(yuhu, "/ws/unit/")
        yt, _ = await connect_as(yuetang, "/ws/unit/")
        await yh.receive_from(timeout=5)
        await yt.receive_from(timeout=5)

        def register_and_dispatch():
            ticket = tickets.register_ticket(
                by=agent, phone="13812345678", content="夜间施工噪音", category=complaint, topic=noise, area=yuhu_area
            )
            dispatch.dispatch_ticket(ticket, agent, yuhu.unit)
            return ticket

        ticket = await sync_to_async(register_and_dispatch)()
        frame = await receive_until(yh, ticket.number)
        assert 'id="inbox"' in frame
        assert await yt.receive_nothing(timeout=1)
        await yh.disconnect()
        await yt.disconnect()

    run(scenario)


def test_dispatcher_queue_rerenders_on_a_center_hint(dispatcher, agent, complaint):
    async def scenario():
        comm, _ = await connect_as(dispatcher, "/ws/dispatch/")
        await comm.receive_from(timeout=5)
        ticket = await sync_to_async(tickets.register_ticket)(
            by=agent, phone="13812345678", content="路灯不亮", category=complaint
        )
        frame = await receive_until(comm, ticket.number)
        assert 'id="dispatch"' in frame
        await comm.disconnect()

    run(scenario)


def test_wallboard_shows_the_bridges_live_queue(supervisor):
    async def scenario():
        comm, _ = await connect_as(supervisor, "/ws/wallboard/")
        snapshot = await comm.receive_from(timeout=5)
        assert 'id="wb-queues"' in snapshot and 'id="wb-today"' in snapshot and 'id="wb-overdue"' in snapshot
        queues = {"12345": {"waiting": 7, "longest_wait": 42, "agents": {}, "agent_counts": {"ready": 2}}}
        await send_group("wallboard", {"type": "wallboard.queues", "queues": queues})
        frame = await receive_until(comm, "wb-waiting")
        assert '<b data-testid="wb-waiting">7</b>' in frame
        await comm.disconnect()

    run(scenario)


def test_wallboard_shows_each_desk_live_and_today(supervisor, settings):
    """专席: one row per desk, the bridge's live figures beside the day's answered, abandoned and overflowed."""
    from django.utils import timezone

    from telephony.models import Call

    settings.AMI_QUEUES = ["12345", "12345-business", "12345-dialect"]
    now = timezone.now()

    def calls():
        for i, (desk, queue, outcome) in enumerate(
            [
                ("12345-business", "12345-business", "answered"),
                ("12345-business", "12345", "answered"),
                ("12345-dialect", "12345", "abandoned"),
            ]
        ):
            answered = now if outcome == "answered" else None
            Call.objects.create(
                linkedid=f"9.{i}", desk=desk, queue=queue, outcome=outcome, offered_at=now, answered_at=answered,
                ended_at=now, wait_seconds=40,
            )  # fmt: skip

    async def scenario():
        await sync_to_async(calls)()
        WallboardConsumer.desks_today.clear()  # shared by the process: not another test's day
        comm, _ = await connect_as(supervisor, "/ws/wallboard/")
        snapshot = await comm.receive_from(timeout=5)
        assert 'id="wb-desks"' in snapshot
        for queue in settings.AMI_QUEUES:
            assert f'data-testid="wb-desk-{queue}"' in snapshot
        queues = {
            "12345": {"waiting": 1, "longest_wait": 9, "agents": {}, "agent_counts": {"ready": 3, "on_call": 1}},
            "12345-business": {"waiting": 2, "longest_wait": 31, "agents": {}, "agent_counts": {"on_call": 1}},
        }
        await send_group("wallboard", {"type": "wallboard.queues", "pbx": "main", "queues": queues})
        frame = await receive_until(comm, "wb-desks")
        business = frame[frame.index('data-testid="wb-desk-12345-business"') :]
        business = business[: business.index("</tr>")]
        assert "涉企服务专席" in business or "Business desk" in business
        assert '<td class="num" data-testid="wb-desk-waiting">2</td>' in business
        assert '<td class="num" data-testid="wb-desk-ready">0</td>' in business
        assert '<td class="num" data-testid="wb-desk-busy">1</td>' in business
        assert '<td class="num" data-testid="wb-desk-answered">1</td>' in business
        assert '<td class="num" data-testid="wb-desk-overflowed">1</td>' in business
        dialect = frame[frame.index('data-testid="wb-desk-12345-dialect"') :]
        dialect = dialect[: dialect.index("</tr>")]
        assert '<td class="num" data-testid="wb-desk-waiting">0</td>' in dialect  # nobody waiting: none reported
        assert '<td class="num" data-testid="wb-desk-overflowed">1</td>' in dialect
        general = frame[frame.index('data-testid="wb-desk-12345"') :]
        general = general[: general.index("</tr>")]
        assert '<td class="num" data-testid="wb-desk-ready">3</td>' in general
        assert '<td class="num" data-testid="wb-desk-answered">1</td>' in general
        assert '<td class="num" data-testid="wb-desk-abandoned">1</td>' in general
        await comm.disconnect()

    run(scenario)


def test_an_unknown_message_type_does_not_break_the_console(yuhu):
    async def scenario():
        comm, _ = await connect_as(yuhu, "/ws/unit/")
        await comm.receive_from(timeout=5)
        await send_group(unit_group(yuhu.unit_id), {"type": "something.new", "x": 1})
        await send_group(unit_group(yuhu.unit_id), {"type": "ticket.updated", "ticket_id": 0})
        assert 'id="inbox"' in await comm.receive_from(timeout=5)
        await comm.disconnect()

    run(scenario)


def test_logout_closes_that_sessions_socket(dispatcher):
    async def scenario():
        client = Client()
        await sync_to_async(client.force_login)(dispatcher)
        key = client.cookies[settings.SESSION_COOKIE_NAME].value
        comm = communicator("/ws/dispatch/", key)
        assert (await comm.connect(timeout=5))[0]
        await comm.receive_from(timeout=5)
        await sync_to_async(client.post)("/logout/")
        output = await comm.receive_output(timeout=5)
        assert output == {"type": "websocket.close", "code": 4001}

    run(scenario)


def test_password_change_closes_every_socket_of_the_user(dispatcher):
    async def scenario():
        comm, _ = await connect_as(dispatcher, "/ws/dispatch/")
        await comm.receive_from(timeout=5)

        def change():
            dispatcher.set_password("another-horse-67890")
            dispatcher.save()

        await sync_to_async(change)()
        assert await comm.receive_output(timeout=5) == {"type": "websocket.close", "code": 4001}

    run(scenario)


def test_deactivation_closes_the_socket_and_refuses_a_new_one(supervisor):
    async def scenario():
        comm, key = await connect_as(supervisor, "/ws/wallboard/")
        await comm.receive_from(timeout=5)

        def deactivate():
            supervisor.is_active = False
            supervisor.save()

        await sync_to_async(deactivate)()
        assert await comm.receive_output(timeout=5) == {"type": "websocket.close", "code": 4001}
        again = communicator("/ws/wallboard/", key)
        assert not (await again.connect(timeout=5))[0]

    run(scenario)


def test_an_open_socket_closes_when_its_session_expires_unless_the_session_was_extended(dispatcher):
    def session_for(seconds: int) -> SessionStore:
        session = SessionStore()
        session[SESSION_KEY] = str(dispatcher.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = dispatcher.get_session_auth_hash()
        session.set_expiry(seconds)
        session.create()
        return session

    async def scenario():
        ending = await sync_to_async(session_for)(2)
        extended = await sync_to_async(session_for)(2)
        closing = communicator("/ws/dispatch/", ending.session_key)
        staying = communicator("/ws/dispatch/", extended.session_key)
        for comm in (closing, staying):
            assert (await comm.connect(timeout=5))[0]
            await comm.receive_from(timeout=5)

        def extend():
            extended.set_expiry(3600)  # what a request that saves the session does
            extended.save()

        await sync_to_async(extend)()
        # The expiring one closes at its expiry instant, with no message or reconnect to prompt it.
        assert await closing.receive_output(timeout=5) == {"type": "websocket.close", "code": 4001}
        assert await staying.receive_nothing(timeout=1.5)
        await staying.disconnect()

    run(scenario)


def test_center_group_is_joined_by_the_wallboard(supervisor):
    async def scenario():
        comm, _ = await connect_as(supervisor, "/ws/wallboard/")
        await comm.receive_from(timeout=5)
        await send_group(CENTER_GROUP, {"type": "ticket.updated", "ticket_id": 0})
        assert 'id="wb-overdue"' in await comm.receive_from(timeout=5)
        await comm.disconnect()

    run(scenario)


def test_forms_pushed_over_the_socket_carry_a_token_the_csrf_check_accepts(agent, settings):
    import re

    settings.BRIDGE_COMMAND_TIMEOUT = 0.2
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)
    client.get("/agent/")  # sets the CSRF cookie
    secret = client.cookies[settings.CSRF_COOKIE_NAME].value
    key = client.cookies[settings.SESSION_COOKIE_NAME].value

    async def scenario():
        comm = communicator("/ws/agent/", key, csrf_secret=secret)
        assert (await comm.connect(timeout=5))[0]
        snapshot = await comm.receive_from(timeout=5)
        await comm.disconnect()
        return snapshot

    snapshot = async_to_sync(scenario)()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', snapshot).group(1)
    response = client.post("/agent/state/", {"state": "offline", "csrfmiddlewaretoken": token})
    assert response.status_code == 200  # a missing or wrong token would be 403


def _quiet_revisit(agent, dispatcher, yuhu, *, due: bool):
    """A phone revisit, made due (or not) quietly, as time passing would: no message about it."""
    from datetime import timedelta

    from django.utils import timezone

    from callback import revisits
    from callback.models import Revisit
    from tests.callback.conftest import revisit_pending_ticket

    revisit = revisits.schedule_revisit(revisit_pending_ticket(agent, dispatcher, yuhu), channel="phone")
    when = timezone.now() + timedelta(minutes=-1 if due else 1)
    Revisit.objects.filter(pk=revisit.pk).update(scheduled_for=when)
    return Revisit.objects.select_related("ticket").get(pk=revisit.pk)


def test_a_revisit_taken_by_another_agent_leaves_the_list_at_once(agent, agent2, dispatcher, yuhu, settings):
    from callback import revisits

    settings.CALLBACK_HOURS = "00:00-23:59"

    async def scenario():
        due = await sync_to_async(_quiet_revisit)(agent, dispatcher, yuhu, due=True)
        number = due.ticket.number
        comm, _ = await connect_as(agent2, "/ws/agent/")
        assert number in await comm.receive_from(timeout=5)
        await sync_to_async(revisits.claim_revisit)(due, agent)
        # Well before the console's one-minute clock: the claim's hint re-rendered the list.
        frame = await receive_until(comm, 'id="revisits"', timeout=3)
        assert number not in frame
        await comm.disconnect()

    run(scenario)


def test_a_revisit_falling_due_appears_by_the_clock(agent, agent2, dispatcher, yuhu, settings, monkeypatch):
    from django.utils import timezone

    from callback.models import Revisit
    from web.consumers import AgentConsumer

    settings.CALLBACK_HOURS = "00:00-23:59"
    monkeypatch.setattr(AgentConsumer, "revisit_clock", 0.3)

    async def scenario():
        later = await sync_to_async(_quiet_revisit)(agent, dispatcher, yuhu, due=False)
        number = later.ticket.number
        comm, _ = await connect_as(agent2, "/ws/agent/")
        assert number not in await comm.receive_from(timeout=5)
        await sync_to_async(Revisit.objects.filter(pk=later.pk).update)(scheduled_for=timezone.now())
        assert 'id="revisits"' in await receive_until(comm, number)
        await comm.disconnect()

    run(scenario)


def test_the_agent_state_panel_over_the_socket_keeps_its_reasons_and_shows_the_call(agent):
    from django.utils import timezone

    from telephony.models import Call
    from tests.factories import set_presence

    def paused_for_training() -> str:
        set_presence(agent, "paused", "training")
        return session_cookie(agent)

    async def scenario():
        comm = communicator("/ws/agent/", await sync_to_async(paused_for_training)())
        assert (await comm.connect(timeout=5))[0]
        snapshot = await comm.receive_from(timeout=5)
        state = snapshot.split('id="agent-state"')[1].split("</section>")[0]
        # The snapshot replaces the page's panel: its pause reasons must still be there to choose from.
        assert 'value="training"' in state and 'value="wrap-up"' in state and "badge-paused" in state
        assert "(培训)" in state or "(Training)" in state

        def answered() -> Call:
            return Call.objects.create(
                linkedid="1795770144.9", pbx_epoch=1, agent=agent, caller_number="13800138000",
                offered_at=timezone.now(), answered_at=timezone.now(),
            )  # fmt: skip

        await sync_to_async(answered)()
        await get_channel_layer().group_send(agent_group(agent.pk), {"type": "call.answered"})
        frame = await receive_until(comm, "badge-on_call")
        state = frame.split('id="agent-state"')[1].split("</section>")[0]
        assert "badge-on_call" in state and "(培训)" not in state and 'value="training"' in state
        await comm.disconnect()

    run(scenario)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda user: setattr(user, "unit", unit("YT")), id="unit"),
        pytest.param(lambda user: setattr(user, "role", Role.AGENT), id="role"),
        pytest.param(lambda user: setattr(user, "is_superuser", True), id="superuser"),
    ],
)
def test_a_unit_or_role_change_closes_every_socket_of_the_user(yuhu, change):
    """A handler moved to another unit must not keep receiving the old unit's pushes."""

    async def scenario():
        comm, _ = await connect_as(yuhu, "/ws/unit/")
        await comm.receive_from(timeout=5)

        def move():
            change(yuhu)
            yuhu.save()

        await sync_to_async(move)()
        assert await comm.receive_output(timeout=5) == {"type": "websocket.close", "code": 4001}

    run(scenario)


def test_saving_a_user_without_changing_unit_or_role_keeps_the_socket(yuhu):
    async def scenario():
        comm, _ = await connect_as(yuhu, "/ws/unit/")
        await comm.receive_from(timeout=5)

        def touch():
            yuhu.first_name = "小雨"
            yuhu.save()

        await sync_to_async(touch)()
        assert await comm.receive_nothing(timeout=1)
        await comm.disconnect()

    run(scenario)
