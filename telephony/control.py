"""Ask the AMI bridge to act, from views, consoles and jobs.

Each function sends one request to the bridge over the channel layer and waits
for its answer. ``BridgeUnavailable`` means nobody answered in time (the bridge
is down or restarting); ``CommandFailed`` means the bridge or Asterisk said no.
Async callers use ``send_command``; sync callers (views, jobs) use the wrappers.
A request goes to the bridge of one PBX: the agent's (``AgentState.pbx``; blank = the first
configured PBX), or the first PBX for what has no agent (an IVR survey).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.utils.translation import gettext, gettext_lazy

from hotline.models import Referral, Ticket, TicketStatus, Unit, User
from hotline.services import tickets
from hotline.services.common import clean_text
from telephony import call_controls, commands, desks, recordings, services
from telephony import pbx as pbxs
from telephony.models import AgentState, Recording

log = logging.getLogger(__name__)


class BridgeError(Exception):
    """Base of what a bridge request can fail with."""


class BridgeUnavailable(BridgeError):
    """No bridge answered within the timeout."""


NO_DUTY_PHONE = "no_duty_phone"  # a unit without a duty phone cannot be put on the line
NO_EXTENSION = "no_extension"  # the user has no agent phone extension
NO_RESULT = "no_result"  # the bridge took the request, Asterisk never answered it


class CommandFailed(BridgeError):
    """The bridge answered, and the answer is no.

    ``code`` is one of ``telephony.commands.FAILURE_CODES`` when the PBX accepted the action and
    then showed it failing (110 did not answer, the caller never reached 110); ``detail`` is
    what the PBX said (a DIALSTATUS).
    """

    def __init__(self, message: str, *, code: str = "", detail: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.detail = detail


async def send_command(
    command: str, timeout: float | None = None, *, pbx: str | None = None, **args: Any
) -> dict[str, Any]:
    """Ask the bridge of ``pbx`` (None: the first configured PBX)."""
    layer = get_channel_layer()
    if layer is None:
        raise BridgeUnavailable("no channel layer is configured")
    timeout = settings.BRIDGE_COMMAND_TIMEOUT if timeout is None else timeout
    try:
        group = pbxs.command_group(pbxs.get(pbx).name)
    except ValueError as exc:
        raise CommandFailed(str(exc)) from None
    try:
        reply = await _request(layer, group, command, args, timeout)
    except BridgeError:
        raise
    except Exception as exc:  # Redis down or timing out: as good as no bridge, and said so
        raise BridgeUnavailable(f"the channel layer failed while asking the bridge to {command}: {exc!r}") from exc
    if not reply.get("ok"):
        error = reply.get("error") or f"{command} failed"
        raise CommandFailed(error, code=reply.get("code") or "", detail=reply.get("detail") or "")
    return reply


async def _request(layer, group: str, command: str, args: dict[str, Any], timeout: float) -> dict[str, Any]:
    # The default prefix on purpose: channels_redis serves all of a process's own channels from one
    # Redis list per prefix with a single reader, so a second prefix would wait behind the first.
    reply_to = await layer.new_channel()
    request_id = uuid.uuid4().hex
    await layer.group_send(
        group,
        {"type": "bridge.command", "command": command, "args": args, "reply_to": reply_to, "id": request_id},
    )
    # The bridge acknowledges at once and answers when Asterisk has: a bridge that is down is
    # known after BRIDGE_COMMAND_TIMEOUT even for an Originate allowed a minute to ring.
    ack_timeout = min(timeout, float(settings.BRIDGE_COMMAND_TIMEOUT))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    acknowledged = False
    try:
        while True:
            wait = ack_timeout if not acknowledged else deadline - loop.time()
            async with asyncio.timeout(max(wait, 0)):
                reply = await layer.receive(reply_to)
            if reply.get("id") != request_id:
                continue
            if reply.get("type") == "bridge.ack":
                acknowledged = True
                continue
            return reply
    except TimeoutError:
        if not acknowledged:
            raise BridgeUnavailable(f"the telephony bridge did not answer {command} within {ack_timeout:g} s") from None
        raise CommandFailed(
            f"{command}: the bridge took it but Asterisk gave no answer within {timeout:g} s", code=NO_RESULT
        ) from None


def call_bridge(command: str, timeout: float | None = None, **args: Any) -> dict[str, Any]:
    return async_to_sync(send_command)(command, timeout, **args)


def _extension(agent: User) -> str:
    if not agent.agent_extension:
        raise CommandFailed(f"{agent.username} has no agent phone extension", code=NO_EXTENSION)
    return agent.agent_extension


def pbx_of(agent: User) -> str:
    """The PBX the agent's phone is on: ``AgentState.pbx``, blank (or no row) = the first configured PBX."""
    chosen = AgentState.objects.filter(user=agent).values_list("pbx", flat=True).first()
    return chosen or pbxs.default_name()


