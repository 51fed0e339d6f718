"""Run the AMI bridge: follow the hotline queues on Asterisk and write call records."""

from __future__ import annotations

import asyncio
import signal

from django.core.management.base import BaseCommand

from telephony import bridge


class Command(BaseCommand):
    help = "Connect to Asterisk AMI (settings AMI_*), track calls, write Call rows, publish live events."

    def handle(self, *args, **options) -> None:
        asyncio.run(_main())


async def _main() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await bridge.run(stop)
