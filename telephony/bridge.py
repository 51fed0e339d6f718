"""The AMI bridge: AMI client -> translator -> call records + channel-layer messages.

The client's reader never waits on the database; this consumer does, one event at a
time, so call rows are written in AMI order. Beside it, the bridge answers the web
side's commands (``telephony.commands``) and keeps the wallboard's live picture.
See docs/telephony.md.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from telephony import services
from telephony.ami.client import AMIClient, ClientConfig
from telephony.ami.errors import AMIError
from telephony.ami.protocol import Message
from telephony.calls import CallTracker, TrackerConfig
from telephony.commands import CommandConfig, Commands, serve_commands
from telephony.wallboard import MEMBER_EVENTS, QueueBoard

log = logging.getLogger(__name__)

# Events after which the wallboard's numbers may change.
_BOARD_EVENTS = MEMBER_EVENTS | {"QueueMemberRemoved", "QueueCallerJoin", "QueueCallerLeave", "AgentConnect"}
BOARD_INTERVAL = 0.5  # at most two wallboard pushes a second, however busy the queue


class Bridge:
    def __init__(self, client: AMIClient, tracker: CallTracker, commands: CommandConfig | None = None) -> None:
        self.client = client
        self.tracker = tracker
        self.commands = Commands(client, tracker, commands or CommandConfig())
        self.board = QueueBoard(tracker.config.queues)
        self.processed = 0
        self._board_dirty = False

    async def run(self, stop: asyncio.Event) -> None:
        helpers = [
            asyncio.create_task(self.consume(stop), name="ami-consumer"),
            asyncio.create_task(serve_commands(self.commands, stop), name="bridge-commands"),
            asyncio.create_task(self.push_board(stop), name="wallboard"),
        ]
        try:
            await self.client.run(stop)
        finally:
            for task in helpers:
                task.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)

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
        self.commands.on_event(message)
        lifecycle = self.tracker.feed(message, at)
        if self.board.feed(message) or message.name in _BOARD_EVENTS or lifecycle:
            self._board_dirty = True
        raw = [dict(message)] if lifecycle or self.tracker.interested_in(message) else []
        for event in lifecycle:
            await database_sync_to_async(services.apply_lifecycle)(event, raw)
            raw = []
        if raw:
            await database_sync_to_async(_store_raw)(message.first("Linkedid"), self.tracker.pbx_epoch, raw)

    async def resync(self, marker: Message, at: float) -> None:
        """After (re)connect: detect a PBX restart from Uptime, adopt live calls, close vanished ones."""
        uptime = int(marker.first("Uptime") or 0)
        epoch = await database_sync_to_async(services.resolve_pbx_epoch)(int(at) - uptime)
        if epoch != self.tracker.pbx_epoch and self.tracker.pbx_epoch:
            log.warning("PBX restarted (boot %s -> %s): Uniqueids start over", self.tracker.pbx_epoch, epoch)
        self.tracker.new_pbx_epoch(epoch)
        _, channels = await self.client.list_action("CoreShowChannels")
        live = {c.first("Linkedid") for c in channels if c.first("Linkedid")}
        _, status = await self.client.list_action("QueueStatus")
        # The bridge itself may have restarted mid-call: pick those calls up again from the database.
        for call in await database_sync_to_async(services.open_calls)(epoch, live):
            self.tracker.adopt(
                call.linkedid,
                pbx_epoch=epoch,
                queue=call.queue,
                caller_number=call.caller_number,
                answered=call.answered_at is not None,
                interface=call.agent_interface,
                offered_at=call.offered_at.timestamp() if call.offered_at else None,
            )
        for event in self.tracker.resync(live, at):
            await database_sync_to_async(services.apply_lifecycle)(event)
        closed = await database_sync_to_async(services.close_vanished_calls)(epoch, live, at)
        log.info("resynced: %d live channels' calls, %d vanished calls closed", len(live), len(closed))
        self.board.reset(status)
        self._board_dirty = True

    async def push_board(self, stop: asyncio.Event) -> None:
        """Publish the wallboard picture when it changed, at most every BOARD_INTERVAL seconds."""
        layer = get_channel_layer()
        while not stop.is_set():
            await asyncio.sleep(BOARD_INTERVAL)
            if not self._board_dirty or layer is None:
                continue
            self._board_dirty = False
            message = {"type": "wallboard.queues", "queues": self.board.snapshot(self.tracker, time.time())}
            try:
                await layer.group_send(services.WALLBOARD_GROUP, message)
            except Exception:
                log.warning("could not publish the wallboard picture", exc_info=True)


def _store_raw(linkedid: str, epoch: int, raw: list[dict[str, Any]]) -> None:
    from telephony.models import Call

    call = Call.objects.filter(linkedid=linkedid, pbx_epoch=epoch).first()
    if call is not None:
        services.store_raw_events(call, raw)


def from_settings() -> Bridge:
    from django.conf import settings

    queues = tuple(getattr(settings, "AMI_QUEUES", []) or [])
    target_110 = tuple(settings.AMI_110_TARGET)
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
            queues=frozenset(queues),
            targets_110=frozenset({target_110}),
            callback_context=settings.AMI_CALLBACK_CONTEXT,
        )
    )
    commands = CommandConfig(
        queues=queues,
        agent_interface=settings.AMI_AGENT_INTERFACE,
        target_110=target_110,
        threeway_context=settings.AMI_THREEWAY_CONTEXT,
        callback_context=settings.AMI_CALLBACK_CONTEXT,
    )
    return Bridge(client, tracker, commands)


async def run(stop: asyncio.Event) -> None:
    """Entry point for settings.EMBEDDED_SERVICES."""
    await from_settings().run(stop)
