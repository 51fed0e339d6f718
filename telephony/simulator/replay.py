"""Recorded calls replayed with fresh ids: each simulated call is one real Asterisk 22 call.

A template is the event frames of the single call of a recording in ``telephony/traces/``,
with their recorded times; rendering it gives new Uniqueids, Local channel numbers, caller
number and name and agent, and keeps the event names, fields and order as recorded.
"""

from __future__ import annotations

import bisect
import itertools
import re
import time
from dataclasses import dataclass
from pathlib import Path

from telephony.ami.protocol import AMIParser
from telephony.simulator.frames import BANNER, Frames, ivr_110_call
from telephony.traces import TRACES_DIR

SCENARIOS = ("answered", "abandoned", "queue_timeout", "emergency_transfer")  # the recorded ones
# Session and list noise of the recordings, and events the simulator sends itself.
_SKIP = frozenset({"FullyBooted", "SuccessfulAuth", "QueueMemberAdded", "QueueMemberRemoved", "OriginateResponse"})
_UNIQUEID = re.compile(r"\b(1795\d{6})\.(\d+)\b")
# The duty phone the threeway_unit recording dialled (the simulator puts the asked-for number in its place).
UNIT_NUMBER = "073155558888"
# A three-way room is named after the call's Linkedid with "." replaced by "-" (hotline-1795952770-14).
_ROOM = re.compile(r"\b(1795\d{6})-(\d+)\b")
_LOCAL_SEQ = re.compile(r"-([0-9a-f]{8});")


@dataclass(frozen=True)
class Template:
    scenario: str
    frames: tuple[tuple[float, str], ...]  # (seconds after the first frame, frame text without terminator)
    number: str


def load_template(scenario: str, traces_dir: Path = TRACES_DIR) -> Template:
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


def load_templates(traces_dir: Path = TRACES_DIR) -> dict[str, Template]:
    """Every scenario the simulator plays: the recorded ones and the hand-built IVR-to-110 call."""
    templates = {name: load_template(name, traces_dir) for name in SCENARIOS}
    number = "13800000110"
    templates["ivr_110"] = Template("ivr_110", tuple(ivr_110_call(number)), number)
    return templates


class FreshIds:
    """Uniqueids and Local channel numbers this simulator has not handed out before."""

    def __init__(self) -> None:
        self._uid = itertools.count()
        self._local = itertools.count(1)

    def uniqueid(self, epoch: int | None = None) -> str:
        return f"{int(time.time()) if epoch is None else epoch}.{next(self._uid)}"

    def local_seq(self) -> str:
        return f"{next(self._local):08x}"


class CallIds:
    """The fresh ids of one call: the same recorded id always becomes the same new one, across segments."""

    def __init__(self, ids: FreshIds) -> None:
        self.ids = ids
        self.epoch = int(time.time())
        self.uids: dict[str, str] = {}
        self.seqs: dict[str, str] = {}

    def uid(self, match: re.Match[str]) -> str:
        return self.uids.setdefault(match.group(0), self.ids.uniqueid(self.epoch))

    def seq(self, match: re.Match[str]) -> str:
        return self.seqs.setdefault(match.group(1), f"-{self.ids.local_seq()};")


def render(
    template: Template,
    ids: FreshIds | CallIds,
    *,
    number: str,
    name: str,
    agent: str,
    speed: float = 1.0,
    frames: Frames | tuple[tuple[float, str], ...] | None = None,
) -> Frames:
    """A template call with fresh ids; the same event names, fields and order as recorded.

    ``frames`` renders part of the template (a segment of a ``CallModel``); ``ids`` may be
    the ``CallIds`` of a call whose other segments were rendered before.
    """
    call_ids = ids if isinstance(ids, CallIds) else CallIds(ids)
    out = []
    for at, text in template.frames if frames is None else frames:
        text = _ROOM.sub(lambda m: _UNIQUEID.sub(call_ids.uid, f"{m.group(1)}.{m.group(2)}").replace(".", "-"), text)
        text = _UNIQUEID.sub(call_ids.uid, text)
        text = _LOCAL_SEQ.sub(call_ids.seq, text)
        text = text.replace(f"CallerIDName: {template.number}", f"CallerIDName: {name}")
        text = text.replace(template.number, number)
        if agent:
            text = re.sub(r"(?<!\d)1001(?!\d)", agent, text)
        out.append((at / speed, text))
    return out


