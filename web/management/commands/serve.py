"""Serve Lianxin: the ASGI app plus the embedded background services, in one process.

On the embedded default (``make demo``) the services named in
``settings.EMBEDDED_SERVICES`` (PBX simulator, AMI bridge, scheduler) run as
asyncio tasks beside the web server and share its in-memory channel layer. In
production, run the web server alone (``--no-services``) under several
processes and start each service with its own command.
"""

from __future__ import annotations

import asyncio
import logging
import signal

import uvicorn
from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.module_loading import import_string

from hotline import heap
from web.warmup import warm_up

log = logging.getLogger("lianxin.serve")


def server_config(host: str, port: int) -> uvicorn.Config:
    # uvicorn believes X-Forwarded-For from 127.0.0.1 unless told otherwise, and the address it
    # settles on is the one login lockout counts: only the proxies in TRUSTED_PROXIES are believed.
    return uvicorn.Config(
        "config.asgi:application",
        host=host,
        port=port,
        lifespan="off",
        log_level="info",
        proxy_headers=bool(settings.TRUSTED_PROXIES),
        forwarded_allow_ips=list(settings.TRUSTED_PROXIES),
    )


class Command(BaseCommand):
    help = "Run the ASGI server and the embedded services (simulator, bridge, scheduler)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-services", action="store_true", help="serve HTTP/WebSocket only")

    def handle(self, *args, host: str, port: int, no_services: bool, **options) -> None:
        warm_up()
        heap.freeze_long_lived()
        asyncio.run(self._main(host, port, [] if no_services else list(settings.EMBEDDED_SERVICES)))

    async def _main(self, host: str, port: int, services: list[str]) -> None:
        server = uvicorn.Server(server_config(host, port))
        stop = asyncio.Event()
        tasks = [asyncio.create_task(import_string(path)(stop), name=path) for path in services]
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._shutdown, server, stop)
        self.stdout.write(f"Lianxin on http://{host}:{port}/  (services: {', '.join(services) or 'none'})")
        try:
            await server.serve()
        finally:
            stop.set()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    @staticmethod
    def _shutdown(server: uvicorn.Server, stop: asyncio.Event) -> None:
        stop.set()
        server.should_exit = True
