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


def render(template: Template, ids: FreshIds, *, number: str, name: str, agent: str, speed: float = 1.0) -> Frames:
    """A template call with fresh ids; the same event names, fields and order as recorded."""
    uids: dict[str, str] = {}
    seqs: dict[str, str] = {}
    epoch = int(time.time())

    def new_uid(match: re.Match[str]) -> str:
        return uids.setdefault(match.group(0), ids.uniqueid(epoch))

    def new_seq(match: re.Match[str]) -> str:
        return seqs.setdefault(match.group(1), f"-{ids.local_seq()};")

    out = []
    for at, text in template.frames:
        text = _UNIQUEID.sub(new_uid, text)
        text = _LOCAL_SEQ.sub(new_seq, text)
        text = text.replace(f"CallerIDName: {template.number}", f"CallerIDName: {name}")
        text = text.replace(template.number, number)
        text = re.sub(r"(?<!\d)1001(?!\d)", agent, text)
        out.append((at / speed, text))
    return out
