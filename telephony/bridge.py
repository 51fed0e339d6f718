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
from datetime import UTC, datetime

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from hotline.events import agent_group
from telephony import pbx as pbxs
from telephony import presence, queue_log, reconcile, services
from telephony.ami.client import AMIClient, ClientConfig
from telephony.ami.errors import AMIError
from telephony.ami.protocol import Message
from telephony.commands import CommandConfig, Commands, serve_commands
from telephony.lease import Lease
from telephony.lifecycle import AgentRinging, SurveyAnswered
from telephony.pop import ringing_pop
from telephony.tracker import CallTracker, TrackerConfig
from telephony.wallboard import MEMBER_EVENTS, QueueBoard

log = logging.getLogger(__name__)

# Events after which the wallboard's numbers may change.
_BOARD_EVENTS = MEMBER_EVENTS | {"QueueMemberRemoved", "QueueCallerJoin", "QueueCallerLeave", "AgentConnect"}
BOARD_INTERVAL = 0.5  # at most two wallboard pushes a second, however busy the queue
MAX_BATCH = 500  # AMI events taken at once, and steps written in one transaction, at most
# Steps translated but not yet written: past this the consumer waits for the writer, the client's
# event queue fills up and the reader's stall rule applies (memory stays bounded).
MAX_UNWRITTEN = 10 * MAX_BATCH
PUBLISH_CONCURRENCY = 32  # channel-layer sends in flight at once
# A screen pop goes out ahead of a batch's hints: they wait for it, this long at most (seconds).
POP_HEAD_START = 0.2