# --- a call cut into the segments a queue plays as it decides -------------------------------


@dataclass(frozen=True)
class CallModel:
    """One queued call cut at the moments a PBX decides, all in the ids of the answered recording.

    ``arrive`` ends with the caller in the queue (QueueCallerJoin, music on hold); an agent
    becomes free: ``ring`` (AgentCalled…) then ``connect`` (AgentConnect, the bridge); the
    conversation ends: ``end`` (the caller hangs up; AMI Hangup of the caller's channel gives
    the same), or ``redirect``/``blind`` (the agent sent the caller to 110), or ``lost`` (a
    Redirect to an extension the dialplan lacks: Asterisk hangs the caller up). A three-way
    call: ``threeway`` (caller to the room, the agent dials 110, 110 joins and later leaves) or
    ``threeway_busy`` (110 does not answer, the agent is back in the room), each followed by its
    ``*_end`` when the caller hangs up. No agent in time:
    ``abandon`` (the caller hangs up) or ``timeout`` (the queue's own timeout). Segments from
    the other recordings are rewritten into the answered call's ids, so one ``CallIds`` renders
    them all. ``*_release`` is when, within that segment, the member is free again.
    """

    template: Template  # the answered recording: its number and ids are the ones rendered
    arrive: Frames
    ring: Frames
    connect: Frames
    end: Frames
    redirect: Frames
    blind: Frames
    abandon: Frames
    timeout: Frames
    lost: Frames
    threeway: Frames
    threeway_end: Frames
    threeway_busy: Frames
    threeway_busy_end: Frames
    threeway_unit: Frames  # the expert on the line: the unit's duty phone UNIT_NUMBER joins instead of 110
    threeway_unit_end: Frames
    end_release: float
    redirect_release: float
    blind_release: float
    lost_release: float
    threeway_end_release: float
    threeway_busy_end_release: float
    threeway_unit_end_release: float


def _name(text: str) -> str:
    return text[7 : text.index("\r\n")] if "\r\n" in text else text[7:]


def _index(frames, name: str, after: int = -1, where: str = "") -> int:
    return next(i for i, (_, t) in enumerate(frames) if i > after and _name(t) == name and where in t)


def _segment(frames, start: int, stop: int | None = None) -> Frames:
    part = list(frames[start:stop])
    first = part[0][0] if part else 0.0
    return [(at - first, text) for at, text in part]


def _legs(template: Template) -> dict[str, tuple[str, str]]:
    """The (Uniqueid, Local sequence) of the caller's and the agent's channel halves in a recording."""
    legs: dict[str, tuple[str, str]] = {}
    for _, text in template.frames:
        if _name(text) != "Newchannel":
            continue
        channel = re.search(r"(?m)^Channel: ([^\r\n]*)", text).group(1)
        uid = re.search(r"(?m)^Uniqueid: ([^\r\n]*)", text).group(1)
        side = "caller" if "@callers-" in channel else "agent" if "@agents-" in channel else ""
        if side:
            legs.setdefault(f"{side}{channel[-1]}", (uid, _LOCAL_SEQ.search(channel).group(1)))
    return legs


