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
import re
import time
from dataclasses import dataclass, field

from telephony.ami.protocol import AMIParser, Message
from telephony.simulator import controls as recorded_controls
from telephony.simulator import frames, traffic
from telephony.simulator.config import SimulatorConfig
from telephony.simulator.frames import Frames
from telephony.simulator.recorder import Recorder, snapshot
from telephony.simulator.replay import UNIT_NUMBER, CallIds, FreshIds, Template, load_model, load_templates, render

log = logging.getLogger(__name__)

_YES = ("true", "1", "yes")
_ACKNOWLEDGED = {"redirect": "Redirect successful", "blindtransfer": "Transfer succeeded"}
# The queue of the recordings (telephony/traces/), its name in Queue: fields and the Queue() AppData.
TEMPLATE_QUEUE = "12345"
_RECORDED_QUEUE = re.compile(rf"(?m)^(Queue: |AppData: ){TEMPLATE_QUEUE}(?=\r|,|$)")
RECORDED_TALK = 3.0  # seconds, the recordings' conversation when no talk range is configured


@dataclass(eq=False)
class QueuedCall:
    """A caller in (or served from) the queue, from QueueCallerJoin to the last Hangup."""

    ids: CallIds
    number: str
    name: str
    position: int
    joined: float
    assigned: asyncio.Future[str]
    done: asyncio.Event = field(default_factory=asyncio.Event)  # hung up or transferred by an action
    how: str = "end"  # end | redirect | blind | lost | threeway | threeway_busy
    room: asyncio.Task[None] | None = None  # the three-way room's frames being played
    lost_target: tuple[str, str] = ("", "")  # where a Redirect sent the caller that the dialplan lacks
    variables: dict[str, str] = field(default_factory=dict)  # set on the agent's channel with Setvar
    interface: str = ""
    caller_channel: str = ""
    agent_channel: str = ""
    entry: dict[str, str] = field(default_factory=dict)  # what QueueStatus lists while it waits
    queue: str = ""  # the queue it waits in now: its desk, then the general one after an overflow
    # Call controls (simulator/controls.py): their segments playing, the number consulted (answered or
    # not yet), the number blind-transferred to, and whether the call was held (its end is the hold's).
    controls: list[asyncio.Task[None]] = field(default_factory=list)
    consulting: str = ""
    consult_answered: bool = False
    transfer_number: str = ""
    was_held: bool = False


