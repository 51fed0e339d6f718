"""A PBX simulator that speaks AMI like Asterisk 22, for demos and tests without a PBX.

Faithful by construction: each simulated call replays the event frames of one real
recorded call (``telephony/traces/``) with fresh Uniqueids,
channel numbers, caller number/name and agent, at the recorded pace. Arrivals are
Poisson; the scenario of each call is drawn from a mix. Actions answer with the
responses and events a real Asterisk 22 sends (copied from the same traces).

Limitations (documented in docs/telephony.md): agent availability is not modelled
(a template call rings its agent whether or not that agent is busy), and the queue
``Position``/``Count`` fields are those of the template.
"""

from __future__ import annotations

import asyncio
import bisect
import collections
import contextlib
import itertools
import logging
import random
import re
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from telephony.ami.protocol import AMIParser, Message
from telephony.traces import TRACES_DIR

log = logging.getLogger(__name__)
SHANGHAI = ZoneInfo("Asia/Shanghai")

BANNER = b"Asterisk Call Manager/11.0.0\r\n"
DEFAULT_TRACES = TRACES_DIR
SCENARIOS = ("answered", "abandoned", "queue_timeout", "emergency_transfer")
DEFAULT_MIX = {"answered": 0.62, "abandoned": 0.25, "queue_timeout": 0.05, "emergency_transfer": 0.03, "ivr_110": 0.05}
_SKIP = frozenset({"FullyBooted", "SuccessfulAuth", "QueueMemberAdded", "QueueMemberRemoved", "OriginateResponse"})
_UNIQUEID = re.compile(r"\b(1795\d{6})\.(\d+)\b")
_LOCAL_SEQ = re.compile(r"-([0-9a-f]{8});")
NAMES = ("王先生", "李女士", "张先生", "刘女士", "陈先生")
# Share of the average arrival rate per local hour (0–23): quiet nights, a morning peak at
# 9–11, a second one at 14–17, an evening shoulder. Averages to 1.0 over the day.
DAY_CURVE = (
    0.15, 0.1, 0.08, 0.08, 0.1, 0.2, 0.45, 0.9, 1.7, 2.1, 2.1, 1.8,
    1.2, 1.5, 2.0, 2.0, 1.9, 1.5, 1.2, 0.94, 0.75, 0.6, 0.4, 0.25,
)  # fmt: skip


@dataclass(frozen=True)
class Template:
    scenario: str
    frames: tuple[tuple[float, str], ...]  # (seconds after the first frame, frame text without terminator)
    number: str


def load_template(scenario: str, traces_dir: Path = DEFAULT_TRACES) -> Template:
    """The event frames of the single call in ``scenario``.ami, with their recorded times."""
    data = (traces_dir / f"{scenario}.ami").read_bytes()
    chunks = [
        tuple(map(float, line.split("\t")))
        for line in (traces_dir / f"{scenario}.timing.tsv").read_text().split("\n")
        if line
    ]
    starts = [int(c[0]) for c in chunks]
    frames: list[tuple[float, str]] = []
    number = ""
    offset = len(BANNER)
    for raw in data[len(BANNER) :].split(b"\r\n\r\n"):
        at = chunks[max(0, bisect.bisect_right(starts, offset) - 1)][1]
        offset += len(raw) + 4
        if not raw:
            continue
        text = raw.decode()
        (message,) = AMIParser(expect_banner=False).feed(raw + b"\r\n\r\n")
        if message.kind != "event" or message.first("ActionID") or message.name in _SKIP:
            continue
        if message.name == "QueueCallerJoin":
            number = message.first("CallerIDNum")
        frames.append((at, text))
    # Drop what follows the call's end (list answers are gone already; member removal events are skipped).
    start = frames[0][0]
    return Template(scenario, tuple((t - start, f) for t, f in frames), number)


