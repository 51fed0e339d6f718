"""The AMI bridge: AMI client -> translator -> call records + channel-layer messages.

The client's reader never waits on the database; this consumer does, one event at a
time, so call rows are written in AMI order. See docs/telephony.md.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from channels.db import database_sync_to_async

from telephony import services
from telephony.ami.client import AMIClient, ClientConfig
from telephony.ami.errors import AMIError
from telephony.ami.protocol import Message
from telephony.calls import CallTracker, TrackerConfig

log = logging.getLogger(__name__)


class Bridge:
    def __init__(self, client: AMIClient, tracker: CallTracker) -> None:
        self.client = client
        self.tracker = tracker
        self.processed = 0

    async def run(self, stop: asyncio.Event) -> None:
        consumer = asyncio.create_task(self.consume(stop), name="ami-consumer")
        try:
            await self.client.run(stop)
        finally:
            consumer.cancel()
            await asyncio.gather(consumer, return_exceptions=True)

    async def consume(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            message, at = await self.client.events.get()
            try:
                if message.kind == "session":
                    await self.resync(message, at)
                else:
                    await self.handle(message, at)
            except AMIError as exc:
                log.warning("resync failed (%s); the next reconnect retries it", exc)
            except Exception:
                # One bad event must not stop the bridge; it stays in the log for the audit.
                log.exception("could not process AMI event %s", message.name)
            self.processed += 1

    async def handle(self, message: Message, at: float) -> None:
        lifecycle = self.tracker.feed(message, at)
        raw = [dict(message)] if lifecycle or self.tracker.interested_in(message) else []
        for event in lifecycle:
            await database_sync_to_async(services.apply_lifecycle)(event, raw)
            raw = []
        if raw:
            await database_sync_to_async(_store_raw)(message.first("Linkedid"), self.tracker.pbx_epoch, raw)

    async def resync(self, marker: Message, at: float) -> None:
        """After (re)connect: detect a PBX restart from Uptime, then close calls that vanished."""
        uptime = int(marker.first("Uptime") or 0)
        epoch = await database_sync_to_async(services.resolve_pbx_epoch)(int(at) - uptime)
        if epoch != self.tracker.pbx_epoch and self.tracker.pbx_epoch:
            log.warning("PBX restarted (boot %s -> %s): Uniqueids start over", self.tracker.pbx_epoch, epoch)
        self.tracker.new_pbx_epoch(epoch)
        _, channels = await self.client.list_action("CoreShowChannels")
        live = {c.first("Linkedid") for c in channels if c.first("Linkedid")}
        _, status = await self.client.list_action("QueueStatus")
        for event in self.tracker.resync(live, at):
            await database_sync_to_async(services.apply_lifecycle)(event)
        closed = await database_sync_to_async(services.close_vanished_calls)(epoch, live, at)
        log.info("resynced: %d live channels' calls, %d vanished calls closed", len(live), len(closed))
        await database_sync_to_async(_publish_queue_status)(status)


def _store_raw(linkedid: str, epoch: int, raw: list[dict[str, Any]]) -> None:
    from telephony.models import Call

    call = Call.objects.filter(linkedid=linkedid, pbx_epoch=epoch).first()
    if call is not None:
        services.store_raw_events(call, raw)


def _publish_queue_status(items: list[Message]) -> None:
    """Wallboard snapshot from QueueStatus: waiting callers and members by state."""
    from hotline.events import publish_on_commit

    queues: dict[str, dict[str, Any]] = {}
    for item in items:
        queue = queues.setdefault(item.first("Queue"), {"waiting": 0, "longest_wait": 0, "agents": {}})
        if item.name == "QueueEntry":
            queue["waiting"] += 1
            queue["longest_wait"] = max(queue["longest_wait"], int(item.first("Wait") or 0))
        elif item.name == "QueueMember":
            paused = item.first("Paused") == "1"
            # Status: 1 not in use, 2 in use, 6 ringing (ast_device_state).
            state = (
                "paused" if paused else {"1": "ready", "2": "busy", "6": "ringing"}.get(item.first("Status"), "other")
            )
            queue["agents"][item.first("Location") or item.first("Name")] = state
    publish_on_commit([services.WALLBOARD_GROUP], {"type": "wallboard.queues", "queues": queues})


def from_settings() -> Bridge:
    from django.conf import settings

    queues = frozenset(getattr(settings, "AMI_QUEUES", []) or [])
    client = AMIClient(
        ClientConfig(
            host=settings.AMI_HOST,
            port=settings.AMI_PORT,
            username=settings.AMI_USERNAME,
            secret=settings.AMI_SECRET,
        )
    )
    tracker = CallTracker(
        TrackerConfig(
            queues=queues,
            targets_110=frozenset({tuple(getattr(settings, "AMI_110_TARGET", ("emergency", "110")))}),
            callback_context=getattr(settings, "AMI_CALLBACK_CONTEXT", "callback"),
        )
    )
    return Bridge(client, tracker)


async def run(stop: asyncio.Event) -> None:
    """Entry point for settings.EMBEDDED_SERVICES."""
    await from_settings().run(stop)
