"""Run the AMI bridge of one PBX: follow its hotline queues on Asterisk and write call records.

Start two for the same PBX (on two hosts) for active/standby: the second waits as standby, says
so in its log, and takes over when the active one dies or loses its database (telephony.lease).
"""

from __future__ import annotations

import asyncio
import signal

from django.core.management.base import BaseCommand, CommandError

from hotline import heap
from telephony import bridge
from telephony import pbx as pbxs


class Command(BaseCommand):
    help = "Connect to one PBX's Asterisk AMI (AMI_PBXS / AMI_*), track calls, write Call rows, publish live events."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--pbx", help="the PBX's name in AMI_PBXS (needed when several are configured)")

    def handle(self, *args, pbx: str | None = None, **options) -> None:
        names = pbxs.names()
        if pbx is None and len(names) > 1:
            raise CommandError(f"several PBXs are configured; say which with --pbx ({', '.join(names)})")
        try:
            name = pbxs.get(pbx).name
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        heap.freeze_long_lived()  # the bridge's frame-to-pop path waits for every full collector pass
        asyncio.run(_main(name))


async def _main(name: str) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await bridge.run_pbx(name, stop)