def ivr_110_template(number: str = "13800000110") -> Template:
    """No recording has an IVR: frames built from the fields Asterisk 22 sends for them."""
    base = (
        "Channel: Local/13800000110@callers-00000000;2",
        "Uniqueid: 1795770000.1",
        "Linkedid: 1795770000.0",
        f"CallerIDNum: {number}",
        f"CallerIDName: {number}",
    )

    def frame(event: str, privilege: str, *lines: str) -> str:
        return "\r\n".join((f"Event: {event}", f"Privilege: {privilege}", *base, *lines))

    frames = (
        (0.0, frame("Newchannel", "call,all", "Context: ivr", "Exten: 12345", "Priority: 1")),
        (
            2.0,
            frame(
                "VarSet",
                "dialplan,all",
                "Context: ivr",
                "Exten: 12345",
                "Priority: 4",
                "Variable: HOTLINE_IVR_CHOICE",
                "Value: 110",
            ),
        ),
        (
            2.0,
            frame(
                "Newexten",
                "dialplan,all",
                "Context: emergency",
                "Exten: 110",
                "Priority: 1",
                "Application: NoOp",
                "AppData: 110 police trunk",
                "Extension: 110",
            ),
        ),
        (
            9.0,
            frame(
                "Hangup",
                "call,all",
                "Context: emergency",
                "Exten: 110",
                "Priority: 6",
                "Cause: 16",
                "Cause-txt: Normal Clearing",
            ),
        ),
    )
    return Template("ivr_110", frames, number)


@dataclass
class SimulatorConfig:
    host: str = "127.0.0.1"
    port: int = 15038
    username: str = "hotline"
    secret: str = field(default="hotline-secret", repr=False)
    calls_per_minute: float = 6.0
    mix: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_MIX))
    agents: tuple[str, ...] = ("1001", "1002", "1003")
    speed: float = 1.0  # 2.0 = twice as fast as the recordings
    seed: int | None = None
    traces_dir: Path = DEFAULT_TRACES
    generate: bool = True
    # (min, max) seconds, drawn uniformly per call; None keeps the recorded pace (talk ~3 s, patience ~3 s).
    talk: tuple[float, float] | None = None
    patience: tuple[float, float] | None = None
    # Hourly multipliers of calls_per_minute in Asia/Shanghai time; None = flat.
    day_curve: tuple[float, ...] | None = None
    # IVR survey calls (an Originate into survey_context): the key the citizen presses; "" = hangs up without one.
    survey_context: str = "survey"
    survey_variable: str = "HOTLINE_SURVEY_RESULT"
    survey_digit: str = "1"

    def rate_now(self, hour: int) -> float:
        """Calls per second at this local hour."""
        factor = self.day_curve[hour % 24] if self.day_curve else 1.0
        return max(self.calls_per_minute * factor, 1e-6) / 60.0


