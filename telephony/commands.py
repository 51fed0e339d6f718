"""What the web side may ask the bridge to do, and how each request becomes AMI actions.

The bridge joins the channel-layer group of its PBX (``telephony.bridge.<pbx>``,
:func:`telephony.pbx.command_group`) and answers every
request on the requester's reply channel: ``{"ok": true, ...}`` or ``{"ok": false,
"error": "..."}``. The requester (``telephony.control``) waits with a timeout, so
a bridge that is down is a clear error, never a hang. Requests are never queued
for later: a stale "call this citizen" must not dial minutes after the agent gave up.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from telephony.ami.client import AMIClient
from telephony.ami.errors import ActionFailed, AMIError
from telephony.ami.protocol import Message
from telephony.lifecycle import PURPOSE_REVISIT_IVR, PURPOSE_VARIABLE, REFERENCE_VARIABLE
from telephony.tracker import CallState, CallTracker

log = logging.getLogger(__name__)


class CommandError(Exception):
    """The request cannot be carried out; the message goes back to the requester.

    ``code`` names a failure the console explains in its own words (see ``FAILURE_CODES``),
    ``detail`` is what the PBX said (e.g. the DIALSTATUS of a 110 leg that did not answer).
    """

    def __init__(self, message: str, *, code: str = "", detail: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.detail = detail


# Failures the PBX shows after it accepted the action: the consoles explain these.
NOT_ANSWERED = "not_answered"  # the three-way call's called party did not answer (detail: DIALSTATUS)
NOT_REACHED = "not_reached"  # the Redirect/BlindTransfer was accepted, the caller never got to 110
NO_ROOM = "no_room"  # the PBX cannot hold a three-way room (app_confbridge not loaded)
CALL_ENDED = "call_ended"  # the call ended before the PBX showed the result
# Requests the bridge refuses before asking the PBX: the consoles say these in their own words too.
NO_CALL = "no_call"  # the agent has no call in progress
NOT_AGENT = "not_agent"  # the extension is not an agent's
NOT_RECORDING = "not_recording"  # a stop-recording on a call that is not being recorded
INVALID_NUMBER = "invalid_number"  # a number to dial that is not 3-20 digits
FAILURE_CODES = frozenset(
    {NOT_ANSWERED, NOT_REACHED, CALL_ENDED, NO_ROOM, NO_CALL, NOT_AGENT, NOT_RECORDING, INVALID_NUMBER}
)

# Commands other modules add (telephony/call_controls.py), by name: async (commands, **args) -> dict.
_REGISTERED: dict[str, Callable[..., Any]] = {}


def register_command(name: str, handler: Callable[..., Any]) -> None:
    _REGISTERED[name] = handler


@dataclass(frozen=True)
class CommandConfig:
    queues: tuple[str, ...] = ("12345",)
    agent_interface: str = "Local/{extension}@agents"
    target_110: tuple[str, str] = ("emergency", "110")
    threeway_context: str = "threeway"  # the caller waits in the room here
    threeway_dial_context: str = "threeway-dial"  # the agent's channel dials 110 from here
    threeway_unit_context: str = "threeway-unit"  # ... or a unit's duty phone (HOTLINE_THREEWAY_NUMBER)
    # The dialplan rings the called party for 60 s, and the prompts take a few seconds.
    threeway_timeout: float = 75.0
    # A Redirect to 110 shows as the caller's channel running the 110 context within this time.
    transfer_timeout: float = 10.0
    callback_context: str = "callback"
    callback_caller_id: str = "12345"
    originate_timeout: float = 45.0
    # IVR survey: the citizen's channel is dialled straight into the survey context (no agent leg).
    survey_channel: str = "Local/{number}@pstn"
    survey_context: str = "survey"
    # Call controls (telephony/call_controls.py, docs/asterisk/extensions.conf): hold and transfers.
    hold_context: str = "hotline-hold"
    held_context: str = "hotline-held"
    unhold_context: str = "hotline-unhold"
    transfer_context: str = "hotline-transfer"
    control_timeout: float = 10.0  # the PBX shows a hold, an unhold, a completed transfer within this
    consult_timeout: float = 30.0  # features.conf atxfernoanswertimeout (20 s) and some margin


@dataclass
class Commands:
    client: AMIClient
    tracker: CallTracker
    config: CommandConfig = field(default_factory=CommandConfig)
    # The requests waiting for their OriginateResponse, by ActionID (registered before the Originate is sent).
    _waiting: dict[str, asyncio.Future[Message]] = field(default_factory=dict)
    # Requests waiting for the PBX to show their result: a check run after every event, and its future.
    _watches: list[tuple[Callable[[], Any], asyncio.Future[Any]]] = field(default_factory=list)

    async def execute(self, name: str, args: dict[str, Any]) -> dict[str, Any]:
        handler = getattr(self, f"do_{name}", None)
        if handler is None and name in _REGISTERED:
            handler = functools.partial(_REGISTERED[name], self)
        if handler is None:
            raise CommandError(f"unknown command {name!r}")
        try:
            return await handler(**args)
        except TypeError as exc:
            raise CommandError(f"bad arguments for {name}: {exc}") from None
        except AMIError as exc:
            raise CommandError(f"{name}: {exc}") from None

    def interface(self, extension: str) -> str:
        if not extension or not str(extension).isalnum():
            raise CommandError(f"not an agent extension: {extension!r}", code=NOT_AGENT)
        return self.config.agent_interface.format(extension=extension)

    def live_call(self, extension: str) -> CallState:
        state = self.tracker.live_call_of(self.interface(extension))
        if state is None or not state.caller_channel:
            raise CommandError(f"agent {extension} has no call in progress", code=NO_CALL)
        return state

    # --- queue membership -----------------------------------------------------------

    async def do_queue_add(
        self,
        *,
        extension: str,
        name: str = "",
        paused: bool = False,
        reason: str = "",
        queues: list[dict[str, Any]] | None = None,
    ) -> dict:
        """Put the phone in its desks' queues (``queues``: [{queue, penalty}], from ``telephony.desks``).

        The general desk (the first configured queue) always; a queue this PBX does not follow is
        skipped and reported, not added. Queues the agent no longer has are left (a skill taken away
        since the last login); a member already there gets its penalty updated.
        """
        interface = self.interface(extension)
        general = self.config.queues[0]
        wanted: dict[str, int] = {general: 0}
        skipped: list[str] = []
        for item in queues or []:
            queue, penalty = str(item.get("queue", "")), item.get("penalty", 0)
            if queue not in self.config.queues:
                skipped.append(queue)
                continue
            if not isinstance(penalty, int) or not 0 <= penalty <= 1000:
                raise CommandError(f"bad penalty {penalty!r} for queue {queue!r}")
            wanted[queue] = penalty
        for queue, penalty in wanted.items():
            fields = {"Queue": queue, "Interface": interface, "MemberName": name or extension, "Penalty": penalty}
            fields |= {"Paused": "true" if paused else "false", "Reason": reason} if paused else {}
            try:
                await self.client.action("QueueAdd", fields)
            except ActionFailed as exc:
                if "already there" not in str(exc).lower():
                    raise
                await self.client.action("QueuePenalty", {"Queue": queue, "Interface": interface, "Penalty": penalty})
        if queues is not None:
            for queue in self.config.queues:
                if queue not in wanted:
                    await _tolerate(
                        self.client.action("QueueRemove", {"Queue": queue, "Interface": interface}), "Not there"
                    )
        return {"interface": interface, "queues": list(wanted), "penalties": wanted, "skipped": skipped}

    async def do_queue_remove(self, *, extension: str) -> dict:
        """Out of every queue this PBX follows: all the agent's desks."""
        interface = self.interface(extension)
        for queue in self.config.queues:
            await _tolerate(self.client.action("QueueRemove", {"Queue": queue, "Interface": interface}), "Not there")
        return {"interface": interface}

    async def do_pause(self, *, extension: str, paused: bool, reason: str = "") -> dict:
        fields = {"Interface": self.interface(extension), "Paused": "true" if paused else "false"}
        if reason:
            fields["Reason"] = reason
        await self.client.action("QueuePause", fields)
        return {"interface": fields["Interface"], "paused": paused}

    # --- the agent's current call ---------------------------------------------------

    async def do_transfer_110(self, *, extension: str, mode: str = "redirect") -> dict:
        """Send the caller to 110: Redirect the caller's channel, or BlindTransfer from the agent's.

        Asterisk answers "Redirect successful" even for an extension it does not have (the
        channel is then hung up): success is reported only once the caller's channel runs the
        110 context (``CallState.reached_110``).
        """
        state = self.live_call(extension)
        context, exten = self.config.target_110
        if mode == "redirect":
            fields = {"Channel": state.caller_channel, "Context": context, "Exten": exten, "Priority": 1}
            await self.client.action("Redirect", fields)
        elif mode == "blind":
            if not state.agent_channel:
                raise CommandError("the agent's channel is not known; use mode redirect")
            await self.client.action(
                "BlindTransfer", {"Channel": state.agent_channel, "Context": context, "Exten": exten}
            )
        else:
            raise CommandError(f"unknown transfer mode {mode!r}")

        def reached() -> str | None:
            if state.reached_110:
                return "reached"
            return "ended" if state.ended else None

        seen = await self.until(reached, self.config.transfer_timeout)
        if seen != "reached":
            how = "the call ended" if seen == "ended" else f"nothing within {self.config.transfer_timeout:g} s"
            raise CommandError(f"the caller's channel never reached 110 ({how})", code=NOT_REACHED)
        return {"linkedid": state.linkedid, "pbx_epoch": state.pbx_epoch, "mode": mode}

    async def do_three_way(self, *, extension: str, number: str = "") -> dict:
        """Caller, agent and 110 in one conference room (国办发〔2022〕12号 for unclear cases).

        One Redirect sends the caller to the room and the agent's channel to the dialplan that
        dials 110 (docs/asterisk/extensions.conf ``[threeway]``): the 110 leg is part of the call
        (its Linkedid) and carries the hotline's caller ID. Success is reported only when the PBX
        shows 110 and the caller in the room; a 110 that does not answer is a failure (the agent
        is back with the caller).

        With ``number`` (a unit's duty phone, the expert on the line) the agent's channel dials
        that number instead (``threeway_unit_context``; the number is set on the channel first).
        """
        state = self.live_call(extension)
        if not state.agent_channel:
            raise CommandError("the agent's channel is not known")
        # Without app_confbridge (no confbridge.conf) the caller would be hung up in the room while
        # the agent's channel dials on: ask first, and leave the call as it is.
        try:
            await self.client.action("ModuleCheck", {"Module": "app_confbridge"})
        except ActionFailed as exc:
            raise CommandError(
                f"the PBX cannot hold a three-way room (app_confbridge: {exc}); the caller is still with the agent",
                code=NO_ROOM,
            ) from None
        extra_context = self.config.threeway_dial_context
        if number:
            _check_number(number)
            extra_context = self.config.threeway_unit_context
            await self.client.action(
                "Setvar", {"Channel": state.agent_channel, "Variable": "HOTLINE_THREEWAY_NUMBER", "Value": number}
            )
        room = state.linkedid.replace(".", "-")
        state.threeway_joined = state.threeway_failed = ""  # a new attempt (the last one may have failed)
        await self.client.action(
            "Redirect",
            {
                "Channel": state.caller_channel,
                "ExtraChannel": state.agent_channel,
                "Context": self.config.threeway_context,
                "Exten": room,
                "Priority": 1,
                "ExtraContext": extra_context,
                "ExtraExten": room,
                "ExtraPriority": 1,
            },
        )

        def joined() -> tuple[str, str] | None:
            if state.threeway_joined and state.caller_uniqueid in state.in_room:
                return ("joined", state.threeway_joined)
            if state.threeway_failed:
                return ("failed", state.threeway_failed)
            return ("ended", "") if state.ended else None

        party = number or "110"
        seen = await self.until(joined, self.config.threeway_timeout)
        if seen is None:
            raise CommandError(
                f"{party} was not in the room within {self.config.threeway_timeout:g} s",
                code=NOT_ANSWERED,
                detail="TIMEOUT",
            )
        how, detail = seen
        if how == "failed":
            raise CommandError(
                f"{party} did not answer ({detail}); the caller is still with the agent",
                code=NOT_ANSWERED,
                detail=detail,
            )
        if how == "ended":
            raise CommandError(f"the call ended before {party} was in the room", code=CALL_ENDED)
        return {
            "linkedid": state.linkedid,
            "pbx_epoch": state.pbx_epoch,
            "room": f"hotline-{room}",
            "party": detail,
        }

    async def do_hangup(self, *, extension: str) -> dict:
        """End the agent's call: AMI Hangup of the caller's channel, as the recorded traces do (Cause 16)."""
        state = self.live_call(extension)
        await self.client.action("Hangup", {"Channel": state.caller_channel, "Cause": 16})
        return {"linkedid": state.linkedid, "pbx_epoch": state.pbx_epoch}

    async def do_stop_recording(self, *, extension: str) -> dict:
        """The caller asked not to be recorded: StopMixMonitor on the channel MixMonitor records."""
        state = self.live_call(extension)
        if not state.recording_started or not state.recording_channel:
            raise CommandError("this call is not being recorded", code=NOT_RECORDING)
        if not state.recording_stopped:
            await self.client.action("StopMixMonitor", {"Channel": state.recording_channel})
        return {
            "linkedid": state.linkedid,
            "pbx_epoch": state.pbx_epoch,
            "filename": state.recording_file,
            "already": state.recording_stopped,
        }

    # --- callbacks ------------------------------------------------------------------

    async def do_originate(
        self, *, extension: str, number: str, purpose: str = "callback", reference: str = ""
    ) -> dict:
        """Ring the agent first; once they answer, dial the citizen. Waits for OriginateResponse."""
        _check_number(number)
        fields = {
            "Channel": self.interface(extension),
            "Context": self.config.callback_context,
            "Exten": number,
            "Priority": 1,
            "CallerID": self.config.callback_caller_id,
            "Async": "true",
            "Timeout": int(self.config.originate_timeout * 1000),
        }
        return await self._originate(fields, number=number, purpose=purpose, reference=reference)

    async def do_originate_survey(self, *, number: str, reference: str) -> dict:
        """Dial the citizen straight into the IVR survey (HOTLINE_PURPOSE=revisit_ivr). Waits for OriginateResponse.

        The answer comes later through the AMI stream (``VarSet HOTLINE_SURVEY_RESULT``), see
        ``CallTracker`` and ``Bridge.hand_over_surveys``.
        """
        _check_number(number)
        if not reference:
            raise CommandError("a survey needs a reference (e.g. revisit:<id>)")
        fields = {
            "Channel": self.config.survey_channel.format(number=number),
            "Context": self.config.survey_context,
            "Exten": "s",
            "Priority": 1,
            "CallerID": self.config.callback_caller_id,
            "Async": "true",
            "Timeout": int(self.config.originate_timeout * 1000),
        }
        return await self._originate(fields, number=number, purpose=PURPOSE_REVISIT_IVR, reference=reference)

    async def _originate(self, fields: dict[str, Any], *, number: str, purpose: str, reference: str) -> dict:
        """Send the Originate with its purpose variables; the tracker learns the purpose by ActionID first."""
        fields = {**fields, "Variable": [f"{PURPOSE_VARIABLE}={purpose}", f"{REFERENCE_VARIABLE}={reference}"]}
        # The OriginateResponse may be read before the action's own response reaches us: register first.
        action_id = self.client.new_action_id()
        self.tracker.expect_originate(action_id, purpose=purpose, reference=reference, number=number)
        waiter: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._waiting[action_id] = waiter
        try:
            await self.client.action("Originate", fields, action_id=action_id)
            result = await self._originate_result(waiter)
        finally:
            self._waiting.pop(action_id, None)
        success = result.first("Response") == "Success"
        return {
            "success": success,
            "linkedid": result.first("Uniqueid") if success else "",
            "reason": result.first("Reason"),
            "action_id": action_id,
            "purpose": purpose,
        }

    async def until(self, check: Callable[[], Any], timeout: float) -> Any:
        """What ``check()`` returns once it is not None, run now and after every event; None after ``timeout``."""
        result = check()
        if result is not None:
            return result
        watch = (check, asyncio.get_running_loop().create_future())
        self._watches.append(watch)
        try:
            return await asyncio.wait_for(watch[1], timeout)
        except TimeoutError:
            return None
        finally:
            self._watches.remove(watch)

    def on_event(self, message: Message) -> None:
        """Called by the bridge for every event, after the tracker took it; picks out OriginateResponse."""
        for check, future in self._watches:
            if not future.done() and (result := check()) is not None:
                future.set_result(result)
        if message.name != "OriginateResponse":
            return
        action_id = message.first("ActionID")
        waiter = self._waiting.pop(action_id, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(message)
            return
        # Registered before the Originate was sent, so nothing of ours is missed: this one is another
        # AMI client's, or of a request that gave up (timed out, or the bridge restarted since). Debug, not
        # info: a PBX shared with a dialer sends many, and a log line each cost a tenth of the event path.
        log.debug("OriginateResponse for an ActionID this bridge is not waiting for (%s): ignored", action_id)

    async def _originate_result(self, waiter: asyncio.Future[Message]) -> Message:
        try:
            return await asyncio.wait_for(waiter, self.config.originate_timeout + 5)
        except TimeoutError:
            raise CommandError("Asterisk accepted the Originate but never said how it ended") from None


def check_number(number: str) -> None:
    if not isinstance(number, str) or not number.isdigit() or not 3 <= len(number) <= 20:
        raise CommandError(f"not a dialable number: {number!r}", code=INVALID_NUMBER)


_check_number = check_number


async def _tolerate(action, harmless: str) -> None:
    """QueueAdd/QueueRemove of a member that is already (not) there is success for us."""
    try:
        await action
    except ActionFailed as exc:
        if harmless.lower() not in str(exc).lower():
            raise


async def serve_commands(commands: Commands, stop: asyncio.Event, *, group: str, retry_after: float = 1.0) -> None:
    """Answer requests sent to ``group`` (one PBX's) from the channel layer until ``stop`` is set.

    A failing channel layer (Redis restarting, a read timing out) is logged and retried: the
    bridge must not go deaf to the consoles while it goes on writing calls.
    """
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    # The default prefix on purpose: channels_redis serves all of a process's own channels from one
    # Redis list per prefix with a single reader, so a second prefix would wait behind the first.
    channel = await layer.new_channel()
    tasks: set[asyncio.Task] = set()
    joined = False
    try:
        while not stop.is_set():
            try:
                if not joined:  # again after a failure: the group may have been lost with Redis
                    await layer.group_add(group, channel)
                    joined = True
                request = await _until_stopped(layer.receive(channel), stop)
            except Exception:
                log.exception("the bridge cannot read its commands from the channel layer; retrying")
                joined = False
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), retry_after)
                continue
            if request is None:
                break
            # Each request in its own task: an Originate waiting 45 s must not hold up a pause.
            task = asyncio.create_task(_answer(commands, layer, request))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
    finally:
        with contextlib.suppress(Exception):
            await layer.group_discard(group, channel)
        for task in tasks:
            task.cancel()


async def _until_stopped(receive, stop: asyncio.Event) -> dict[str, Any] | None:
    """The next message, or None once ``stop`` is set first."""
    received = asyncio.ensure_future(receive)
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({received, stopped}, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        received.cancel()
        raise
    finally:
        stopped.cancel()
    if received.done():
        return received.result()
    received.cancel()
    return None


async def _answer(commands: Commands, layer, request: dict[str, Any]) -> None:
    reply_to = request.get("reply_to")
    name = str(request.get("command", ""))
    if reply_to:
        # Received: the requester now knows the bridge is alive and waits for the real answer.
        await layer.send(reply_to, {"type": "bridge.ack", "id": request.get("id")})
    try:
        result = {"ok": True, **(await commands.execute(name, dict(request.get("args") or {})))}
    except CommandError as exc:
        log.info("bridge command %s refused: %s", name, exc)
        result = {"ok": False, "error": str(exc), "code": exc.code, "detail": exc.detail}
    except Exception as exc:
        log.exception("bridge command %s failed", name)
        result = {"ok": False, "error": f"{name} failed: {exc.__class__.__name__}"}
    if reply_to:
        await layer.send(reply_to, {"type": "bridge.reply", "id": request.get("id"), **result})
