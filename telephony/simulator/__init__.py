"""A PBX simulator that speaks AMI like Asterisk 22, for demos and tests without a PBX.

Faithful by construction: each simulated call replays the event frames of one real
recorded call (``telephony/traces/``) with fresh ids, at the recorded pace (``replay``);
arrivals, talk time and patience come from ``traffic``; what no recording holds (an
IVR-to-110 call, a survey call, list answers) is built in ``frames``; ``server`` is the
AMI server and its actions.

Generated callers go through a queue as Asterisk's would (``server.PBXSimulator.queue_call``):
only members that logged in (QueueAdd) and are not paused are rung, one call per member at a
time, not during their wrap-up; a caller waits in the queue (Position/Count as they are) until a
member is free, or gives up after their patience (abandoned) or the queue's timeout. The frames
of each step are the recorded ones (``replay.CallModel``). An AMI Hangup of the caller's or the
agent's channel ends the call as the caller hanging up does (AgentComplete Reason caller: no
recording holds an agent-side hangup); Redirect/BlindTransfer to 110 play the recorded transfers.
"""

from __future__ import annotations

import asyncio

from django.conf import settings

from telephony.simulator.config import SimulatorConfig
from telephony.simulator.replay import SCENARIOS
from telephony.simulator.server import PBXSimulator
from telephony.simulator.traffic import DAY_CURVE, parse_range

__all__ = ["DAY_CURVE", "SCENARIOS", "PBXSimulator", "SimulatorConfig", "config_from_settings", "parse_range", "run"]


def config_from_settings(**overrides) -> SimulatorConfig:
    """The simulator the settings describe (AMI_SIMULATOR_*, the AMI login); ``overrides`` win."""
    values = {
        "host": settings.AMI_SIMULATOR_HOST,
        "port": settings.AMI_SIMULATOR_PORT,
        "username": settings.AMI_USERNAME,
        "secret": settings.AMI_SECRET,
        "calls_per_minute": settings.AMI_SIMULATOR_CALLS_PER_MINUTE,
        "talk": parse_range(settings.AMI_SIMULATOR_TALK),
        "patience": parse_range(settings.AMI_SIMULATOR_PATIENCE),
        "day_curve": DAY_CURVE if settings.AMI_SIMULATOR_DAY_CURVE else None,
        "survey_context": settings.AMI_SURVEY_CONTEXT,
        "survey_digit": settings.AMI_SIMULATOR_SURVEY_DIGIT,
        "queue": settings.AMI_QUEUES[0],
        "queues": tuple(settings.AMI_QUEUES),
        "desks": {
            queue: share
            for queue, share in (
                (settings.AMI_DESK_BUSINESS, settings.AMI_SIMULATOR_DESK_PERCENT * 0.0075),
                (settings.AMI_DESK_DIALECT, settings.AMI_SIMULATOR_DESK_PERCENT * 0.0025),
            )
            if queue and queue in settings.AMI_QUEUES[1:]
        },
        "desk_wait": float(settings.AMI_DESK_WAIT_SECONDS),
        "wrapup": float(settings.AGENT_WRAPUP_SECONDS),
        "recordings_dir": settings.RECORDINGS_DIR if settings.AMI_SIMULATOR_RECORD else None,
        "monitor_dir": settings.RECORDINGS_PBX_DIR,
    }
    return SimulatorConfig(**(values | overrides))


async def run(stop: asyncio.Event) -> None:
    """Entry point for settings.EMBEDDED_SERVICES."""
    await PBXSimulator(config_from_settings()).run(stop)
