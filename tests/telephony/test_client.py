"""The asyncio AMI client against the simulator and hostile fake servers, over real TCP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import pytest

from telephony.ami.client import AMIClient, ClientConfig
from telephony.ami.errors import ActionAborted, ActionFailed, LoginRefused, PongTimeout
from telephony.ami.protocol import AMIParser, Message
from telephony.simulator import PBXSimulator, SimulatorConfig

SECRET = "hotline-secret"


def client_for(port: int, **overrides) -> AMIClient:
    options = {"port": port, "username": "hotline", "secret": SECRET, "backoff_initial": 0.01, "backoff_max": 0.05}
    options.update(overrides)
    return AMIClient(ClientConfig(**options))


async def next_event(client: AMIClient, name: str) -> Message:
    while True:
        message, _ = await asyncio.wait_for(client.events.get(), 5)
        if message.name == name or message.kind == name:
            return message


def run(coro: Awaitable[None]) -> None:
    asyncio.run(asyncio.wait_for(coro, 20))


@contextlib.asynccontextmanager
async def simulator(**overrides):
    sim = PBXSimulator(SimulatorConfig(port=0, generate=False, **overrides))
    port = await sim.start()
    try:
        yield sim, port
    finally:
        await sim.close()


@contextlib.asynccontextmanager
async def running(client: AMIClient):
    stop = asyncio.Event()
    task = asyncio.create_task(client.run(stop))
    try:
        yield stop
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)


def test_login_fully_booted_actions_and_event_lists_against_the_simulator() -> None:
    async def scenario() -> None:
        async with simulator() as (_, port):
            client = client_for(port)
            async with running(client):
                marker = await next_event(client, "session")
                assert marker.first("Uptime").isdigit()
                added = await client.action("QueueAdd", {"Queue": "12345", "Interface": "Local/1001@agents"})
                assert added.first("Message") == "Added interface to queue"
                assert (await next_event(client, "QueueMemberAdded")).first("Interface") == "Local/1001@agents"
                response, items = await client.list_action("QueueStatus", {"Queue": "12345"})
                assert response.first("EventList") == "start"
                assert [i.name for i in items] == ["QueueParams", "QueueMember"]
                pong = await client.action("Ping")
                assert pong.first("Ping") == "Pong"
                with pytest.raises(ActionFailed):
                    await client.action("QueueRemove", {"Queue": "12345", "Interface": "Local/9@agents"})

    run(scenario())


def test_originate_response_event_reaches_the_queue_not_the_action() -> None:
    async def scenario() -> None:
        async with simulator() as (_, port):
            client = client_for(port)
            async with running(client):
                await next_event(client, "session")
                fields = {"Channel": "Local/1001@agents", "Context": "callback", "Exten": "13800138000"}
                response = await client.action("Originate", {**fields, "Async": True})
                assert response.first("Message") == "Originate successfully queued"
                event = await next_event(client, "OriginateResponse")
                assert event.kind == "event" and event.first("ActionID") == response.action_id

    run(scenario())


def test_wrong_secret_is_a_clear_error_with_growing_backoff() -> None:
    async def scenario() -> None:
        async with simulator() as (_, port):
            client = client_for(port, secret="wrong", backoff_initial=0.01, backoff_max=1.0)
            attempts = 0
            original = client._session

            async def counting(stop: asyncio.Event) -> bool:
                nonlocal attempts
                attempts += 1
                if attempts == 3:
                    stop.set()
                return await original(stop)

            client._session = counting  # type: ignore[method-assign]
            await client.run(asyncio.Event())
            assert isinstance(client.last_error, LoginRefused)
            assert "Authentication failed" in str(client.last_error)
            assert client.sessions == 0 and attempts == 3

    run(scenario())


def test_secret_is_never_logged(caplog) -> None:
    caplog.set_level("DEBUG")

    async def scenario() -> None:
        async with simulator() as (_, port):
            client = client_for(port, secret="wrong")
            stop = asyncio.Event()
            task = asyncio.create_task(client.run(stop))
            while client.last_error is None:
                await asyncio.sleep(0.01)
            stop.set()
            await task

    run(scenario())
    assert "wrong" not in caplog.text and "LoginRefused" not in repr(AMIClient)
    assert "login refused" in caplog.text


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, int], Awaitable[None]]


@contextlib.asynccontextmanager
async def fake_server(handler: Handler):
    """A scripted AMI server; ``handler`` gets the connection number (1, 2, …)."""
    connections = 0

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        writer.write(b"Asterisk Call Manager/11.0.0\r\n")
        with contextlib.suppress(ConnectionError):
            await handler(reader, writer, connections)
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


async def read_action(reader: asyncio.StreamReader) -> Message:
    parser = AMIParser(actions=True)
    data = await reader.readuntil(b"\r\n\r\n")
    (message,) = parser.feed(data)
    return message


async def accept_login(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    login = await read_action(reader)
    writer.write(
        f"Response: Success\r\nActionID: {login.action_id}\r\nMessage: Authentication accepted\r\n\r\n".encode()
    )
    writer.write(b"Event: FullyBooted\r\nPrivilege: system,all\r\nUptime: 5\r\nStatus: Fully Booted\r\n\r\n")


def test_originate_is_failed_not_resent_when_the_connection_drops() -> None:
    received: list[str] = []

    async def handler(reader, writer, connection: int) -> None:
        await accept_login(reader, writer)
        while True:
            action = await read_action(reader)
            received.append(action.name)
            if action.name == "Originate":
                writer.close()  # Asterisk may or may not have dialled: we cannot know.
                return

    async def scenario() -> None:
        async with fake_server(handler) as port:
            client = client_for(port)
            async with running(client):
                await next_event(client, "session")
                with pytest.raises(ActionAborted):
                    await client.action("Originate", {"Channel": "Local/1001@agents", "Exten": "13800138000"})
                await next_event(client, "session")  # reconnected
                await asyncio.sleep(0.05)
        assert received.count("Originate") == 1

    run(scenario())


def test_missing_pong_drops_the_connection_and_reconnects() -> None:
    async def handler(reader, writer, connection: int) -> None:
        await accept_login(reader, writer)
        while True:
            await read_action(reader)  # swallow Ping, never answer

    async def scenario() -> None:
        async with fake_server(handler) as port:
            client = client_for(port, ping_interval=0.05, pong_timeout=0.05)
            async with running(client):
                await next_event(client, "session")
                second = await next_event(client, "session")
                assert second.first("Session") == "2"
                assert isinstance(client.last_error, PongTimeout)

    run(scenario())


def test_socket_closed_mid_frame_then_clean_stream_after_reconnect() -> None:
    async def handler(reader, writer, connection: int) -> None:
        await accept_login(reader, writer)
        if connection == 1:
            writer.write("Event: QueueCallerJoin\r\nCallerIDName: 王".encode()[:-1])
            await writer.drain()
            return
        writer.write("Event: Hangup\r\nCallerIDName: 李女士\r\n\r\n".encode())
        await asyncio.sleep(5)

    async def scenario() -> None:
        async with fake_server(handler) as port:
            client = client_for(port)
            async with running(client):
                # The first connection may die before its session marker; the Hangup proves the reconnect.
                hangup = await next_event(client, "Hangup")
                assert hangup.first("CallerIDName") == "李女士"
                assert client.parse_errors == 0

    run(scenario())


def test_garbage_frame_is_counted_and_skipped() -> None:
    async def handler(reader, writer, connection: int) -> None:
        await accept_login(reader, writer)
        writer.write(b"\xff\xfe\x00garbage\r\n\r\nEvent: Newstate\r\n\r\n")
        await asyncio.sleep(5)

    async def scenario() -> None:
        async with fake_server(handler) as port:
            client = client_for(port)
            async with running(client):
                await next_event(client, "Newstate")
                assert client.parse_errors == 1

    run(scenario())
