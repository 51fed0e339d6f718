"""Run the AMI-speaking PBX simulator (no Asterisk needed)."""

from __future__ import annotations

import argparse
import asyncio
import signal

from django.core.management.base import BaseCommand

from telephony.simulator import DAY_CURVE, PBXSimulator, config_from_settings, parse_range


class Command(BaseCommand):
    help = "Serve AMI on --port and generate hotline call traffic like a real Asterisk 22."

    def add_arguments(self, parser) -> None:
        # Left out, an option keeps the value of its setting (config/settings.py).
        parser.add_argument("--host", help="default: AMI_SIMULATOR_HOST")
        parser.add_argument("--port", type=int, help="default: AMI_SIMULATOR_PORT")
        parser.add_argument("--calls-per-minute", type=float, help="default: AMI_SIMULATOR_CALLS_PER_MINUTE")
        parser.add_argument("--speed", type=float, default=1.0, help="2 = twice as fast as the recordings")
        parser.add_argument("--seed", type=int, default=None)
        parser.add_argument(
            "--talk", help="agent talk time range in seconds, e.g. 4-12 (default: AMI_SIMULATOR_TALK, else recorded)"
        )
        parser.add_argument(
            "--patience", help="abandoning callers' patience range, e.g. 5-45 (default: AMI_SIMULATOR_PATIENCE)"
        )
        parser.add_argument(
            "--day-curve",
            action=argparse.BooleanOptionalAction,
            help="vary the rate over the day, peaks 9-11 and 14-17 (default: AMI_SIMULATOR_DAY_CURVE)",
        )

    def handle(self, *args, speed: float, seed, **options) -> None:
        overrides: dict = {"speed": speed, "seed": seed}
        for name in ("host", "port", "calls_per_minute"):
            if options[name] is not None:
                overrides[name] = options[name]
        for name in ("talk", "patience"):
            if options[name] is not None:
                overrides[name] = parse_range(options[name])
        if options["day_curve"] is not None:
            overrides["day_curve"] = DAY_CURVE if options["day_curve"] else None
        asyncio.run(_main(PBXSimulator(config_from_settings(**overrides))))


async def _main(simulator: PBXSimulator) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await simulator.run(stop)