class Bridge:
    def __init__(
        self,
        client: AMIClient,
        tracker: CallTracker,
        commands: CommandConfig | None = None,
        *,
        queue_log_path: str = "",
        pbx: str | None = None,
    ) -> None:
        self.pbx = pbx or pbxs.default_name()
        self.client = client
        self.tracker = tracker
        self.queue_log = queue_log.QueueLogReader(queue_log_path) if queue_log_path else None
        self.commands = Commands(client, tracker, commands or CommandConfig())
        self.board = QueueBoard(tracker.config.queues)
        self.processed = 0
        self._board_dirty = False
        self._translating = False
        self._unwritten: list[services.Step] = []  # translated, in AMI order, for the writer
        self._surveys: list[SurveyAnswered] = []  # answers among them, handed over once they are written
        self._writer: asyncio.Task | None = None
        self._wrote = asyncio.Event()  # set after each transaction of the writer
        self._pops: set[asyncio.Task] = set()
        # None until the first look: the first picture always says whether the bridge is connected.
        self._connected: bool | None = None
        self._connected_since = time.time()

    async def run(self, stop: asyncio.Event) -> None:
        consumer = asyncio.create_task(self.consume(stop), name="ami-consumer")
        group = pbxs.command_group(self.pbx)
        commands = asyncio.create_task(serve_commands(self.commands, stop, group=group), name="bridge-commands")
        helpers = [consumer, commands, asyncio.create_task(self.push_board(stop), name="wallboard")]
        for task in helpers:
            task.add_done_callback(_report_death)
        try:
            await self.client.run(stop)
        finally:
            # No new command once stopping (a standby may be taking over): only the batch being written ends.
            commands.cancel()
            if self._processing:
                # Let what was translated be written: a cancelled await does not stop the database
                # thread, and a write left running could outlive the bridge (and its transaction).
                settle = asyncio.ensure_future(self._settle())
                await asyncio.wait({settle}, timeout=10)
                settle.cancel()
            writer = [self._writer] if self._writer is not None else []
            for task in [*helpers, *writer, *self._pops]:
                task.cancel()
            await asyncio.gather(*helpers, *writer, *self._pops, return_exceptions=True)

    @property
    def _processing(self) -> bool:
        """A batch is being translated, or translated steps are not written yet."""
        return self._translating or bool(self._unwritten or self._surveys) or self._write_running()

    async def _settle(self) -> None:
        while self._processing:
            await self.written()
            await asyncio.sleep(0.01)  # the consumer's batch, if it is mid-resync

    async def consume(self, stop: asyncio.Event) -> None:
        """Translate events as they arrive; the writer writes what was translated, in AMI order.

        Translating never waits for a write: the screen pop of an AgentCalled goes out the moment
        the event is read, even while the events before it are being written (a busy or locked
        database, a slow commit). Only a reconnect's resync and a writer far behind wait for it.
        """
        while not stop.is_set():
            batch = await self.next_batch()
            self._translating = True
            try:
                await self.process(batch)
            finally:
                self._translating = False

    async def next_batch(self) -> list[tuple[Message, float]]:
        """The next event and whatever else has arrived, up to MAX_BATCH.

        One database round trip for the lot keeps a busy hour cheap, and an idle line still
        gets its single event written at once.
        """
        events = self.client.events
        batch = [await events.get()]
        for _ in range(min(events.qsize(), MAX_BATCH - 1)):
            batch.append(events.get_nowait())
        return batch

    async def process(self, batch: list[tuple[Message, float]]) -> None:
        """Translate a batch and hand its steps to the writer; returns once the writer has them."""
        for message, at in batch:
            self.processed += 1
            try:
                if message.kind == "session":
                    # The rows of what came before the reconnect first: the resync reads them.
                    await self.written()
                    await self.resync(message, at)
                else:
                    self._unwritten.extend(self.translate(message, at))
            except AMIError as exc:
                log.warning("resync failed (%s); the next reconnect retries it", exc)
            except Exception:
                # One bad event must not stop the bridge; it stays in the log for the audit.
                log.exception("could not process AMI event %s", message.name)
        self._write_soon()
        if len(self._unwritten) >= MAX_UNWRITTEN:
            # Far behind: wait until the writer has taken half of it, not for all of it (a short
            # wait, one or two transactions, rather than seconds without a pop).
            while len(self._unwritten) > MAX_UNWRITTEN // 2 and self._write_running():
                self._wrote.clear()
                wrote = asyncio.ensure_future(self._wrote.wait())
                await asyncio.wait({wrote, self._writer}, return_when=asyncio.FIRST_COMPLETED)
                wrote.cancel()

    def _write_running(self) -> bool:
        return self._writer is not None and not self._writer.done()

    def _write_soon(self) -> None:
        if (self._unwritten or self._surveys) and not self._write_running():
            self._writer = asyncio.create_task(self._write_all(), name="bridge-writer")
            self._writer.add_done_callback(_report_death)

    async def _write_all(self) -> None:
        """The writer: everything translated so far, MAX_BATCH steps per transaction, in order."""
        while self._unwritten or self._surveys:
            steps = self._unwritten[:MAX_BATCH]
            del self._unwritten[:MAX_BATCH]
            answers: list[SurveyAnswered] = []
            if not self._unwritten:  # every answer's call rows are in this write or an earlier one
                answers, self._surveys = self._surveys, []
            try:
                await self.write(steps)
            finally:
                await self.hand_over_surveys(answers)
                self._wrote.set()

    async def written(self) -> None:
        """Until every step translated so far is written (and its survey answers handed over)."""
        self._write_soon()
        while self._write_running():
            await asyncio.wait({self._writer})
            self._write_soon()

    async def hand_over_surveys(self, answers: list[SurveyAnswered]) -> None:
        """IVR survey answers go to the registered survey handler once the batch's call rows are written."""
        for answer in answers:
            try:
                await database_sync_to_async(services.hand_over_survey_answer)(answer)
            except Exception:
                log.exception("the survey handler failed on %s:%s", answer.reference, answer.digit)

    def translate(self, message: Message, at: float) -> list[services.Step]:
        """The pure part: commands, wallboard and translator see the event; returns what to write."""
        lifecycle = self.tracker.feed(message, at)
        # After the tracker: a command waiting for the PBX to show its result checks the new state.
        self.commands.on_event(message)
        if self.board.feed(message) or lifecycle or message.name in _BOARD_EVENTS:
            self._board_dirty = True
        if not lifecycle:
            # Nearly every event: no call changed; at most the event joins a call's audit trail.
            if _audit_noise(message) or not self.tracker.interested_in(message):
                return []
            # The message itself, not a copy: nothing changes a parsed message, and the writer copies it.
            return [services.Step(raw=[message], linkedid=message.first("Linkedid"), pbx_epoch=self.tracker.pbx_epoch)]
        for event in lifecycle:
            if isinstance(event, AgentRinging):
                self.pop(event)
        raw: list[Message] = [message]
        answers = [e for e in lifecycle if isinstance(e, SurveyAnswered)]
        if answers:
            # Not a change of the call row: the raw VarSet joins the call's audit trail, the answer is handed over.
            self._surveys.extend(answers)
            lifecycle = [e for e in lifecycle if not isinstance(e, SurveyAnswered)]
            if not lifecycle:
                return [services.Step(raw=raw, linkedid=message.first("Linkedid"), pbx_epoch=self.tracker.pbx_epoch)]
        return [services.Step(event=event, raw=raw if i == 0 else []) for i, event in enumerate(lifecycle)]

    def pop(self, event: AgentRinging) -> None:
        """Send the screen pop now, beside the batch write rather than after it."""
        task = asyncio.create_task(self._send_pop(event), name=f"pop-{event.linkedid}")
        self._pops.add(task)
        task.add_done_callback(self._pops.discard)

    async def _send_pop(self, event: AgentRinging) -> None:
        try:
            # Its own worker thread and pooled connection: the writer's thread is busy with the batch.
            pop = await _read_now(ringing_pop)(event, self.pbx)
            layer = get_channel_layer()
            if pop is not None and layer is not None:
                await layer.group_send(*pop)
        except Exception:  # at-most-once like every hint: the console re-reads the call on the next one
            log.warning("could not send the screen pop of %s", event.linkedid, exc_info=True)

    async def pops_sent(self) -> None:
        """Until the screen pops translated so far are handed to the channel layer (POP_HEAD_START at most).

        The writer publishes a batch's hints (hundreds in a busy second) while the consumer goes on
        translating. A pop sent among them would queue behind them, in the bridge's event loop and in
        each web process's channel-layer queue (first in, first out, one Redis round trip after another),
        and reach the console hundreds of milliseconds late. The batch's hints wait instead (once per
        batch, not per hint: the writer must not fall behind), and consoles coalesce them into a
        re-render half a second later anyway.
        """
        if self._pops:
            await asyncio.wait(set(self._pops), timeout=POP_HEAD_START)

    async def write(self, steps: list[services.Step]) -> None:
        if not steps:
            return
        outbox: services.Outbox = []
        try:
            await database_sync_to_async(services.apply_batch)(steps, outbox, pbx=self.pbx)
        except Exception:
            # Find the culprit: apply one by one, so a single bad event costs only itself.
            log.exception("a batch of %d bridge steps failed; applying them one by one", len(steps))
            outbox = []
            for step in steps:
                try:
                    await database_sync_to_async(services.apply_batch)([step], outbox, pbx=self.pbx)
                except Exception:
                    log.exception("could not record %s", step.event or "raw events")
        await self.publish(outbox)

    async def publish(self, outbox: services.Outbox) -> None:
        layer = get_channel_layer()
        if layer is None or not outbox:
            return
        # A busy batch holds hundreds of messages: a bounded number in flight keeps the Redis pool
        # (and its connection limit) out of the way of the consoles' own traffic.
        gate = asyncio.Semaphore(PUBLISH_CONCURRENCY)

        async def send(group: str, message: dict) -> None:
            async with gate:
                await layer.group_send(group, message)

        await self.pops_sent()

        sends = [send(group, message) for group, message in _fold_wallboard_hints(outbox)]
        for result in await asyncio.gather(*sends, return_exceptions=True):
            if isinstance(result, Exception):  # at-most-once: consoles resync from the database
                log.warning("could not publish a call message: %r", result)

    async def resync(self, marker: Message, at: float) -> None:
        """After (re)connect: reconcile with the PBX, not only with our own rows (docs/telephony.md "Outages").

        1. a PBX restart is told by its Uptime (a new ``pbx_epoch``);
        2. the PBX's answers: ``CoreShowChannels`` (every channel, Linkedid, bridged or not, 110 context)
           and ``QueueStatus`` (waiting callers, members), and what queue_log gained since the last read;
        3. every caller live in a queue or talking is followed, whether we had a row for it or not;
        4. calls we followed that are gone end as queue_log says (else ``unknown``), and calls that
           began and ended while we were away are recorded from queue_log.
        """
        uptime = int(marker.first("Uptime") or 0)
        previous = self.tracker.pbx_epoch
        pbx = self.pbx
        epoch = await database_sync_to_async(services.resolve_pbx_epoch)(int(at) - uptime, pbx=pbx)
        if epoch != previous and previous:
            log.warning("PBX restarted (boot %s -> %s): Uniqueids start over", previous, epoch)
        self.tracker.new_pbx_epoch(epoch)
        _, channels = await self.client.list_action("CoreShowChannels")
        live = {c.first("Linkedid") for c in channels if c.first("Linkedid")}
        asked = time.time()  # presence rows changed after this are newer than the PBX's answer
        _, status = await self.client.list_action("QueueStatus")
        logged = await self.read_queue_log(epoch, previous)
        # The bridge itself may have restarted mid-call: pick those calls up again from the database.
        for call in await database_sync_to_async(services.open_calls)(epoch, live, pbx=pbx):
            self.tracker.adopt(
                call.linkedid,
                pbx_epoch=epoch,
                queue=call.queue,
                caller_number=call.caller_number,
                answered=call.answered_at is not None,
                interface=call.agent_interface,
                offered_at=call.offered_at.timestamp() if call.offered_at else None,
                caller_uniqueid=call.caller_uniqueid,
            )
        current = {callid: record for (e, callid), record in logged.items() if e == epoch}
        callers = reconcile.live_callers(
            channels,
            status,
            current,
            targets_110=self.tracker.config.targets_110,
            queues=self.tracker.config.queues,
            known=frozenset(self.tracker.calls),
            now=at,
            hold_contexts=(self.commands.config.hold_context, self.commands.config.held_context),
            transfer_context=self.commands.config.transfer_context,
        )
        events = [e for caller in callers for e in self.tracker.adopt_live(caller, at)]
        events.extend(self.tracker.resync(live, at, logged))
        for event in events:
            await database_sync_to_async(services.apply_lifecycle)(event, pbx=pbx)
        members = {m.first("Name"): m.first("Location") for m in status if m.name == "QueueMember"}
        recovered = 0
        for pbx_epoch in sorted({e for e, _ in logged}):
            queues = self.tracker.config.queues
            records = [
                r for (e, _), r in logged.items() if e == pbx_epoch and r.outcome and (not queues or r.queue in queues)
            ]
            recover = database_sync_to_async(services.recover_logged_calls)
            recovered += len(await recover(pbx_epoch, records, members, pbx=pbx))
        closed = await database_sync_to_async(services.close_vanished_calls)(epoch, live, at, pbx=pbx)
        await self.mark_absent_agents(status, asked)
        log.info(
            "resynced: %d live channels' calls (%d callers adopted or caught up), %d calls from queue_log, "
            "%d vanished calls closed",
            len(live),
            len(callers),
            recovered,
            len(closed),
        )
        self.board.reset(status)
        self._board_dirty = True

    async def read_queue_log(self, epoch: int, previous: int) -> dict[tuple[int, str], queue_log.LoggedCall]:
        """What queue_log gained since the last read, by (pbx_epoch, callid); {} without a queue_log."""
        if self.queue_log is None:
            return {}
        since = None
        if self.queue_log.offset is None:
            since = await database_sync_to_async(services.last_offered_at)(pbx=self.pbx)
        lines = await asyncio.to_thread(self.queue_log.read, since)
        by_boot = queue_log.summarize(lines)
        # Lines before a QUEUESTART belong to the boot before: the one we followed, or the newest recorded.
        if any(boot == 0 for boot, _ in by_boot) and (not previous or previous == epoch):
            previous = await database_sync_to_async(services.previous_pbx_epoch)(epoch, pbx=self.pbx) or 0
        out: dict[tuple[int, str], queue_log.LoggedCall] = {}
        for (boot, callid), record in by_boot.items():
            if boot == 0 and not previous:
                log.warning("queue_log: call %s of an earlier PBX boot we never followed; skipped", callid)
                continue
            out[(epoch if boot == 1 else previous, callid)] = record
        return out

    async def mark_absent_agents(self, status: list[Message], asked: float) -> None:
        """Agents whose row says ready or paused but whose phone the PBX lists in none of our queues are offline.

        After a PBX (or demo) restart the queues are empty: an agent left "ready" would wait for calls
        that never come while the console said otherwise.
        """
        queues = self.tracker.config.queues
        present = {
            where
            for m in status
            if m.name == "QueueMember" and (not queues or m.first("Queue") in queues)
            for where in (m.first("Location"), m.first("Interface"), m.first("StateInterface"))
            if where
        }
        absent = await database_sync_to_async(presence.mark_absent)(
            self.pbx, present, self.commands.config.agent_interface, before=datetime.fromtimestamp(asked, tz=UTC)
        )
        if absent:
            log.warning(
                "PBX %s lists no queue member for %d agent(s) marked ready or paused: now offline",
                self.pbx,
                len(absent),
            )
        await self.publish(
            [([agent_group(user_id)], {"type": "agent.state", "status": "offline"}) for user_id in absent]
        )

    def bridge_status(self) -> dict:
        """Whether the bridge is connected to the PBX now, and since when (unix seconds)."""
        connected = self.client.connected.is_set()
        if connected != self._connected:
            self._connected, self._connected_since = connected, time.time()
            self._board_dirty = True
            if not connected:
                log.warning("the bridge is not connected to the PBX: the wallboard says so until it is back")
        return {"connected": connected, "since": self._connected_since}

    async def push_board(self, stop: asyncio.Event) -> None:
        """Publish the wallboard picture when it changed, at most every BOARD_INTERVAL seconds.

        The picture carries ``bridge`` (connected, since): while the PBX is out of reach the
        wallboard says the live figures are stale instead of showing them as if they were current.
        """
        layer = get_channel_layer()
        while not stop.is_set():
            await asyncio.sleep(BOARD_INTERVAL)
            status = self.bridge_status()
            if not self._board_dirty or layer is None:
                continue
            self._board_dirty = False
            message = {
                "type": "wallboard.queues",
                "pbx": self.pbx,
                "queues": self.board.snapshot(self.tracker, time.time()),
                "bridge": status,
            }
            try:
                await layer.group_send(services.WALLBOARD_GROUP, message)
            except Exception:
                log.warning("could not publish the wallboard picture", exc_info=True)


