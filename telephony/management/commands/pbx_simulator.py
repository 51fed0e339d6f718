"""Run the AMI-speaking PBX simulator (no Asterisk needed)."""

from __future__ import annotations

import asyncio
import signal

from django.conf import settings
from django.core.management.base import BaseCommand

from telephony.simulator import DAY_CURVE, PBXSimulator, SimulatorConfig, parse_range


class Command(BaseCommand):
    help = "Serve AMI on --port and generate hotline call traffic like a real Asterisk 22."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=15038)
        parser.add_argument("--calls-per-minute", type=float, default=6.0)
        parser.add_argument("--speed", type=float, default=1.0, help="2 = twice as fast as the recordings")
        parser.add_argument("--seed", type=int, default=None)
        parser.add_argument(
            "--talk", default="", help="agent talk time range in seconds, e.g. 4-12 (default: recorded)"
        )
        parser.add_argument("--patience", default="", help="abandoning callers' patience range, e.g. 5-45")
        parser.add_argument("--day-curve", action="store_true", help="vary the rate over the day (peaks 9-11, 14-17)")

    def handle(
        self,
        *args,
        host: str,
        port: int,
        calls_per_minute: float,
        speed: float,
        seed,
        talk,
        patience,
        day_curve,
        **options,
    ) -> None:
        config = SimulatorConfig(
            host=host,
            port=port,
            username=getattr(settings, "AMI_USERNAME", "hotline"),
            secret=getattr(settings, "AMI_SECRET", "hotline-secret"),
            calls_per_minute=calls_per_minute,
            speed=speed,
            seed=seed,
            talk=parse_range(talk),
            patience=parse_range(patience),
            day_curve=DAY_CURVE if day_curve else None,
        )
        asyncio.run(_main(PBXSimulator(config)))


async def _main(simulator: PBXSimulator) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await simulator.run(stop)