class PBXSimulator:
    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self.templates = load_templates(config.traces_dir)
        self.ids = FreshIds()
        self.boot = int(time.time())
        self._sessions: set[asyncio.StreamWriter] = set()
        self.members: dict[str, dict[str, str]] = {}  # interface -> {MemberName, Paused, PausedReason, Queue}
        # The queues (desks) each member is in, with its penalty there: interface -> {queue: penalty}.
        self.member_queues: dict[str, dict[str, int]] = {}
        self.server: asyncio.AbstractServer | None = None
        # The last actions received, lower-cased name first: what a test (or a curious operator) can inspect.
        self.received: collections.deque[tuple[str, Message]] = collections.deque(maxlen=1000)
        self._playing: set[asyncio.Task[None]] = set()  # calls in flight (generated, or a survey Originate)
        # The queue: callers waiting in order, the member each live call holds, the live calls by
        # channel (for Hangup/Redirect/BlindTransfer), and each member's wrap-up and last call.
        self.model = load_model(config.traces_dir)
        self.controls = recorded_controls.load_controls(self.model.template, config.traces_dir)
        self.waiting: list[QueuedCall] = []
        self.busy: dict[str, QueuedCall] = {}
        self.live: dict[str, QueuedCall] = {}
        self.wrapup_until: dict[str, float] = {}
        self.last_call: dict[str, float] = {}
        self.calls_taken: dict[str, int] = {}
        self.recorder = (
            Recorder(config.recordings_dir, config.monitor_dir, config.speed) if config.recordings_dir else None
        )
        for agent in config.agents:  # members the PBX has at boot (persistentmembers), ready
            self.members[f"Local/{agent}@agents"] = {
                "MemberName": agent,
                "Paused": "0",
                "PausedReason": "",
                "Queue": config.queue,
            }
            self.member_queues[f"Local/{agent}@agents"] = {config.queue: 0}

    # --- call traffic -------------------------------------------------------------------

    def render(self, template: Template, *, number: str, name: str, agent: str) -> Frames:
        return render(template, self.ids, number=number, name=name, agent=agent, speed=self.config.speed)

    def new_call(self, scenario: str) -> Frames:
        """One recorded call of ``scenario`` from a new caller, replayed as recorded (no queue decides).

        Its agent is a ready member's, else the first configured one: for tests that need one
        known call; generated traffic goes through the queue (``arrive``).
        """
        number, name = traffic.caller(self.rng)
        interfaces = [i for i, m in self.members.items() if m.get("Paused") != "1"]
        agent = _extension(interfaces[0]) if interfaces else (self.config.agents or ("1001",))[0]
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
            task = asyncio.create_task(self.arrive(scenario))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if drain:
            await asyncio.gather(*tasks, return_exceptions=True)
        for task in tasks:
            task.cancel()

    async def arrive(self, scenario: str) -> None:
        """A new caller: an IVR call to 110 never reaches the queue; every other caller queues."""
        if scenario == "ivr_110":
            await self.play(self.new_call("ivr_110"))
            return
        # The share of callers who press a desk's key (or whose history sends them there).
        desk = ""
        draw = self.rng.random()
        for queue, share in self.config.desks.items():
            if draw < share:
                desk = queue
                break
            draw -= share
        await self.queue_call(queue=desk)

    # --- the queue: one call per member, ready members only, wrap-up, patience -----------------

    async def queue_call(self, number: str = "", name: str = "", *, queue: str = "") -> QueuedCall:
        """A caller joins a queue, waits for a free member or gives up, and is served to the end.

        ``queue``: the desk (专席) the IVR or the caller's history chose; "" = the general queue
        (``config.queue``). At a desk, as the dialplan does it (docs/asterisk/extensions.conf): the
        caller is marked HOTLINE_OVERFLOW, turned away at once (JOINEMPTY) when no member of the desk
        is logged in and unpaused, and goes on to the general queue after ``desk_wait`` seconds.

        A member is free when it is in the queue, not paused, on no call and past its wrap-up
        (``wrapup``, Asterisk's queue ``wrapuptime``); the lowest penalty is rung first. The caller
        waits at most its patience (``patience``; none = until the queue's ``timeout``). The
        conversation lasts ``talk`` unless an AMI Hangup, Redirect or BlindTransfer ends it first.
        """
        cfg, model = self.config, self.model
        if not number:
            number, name = traffic.caller(self.rng)
        desk = queue if queue and queue != cfg.queue else ""
        loop = asyncio.get_running_loop()
        call = QueuedCall(
            CallIds(self.ids), number, name or number, 0, 0.0, loop.create_future(), queue=desk or cfg.queue
        )
        count = str(self._count(call.queue) + 1)
        arriving = self._out(call, model.arrive, QueueCallerJoin={"Position": count, "Count": count})
        at_join = next(i for i, (_, t) in enumerate(arriving) if t.startswith("Event: QueueCallerJoin\r\n"))
        join = arriving[at_join][1]
        if self.recorder is not None:
            # MixMonitor runs in the dialplan before Queue() (and before a desk's wait): its frames
            # come right before the join.
            at = arriving[at_join][0]
            started = self.recorder.start(_field(join, "Linkedid"), snapshot(join), _field(join, "Channel"))
            arriving[at_join:at_join] = [(at, text) for text in started]
            at_join += len(started)
        keys = ("Channel", "Uniqueid", "CallerIDNum", "CallerIDName", "ConnectedLineNum", "ConnectedLineName")
        call.entry = {k: _field(join, k) for k in keys}
        patience = self.rng.uniform(*cfg.patience) if cfg.patience else cfg.queue_timeout
        started = time.monotonic()
        if desk:
            before, after = arriving[:at_join], arriving[at_join:]
            marker = (before[-1][0] if before else 0.0, _varset(join, "HOTLINE_OVERFLOW", cfg.queue))
            if not self._staffed(desk):
                # joinempty: nobody at the desk, the caller never joins it and goes straight on.
                await self.play([*before, marker, (marker[0], _varset(join, "QUEUESTATUS", "JOINEMPTY"))])
                await self._overflow(call, join)
            else:
                await self.play([*before, marker, *after])
                if not await self._wait(call, min(patience, cfg.desk_wait)):
                    if patience <= cfg.desk_wait:
                        await self._give_up(call, patience)
                        return call
                    held = str(round((time.monotonic() - call.joined) * cfg.speed))
                    timeout = self._out(call, model.timeout, QueueCallerAbandon={"HoldTime": held})
                    cut = next(i for i, (_, t) in enumerate(timeout) if "Variable: QUEUESTATUS" in t)
                    await self.play(timeout[: cut + 1])
                    await self._overflow(call, join)
            if not call.assigned.done():
                left = patience - (time.monotonic() - started) * cfg.speed
                if not await self._wait(call, min(max(left, 0.0), cfg.queue_timeout)):
                    await self._give_up(call, left)
                    return call
        else:
            self._enqueue(call)
            await self.play(arriving)
            self._dispatch()
            if not await self._wait(call, min(patience, cfg.queue_timeout)):
                await self._give_up(call, patience)
                return call
        await self._connect(call)
        return call

    def _count(self, queue: str) -> int:
        return sum(1 for c in self.waiting if c.queue == queue)

    def _enqueue(self, call: QueuedCall) -> None:
        call.position = self._count(call.queue) + 1
        call.joined = time.monotonic()
        self.waiting.append(call)

    def _staffed(self, queue: str) -> bool:
        """Asterisk's joinempty for a desk: a member that is logged in and not paused."""
        return any(queue in self.member_queues.get(i, {}) and m["Paused"] != "1" for i, m in self.members.items())

    async def _overflow(self, call: QueuedCall, join: str) -> None:
        """On from the desk to the general queue: the overflow mark cleared, a QueueCallerJoin there."""
        if call in self.waiting:
            self.waiting.remove(call)
        call.queue = self.config.queue
        count = str(self._count(call.queue) + 1)
        rejoin = re.sub(r"(?m)^Queue: [^\r\n]*", f"Queue: {call.queue}", join)
        rejoin = re.sub(r"(?m)^(Position|Count): [^\r\n]*", lambda m: f"{m.group(1)}: {count}", rejoin)
        self._enqueue(call)
        await self.play([(0.0, _varset(join, "HOTLINE_OVERFLOW", "")), (0.0, rejoin)])
        self._dispatch()

    async def _wait(self, call: QueuedCall, seconds: float) -> bool:
        """Wait up to ``seconds`` (simulated) for a member; True once one is assigned."""
        if call not in self.waiting and not call.assigned.done():
            self._enqueue(call)
            self._dispatch()
        try:
            await asyncio.wait_for(asyncio.shield(call.assigned), seconds / self.config.speed)
        except asyncio.CancelledError:  # the simulator stops: the caller leaves the queue with it
            if call in self.waiting:
                self.waiting.remove(call)
            raise
        except TimeoutError:
            return call.assigned.done()
        return True

    async def _give_up(self, call: QueuedCall, patience: float) -> None:
        """No member in time: the caller hangs up (patience) or the queue's timeout ends the wait."""
        cfg, model = self.config, self.model
        position = str(self.waiting.index(call) + 1) if call in self.waiting else "1"
        if call in self.waiting:
            self.waiting.remove(call)
        call.assigned.cancel()
        held = str(round((time.monotonic() - call.joined) * cfg.speed))
        tail = model.abandon if patience < cfg.queue_timeout else model.timeout
        fields = {"Position": position, "OriginalPosition": str(call.position), "HoldTime": held}
        leave = {"Position": position, "Count": str(self._count(call.queue))}
        await self.play(self._out(call, tail, QueueCallerAbandon=fields, QueueCallerLeave=leave))
        if self.recorder is not None:
            self.recorder.hung_up(call.entry["Channel"])

    def _dispatch(self) -> None:
        """Ring free members for the waiting callers, oldest first: in the caller's queue, the lowest
        penalty first, then the member that waited longest (rrmemory)."""
        now = time.monotonic()
        for call in list(self.waiting):
            free = [
                i
                for i, m in self.members.items()
                if call.queue in self.member_queues.get(i, {})
                and m["Paused"] != "1"
                and i not in self.busy
                and self.wrapup_until.get(i, 0.0) <= now
            ]
            if not free:
                continue
            interface = min(free, key=lambda i: (self.member_queues[i][call.queue], self.last_call.get(i, 0.0)))
            self.waiting.remove(call)
            call.interface = interface
            self.busy[interface] = call
            call.assigned.set_result(interface)

    async def _connect(self, call: QueuedCall) -> None:
        cfg, model = self.config, self.model
        ringing = self._out(call, model.ring)
        called = next(t for _, t in ringing if t.startswith("Event: AgentCalled\r\n"))
        call.caller_channel, call.agent_channel = _field(called, "Channel"), _field(called, "DestChannel")
        self.live[call.caller_channel] = self.live[call.agent_channel] = call
        try:
            await self.play(ringing)
            held = str(round((time.monotonic() - call.joined) * cfg.speed))
            leave = {"Position": "1", "Count": str(len(self.waiting))}
            await self.play(self._out(call, model.connect, QueueCallerLeave=leave, AgentConnect={"HoldTime": held}))
            if self.recorder is not None:
                self.recorder.bridged(call.caller_channel)
            answered = time.monotonic()
            talk = self.rng.uniform(*cfg.talk) if cfg.talk else RECORDED_TALK
            try:
                await asyncio.wait_for(call.done.wait(), talk / cfg.speed)
            except TimeoutError:
                pass
            if call.room is not None:  # a three-way room: what happens in it comes before the end
                await call.room
            for task in list(call.controls):  # a hold, a consultation: played before the end
                await task
            controls = self.controls
            talked = (time.monotonic() - answered) * cfg.speed
            tail, release = {
                "end": (model.end, model.end_release),
                "redirect": (model.redirect, model.redirect_release),
                "blind": (model.blind, model.blind_release),
                "lost": (model.lost, model.lost_release),
                "threeway": (model.threeway_end, model.threeway_end_release),
                "threeway_busy": (model.threeway_busy_end, model.threeway_busy_end_release),
                "threeway_unit": (model.threeway_unit_end, model.threeway_unit_end_release),
                "held_end": (controls.held_end, controls.held_end_release),
                "consult_done": (controls.consult_done, controls.consult_done_release),
                "blind_unit": (controls.blind, controls.blind_release),
            }[call.how]
            if call.how == "consult_done":
                tail = recorded_controls.dialled(tail, recorded_controls.ANSWERS, call.consulting)
            elif call.how == "blind_unit":
                tail = recorded_controls.dialled(tail, recorded_controls.ANSWERS, call.transfer_number)
            frames = self._out(call, tail)
            if call.how == "threeway_unit":
                frames = _dialled(frames, call.variables.get("HOTLINE_THREEWAY_NUMBER", UNIT_NUMBER))
            if call.how == "lost":
                frames = _retarget(frames, *call.lost_target)
            complete = next(at for at, t in frames if t.startswith("Event: AgentComplete\r\n"))
            # After a Redirect the caller's time with 110 counts as talk time, as Asterisk reports it.
            talk_time = talked + (complete if call.how == "redirect" else 0.0)
            frames = self._out(
                call, tail, AgentComplete={"HoldTime": held, "TalkTime": str(round(talk_time))}, calls_taken=1
            )
            release /= cfg.speed
            await self.play([(at, t) for at, t in frames if at <= release])
            self._release(call)
            await self.play([(at - release, t) for at, t in frames if at > release])
        finally:
            if call.room is not None:
                call.room.cancel()
            for task in call.controls:
                task.cancel()
            self._release(call)
            if self.recorder is not None:
                self.recorder.hung_up(call.caller_channel)
            self.live.pop(call.caller_channel, None)
            self.live.pop(call.agent_channel, None)

    def _release(self, call: QueuedCall) -> None:
        """The member's call is over: wrap-up starts (no call for ``wrapup`` seconds), then the queue moves."""
        if self.busy.get(call.interface) is not call:
            return
        del self.busy[call.interface]
        now = time.monotonic()
        self.last_call[call.interface] = now
        self.calls_taken[call.interface] = self.calls_taken.get(call.interface, 0) + 1
        wrapup = self.config.wrapup / self.config.speed
        self.wrapup_until[call.interface] = now + wrapup
        if wrapup > 0:
            asyncio.get_running_loop().call_later(wrapup, self._dispatch)
        self._dispatch()

    def _out(self, call: QueuedCall, segment: Frames, calls_taken: int = 0, **rewrites: dict[str, str]) -> Frames:
        """A segment of ``call`` rendered with its ids, its member's name and state, and the queue's figures."""
        cfg = self.config
        agent = _extension(call.interface) if call.interface else ""
        frames = render(
            self.model.template, call.ids, number=call.number, name=call.name, agent=agent, speed=cfg.speed,
            frames=segment,
        )  # fmt: skip
        member = self.members.get(call.interface)
        if member is not None:
            state = {
                "MemberName": member["MemberName"],
                "Paused": member["Paused"],
                "PausedReason": member["PausedReason"],
                "CallsTaken": str(self.calls_taken.get(call.interface, 0) + calls_taken),
            }
            for name in ("AgentCalled", "AgentConnect", "AgentComplete", "AgentRingNoAnswer", "QueueMemberStatus"):
                rewrites.setdefault(name, {})
                rewrites[name] = {"MemberName": state["MemberName"], **rewrites[name]}
            rewrites["QueueMemberStatus"] = {**state, **rewrites["QueueMemberStatus"]}
        out = []
        queue = call.queue or cfg.queue
        for at, text in frames:
            if queue != TEMPLATE_QUEUE:
                # The recordings' queue is 12345: the call's own queue (a desk, or another general name).
                text = _RECORDED_QUEUE.sub(lambda m: f"{m.group(1)}{queue}", text)
            fields = rewrites.get(text[7 : text.find("\r\n")])
            if fields:
                for key, value in fields.items():
                    text = re.sub(rf"(?m)^{key}: [^\r\n]*", lambda _m, k=key, v=value: f"{k}: {v}", text)
            out.append((at, text))
            if text.startswith("Event: QueueMemberStatus\r\n"):
                # A device state change is the member's in every queue it is in: app_queue reports it once per queue.
                for other in self.member_queues.get(call.interface, {}):
                    if other != queue:
                        out.append((at, re.sub(r"(?m)^Queue: [^\r\n]*", f"Queue: {other}", text)))
        return out

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
            queues = self.member_queues.setdefault(iface, {})
            if self.config.queues and q not in self.config.queues:
                w.write(frames.response("Error", aid, Message="Unable to add interface to queue: No such queue"))
                return None
            if q in queues:
                w.write(frames.response("Error", aid, Message="Unable to add interface: Already there"))
                return None
            penalty = int(m.first("Penalty") or 0)
            queues[q] = penalty
            if iface not in self.members:
                self.members[iface] = {
                    "MemberName": m.first("MemberName") or iface,
                    "Paused": "1" if m.first("Paused").lower() in _YES else "0",
                    "PausedReason": m.first("Reason"),
                    "Queue": q,
                }
            w.write(frames.response("Success", aid, Message="Added interface to queue"))
            member = self.members[iface]
            self.broadcast(frames.member_event_text("QueueMemberAdded", q, iface, member, iface in self.busy, penalty))
            self._dispatch()
        elif action == "queueremove":
            queues = self.member_queues.get(iface, {})
            if q not in queues:
                w.write(frames.response("Error", aid, Message="Unable to remove interface: Not there"))
            else:
                del queues[q]
                member = self.members[iface] if queues else self.members.pop(iface)
                if not queues:
                    self.member_queues.pop(iface, None)
                w.write(frames.response("Success", aid, Message="Removed interface from queue"))
                self.broadcast(frames.member_event_text("QueueMemberRemoved", q, iface, member, iface in self.busy))
        elif action == "queuepenalty":
            queues = self.member_queues.get(iface, {})
            targets = [q] if q else list(queues)
            if not queues or any(t not in queues for t in targets):
                w.write(frames.response("Error", aid, Message="Invalid interface, queuename or penalty"))
            else:
                for target in targets:
                    queues[target] = int(m.first("Penalty") or 0)
                w.write(frames.response("Success", aid, Message="Interface penalty set successfully"))
                self._dispatch()
        elif action == "queuepause":
            member = self.members.get(iface)
            if member is None:
                w.write(frames.response("Error", aid, Message="Interface not found"))
            else:
                paused = m.first("Paused").lower() in _YES
                member.update(Paused="1" if paused else "0", PausedReason=m.first("Reason") if paused else "")
                message = f"Interface {'paused' if paused else 'unpaused'} successfully"
                w.write(frames.response("Success", aid, Message=message))
                busy = iface in self.busy
                # Without a Queue the pause is the member's in every queue, one event each (as app_queue does).
                for queue, penalty in self.member_queues.get(iface, {}).items():
                    if not q or queue == q:
                        self.broadcast(
                            frames.member_event_text("QueueMemberPause", queue, iface, member, busy, penalty)
                        )
                self._dispatch()
        elif action in ("queuestatus", "queuesummary", "coreshowchannels"):
            memberships = [
                (queue, i, self.members[i], penalty)
                for i, queues in self.member_queues.items()
                for queue, penalty in queues.items()
                if i in self.members
            ]
            known = self.config.queues or (self.config.queue,)
            w.write(frames.list_answer(action, aid, q, memberships, self.boot, self._queue_picture(), known))
        elif action == "originate":
            w.write(frames.response("Success", aid, Message="Originate successfully queued"))
            self._originate(aid, m)
        elif action == "hangup":
            call = self.live.get(m.first("Channel"))
            if call is None:
                w.write(frames.response("Error", aid, Message="No such channel"))
            else:
                if m.first("Channel") == call.agent_channel and call.consult_answered:
                    call.how = "consult_done"  # the agent left the consultation: the transfer completes
                elif call.was_held and call.how == "end":
                    call.how = "held_end"
                call.done.set()
                w.write(frames.response("Success", aid, Message="Channel Hungup"))
        elif action in ("muteaudio", "atxfer", "cancelatxfer") or (action == "redirect" and self._is_hold(m)):
            self._control(w, action, aid, m)
        elif action == "stopmixmonitor":
            stopped = self.recorder.stop(m.first("Channel")) if self.recorder is not None else None
            if m.first("Channel") not in self.live:
                w.write(frames.response("Error", aid, Message="No such channel"))
            elif stopped is None:
                w.write(frames.response("Error", aid, Message="Could not stop monitoring channel"))
            else:
                w.write(frames.response("Success", aid))
                self.broadcast(stopped)
        elif action == "modulecheck":
            module = m.first("Module").removesuffix(".so")
            if module in self.config.missing_modules:
                w.write(frames.response("Error", aid, Message="Module not loaded"))
            else:
                w.write(frames.response("Success", aid, Version=""))
        elif action == "setvar":
            call = self.live.get(m.first("Channel"))
            if m.first("Channel") and call is None:
                w.write(frames.response("Error", aid, Message="No such channel"))
            else:
                if call is not None:
                    call.variables[m.first("Variable")] = m.first("Value")
                w.write(frames.response("Success", aid, Message="Variable Set"))
        elif action in _ACKNOWLEDGED:
            self._transfer(action, m)
            w.write(frames.response("Success", aid, Message=_ACKNOWLEDGED[action]))
        else:
            w.write(frames.response("Error", aid, Message="Invalid/unknown command"))
        return None

    def _transfer(self, action: str, m: Message) -> None:
        """What a Redirect or BlindTransfer does to a live call, as the recordings show.

        The caller Redirected to 110 (or the agent's channel BlindTransferred there) ends the
        agent's part. The three-way Redirect (caller to the room, ExtraChannel the agent to the
        dial context) plays the recorded room: 110 joins, or does not answer
        (``threeway_answers``). A Redirect of the caller to an extension the dialplan lacks is
        accepted and the caller is hung up (telephony/traces/transfer_lost.ami).
        """
        cfg = self.config
        call = self.live.get(m.first("Channel"))
        if call is None or call.done.is_set():
            return
        target = (m.first("Context"), m.first("Exten"))
        if m.first("ExtraChannel"):
            three_way = (
                m.first("Channel") == call.caller_channel
                and m.first("ExtraChannel") == call.agent_channel
                and target[0] == cfg.threeway_context
            )
            extra = m.first("ExtraContext")
            if not three_way or call.room is not None:
                return
            if extra == cfg.threeway_dial_context:
                call.how = "threeway" if cfg.threeway_answers else "threeway_busy"
                segment = self.model.threeway if cfg.threeway_answers else self.model.threeway_busy
                room = self._out(call, segment)
            elif extra == cfg.threeway_unit_context and cfg.threeway_answers:
                call.how = "threeway_unit"
                number = call.variables.get("HOTLINE_THREEWAY_NUMBER", UNIT_NUMBER)
                room = _dialled(self._out(call, self.model.threeway_unit), number)
            elif extra == cfg.threeway_unit_context:  # the unit's phone busy: told like a busy 110
                call.how = "threeway_busy"
                room = self._out(call, self.model.threeway_busy)
            else:
                return
            call.room = asyncio.create_task(self.play(room))
            return
        if action == "redirect" and m.first("Channel") == call.caller_channel:
            if target == tuple(cfg.target_110):
                call.how = "redirect"
            else:
                call.how = "lost"
                call.lost_target = target
            call.done.set()
        elif action == "blindtransfer" and m.first("Channel") == call.agent_channel:
            if target[0] == cfg.transfer_context:  # a unit's phone or an extension (blind_transfer.ami)
                call.how, call.transfer_number = "blind_unit", target[1]
            else:
                call.how = "blind"
            call.done.set()

    def _is_hold(self, m: Message) -> bool:
        cfg = self.config
        # Only a Redirect into the hold contexts: any other Redirect of a channel this simulator does
        # not play live (a replayed call) is acknowledged as before and acts on nothing.
        return m.first("Context") in (cfg.hold_context, cfg.unhold_context)

    def _control(self, w: asyncio.StreamWriter, action: str, aid: str, m: Message) -> None:
        """Hold, unhold, mute and the consult transfer, answered and played as the recordings show
        (telephony/traces/hold.ami, mute.ami, consult_*.ami)."""
        cfg, model = self.config, self.controls
        channel = m.first("Channel")
        call = self.live.get(channel)
        if call is None or call.done.is_set():
            message = {
                "redirect": f"Channel does not exist: {channel}",
                "atxfer": "Channel specified does not exist",
                "cancelatxfer": "Channel specified does not exist",
            }.get(action, "No such channel")
            w.write(frames.response("Error", aid, Message=message))
            return
        segment: Frames = []
        if action == "muteaudio":
            w.write(frames.response("Success", aid))  # res_mutestream: no Message, no event
            return
        if action == "redirect":
            if m.first("Context") == cfg.hold_context and m.first("ExtraChannel") == call.agent_channel:
                call.was_held = True
                segment = model.hold
                w.write(frames.response("Success", aid, Message="Dual Redirect successful"))
            elif m.first("Context") == cfg.unhold_context and channel == call.agent_channel:
                segment = model.unhold
                w.write(frames.response("Success", aid, Message="Redirect successful"))
            else:  # elsewhere in the hold contexts: the dialplan lacks it, as a lost Redirect
                w.write(frames.response("Success", aid, Message="Redirect successful"))
                return
        elif action == "atxfer":
            if channel != call.agent_channel:
                w.write(frames.response("Error", aid, Message="No attended transfer feature code found"))
                return
            number = m.first("Exten").rstrip("#")
            w.write(frames.response("Success", aid, Message="Atxfer successfully queued"))
            if number in cfg.busy_numbers:
                recorded, segment = recorded_controls.BUSY, model.consult_busy
            elif number in cfg.unreachable_numbers:
                recorded, segment = recorded_controls.UNREACHABLE, model.consult_unreachable
            else:
                recorded, segment = recorded_controls.ANSWERS, model.consult
                call.consulting, call.consult_answered = number, True
            segment = recorded_controls.dialled(segment, recorded, number)
        elif action == "cancelatxfer":
            w.write(frames.response("Success", aid, Message="CancelAtxfer successfully queued"))
            if call.consult_answered:
                segment = recorded_controls.dialled(model.consult_cancel, recorded_controls.ANSWERS, call.consulting)
                call.consulting, call.consult_answered = "", False
        if segment:
            task = asyncio.create_task(self.play(self._out(call, segment)))
            call.controls.append(task)

    def _queue_picture(self) -> frames.QueuePicture:
        now = time.monotonic()
        waits = [int((now - c.joined) * self.config.speed) for c in self.waiting]
        return frames.QueuePicture(
            entries=[
                {"Queue": c.queue, **c.entry, "Wait": str(w)}
                for c, w in zip(self.waiting, waits, strict=True)
                if c.entry
            ],
            busy=frozenset(self.busy),
            calls_taken=dict(self.calls_taken),
        )

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