def _pbx_of_extension(extension: str) -> str:
    """The PBX of the active agent with this extension (a callback names the extension, not the agent)."""
    agent = User.objects.filter(agent_extension=extension, is_active=True).order_by("pk").first()
    return pbx_of(agent) if agent is not None else pbxs.default_name()


def log_in(agent: User, *, paused: bool = False, reason: str = "") -> dict[str, Any]:
    """Put the agent's phone in the queues of their desks (the general one and their skills', telephony.desks)."""
    return call_bridge(
        "queue_add",
        pbx=pbx_of(agent),
        extension=_extension(agent),
        name=agent.get_full_name() or agent.username,
        paused=paused,
        reason=reason,
        queues=desks.agent_queues(agent),
    )


def log_out(agent: User) -> dict[str, Any]:
    return call_bridge("queue_remove", pbx=pbx_of(agent), extension=_extension(agent))


def pause(agent: User, reason: str) -> dict[str, Any]:
    """示忙 with a reason (break, training, wrap-up…)."""
    return call_bridge("pause", pbx=pbx_of(agent), extension=_extension(agent), paused=True, reason=reason)


def ready(agent: User) -> dict[str, Any]:
    """示闲."""
    return call_bridge("pause", pbx=pbx_of(agent), extension=_extension(agent), paused=False)


def hang_up(agent: User) -> dict[str, Any]:
    """挂断: end the agent's current call. The call's row ends when the PBX reports the hangup."""
    return call_bridge("hangup", pbx=pbx_of(agent), extension=_extension(agent))


def stop_recording(agent: User) -> Recording:
    """The caller asked not to be recorded: the PBX stops recording the agent's call (StopMixMonitor),
    and the recording, the ticket's timeline and the audit log say so."""
    pbx = pbx_of(agent)
    result = call_bridge("stop_recording", pbx=pbx, extension=_extension(agent))
    return recordings.mark_stopped_on_request(agent, {**result, "pbx": pbx})


def originate(
    *, agent_extension: str, number: str, purpose: str, reference: str, timeout: float = 60
) -> dict[str, Any]:
    """Ring the agent, then dial ``number`` (national digits). Returns success, linkedid and reason."""
    return call_bridge(
        "originate",
        timeout,
        pbx=_pbx_of_extension(agent_extension),
        extension=agent_extension,
        number=number,
        purpose=purpose,
        reference=reference,
    )


def originate_survey(*, number: str, reference: str, timeout: float = 60) -> dict[str, Any]:
    """Dial the citizen (national digits) straight into the IVR survey; no agent is rung.

    ``reference`` (e.g. ``revisit:<id>``) comes back with the key press: the bridge calls
    registered survey handler (``telephony.services.register_survey_handler``) with ``"<reference>:<digit>"``.
    Returns success, linkedid and reason.
    """
    return call_bridge("originate_survey", timeout, number=number, reference=reference)


def conference_unit(agent: User, unit: Unit) -> dict[str, Any]:
    """专家在线: dial ``unit``'s duty phone into the agent's live call (a three-way call like the one with 110).

    Answers once the PBX shows the unit's phone in the room with the caller; ``CommandFailed``
    (code ``not_answered`` with the DIALSTATUS) when it did not answer: the caller is still with
    the agent. The answer is recorded on the ticket with ``tickets.resolve_on_call(unit=...)``.
    """
    if not unit.duty_phone:
        raise CommandFailed(f"{unit.name} has no duty phone", code=NO_DUTY_PHONE)
    timeout = settings.BRIDGE_COMMAND_TIMEOUT + settings.AMI_THREEWAY_TIMEOUT
    return call_bridge("three_way", timeout, pbx=pbx_of(agent), extension=_extension(agent), number=unit.duty_phone)


def transfer_to_110(
    agent: User,
    reason: str,
    *,
    ticket: Ticket | None = None,
    mode: str = "redirect",
    three_way: bool = False,
    matter=None,
) -> Referral:
    """One-click transfer (or a three-way call) of the agent's current call to 110, with its referral.

    The referral is written only after the PBX shows the result (the caller's channel in the
    110 context; 110 in the room with the caller): a failure raises ``CommandFailed`` and
    writes nothing. A registered ticket of this call moves to transferred_110 with it.
    """
    reason = clean_text(reason, "reason", max_chars=1000)  # refuse before anything is dialled
    pbx = pbx_of(agent)
    if three_way:
        # The agent stays on the line: the call keeps its own outcome, the referral records the handover.
        # The bridge answers once 110 is in the room or has not answered (it rings up to a minute).
        timeout = settings.BRIDGE_COMMAND_TIMEOUT + settings.AMI_THREEWAY_TIMEOUT
        result = call_bridge("three_way", timeout, pbx=pbx, extension=_extension(agent))
    else:
        timeout = settings.BRIDGE_COMMAND_TIMEOUT + settings.AMI_TRANSFER_TIMEOUT
        result = call_bridge("transfer_110", timeout, pbx=pbx, extension=_extension(agent), mode=mode)
        services.mark_transferred_110(result["linkedid"], result["pbx_epoch"], pbx=pbx)
    referral_mode = "three_way" if three_way else "transfer"
    if ticket is not None and ticket.status == TicketStatus.REGISTERED:
        return tickets.transfer_to_110(
            ticket, agent, reason, mode=referral_mode, call_linkedid=result["linkedid"], matter=matter
        )
    return tickets.record_call_referral(
        agent, reason, call_linkedid=result["linkedid"], mode=referral_mode, matter=matter
    )