class PBXSimulator:
    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self.templates = {name: load_template(name, config.traces_dir) for name in SCENARIOS}
        self.templates["ivr_110"] = ivr_110_template()
        self.boot = int(time.time())
        self._uid = itertools.count()
        self._local = itertools.count(1)
        self._sessions: set[asyncio.StreamWriter] = set()
        self.members: dict[str, dict[str, str]] = {}  # interface -> {MemberName, Paused, PausedReason}
        self.live: dict[str, list[str]] = {}  # linkedid -> channel names
        self.server: asyncio.AbstractServer | None = None
        # The last actions received, lower-cased name first: what a test (or a curious operator) can inspect.
        self.received: collections.deque[tuple[str, Message]] = collections.deque(maxlen=1000)
        self._playing: set[asyncio.Task[None]] = set()  # survey calls started by an Originate

    # --- call generation --------------------------------------------------------------

    def render(self, template: Template, *, number: str, name: str, agent: str) -> list[tuple[float, str]]:
        """A template call with fresh ids; the same event names, fields and order as recorded."""
        ids: dict[str, str] = {}
        seqs: dict[str, str] = {}
        epoch = int(time.time())

        def new_uid(match: re.Match[str]) -> str:
            return ids.setdefault(match.group(0), f"{epoch}.{next(self._uid)}")

        def new_seq(match: re.Match[str]) -> str:
            return seqs.setdefault(match.group(1), f"-{next(self._local):08x};")

        out = []
        for at, text in template.frames:
            text = _UNIQUEID.sub(new_uid, text)
            text = _LOCAL_SEQ.sub(new_seq, text)
            text = text.replace(f"CallerIDName: {template.number}", f"CallerIDName: {name}")
            text = text.replace(template.number, number)
            text = re.sub(r"(?<!\d)1001(?!\d)", agent, text)
            out.append((at / self.config.speed, text))
        return out

    def new_call(self, scenario: str) -> list[tuple[float, str]]:
        number = "13" + "".join(self.rng.choice("0123456789") for _ in range(9))
        name = self.rng.choice(NAMES) if self.rng.random() < 1 / 3 else number
        interfaces = [i for i, m in self.members.items() if m.get("Paused") != "1"] or [
            f"Local/{a}@agents" for a in self.config.agents
        ]
        agent = self.rng.choice(interfaces).split("/")[1].split("@")[0]
        frames = self.render(self.templates[scenario], number=number, name=name, agent=agent)
        if self.config.talk and scenario in ("answered", "emergency_transfer"):
            talk = self.rng.uniform(*self.config.talk)
            frames = stretch(frames, "AgentConnect", talk / self.config.speed, {"AgentComplete": ("TalkTime", talk)})
        if self.config.patience and scenario == "abandoned":
            patience = self.rng.uniform(*self.config.patience)
            frames = stretch(
                frames, "QueueCallerJoin", patience / self.config.speed, {"QueueCallerAbandon": ("HoldTime", patience)}
            )
        return frames

    async def play(self, frames: list[tuple[float, str]]) -> None:
        start = time.monotonic()
        for at, text in frames:
            delay = at - (time.monotonic() - start)
            if delay > 0:
                await asyncio.sleep(delay)
            self.broadcast(text)

    async def generate(self, stop: asyncio.Event, *, drain: bool = False) -> None:
        """Start calls until ``stop``; then cancel those in flight, or let them finish if ``drain``."""
        scenarios, weights = zip(*self.config.mix.items(), strict=True)
        tasks: set[asyncio.Task[None]] = set()
        while not stop.is_set():
            # A Poisson process whose rate follows the day curve (re-read at every arrival).
            rate = self.config.rate_now(datetime.now(SHANGHAI).hour)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.rng.expovariate(rate))
            if stop.is_set():
                break
            scenario = self.rng.choices(scenarios, weights)[0]
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

    # --- AMI server -------------------------------------------------------------------

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
        writer.write(BANNER)
        parser = AMIParser(expect_banner=False)
        authed = False
        try:
            while data := await reader.read(65536):
                for message in parser.feed(data.replace(b"Action:", b"Event:")):
                    if not isinstance(message, Message):
                        continue
                    # Actions parse like events once "Action:" is renamed; the Event key holds the action name.
                    action = message.first("Event")
                    aid = message.first("ActionID")
                    if action.lower() == "login":
                        ok = (
                            message.first("Username") == self.config.username
                            and message.first("Secret") == self.config.secret
                        )
                        if not ok:
                            writer.write(_resp("Error", aid, Message="Authentication failed"))
                            await writer.drain()
                            writer.close()
                            return
                        authed = True
                        writer.write(_resp("Success", aid, Message="Authentication accepted"))
                        uptime = int(time.time()) - self.boot
                        writer.write(
                            _event(
                                "FullyBooted",
                                Privilege="system,all",
                                Uptime=uptime,
                                LastReload=uptime,
                                Status="Fully Booted",
                            )
                        )
                        self._sessions.add(writer)
                    elif not authed:
                        writer.write(_resp("Error", aid, Message="Permission denied"))
                    else:
                        if self._action(writer, action.lower(), aid, message) == "bye":
                            await writer.drain()
                            writer.close()
                            return
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self._sessions.discard(writer)

    def _action(self, w: asyncio.StreamWriter, action: str, aid: str, m: Message) -> str | None:
        self.received.append((action, m))
        q, iface = m.first("Queue"), m.first("Interface")
        if action == "logoff":
            w.write(_resp("Goodbye", aid, Message="Thanks for all the fish."))
            return "bye"
        if action == "ping":
            w.write(_resp("Success", aid, Ping="Pong", Timestamp=f"{time.time():.6f}"))
        elif action == "events":
            w.write(_resp("Success", aid, Events="On"))
        elif action == "filter":
            w.write(_resp("Success", aid, Message="Filter Added Successfully"))
        elif action == "queueadd":
            paused = "1" if m.first("Paused").lower() in ("true", "1", "yes") else "0"
            self.members[iface] = {
                "MemberName": m.first("MemberName") or iface,
                "Paused": paused,
                "PausedReason": m.first("Reason"),
                "Queue": q,
            }
            w.write(_resp("Success", aid, Message="Added interface to queue"))
            self.broadcast(_member_text("QueueMemberAdded", q, iface, self.members[iface]))
        elif action == "queueremove":
            member = self.members.pop(iface, None)
            if member is None:
                w.write(_resp("Error", aid, Message="Unable to remove interface: Not there"))
            else:
                w.write(_resp("Success", aid, Message="Removed interface from queue"))
                self.broadcast(_member_text("QueueMemberRemoved", q, iface, member))
        elif action == "queuepause":
            member = self.members.get(iface)
            if member is None:
                w.write(_resp("Error", aid, Message="Interface not found"))
            else:
                paused = m.first("Paused").lower() in ("true", "1", "yes")
                member.update(Paused="1" if paused else "0", PausedReason=m.first("Reason") if paused else "")
                w.write(_resp("Success", aid, Message=f"Interface {'paused' if paused else 'unpaused'} successfully"))
                self.broadcast(_member_text("QueueMemberPause", q or member["Queue"], iface, member))
        elif action in ("queuestatus", "queuesummary", "coreshowchannels"):
            self._list(w, action, aid, q)
        elif action == "originate":
            w.write(_resp("Success", aid, Message="Originate successfully queued"))
            # Async: the outcome comes later as an OriginateResponse *event* with the same ActionID.
            if m.first("Context") == self.config.survey_context:
                task = asyncio.create_task(self.play(self.survey_call(aid, m)))
                self._playing.add(task)
                task.add_done_callback(self._playing.discard)
                return None
            uid = f"{int(time.time())}.{next(self._uid)}"
            seq = f"{next(self._local):08x}"
            self.broadcast(
                _event_text(
                    "OriginateResponse",
                    Privilege="call,all",
                    ActionID=aid,
                    Response="Success",
                    Channel=f"{m.first('Channel')}-{seq};1",
                    Context=m.first("Context"),
                    Exten=m.first("Exten"),
                    Reason="4",
                    Uniqueid=uid,
                    CallerIDNum="12345",
                    CallerIDName="12345 callback",
                )
            )
        elif action in ("redirect", "blindtransfer", "hangup"):
            msg = {"redirect": "Redirect successful", "blindtransfer": "Transfer succeeded", "hangup": "Channel Hungup"}
            w.write(_resp("Success", aid, Message=msg[action]))
        else:
            w.write(_resp("Error", aid, Message="Invalid/unknown command"))
        return None

    def survey_call(self, action_id: str, m: Message) -> list[tuple[float, str]]:
        """The frames of an IVR survey call for an Originate into the survey context.

        Shaped like the recorded callback Originate (Newchannel of both Local halves, the
        Originate's variables as VarSet on the first half, the dialplan's Newexten, then the
        OriginateResponse once the citizen answers), followed by the survey's
        ``VarSet HOTLINE_SURVEY_RESULT`` (``config.survey_digit``) and the Hangups.
        """
        dialled = m.first("Channel")
        number = dialled.split("/", 1)[-1].split("@", 1)[0]
        context, exten = m.first("Context"), m.first("Exten") or "s"
        cid = m.first("CallerID")
        match = re.search(r"<([^>]*)>", cid)
        caller_id = (match.group(1) if match else cid) or "12345"
        uid1 = f"{int(time.time())}.{next(self._uid)}"
        uid2 = f"{int(time.time())}.{next(self._uid)}"
        seq = f"{next(self._local):08x}"
        local = dialled.startswith("Local/")
        first = f"{dialled}-{seq};1" if local else f"{dialled}-{seq}"
        channels = [(first, uid1)] + ([(f"{dialled}-{seq};2", uid2)] if local else [])
        home_context = dialled.split("@", 1)[1] if "@" in dialled else "default"
        variables = dict(v.split("=", 1) for v in m.getlist("Variable") if "=" in v)

        def frame(event: str, privilege: str, channel: tuple[str, str], state: str, where, *lines: str) -> str:
            name, uid = channel
            up = state == "Up"
            head = (
                f"Event: {event}",
                f"Privilege: {privilege}",
                f"Channel: {name}",
                f"ChannelState: {6 if up else 0}",
                f"ChannelStateDesc: {state}",
                f"CallerIDNum: {caller_id if up else '<unknown>'}",
                f"CallerIDName: {caller_id if up else '<unknown>'}",
                f"ConnectedLineNum: {number if up else '<unknown>'}",
                f"ConnectedLineName: {number if up else '<unknown>'}",
                "Language: zh",
                "AccountCode: ",
                f"Context: {where[0]}",
                f"Exten: {where[1]}",
                f"Priority: {where[2]}",
                f"Uniqueid: {uid}",
                f"Linkedid: {uid1}",
            )
            return "\r\n".join((*head, *lines))

        dialling = (home_context, number, 1)
        speed = self.config.speed
        frames = [(0.0, frame("Newchannel", "call,all", channel, "Down", dialling)) for channel in channels]
        frames += [
            (0.0, frame("VarSet", "dialplan,all", channels[0], "Down", dialling, f"Variable: {k}", f"Value: {v}"))
            for k, v in variables.items()
        ]
        answer = 1.0 / speed
        survey = (context, exten, 1)
        frames += [
            (answer, frame("Newstate", "call,all", channels[0], "Up", survey)),
            (
                answer,
                frame(
                    "Newexten",
                    "dialplan,all",
                    channels[0],
                    "Up",
                    survey,
                    f"Extension: {exten}",
                    "Application: NoOp",
                    f"AppData: 12345 revisit survey {variables.get('HOTLINE_REFERENCE', '')}",
                ),
            ),
            (
                answer,
                _event_text(
                    "OriginateResponse",
                    Privilege="call,all",
                    ActionID=action_id,
                    Response="Success",
                    Channel=first,
                    Context=context,
                    Exten=exten,
                    Reason="4",
                    Uniqueid=uid1,
                    CallerIDNum=caller_id,
                    CallerIDName=caller_id,
                ),
            ),
        ]
        end = answer + 2.0 / speed
        digit = self.config.survey_digit
        if digit:
            frames.append(
                (
                    end,
                    frame(
                        "VarSet",
                        "dialplan,all",
                        channels[0],
                        "Up",
                        (context, exten, 5),
                        f"Variable: {self.config.survey_variable}",
                        f"Value: {digit}",
                    ),
                )
            )
        end += 0.5 / speed
        for channel in reversed(channels):
            frames.append(
                (
                    end,
                    frame(
                        "Hangup",
                        "call,all",
                        channel,
                        "Up",
                        (context, exten, 7),
                        "Cause: 16",
                        "Cause-txt: Normal Clearing",
                    ),
                )
            )
        return frames

    def _list(self, w: asyncio.StreamWriter, action: str, aid: str, queue: str) -> None:
        what = {"queuestatus": "Queue status", "queuesummary": "Queue summary", "coreshowchannels": "Channels"}[action]
        w.write(_resp("Success", aid, EventList="start", Message=f"{what} will follow"))
        items = 0
        if action == "queuestatus":
            w.write(
                _event(
                    "QueueParams",
                    Queue=queue or "12345",
                    Max=0,
                    Strategy="rrmemory",
                    Calls=0,
                    Holdtime=0,
                    TalkTime=0,
                    Completed=0,
                    Abandoned=0,
                    ServiceLevel=20,
                    ServicelevelPerf="0.0",
                    ServicelevelPerf2="0.0",
                    Weight=0,
                    ActionID=aid,
                )
            )
            items += 1
            for iface, member in self.members.items():
                w.write(
                    _event(
                        "QueueMember",
                        Queue=member["Queue"],
                        Name=member["MemberName"],
                        Location=iface,
                        StateInterface=iface,
                        Membership="dynamic",
                        Penalty=0,
                        CallsTaken=0,
                        LastCall=0,
                        LastPause=0,
                        LoginTime=self.boot,
                        InCall=0,
                        Status=1,
                        Paused=member["Paused"],
                        PausedReason=member["PausedReason"],
                        Wrapuptime=0,
                        ActionID=aid,
                    )
                )
                items += 1
            w.write(_event("QueueStatusComplete", ActionID=aid, EventList="Complete", ListItems=items))
        elif action == "queuesummary":
            w.write(
                _event(
                    "QueueSummary",
                    Queue=queue or "12345",
                    LoggedIn=len(self.members),
                    Available=len(self.members),
                    Callers=0,
                    HoldTime=0,
                    TalkTime=0,
                    LongestHoldTime=0,
                    ActionID=aid,
                )
            )
            w.write(_event("QueueSummaryComplete", ActionID=aid, EventList="Complete", ListItems=1))
        else:
            w.write(_event("CoreShowChannelsComplete", ActionID=aid, EventList="Complete", ListItems=0))