def _into(base: Template, other: Template, frames: Frames) -> Frames:
    """``frames`` of ``other`` rewritten into ``base``'s caller and agent ids and number."""
    ours, theirs = _legs(base), _legs(other)
    uids = {theirs[k][0]: ours[k][0] for k in theirs if k in ours}
    seqs = {theirs[k][1]: ours[k][1] for k in theirs if k in ours}
    rooms = {a.replace(".", "-"): b.replace(".", "-") for a, b in uids.items()}
    out = []
    for at, text in frames:
        text = _ROOM.sub(lambda m: rooms.get(m.group(0), m.group(0)), text)
        text = _UNIQUEID.sub(lambda m: uids.get(m.group(0), m.group(0)), text)
        text = _LOCAL_SEQ.sub(lambda m: f"-{seqs.get(m.group(1), m.group(1))};", text)
        out.append((at, text.replace(other.number, base.number)))
    return out


def _release(frames: Frames) -> float:
    """When the member is free again: its QueueMemberStatus back to not-in-use."""
    return next(at for at, text in frames if _name(text) == "QueueMemberStatus")


def load_model(traces_dir: Path = TRACES_DIR) -> CallModel:
    answered = load_template("answered", traces_dir)
    f = answered.frames
    first = _index(f, "Newchannel")
    moh = _index(f, "MusicOnHoldStart")
    dial_state = _index(f, "DialState", moh)
    up = _index(f, "Newstate", dial_state)
    bridged = max(i for i, (_, t) in enumerate(f) if _name(t) == "BridgeEnter")
    talk_end = _index(f, "BridgeLeave", bridged)

    abandoned = load_template("abandoned", traces_dir)
    a = abandoned.frames
    abandon = _into(answered, abandoned, _segment(a, _index(a, "MusicOnHoldStart") + 1))

    timed_out = load_template("queue_timeout", traces_dir)
    t = timed_out.frames
    # The same timeout with nobody rung: the recorded one without the ringing agent's frames.
    tail = [(at, text) for at, text in t[_index(t, "QueueCallerAbandon") :] if "@agents" not in text]
    timeout = _into(answered, timed_out, _segment(tail, 0))

    redirected = load_template("emergency_transfer", traces_dir)
    r = redirected.frames
    redirect = _into(answered, redirected, _segment(r, _index(r, "Newexten", where="Context: emergency")))

    blind_transfer = load_template("emergency_transfer_blind", traces_dir)
    b = blind_transfer.frames
    blind = _into(answered, blind_transfer, _segment(b, _index(b, "Unhold")))

    lost_call = load_template("transfer_lost", traces_dir)
    x = lost_call.frames
    lost = _into(answered, lost_call, _segment(x, _index(x, "Newexten", where="Context: emergency")))

    def threeway(name: str) -> tuple[Frames, Frames]:
        """The room part of a recorded three-way call, and its end once the caller hangs up."""
        recorded = load_template(name, traces_dir)
        w = recorded.frames
        start = _index(w, "Newexten", where="Context: threeway")
        leave = _index(w, "ConfbridgeLeave", start, where="@callers-")
        return _into(answered, recorded, _segment(w, start, leave)), _into(answered, recorded, _segment(w, leave))

    room, room_end = threeway("threeway")
    busy, busy_end = threeway("threeway_busy")
    unit, unit_end = threeway("threeway_unit")
    end = _segment(f, talk_end)
    return CallModel(
        template=answered,
        arrive=_segment(f, first, moh + 1),
        ring=_segment(f, moh + 1, up),
        connect=_segment(f, up, bridged + 1),
        end=end,
        redirect=redirect,
        blind=blind,
        abandon=abandon,
        timeout=timeout,
        lost=lost,
        threeway=room,
        threeway_end=room_end,
        threeway_busy=busy,
        threeway_busy_end=busy_end,
        threeway_unit=unit,
        threeway_unit_end=unit_end,
        end_release=_release(end),
        redirect_release=_release(redirect),
        blind_release=_release(blind),
        lost_release=_release(lost),
        threeway_end_release=_release(room_end),
        threeway_busy_end_release=_release(busy_end),
        threeway_unit_end_release=_release(unit_end),
    )
