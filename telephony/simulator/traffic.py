"""Who calls, when, and for how long: Poisson arrivals over a day curve, talk time and patience.

Arrivals are Poisson; the scenario of each call is drawn from a mix. Talk time and
patience, when configured, stretch a recorded call's conversation or wait (the recordings
talk ~3 s and wait ~3 s).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
from collections.abc import AsyncIterator
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from telephony.simulator.config import SimulatorConfig
    from telephony.simulator.frames import Frames

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEFAULT_MIX = {"answered": 0.62, "abandoned": 0.25, "queue_timeout": 0.05, "emergency_transfer": 0.03, "ivr_110": 0.05}
NAMES = ("王先生", "李女士", "张先生", "刘女士", "陈先生")
# Share of the average arrival rate per local hour (0–23): quiet nights, a morning peak at
# 9–11, a second one at 14–17, an evening shoulder. Averages to 1.0 over the day.
DAY_CURVE = (
    0.15, 0.1, 0.08, 0.08, 0.1, 0.2, 0.45, 0.9, 1.7, 2.1, 2.1, 1.8,
    1.2, 1.5, 2.0, 2.0, 1.9, 1.5, 1.2, 0.94, 0.75, 0.6, 0.4, 0.25,
)  # fmt: skip


async def arrivals(config: SimulatorConfig, rng: random.Random, stop: asyncio.Event) -> AsyncIterator[str]:
    """The scenario of each new call, at the moment it arrives, until ``stop``."""
    scenarios, weights = zip(*config.mix.items(), strict=True)
    while not stop.is_set():
        # A Poisson process whose rate follows the day curve (re-read at every arrival).
        rate = config.rate_now(datetime.now(SHANGHAI).hour)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), rng.expovariate(rate))
        if stop.is_set():
            return
        yield rng.choices(scenarios, weights)[0]


def caller(rng: random.Random) -> tuple[str, str]:
    """A mobile number, and a Chinese name for one caller in three (the others show their number)."""
    number = "13" + "".join(rng.choice("0123456789") for _ in range(9))
    return number, rng.choice(NAMES) if rng.random() < 1 / 3 else number


def pace(frames: Frames, scenario: str, rng: random.Random, config: SimulatorConfig) -> Frames:
    """Draw this call's talk time or patience from the configured range and stretch the call to it."""
    if config.talk and scenario in ("answered", "emergency_transfer"):
        talk = rng.uniform(*config.talk)
        return stretch(frames, "AgentConnect", talk / config.speed, {"AgentComplete": ("TalkTime", talk)})
    if config.patience and scenario == "abandoned":
        patience = rng.uniform(*config.patience)
        return stretch(
            frames, "QueueCallerJoin", patience / config.speed, {"QueueCallerAbandon": ("HoldTime", patience)}
        )
    return frames


def stretch(frames: Frames, marker: str, seconds: float, fields: dict[str, tuple[str, float]]) -> Frames:
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
