"""Asyncio AMI connection manager: login, keep-alive, reconnect, ActionID matching.

One reader task per connection feeds the sans-IO parser and routes each message:
responses and event-list items to the future waiting on their ActionID, every other
event to a bounded queue read by the (slower) consumer. Rules that matter:

* The secret is sent once per login and never logged (not even at DEBUG).
* Pending actions fail with :class:`ActionAborted` when the connection drops; they
  are never re-sent, because Asterisk may already have run them (an Originate would
  dial the citizen twice).
* A Ping that gets no answer in ``pong_timeout`` closes the connection.
* Reconnect with exponential backoff; a refused login backs off too (no tight loop).
* After login we wait for ``FullyBooted`` and push a ``session`` marker (with the
  PBX ``Uptime``) into the event queue so the consumer resyncs in order.
* Queue full: the reader waits up to ``stall_timeout`` for room, then drops the
  connection (``consumer too slow``); the reconnect's resync repairs the state.
  Memory stays bounded and no event is silently skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

from telephony.ami.errors import (
    ActionAborted,
    ActionFailed,
    ActionTimeout,
    ConnectionLost,
    InvalidAction,
    LoginRefused,
    NotConnected,
    PongTimeout,
)
from telephony.ami.protocol import AMIParser, Message, ParseError, serialize_action

log = logging.getLogger(__name__)

# Actions that change calls: never retried, never re-sent after a reconnect.
UNSAFE_ACTIONS = frozenset({"originate", "redirect", "blindtransfer", "hangup", "atxfer"})


@dataclass
class _Pending:
    action: str
    future: asyncio.Future[tuple[Message, list[Message]]]
    is_list: bool
    response: Message | None = None
    items: list[Message] = field(default_factory=list)


@dataclass(frozen=True)
class ClientConfig:
    host: str = "127.0.0.1"
    port: int = 5038
    username: str = ""
    secret: str = field(default="", repr=False)
    ping_interval: float = 20.0
    pong_timeout: float = 5.0
    action_timeout: float = 10.0
    connect_timeout: float = 5.0
    fully_booted_timeout: float = 30.0
    backoff_initial: float = 0.5
    backoff_max: float = 3.0  # a loopback/LAN PBX is back in seconds; the bridge is blind while it waits
    queue_size: int = 10_000
    stall_timeout: float = 5.0
    # Server-side filter (Asterisk >= 12 `Filter` action), sent after login; empty = none.
    event_filters: tuple[str, ...] = ()


class AMIClient:
    def __init__(self, config: ClientConfig) -> None:
        self.config = config
        self.events: asyncio.Queue[tuple[Message, float]] = asyncio.Queue(maxsize=config.queue_size)
        self.parse_errors = 0
        self.sessions = 0
        self.connected = asyncio.Event()
        self.last_error: BaseException | None = None
        self.retry_waits: deque[float] = deque(maxlen=16)  # the last waits before a reconnect, for the curious
        self._writer: asyncio.StreamWriter | None = None
        self._pending: dict[str, _Pending] = {}
        self._ids = itertools.count(1)
        self._prefix = f"lx{random.randrange(16**6):06x}"
        self._lost: asyncio.Future[None] | None = None

    def __repr__(self) -> str:
        return f"<AMIClient {self.config.username}@{self.config.host}:{self.config.port}>"

    # --- actions --------------------------------------------------------------------

    def new_action_id(self) -> str:
        """A fresh ActionID, for a caller that must know it before the action is sent (Originate)."""
        return f"{self._prefix}-{next(self._ids)}"

    async def action(
        self,
        name: str,
        fields: Mapping[str, object] | None = None,
        *,
        timeout: float | None = None,
        action_id: str | None = None,
    ) -> Message:
        """Send one action and return its response; ``ActionFailed`` on ``Response: Error``."""
        response, _ = await self._send(name, fields, is_list=False, timeout=timeout, action_id=action_id)
        return response

    async def list_action(
        self, name: str, fields: Mapping[str, object] | None = None, *, timeout: float | None = None
    ) -> tuple[Message, list[Message]]:
        """Send an action answered by an event list (``EventList: start`` … ``Complete``)."""
        return await self._send(name, fields, is_list=True, timeout=timeout)

    async def _send(
        self,
        name: str,
        fields: Mapping[str, object] | None,
        *,
        is_list: bool,
        timeout: float | None,
        action_id: str | None = None,
    ) -> tuple[Message, list[Message]]:
        timeout = self.config.action_timeout if timeout is None else timeout
        try:
            await asyncio.wait_for(self.connected.wait(), timeout)
        except TimeoutError:
            raise NotConnected(f"{name}: not connected to Asterisk") from None
        return await self._send_now(name, fields, is_list=is_list, timeout=timeout, action_id=action_id)

    async def _send_now(
        self,
        name: str,
        fields: Mapping[str, object] | None,
        *,
        is_list: bool,
        timeout: float,
        action_id: str | None = None,
    ) -> tuple[Message, list[Message]]:
        writer = self._writer
        if writer is None:
            raise NotConnected(f"{name}: not connected to Asterisk")
        action_id = action_id or self.new_action_id()
        if action_id in self._pending:
            raise InvalidAction(f"{name}: ActionID {action_id} is already waiting for an answer")
        data = serialize_action(name, fields, action_id=action_id)
        future: asyncio.Future[tuple[Message, list[Message]]] = asyncio.get_running_loop().create_future()
        self._pending[action_id] = _Pending(name, future, is_list)
        try:
            writer.write(data)
            await writer.drain()
            return await asyncio.wait_for(asyncio.shield(future), timeout)
        except TimeoutError:
            raise ActionTimeout(f"{name} ({action_id}): no answer in {timeout:g} s") from None
        except (ConnectionError, OSError) as exc:
            raise ActionAborted(f"{name} ({action_id}): connection lost while sending") from exc
        finally:
            self._pending.pop(action_id, None)

    # --- connection loop -----------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Stay connected until ``stop`` is set."""
        delay = self.config.backoff_initial
        while not stop.is_set():
            logged_in = False
            try:
                logged_in = await self._session(stop)
            except LoginRefused as exc:
                self.last_error = exc
                log.error("AMI login refused for user %r: %s (retrying in %.1f s)", self.config.username, exc, delay)
            except (OSError, ConnectionLost, TimeoutError, ActionTimeout) as exc:
                self.last_error = exc
                log.warning("AMI connection to %s:%s failed: %r", self.config.host, self.config.port, exc)
            if stop.is_set():
                break
            if logged_in:
                delay = self.config.backoff_initial
            # Jitter so that several bridges do not hammer a restarting PBX in step.
            wait = min(delay * random.uniform(0.8, 1.2), self.config.backoff_max)
            self.retry_waits.append(wait)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), wait)
            delay = min(delay * 2, self.config.backoff_max)

    async def _session(self, stop: asyncio.Event) -> bool:
        cfg = self.config
        reader, writer = await asyncio.wait_for(asyncio.open_connection(cfg.host, cfg.port), cfg.connect_timeout)
        parser = AMIParser()
        self._writer = writer
        self._lost = asyncio.get_running_loop().create_future()
        booted: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        reader_task = asyncio.create_task(self._read(reader, parser, booted), name="ami-reader")
        logged_in = False
        try:
            login = await self._send_now(
                "Login",
                {"Username": cfg.username, "Secret": cfg.secret, "Events": "on"},
                is_list=False,
                timeout=cfg.action_timeout,
            )
            del login
            logged_in = True
            fully_booted = await self._until_lost(asyncio.wait_for(asyncio.shield(booted), cfg.fully_booted_timeout))
            for expression in cfg.event_filters:
                await self._send_now(
                    "Filter", {"Operation": "Add", "Filter": expression}, is_list=False, timeout=cfg.action_timeout
                )
            self.sessions += 1
            uptime = fully_booted.first("Uptime")
            marker = Message("session", {"Uptime": uptime, "Session": str(self.sessions)})
            await self.events.put((marker, time.time()))
            self.connected.set()
            log.info("AMI connected to %s:%s (PBX uptime %s s)", cfg.host, cfg.port, uptime or "?")
            await self._keepalive(stop)
        except LoginRefused:
            raise
        except ActionFailed as exc:
            if not logged_in:
                raise LoginRefused(
                    exc.response.first("Message") if isinstance(exc.response, Message) else str(exc)
                ) from None
            raise
        finally:
            self.connected.clear()
            self._writer = None
            reader_task.cancel()
            with contextlib.suppress(BaseException):
                await reader_task
            self._abort_pending()
            if stop.is_set():
                with contextlib.suppress(Exception):
                    writer.write(serialize_action("Logoff", action_id=f"{self._prefix}-bye"))
                    await asyncio.wait_for(writer.drain(), 1)
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 1)
        return logged_in

    def _session_lost(self) -> asyncio.Future[None]:
        """The future the reader fails when this session's connection drops (set up by ``_session``)."""
        if self._lost is None:
            raise ConnectionLost("no AMI session")
        return self._lost

    async def _until_lost(self, awaitable):
        """Await something, but fail at once if the connection drops meanwhile."""
        lost = self._session_lost()
        task = asyncio.ensure_future(awaitable)
        done, _ = await asyncio.wait({task, lost}, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            return task.result()
        task.cancel()
        lost.result()  # raises the reason
        raise ConnectionLost("connection lost")

    async def _keepalive(self, stop: asyncio.Event) -> None:
        cfg = self.config
        lost = self._session_lost()
        stop_task = asyncio.ensure_future(stop.wait())
        try:
            while True:
                done, _ = await asyncio.wait(
                    {stop_task, lost}, timeout=cfg.ping_interval, return_when=asyncio.FIRST_COMPLETED
                )
                if stop_task in done:
                    return
                if lost in done:
                    lost.result()
                    raise ConnectionLost("connection closed")
                try:
                    await self._until_lost(self._send_now("Ping", None, is_list=False, timeout=cfg.pong_timeout))
                except ActionTimeout:
                    raise PongTimeout(f"no Pong within {cfg.pong_timeout:g} s") from None
        finally:
            stop_task.cancel()

    async def _read(self, reader: asyncio.StreamReader, parser: AMIParser, booted: asyncio.Future[Message]) -> None:
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    raise ConnectionLost("connection closed by Asterisk" + (" mid-frame" if parser.buffered else ""))
                now = time.time()
                for message in parser.feed(data):
                    # Routing is synchronous; only a full event queue makes the reader wait.
                    if self._route(message, now, booted):
                        await self._put_waiting(message, now)
        except BaseException as exc:
            if self._lost is not None and not self._lost.done():
                if isinstance(exc, asyncio.CancelledError):
                    self._lost.set_exception(ConnectionLost("reader stopped"))
                else:
                    self._lost.set_exception(exc if isinstance(exc, ConnectionLost) else ConnectionLost(repr(exc)))
                self._lost.exception()  # mark retrieved: nobody may be waiting
                if not isinstance(exc, asyncio.CancelledError):
                    # Nothing can answer them now: fail them at once (a Login would wait its whole timeout).
                    self._abort_pending()
            if isinstance(exc, asyncio.CancelledError):
                raise

    def _route(self, message: Message | ParseError, now: float, booted: asyncio.Future[Message]) -> bool:
        """Hand a message to its waiting action or to the event queue; True if the queue is full."""
        kind = message.kind
        if kind == "event" and not self._pending and message.name != "FullyBooted":
            # Nearly every message of a busy hour: an event while no action waits for an answer.
            try:
                self.events.put_nowait((message, now))
            except asyncio.QueueFull:
                return True
            return False
        if isinstance(message, ParseError):
            self.parse_errors += 1
            log.warning(
                "skipped a malformed AMI frame: %s (%d bytes) %r", message.reason, message.size, message.sample[:40]
            )
            return False
        if kind == "banner":
            return False
        action_id = message.first("ActionID")
        pending = self._pending.get(action_id) if action_id else None
        if kind == "response":
            if pending is None or pending.future.done():
                return False
            status = message.first("Response")
            if status not in ("Success", "Goodbye", "Follows"):
                error: Exception = ActionFailed(f"{pending.action}: {message.first('Message') or status}", message)
                if pending.action == "Login":
                    error = LoginRefused(message.first("Message") or "authentication failed")
                pending.future.set_exception(error)
            elif pending.is_list and message.first("EventList").lower() == "start":
                pending.response = message
            else:
                pending.future.set_result((message, []))
            return False
        # An event. List items carry the ActionID of their list; OriginateResponse carries the
        # ActionID of an Originate that is already answered, so it falls through to the queue.
        if pending is not None and pending.is_list and pending.response is not None:
            if message.first("EventList").lower() == "complete":
                if not pending.future.done():
                    pending.future.set_result((pending.response, pending.items))
            else:
                pending.items.append(message)
            return False
        if message.name == "FullyBooted" and not booted.done():
            booted.set_result(message)
        try:
            self.events.put_nowait((message, now))
        except asyncio.QueueFull:
            return True
        return False

    async def _put_waiting(self, message: Message, now: float) -> None:
        """The consumer is behind: wait for room, at most stall_timeout, then give up the connection."""
        try:
            async with asyncio.timeout(self.config.stall_timeout):  # no extra task per event, unlike wait_for
                await self.events.put((message, now))
        except TimeoutError:
            raise ConnectionLost(f"consumer too slow: {self.events.qsize()} events waiting") from None

    def _abort_pending(self) -> None:
        for action_id, pending in list(self._pending.items()):
            if not pending.future.done():
                pending.future.set_exception(
                    ActionAborted(f"{pending.action} ({action_id}): connection lost before the answer; not re-sent")
                )
                pending.future.exception()
        self._pending.clear()
