"""Helpers to replay the real Asterisk 22 AMI recordings in telephony/traces/."""

from __future__ import annotations

import itertools

from telephony.ami.protocol import AMIParser, Message
from telephony.lifecycle import CallEnded, CallLifecycle
from telephony.traces import TRACES_DIR
from telephony.tracker import CallTracker, TrackerConfig

TRACE_NAMES = sorted(p.stem for p in TRACES_DIR.glob("*.ami"))


def trace_bytes(name: str) -> bytes:
    return (TRACES_DIR / f"{name}.ami").read_bytes()


def trace_chunks(name: str) -> list[bytes]:
    """The trace cut exactly where the real recv() calls returned (NAME.timing.tsv)."""
    data = trace_bytes(name)
    offsets = [int(line.split("\t")[0]) for line in (TRACES_DIR / f"{name}.timing.tsv").read_text().splitlines()]
    # An offset is where a chunk starts or ends, depending on the recorder; either way these are cut points.
    cuts = sorted({0, *offsets, len(data)})
    return [data[a:b] for a, b in itertools.pairwise(cuts) if b > a]


def parse_trace(name: str) -> list[Message]:
    parsed = AMIParser().feed(trace_bytes(name))
    assert all(m.kind != "error" for m in parsed), [m for m in parsed if m.kind == "error"]
    return parsed  # type: ignore[return-value]


def replay(name: str, config: TrackerConfig | None = None) -> tuple[CallTracker, list[CallLifecycle]]:
    tracker = CallTracker(config or TrackerConfig(queues=frozenset({"12345"})))
    out: list[CallLifecycle] = []
    for message in parse_trace(name):
        if message.kind == "event":
            out.extend(tracker.feed(message))
    return tracker, out


def final_calls(events: list[CallLifecycle]) -> dict[str, CallEnded]:
    """The last summary per call (a late AgentComplete may re-send one)."""
    return {e.linkedid: e for e in events if isinstance(e, CallEnded)}
