"""The FastAGI server: ``agi://<host>:<port>/<script>`` from the dialplan to a script here.

One connection is one call. A script's errors end that call's AGI (Asterisk then continues the
dialplan: to the queue when nothing was set), never the server.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from django.conf import settings

from telephony.agi import desk, status
from telephony.agi.protocol import AgiChannel, AgiError, AgiHangup

log = logging.getLogger(__name__)

SCRIPTS: dict[str, Callable[[AgiChannel], Awaitable[None]]] = {"status": status.run, "desk": desk.run}


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    agi = AgiChannel(reader, writer)
    try:
        await agi.read_env()
        script = SCRIPTS.get(agi.script)
        if script is None:
            log.warning("FastAGI: no script %r", agi.script)
            await agi.command('VERBOSE "lianxin: no such AGI script" 1')
            return
        await script(agi)
    except AgiHangup:
        log.debug("FastAGI: the caller hung up in %s", agi.script or "?")
    except (AgiError, TimeoutError, ConnectionError) as exc:
        log.warning("FastAGI %s ended: %s", agi.script or "?", exc)
    except Exception:
        log.exception("FastAGI script %s failed", agi.script or "?")
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except ConnectionError:
            pass


async def serve(stop: asyncio.Event, host: str, port: int) -> None:
    try:
        server = await asyncio.start_server(handle, host, port, limit=64 * 1024)
    except OSError as exc:
        # The rest of `serve` goes on; the dialplan sends callers to the queue when AGI fails.
        log.error("FastAGI cannot listen on %s:%s (%s): the phone's self-service menu is off", host, port, exc)
        return
    log.info("FastAGI listening on %s:%s", host, port)
    async with server:
        await stop.wait()


async def run(stop: asyncio.Event) -> None:
    """Entry point for settings.EMBEDDED_SERVICES."""
    await serve(stop, settings.AGI_HOST, settings.AGI_PORT)