def _extension(interface: str) -> str:
    """Local/1001@agents -> 1001."""
    return interface.split("/", 1)[-1].split("@", 1)[0]


def _varset(like: str, variable: str, value: str) -> str:
    """A VarSet on the channel of the frame ``like`` (its Channel, Uniqueid, Linkedid), as Set() sends it."""
    keys = ("Channel", "ChannelState", "ChannelStateDesc", "CallerIDNum", "CallerIDName", "Context", "Exten")
    head = [f"{k}: {_field(like, k)}" for k in keys]
    return "\r\n".join(
        [
            "Event: VarSet",
            "Privilege: dialplan,all",
            *head,
            f"Uniqueid: {_field(like, 'Uniqueid')}",
            f"Linkedid: {_field(like, 'Linkedid')}",
            f"Variable: {variable}",
            f"Value: {value}",
        ]
    )


def _dialled(frames: Frames, number: str) -> Frames:
    """The recorded unit three-way call with the duty phone the agent asked for."""
    return [(at, text.replace(UNIT_NUMBER, number)) for at, text in frames]


def _retarget(frames: Frames, context: str, exten: str) -> Frames:
    """The recorded lost Redirect (to emergency,119) told with the context and extension asked for."""
    out = []
    for at, text in frames:
        text = text.replace("Context: emergency\r\n", f"Context: {context}\r\n")
        text = re.sub(r"(?m)^(Exten|Extension): 119(?=\r?$)", lambda m, e=exten: f"{m.group(1)}: {e}", text)
        out.append((at, text))
    return out


def _field(text: str, key: str) -> str:
    match = re.search(rf"(?m)^{key}: ([^\r\n]*)", text)
    return match.group(1) if match else ""