# --- call controls (telephony/call_controls.py): each answers once the PBX showed it ---------------


def _control(agent: User, command: str, extra: float = 0.0, **args: Any) -> tuple[dict[str, Any], str]:
    """Ask the agent's bridge for a call control; bounded: the bridge's own wait plus a margin."""
    pbx = pbx_of(agent)
    timeout = settings.BRIDGE_COMMAND_TIMEOUT + 10 + extra
    return call_bridge(command, timeout, pbx=pbx, extension=_extension(agent), **args), pbx


def _record(agent: User, result: dict[str, Any], pbx: str, **changes: Any):
    return services.set_call_controls(result["linkedid"], result["pbx_epoch"], pbx=pbx, by=agent, **changes)


def hold(agent: User):
    """保持: the caller hears music; the call's row says so once the PBX reported the music."""
    result, pbx = _control(agent, "hold")
    return _record(agent, result, pbx, on_hold=True)


def unhold(agent: User):
    """取回: the caller is bridged with the agent again."""
    result, pbx = _control(agent, "unhold")
    return _record(agent, result, pbx, on_hold=False)


def mute(agent: User, on: bool = True):
    """静音: the agent's microphone toward the caller off (``on``) or on again."""
    result, pbx = _control(agent, "mute", on=bool(on))
    return _record(agent, result, pbx, muted=bool(on))


def consult_transfer(agent: User, number: str):
    """咨询转接: the caller on hold, the agent talking to ``number`` (a unit's duty phone, an extension).

    ``CommandFailed`` code ``not_answered`` (detail: BUSY, CONGESTION, NOANSWER, TIMEOUT) when the
    number did not answer: the PBX showed the caller back with the agent.
    """
    result, pbx = _control(agent, "consult_transfer", float(settings.AMI_CONSULT_TIMEOUT), number=number)
    return _record(agent, result, pbx, consulting=number)


def complete_transfer(agent: User, label: str = ""):
    """The agent leaves the consultation: the caller and the consulted party talk on (AttendedTransfer)."""
    result, pbx = _control(agent, "complete_transfer")
    target = f"{label} {result.get('number', '')}".strip()[:64]
    return _record(agent, result, pbx, consulting="", transferred_to=target, mode="attended")


def cancel_transfer(agent: User):
    """The consulted party is dropped and the caller is back with the agent."""
    result, pbx = _control(agent, "cancel_transfer")
    return _record(agent, result, pbx, consulting="")


def blind_transfer(agent: User, number: str, label: str = ""):
    """直接转接: the caller goes straight to ``number``; the agent's part of the call ends."""
    result, pbx = _control(agent, "blind_transfer", number=number)
    target = f"{label} {number}".strip()[:64]
    return _record(agent, result, pbx, transferred_to=target, mode="blind")


# What the consoles say for the bridge's refusals, in the user's language; the bridge's own
# (English) words go to the log. A refusal without a code is the PBX's own answer, quoted.
_EXPLAINED = {
    commands.NO_CALL: gettext_lazy("You have no call in progress."),
    commands.NOT_AGENT: gettext_lazy("This phone extension is not an agent's; ask an administrator."),
    commands.NOT_RECORDING: gettext_lazy("This call is not being recorded."),
    NO_EXTENSION: gettext_lazy("Your account has no agent phone extension; ask an administrator."),
    NO_RESULT: gettext_lazy("The phone system took the request but did not say how it ended. Check the call."),
    NO_DUTY_PHONE: gettext_lazy("This unit has no duty phone."),
    commands.INVALID_NUMBER: gettext_lazy("That is not a number the phone system can dial (3 to 20 digits)."),
    commands.CALL_ENDED: gettext_lazy("The call has already ended; nothing was changed."),
    call_controls.ON_HOLD: gettext_lazy("The caller is on hold. Take the caller back first."),
    call_controls.NOT_ON_HOLD: gettext_lazy("The caller is not on hold."),
    call_controls.CONSULTING: gettext_lazy("A consult transfer is under way. Complete or cancel it first."),
    call_controls.NOT_CONSULTING: gettext_lazy("No consult transfer is under way."),
}


def explain(exc: BridgeError) -> str:
    """A bridge error as the console shows it."""
    if isinstance(exc, BridgeUnavailable):
        log.warning("bridge unavailable: %s", exc)
        return gettext(
            "The telephony bridge is not answering. Try again shortly; if it goes on, call the duty engineer."
        )
    message = _EXPLAINED.get(getattr(exc, "code", ""))
    if message is not None:
        return str(message)
    return gettext("The phone system refused: %(error)s") % {"error": exc}