def _fold_wallboard_hints(outbox: services.Outbox) -> list[tuple[str, dict]]:
    """(group, message) pairs to send, in order; of the ``call.*`` hints to the wallboard, the last of each kind.

    The wallboard re-reads today's figures on any of them (coalesced to once a second), so a busy
    batch's dozens of copies would only lengthen every web process's channel-layer queue, in which
    the screen pops wait behind them. Agents' groups get every hint.
    """
    pairs = [(group, message) for groups, message in outbox for group in groups]
    last = {
        message["type"]: i
        for i, (group, message) in enumerate(pairs)
        if group == services.WALLBOARD_GROUP and message["type"].startswith("call.")
    }
    keep = set(last.values())
    return [
        (group, message)
        for i, (group, message) in enumerate(pairs)
        if i in keep or group != services.WALLBOARD_GROUP or not message["type"].startswith("call.")
    ]


def _read_now(function):
    """A read beside the bridge's writes: any worker thread, connections closed (pooled) after use."""
    return database_sync_to_async(function, thread_sensitive=False)


def _report_death(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("bridge task %s died", task.get_name(), exc_info=task.exception())


# Half of a queue call's events are VarSet and one in ten Newexten (dialplan bookkeeping). The audit
# trail keeps the variables that mean something to us and drops the rest, as the eventfilter in
# docs/asterisk/manager.conf would; an event that moved a call is always kept.
_AUDIT_VARIABLES = frozenset({"QUEUESTATUS", "DIALSTATUS", "MIXMONITOR_FILENAME"})


def _audit_noise(message: Message) -> bool:
    if message.name == "Newexten":
        return True
    if message.name == "VarSet":
        variable = message.first("Variable")
        return not (variable in _AUDIT_VARIABLES or variable.startswith("HOTLINE_"))
    return False


def from_settings(pbx: str | None = None) -> Bridge:
    """The bridge of the PBX called ``pbx`` (None: the first configured), from settings."""
    from django.conf import settings

    target = pbxs.get(pbx)
    queues = tuple(settings.AMI_QUEUES)
    target_110 = tuple(settings.AMI_110_TARGET)
    client = AMIClient(
        ClientConfig(
            host=target.host,
            port=target.port,
            username=target.username,
            secret=target.secret,
            backoff_max=settings.AMI_RECONNECT_MAX_SECONDS,
        )
    )
    tracker = CallTracker(
        TrackerConfig(
            queues=frozenset(queues),
            targets_110=frozenset({target_110}),
            callback_context=settings.AMI_CALLBACK_CONTEXT,
            survey_context=settings.AMI_SURVEY_CONTEXT,
            transfer_context=settings.AMI_CALL_TRANSFER_CONTEXT,
        )
    )
    commands = CommandConfig(
        queues=queues,
        agent_interface=settings.AMI_AGENT_INTERFACE,
        target_110=target_110,
        threeway_context=settings.AMI_THREEWAY_CONTEXT,
        threeway_dial_context=settings.AMI_THREEWAY_DIAL_CONTEXT,
        threeway_unit_context=settings.AMI_THREEWAY_UNIT_CONTEXT,
        threeway_timeout=float(settings.AMI_THREEWAY_TIMEOUT),
        transfer_timeout=float(settings.AMI_TRANSFER_TIMEOUT),
        callback_context=settings.AMI_CALLBACK_CONTEXT,
        survey_channel=settings.AMI_SURVEY_CHANNEL,
        survey_context=settings.AMI_SURVEY_CONTEXT,
        transfer_context=settings.AMI_CALL_TRANSFER_CONTEXT,
        consult_timeout=float(settings.AMI_CONSULT_TIMEOUT),
    )
    return Bridge(client, tracker, commands, queue_log_path=target.queue_log_path, pbx=target.name)


async def run_pbx(pbx: str, stop: asyncio.Event, *, lease: Lease | None = None) -> None:
    """Active/standby bridge of one PBX until ``stop``: wait for the lease, bridge while it is held.

    A fresh :class:`Bridge` each time this process becomes active: it knows nothing but the database
    and the PBX, and its first login reconciles with both (docs/telephony.md "Outages"). When the
    lease is lost (another bridge took it, or this one cannot reach the database) the bridge stops
    and this process waits as standby again.
    """
    from django.conf import settings

    pbxs.get(pbx)  # an unknown name fails here, loudly
    lease = lease or Lease(pbx, seconds=settings.AMI_BRIDGE_LEASE_SECONDS)
    while not stop.is_set():
        if not await lease.acquire(stop):
            return
        stand_down = asyncio.Event()
        keeper = asyncio.create_task(lease.keep(stand_down), name=f"lease-{pbx}")
        relay = asyncio.create_task(_relay(stop, stand_down))
        try:
            await from_settings(pbx).run(stand_down)
        finally:
            stand_down.set()
            relay.cancel()
            await asyncio.gather(keeper, relay, return_exceptions=True)
        if stop.is_set():
            await lease.release()
            return
        log.warning("PBX %s: this bridge stood down and waits as standby", pbx)


async def _relay(source: asyncio.Event, target: asyncio.Event) -> None:
    await source.wait()
    target.set()


async def run(stop: asyncio.Event) -> None:
    """Entry point for settings.EMBEDDED_SERVICES: one active/standby bridge per configured PBX."""
    await asyncio.gather(*(run_pbx(name, stop) for name in pbxs.names()))