def _resp(status: str, action_id: str, **fields: object) -> bytes:
    lines = [f"Response: {status}"] + ([f"ActionID: {action_id}"] if action_id else [])
    lines += [f"{k}: {v}" for k, v in fields.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _event_text(name: str, **fields: object) -> str:
    return "\r\n".join([f"Event: {name}", *(f"{k}: {v}" for k, v in fields.items())])


def _event(name: str, **fields: object) -> bytes:
    return (_event_text(name, **fields) + "\r\n\r\n").encode()


def _member_text(event: str, queue: str, iface: str, member: dict[str, str]) -> str:
    return _event_text(
        event,
        Privilege="agent,all",
        Queue=queue,
        MemberName=member["MemberName"],
        Interface=iface,
        StateInterface=iface,
        Membership="dynamic",
        Penalty=0,
        CallsTaken=0,
        LastCall=0,
        LastPause=0,
        LoginTime=int(time.time()),
        InCall=0,
        Status=1,
        Paused=member["Paused"],
        PausedReason=member["PausedReason"],
        Ringinuse=0,
        Wrapuptime=0,
    )


def stretch(
    frames: list[tuple[float, str]], marker: str, seconds: float, fields: dict[str, tuple[str, float]]
) -> list[tuple[float, str]]:
    """Make the longest pause between ``marker`` and the first event of ``fields`` end ``seconds`` after the marker.

    In the recordings that pause is the conversation (after AgentConnect) or the
    caller's patience (after QueueCallerJoin). Frames after it move by the difference,
    so order and fields stay as Asterisk sends them; ``fields`` rewrites the reported
    durations (e.g. AgentComplete's TalkTime) to match.
    """

    def find(name: str, after: int = -1) -> int | None:
        prefix = f"Event: {name}\r\n"
        return next((i for i, (_, text) in enumerate(frames) if i > after and text.startswith(prefix)), None)

    start = find(marker)
    end = find(next(iter(fields)), start) if start is not None else None
    if start is None or end is None:
        return frames
    # The pause that ends the conversation (or the wait) lies between the marker and the event reporting it.
    gaps = [(frames[i][0] - frames[i - 1][0], i) for i in range(start + 1, end + 1)]
    _, cut = max(gaps)
    shift = max(seconds - (frames[cut][0] - frames[start][0]), -(frames[cut][0] - frames[cut - 1][0]))
    out = []
    for i, (at, text) in enumerate(frames):
        if i >= cut:
            at += shift
            for event, (key, value) in fields.items():
                if text.startswith(f"Event: {event}\r\n"):
                    text = re.sub(rf"(?m)^{key}: \d+", f"{key}: {round(value)}", text)
        out.append((at, text))
    return out


def parse_range(value: str | None) -> tuple[float, float] | None:
    """ "4-12" -> (4.0, 12.0); empty -> None."""
    if not value:
        return None
    low, _, high = value.partition("-")
    low_f, high_f = float(low), float(high or low)
    if not 0 <= low_f <= high_f:
        raise ValueError(f"a range must look like 4-12, got {value!r}")
    return low_f, high_f


async def run(stop: asyncio.Event) -> None:
    """Entry point for settings.EMBEDDED_SERVICES."""
    from django.conf import settings

    config = SimulatorConfig(
        host=getattr(settings, "AMI_SIMULATOR_HOST", "127.0.0.1"),
        port=getattr(settings, "AMI_SIMULATOR_PORT", getattr(settings, "AMI_PORT", 15038)),
        username=getattr(settings, "AMI_USERNAME", "hotline"),
        secret=getattr(settings, "AMI_SECRET", "hotline-secret"),
        calls_per_minute=getattr(settings, "AMI_SIMULATOR_CALLS_PER_MINUTE", 6.0),
        talk=parse_range(getattr(settings, "AMI_SIMULATOR_TALK", "")),
        patience=parse_range(getattr(settings, "AMI_SIMULATOR_PATIENCE", "")),
        day_curve=DAY_CURVE if getattr(settings, "AMI_SIMULATOR_DAY_CURVE", False) else None,
        survey_context=getattr(settings, "AMI_SURVEY_CONTEXT", "survey"),
        survey_digit=str(getattr(settings, "AMI_SIMULATOR_SURVEY_DIGIT", "1")),
    )
    await PBXSimulator(config).run(stop)
