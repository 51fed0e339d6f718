"""Run the FastAGI server alone (the IVR's self-service status menu)."""

from __future__ import annotations

import asyncio
import signal

from django.conf import settings
from django.core.management.base import BaseCommand

from hotline import heap
from telephony.agi import server


class Command(BaseCommand):
    help = "Serve FastAGI scripts to Asterisk (AGI_HOST, AGI_PORT; docs/telephony.md)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default=settings.AGI_HOST)
        parser.add_argument("--port", type=int, default=settings.AGI_PORT)

    def handle(self, *args, **options) -> None:
        heap.freeze_long_lived()
        asyncio.run(_main(options["host"], options["port"]))


async def _main(host: str, port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await server.serve(stop, host, port)
