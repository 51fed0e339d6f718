"""A TCP server that plays recorded AMI sessions (telephony/traces/outage/) to a real client, one per connection.

The n-th connection gets the n-th recorded stream, byte for byte, except that:

* the answers to the recorded client's own actions (Login, CoreShowChannels, QueueStatus, found
  by their ActionIDs in NAME.actions.txt) wait until our client sends that action, and carry our
  client's ActionID;
* an action the recording did not answer (our client's first resync, Ping, Filter, Logoff) gets
  a plain answer: Success, or an empty event list;
* ``FullyBooted`` says the Uptime of the test's clock, so that a reconnect to the same PBX boot
  is seen as one (the recording's 35 s gap takes a moment here);
* the stream's last frames (the recorded Logoff's Goodbye) are left out. A stream marked
  ``close`` ends with EOF, the others stay open until the server stops.

With ``at_send`` a session holds the stream where the recorded client sent each action (its answer may
come after what the action caused); ``ours`` leaves the actions of other names to the recording (as if
another client had sent them), ``folder`` plays a call-control recording of TRACES_DIR, and ``gate``
holds the stream at an offset until the test sets an event.

Connections past the last stream are refused (closed at once), as a PBX that is down.
Bad input is injected with ``inject``: raw bytes sent right after the banner of a session.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from telephony.traces import TRACES_DIR

OUTAGE = TRACES_DIR / "outage"


@dataclass
class Session:
    stream: str  # e.g. "client_gap.part1"; "" = a refused connection (the PBX is down)
    cut: int | None = None  # stop the stream at this byte offset (frames wholly before it are sent)
    close: bool = False  # EOF after the last frame (the client dropped, or the PBX stopped)
    new_boot: bool = False  # the PBX restarted before this session
    inject: bytes = b""  # raw bytes right after the banner (garbage frames)
    tail: bytes = b""  # raw bytes after the last frame, before EOF (a truncated frame)
    linger: float = 0.0  # seconds the connection stays open after the last frame before a ``close``
    login_error: bool = False  # answer the Login with an error, then close
    before: list = field(default_factory=list)  # callables run when the connection is accepted
    # Hold the stream where the recorded client sent each of its actions (NAME.actions.txt offset=),
    # not only at the action's answer: what the action caused (often sent before its Response) then
    # comes after our client's action, as it did on the PBX.
    at_send: bool = False
    folder: Path = OUTAGE  # where the stream's files are (the call-control recordings are in TRACES_DIR)
    # The action names (lower case) our client sends in place of the recorded client; None: all of them.
    # The others go on as if another client had sent them (as the recordings' control session did).
    ours: frozenset[str] | None = None
    # Hold the stream at this byte offset until the event is set (the test's own step comes first).
    gate: tuple[int, asyncio.Event] | None = None


def _own_action_blocks(stream: str, folder: Path) -> list[tuple[str, str]]:
    """(ActionID, the block's text) of each of the recorded client's own actions in this stream, in order."""
    scenario = stream.split(".", 1)[0]
    text = (folder / f"{scenario}.actions.txt").read_text(encoding="utf-8")
    out = []
    for block in re.split(r"\n(?=#)|\n\n", text):
        action_id = re.search(r"^ActionID: (.*)$", block, re.MULTILINE)
        if action_id and action_id.group(1).startswith(f"{stream}-"):
            out.append((action_id.group(1), block))
    return out


def recorded_actions(stream: str, folder: Path = OUTAGE) -> dict[str, str]:
    """ActionID -> action name of the recorded client's own actions in this stream."""
    actions = {}
    for action_id, block in _own_action_blocks(stream, folder):
        name = re.search(r"^Action: (.*)$", block, re.MULTILINE)
        actions[action_id] = name.group(1) if name else ""
    return actions


def recorded_sends(stream: str, folder: Path = OUTAGE) -> list[tuple[int, str]]:
    """(bytes received so far, ActionID) of each of the recorded client's own actions, in order."""
    sends = []
    for action_id, block in _own_action_blocks(stream, folder):
        offset = re.search(r"offset=(\d+)\] SEND", block)
        if offset:
            sends.append((int(offset.group(1)), action_id))
    return sends


def frames(stream: str, folder: Path = OUTAGE) -> tuple[bytes, list[bytes]]:
    data = (folder / f"{stream}.ami").read_bytes()
    banner, _, rest = data.partition(b"\r\n")
    parts = [p + b"\r\n\r\n" for p in rest.split(b"\r\n\r\n") if p.strip()]
    return banner + b"\r\n", parts


_ACTION_ID = re.compile(rb"ActionID: ([^\r\n]*)")
_UPTIME = re.compile(rb"Uptime: \d+")


class RecordedPBX:
    def __init__(self, sessions: list[Session]) -> None:
        self.sessions = sessions
        self.connections = 0
        self.server: asyncio.base_events.Server | None = None
        self.done = [asyncio.Event() for _ in sessions]  # set once a session's frames are all sent
        self.refused = 0
        self.resynced = asyncio.Event()  # our client's resync of a session the recording did not resync
        self._boot = 0.0
        self._tasks: set[asyncio.Task] = set()
        self._writers: list[asyncio.StreamWriter] = []

    @property
    def port(self) -> int:
        assert self.server is not None
        return self.server.sockets[0].getsockname()[1]

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", 0)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
        for writer in self._writers:
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        index = self.connections
        self.connections += 1
        self._writers.append(writer)
        if index >= len(self.sessions) or not self.sessions[index].stream:
            self.refused += 1
            writer.close()
            return
        session = self.sessions[index]
        for hook in session.before:
            hook()
        try:
            await self._play(session, index, reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            if session.close or index < len(self.sessions) - 1:
                writer.close()
            self.done[index].set()

    async def _play(self, session: Session, index: int, reader: asyncio.StreamReader, w) -> None:
        banner, parts = frames(session.stream, session.folder)
        if session.cut is not None:
            kept, size = [], len(banner)
            for part in parts:
                size += len(part)
                if size > session.cut:
                    break
                kept.append(part)
            parts = kept
        own = recorded_actions(session.stream, session.folder)
        if session.ours is not None:
            own = {aid: name for aid, name in own.items() if name.lower() in session.ours}
        self.resynced.clear()
        hold = "queuestatus" not in {name.lower() for name in own.values()}
        # The recorded client's last action is its Logoff: its Goodbye is not ours to send.
        logoff = [aid for aid, name in own.items() if name.lower() == "logoff"]
        parts = [p for p in parts if not any(aid.encode() in p for aid in logoff)]
        requests: asyncio.Queue[str] = asyncio.Queue()
        mapped: dict[str, str] = {}
        sends = [
            (o, aid) for o, aid in recorded_sends(session.stream, session.folder) if aid in own and aid not in logoff
        ]
        sends = sends if session.at_send else []
        w.write(banner + session.inject)
        listener = asyncio.create_task(self._listen(reader, w, session, own, requests))
        offset = len(banner)
        try:
            for part in parts:
                match = _ACTION_ID.search(part)
                recorded = match.group(1).decode() if match else ""
                # The recorded client sent an action here: ours first. Not before the answer to one of
                # ours already sent: a client that waits for each answer (ours) sends the next one after it.
                while sends and sends[0][0] <= offset and recorded not in mapped:
                    mapped[sends.pop(0)[1]] = await requests.get()
                if session.gate is not None and session.gate[0] <= offset:
                    await session.gate[1].wait()
                offset += len(part)
                if recorded in own:
                    if recorded not in mapped:
                        mapped[recorded] = await requests.get()
                        if session.login_error and own[recorded].lower() == "login":
                            w.write(_response("Error", mapped[recorded], "Authentication failed"))
                            await w.drain()
                            return
                    part = part.replace(match.group(0), b"ActionID: " + mapped[recorded].encode())
                booted = part.startswith(b"Event: FullyBooted")
                if booted:
                    part = self._uptime(part, session)
                w.write(part)
                await w.drain()
                if booted and hold:
                    # Our client resyncs after login; the recorded one did not: let it, before the traffic.
                    await asyncio.wait_for(self.resynced.wait(), 15)
            w.write(session.tail)
            await w.drain()
            if session.linger:
                await asyncio.sleep(session.linger)
            self.done[index].set()
            if not session.close:
                await listener
        finally:
            listener.cancel()
            with contextlib.suppress(BaseException):
                await listener

    def _uptime(self, part: bytes, session: Session) -> bytes:
        recorded = int(_UPTIME.search(part).group(0).split(b" ")[1])
        if not self._boot or session.new_boot:
            self._boot = time.time() - recorded
        return _UPTIME.sub(f"Uptime: {int(time.time() - self._boot)}".encode(), part)

    async def _listen(self, reader, w, session: Session, own: dict[str, str], requests) -> None:
        """Our client's actions: the recorded ones wait for their recorded answer, the others are answered."""
        pending = {name.lower() for name in own.values()}
        buffer = b""
        while True:
            data = await reader.read(65536)
            if not data:
                return
            buffer += data
            *blocks, buffer = buffer.split(b"\r\n\r\n")
            for block in blocks:
                message = _action(block)
                name = message.get("action", "").lower()
                action_id = message.get("actionid", "")
                if name in pending:
                    pending.discard(name)
                    await requests.put(action_id)
                elif name == "coreshowchannels":
                    w.write(_empty_list(action_id, "CoreShowChannelsComplete"))
                elif name == "queuestatus":
                    w.write(_empty_list(action_id, "QueueStatusComplete"))
                    self.resynced.set()
                elif name == "logoff":
                    w.write(_response("Goodbye", action_id, "Thanks for all the fish."))
                elif name == "ping":
                    w.write(f"Response: Success\r\nActionID: {action_id}\r\nPing: Pong\r\n\r\n".encode())
                else:
                    w.write(_response("Success", action_id, "OK"))
                await w.drain()


def _action(block: bytes) -> dict[str, str]:
    fields = {}
    for line in block.decode("utf-8", "replace").split("\r\n"):
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip().lower()] = value.strip()
    return fields


def _response(status: str, action_id: str, text: str) -> bytes:
    return f"Response: {status}\r\nActionID: {action_id}\r\nMessage: {text}\r\n\r\n".encode()


def _empty_list(action_id: str, complete: str) -> bytes:
    return (
        f"Response: Success\r\nActionID: {action_id}\r\nEventList: start\r\nMessage: will follow\r\n\r\n"
        f"Event: {complete}\r\nActionID: {action_id}\r\nEventList: Complete\r\nListItems: 0\r\n\r\n"
    ).encode()


def queue_log_lines(scenario: str) -> list[tuple[int, bytes]]:
    """(time, raw line) of the scenario's queue_log."""
    out = []
    for raw in (OUTAGE / f"{scenario}.queue_log").read_bytes().splitlines(keepends=True):
        out.append((int(raw.split(b"|", 1)[0]), raw))
    return out
