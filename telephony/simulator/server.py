"""The simulator's AMI server: sessions, login, the actions a client sends, and the traffic it broadcasts.

Actions answer with the responses and events a real Asterisk 22 sends (copied from the
recordings). Actions are read as actions (``AMIParser(actions=True)``), so a TCP read that
splits a frame anywhere, even inside ``Action:``, changes nothing.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import random
import time

from telephony.ami.protocol import AMIParser, Message
from telephony.simulator import frames, traffic
from telephony.simulator.config import SimulatorConfig
from telephony.simulator.frames import Frames
from telephony.simulator.replay import FreshIds, Template, load_templates, render

log = logging.getLogger(__name__)

_YES = ("true", "1", "yes")
_ACKNOWLEDGED = {"redirect": "Redirect successful", "blindtransfer": "Transfer succeeded", "hangup": "Channel Hungup"}


class PBXSimulator:
    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self.templates = load_templates(config.traces_dir)
        self.ids = FreshIds()
        self.boot = int(time.time())
        self._sessions: set[asyncio.StreamWriter] = set()
        self.members: dict[str, dict[str, str]] = {}  # interface -> {MemberName, Paused, PausedReason, Queue}
        self.server: asyncio.AbstractServer | None = None
        # The last actions received, lower-cased name first: what a test (or a curious operator) can inspect.
        self.received: collections.deque[tuple[str, Message]] = collections.deque(maxlen=1000)
        self._playing: set[asyncio.Task[None]] = set()  # survey calls started by an Originate

    # --- call traffic -------------------------------------------------------------------

    def render(self, template: Template, *, number: str, name: str, agent: str) -> Frames:
        return render(template, self.ids, number=number, name=name, agent=agent, speed=self.config.speed)

    def new_call(self, scenario: str) -> Frames:
        """One call of ``scenario`` from a new caller, rung to a ready member (or a configured agent)."""
        number, name = traffic.caller(self.rng)
        interfaces = [i for i, m in self.members.items() if m.get("Paused") != "1"] or [
            f"Local/{a}@agents" for a in self.config.agents
        ]
        agent = self.rng.choice(interfaces).split("/")[1].split("@")[0]
        call = self.render(self.templates[scenario], number=number, name=name, agent=agent)
        return traffic.pace(call, scenario, self.rng, self.config)

    async def play(self, call: Frames) -> None:
        start = time.monotonic()
        for at, text in call:
            delay = at - (time.monotonic() - start)
            if delay > 0:
                await asyncio.sleep(delay)
            self.broadcast(text)

    async def generate(self, stop: asyncio.Event, *, drain: bool = False) -> None:
        """Start calls until ``stop``; then cancel those in flight, or let them finish if ``drain``."""
        tasks: set[asyncio.Task[None]] = set()
        async for scenario in traffic.arrivals(self.config, self.rng, stop):
            task = asyncio.create_task(self.play(self.new_call(scenario)))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if drain:
            await asyncio.gather(*tasks, return_exceptions=True)
        for task in tasks:
            task.cancel()

    def broadcast(self, text: str) -> None:
        data = text.encode() + b"\r\n\r\n"
        for writer in list(self._sessions):
            if writer.is_closing():
                self._sessions.discard(writer)
            else:
                writer.write(data)

    # --- AMI server ---------------------------------------------------------------------

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._serve, self.config.host, self.config.port)
        return self.server.sockets[0].getsockname()[1]

    async def run(self, stop: asyncio.Event) -> None:
        port = await self.start()
        log.info("PBX simulator speaking AMI on %s:%s", self.config.host, port)
        try:
            if self.config.generate:
                await self.generate(stop)
            else:
                await stop.wait()
        finally:
            await self.close()

    async def close(self) -> None:
        for task in list(self._playing):
            task.cancel()
        if self.server is not None:
            self.server.close()
        for writer in list(self._sessions):
            writer.close()
        self._sessions.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(frames.BANNER)
        parser = AMIParser(actions=True)
        authed = False
        try:
            while data := await reader.read(65536):
                for message in parser.feed(data):
                    if not isinstance(message, Message):
                        continue  # not an action: skipped, the session reads on
                    action, aid = message.name.lower(), message.action_id
                    if action == "login":
                        if not self._login(writer, message):
                            await writer.drain()
                            writer.close()
                            return
                        authed = True
                    elif not authed:
                        writer.write(frames.response("Error", aid, Message="Permission denied"))
                    elif self._action(writer, action, aid, message) == "bye":
                        await writer.drain()
                        writer.close()
                        return
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self._sessions.discard(writer)

    def _login(self, w: asyncio.StreamWriter, m: Message) -> bool:
        aid = m.action_id
        if m.first("Username") != self.config.username or m.first("Secret") != self.config.secret:
            w.write(frames.response("Error", aid, Message="Authentication failed"))
            return False
        w.write(frames.response("Success", aid, Message="Authentication accepted"))
        uptime = int(time.time()) - self.boot
        w.write(
            frames.event("FullyBooted", Privilege="system,all", Uptime=uptime, LastReload=uptime, Status="Fully Booted")
        )
        self._sessions.add(w)
        return True

    def _action(self, w: asyncio.StreamWriter, action: str, aid: str, m: Message) -> str | None:
        self.received.append((action, m))
        q, iface = m.first("Queue"), m.first("Interface")
        if action == "logoff":
            w.write(frames.response("Goodbye", aid, Message="Thanks for all the fish."))
            return "bye"
        if action == "ping":
            w.write(frames.response("Success", aid, Ping="Pong", Timestamp=f"{time.time():.6f}"))
        elif action == "events":
            w.write(frames.response("Success", aid, Events="On"))
        elif action == "filter":
            w.write(frames.response("Success", aid, Message="Filter Added Successfully"))
        elif action == "queueadd":
            self.members[iface] = {
                "MemberName": m.first("MemberName") or iface,
                "Paused": "1" if m.first("Paused").lower() in _YES else "0",
                "PausedReason": m.first("Reason"),
                "Queue": q,
            }
            w.write(frames.response("Success", aid, Message="Added interface to queue"))
            self.broadcast(frames.member_event_text("QueueMemberAdded", q, iface, self.members[iface]))
        elif action == "queueremove":
            member = self.members.pop(iface, None)
            if member is None:
                w.write(frames.response("Error", aid, Message="Unable to remove interface: Not there"))
            else:
                w.write(frames.response("Success", aid, Message="Removed interface from queue"))
                self.broadcast(frames.member_event_text("QueueMemberRemoved", q, iface, member))
        elif action == "queuepause":
            member = self.members.get(iface)
            if member is None:
                w.write(frames.response("Error", aid, Message="Interface not found"))
            else:
                paused = m.first("Paused").lower() in _YES
                member.update(Paused="1" if paused else "0", PausedReason=m.first("Reason") if paused else "")
                message = f"Interface {'paused' if paused else 'unpaused'} successfully"
                w.write(frames.response("Success", aid, Message=message))
                self.broadcast(frames.member_event_text("QueueMemberPause", q or member["Queue"], iface, member))
        elif action in ("queuestatus", "queuesummary", "coreshowchannels"):
            w.write(frames.list_answer(action, aid, q, self.members, self.boot))
        elif action == "originate":
            w.write(frames.response("Success", aid, Message="Originate successfully queued"))
            self._originate(aid, m)
        elif action in _ACKNOWLEDGED:
            w.write(frames.response("Success", aid, Message=_ACKNOWLEDGED[action]))
        else:
            w.write(frames.response("Error", aid, Message="Invalid/unknown command"))
        return None

    def _originate(self, aid: str, m: Message) -> None:
        """Async: the outcome comes later as an OriginateResponse *event* with the same ActionID."""
        cfg = self.config
        if m.first("Context") == cfg.survey_context:
            survey = frames.survey_call(
                m, self.ids, speed=cfg.speed, variable=cfg.survey_variable, digit=cfg.survey_digit
            )
            task = asyncio.create_task(self.play(survey))
            self._playing.add(task)
            task.add_done_callback(self._playing.discard)
            return
        channel = f"{m.first('Channel')}-{self.ids.local_seq()};1"
        self.broadcast(
            frames.originate_response(
                aid, channel, m.first("Context"), m.first("Exten"), self.ids.uniqueid(), "12345", "12345 callback"
            )
        )
