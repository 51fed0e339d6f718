"""The agent's call controls on the bridge side: hold, mute, consult and blind transfer.

Each is reported done only once the PBX shows it (as ``Commands.do_three_way`` does), recorded from
a real Asterisk 22.10.1 in ``telephony/traces/`` (hold, mute, consult_*, blind_transfer; the
dialplan is docs/asterisk/extensions.conf ``[hotline-hold]`` … ``[hotline-transfer]``):

* **hold** (保持): ``Setvar HOTLINE_HOLD_CALLER`` on the agent's channel, then one Redirect: the
  caller to a holding bridge with music, the agent's channel to a silent wait. Done when the caller's
  channel reports ``MusicOnHoldStart``. **unhold**: Redirect of the agent's channel into ``Bridge()``
  with the caller; done when both ``BridgeEnter`` one bridge and the music stopped.
* **mute** (静音): ``MuteAudio`` on the agent's channel, direction ``in`` (the agent's microphone toward
  the caller). res_mutestream sends no event: its ``Response: Success`` is the only confirmation.
* **consult transfer** (咨询转接): ``Atxfer`` on the agent's channel to ``<number>#`` in the transfer
  context; the caller hears music while the agent talks to the number. Done when its ``DialEnd`` says
  ANSWER; BUSY, CONGESTION, NOANSWER bring the caller back to the agent (reported once the caller is
  bridged with the agent again). **complete**: Hangup of the agent's channel (``AttendedTransfer``
  Result Success); **cancel**: ``CancelAtxfer`` (the caller back with the agent).
* **blind transfer** (直接转接): ``BlindTransfer`` of the agent's channel; done on ``BlindTransfer``
  Result Success.

The consulted leg has the call's Linkedid: it is part of the call, never a call of its own. A bridge
that restarts (or takes over as standby) mid-consultation finds it in ``CoreShowChannels``
(:func:`telephony.reconcile.live_callers`), so complete and cancel still work.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from telephony.ami.errors import ActionFailed
from telephony.commands import (
    CALL_ENDED,
    INVALID_NUMBER,
    NOT_ANSWERED,
    NOT_REACHED,
    CommandError,
    Commands,
    check_number,
    register_command,
)
from telephony.tracker import CallState

# Refusals of the controls (the consoles say these in their own words, telephony.control).
ON_HOLD = "on_hold"  # the caller is on hold: take them back first
NOT_ON_HOLD = "not_on_hold"  # an unhold of a caller who is not on hold
CONSULTING = "consulting"  # a consult transfer is under way
NOT_CONSULTING = "not_consulting"  # complete/cancel without a consult transfer
CONTROL_CODES = frozenset({ON_HOLD, NOT_ON_HOLD, CONSULTING, NOT_CONSULTING})

HOLD_VARIABLE = "HOTLINE_HOLD_CALLER"


def _agent_channel(state: CallState) -> str:
    if not state.agent_channel:
        raise CommandError("the agent's channel is not known")
    return state.agent_channel


def _room(state: CallState) -> str:
    return state.linkedid.replace(".", "-")


def _result(state: CallState, **extra: Any) -> dict[str, Any]:
    return {"linkedid": state.linkedid, "pbx_epoch": state.pbx_epoch, **extra}


async def _act(commands: Commands, action: str, fields: dict[str, Any]) -> None:
    """Send an action; "the channel does not exist" means the call ended before the PBX got it."""
    try:
        await commands.client.action(action, fields)
    except ActionFailed as exc:
        text = str(exc).lower()
        if "does not exist" in text or "no such channel" in text:
            raise CommandError(f"the call ended before the PBX got {action}: {exc}", code=CALL_ENDED) from None
        raise


def _usable(state: CallState) -> None:
    """Hold and transfers need the caller with the agent: not held, no consultation under way."""
    if state.consulting:
        raise CommandError(f"a consult transfer to {state.consulting} is under way", code=CONSULTING)
    if state.held:
        raise CommandError("the caller is on hold", code=ON_HOLD)


async def hold(commands: Commands, *, extension: str) -> dict:
    state = commands.live_call(extension)
    agent = _agent_channel(state)
    _usable(state)
    cfg = commands.config
    await _act(commands, "Setvar", {"Channel": agent, "Variable": HOLD_VARIABLE, "Value": state.caller_channel})
    room = _room(state)
    await _act(
        commands,
        "Redirect",
        {
            "Channel": state.caller_channel,
            "Context": cfg.hold_context,
            "Exten": room,
            "Priority": 1,
            "ExtraChannel": agent,
            "ExtraContext": cfg.held_context,
            "ExtraExten": room,
            "ExtraPriority": 1,
        },
    )

    def held() -> str | None:
        if state.ended:
            return "ended"
        return "held" if state.hearing_music else None

    seen = await commands.until(held, cfg.control_timeout)
    if seen == "ended":
        raise CommandError("the call ended before the caller was on hold", code=CALL_ENDED)
    if seen is None:
        raise CommandError(f"the PBX did not report the music on hold within {cfg.control_timeout:g} s")
    state.held = True
    return _result(state, held=True)


async def unhold(commands: Commands, *, extension: str) -> dict:
    state = commands.live_call(extension)
    agent = _agent_channel(state)
    if not state.held:
        raise CommandError("the caller is not on hold", code=NOT_ON_HOLD)
    cfg = commands.config
    await _act(
        commands, "Redirect", {"Channel": agent, "Context": cfg.unhold_context, "Exten": _room(state), "Priority": 1}
    )

    def back() -> str | None:
        if state.ended:
            return "ended"
        return "back" if state.caller_with_agent() else None

    seen = await commands.until(back, cfg.control_timeout)
    if seen == "ended":
        raise CommandError("the call ended while the caller was on hold", code=CALL_ENDED)
    if seen is None:
        raise CommandError(f"the PBX did not bridge the caller back within {cfg.control_timeout:g} s")
    state.held = False
    return _result(state, held=False)


async def mute(commands: Commands, *, extension: str, on: bool = True) -> dict:
    """The agent's microphone toward the caller off (or on again): the PBX's Response is the confirmation."""
    state = commands.live_call(extension)
    agent = _agent_channel(state)
    fields = {"Channel": agent, "Direction": "in", "State": "on" if on else "off"}
    await _act(commands, "MuteAudio", fields)
    state.muted = bool(on)
    return _result(state, muted=bool(on))


async def consult_transfer(commands: Commands, *, extension: str, number: str) -> dict:
    check_number(number)
    state = commands.live_call(extension)
    agent = _agent_channel(state)
    _usable(state)
    cfg = commands.config
    state.consult_channel = state.consult_status = ""
    state.consulting = number
    try:
        # "#" ends the number at once (else Asterisk waits transferdigittimeout for more digits).
        await _act(commands, "Atxfer", {"Channel": agent, "Exten": f"{number}#", "Context": cfg.transfer_context})

        def answered() -> str | None:
            if state.ended:
                return "ended"
            if state.consult_status:
                return "answer" if state.consult_status == "ANSWER" else "failed"
            return None

        seen = await commands.until(answered, cfg.consult_timeout)
        if seen == "ended":
            raise CommandError(f"the call ended before {number} answered", code=CALL_ENDED)
        if seen is None:
            raise CommandError(
                f"{number} did not answer within {cfg.consult_timeout:g} s", code=NOT_ANSWERED, detail="TIMEOUT"
            )
        if seen == "failed":
            status = state.consult_status

            def back() -> str | None:
                return "ended" if state.ended else ("back" if state.caller_with_agent() else None)

            returned = await commands.until(back, cfg.control_timeout)
            if returned != "back":
                raise CommandError(f"{number} did not answer ({status}) and the caller is not back", code=CALL_ENDED)
            raise CommandError(
                f"{number} did not answer ({status}); the caller is back with the agent",
                code=NOT_ANSWERED,
                detail=status,
            )
    except CommandError:
        state.consulting = ""
        raise
    return _result(state, number=number, consulted=state.consult_channel)


async def complete_transfer(commands: Commands, *, extension: str) -> dict:
    """The agent leaves the consultation: the caller and the consulted party are put together."""
    state = commands.live_call(extension)
    agent = _agent_channel(state)
    if not state.consulting:
        raise CommandError("no consult transfer is under way", code=NOT_CONSULTING)
    number = state.consulting
    await _act(commands, "Hangup", {"Channel": agent, "Cause": 16})

    def done() -> str | None:
        if state.transferred:
            return "transferred"
        return "ended" if state.ended else None

    seen = await commands.until(done, commands.config.control_timeout)
    state.consulting = ""
    if seen != "transferred":
        raise CommandError(f"the PBX did not report the transfer to {number}", code=NOT_REACHED)
    return _result(state, number=number, mode="attended")


async def cancel_transfer(commands: Commands, *, extension: str) -> dict:
    state = commands.live_call(extension)
    agent = _agent_channel(state)
    if not state.consulting:
        raise CommandError("no consult transfer is under way", code=NOT_CONSULTING)
    await _act(commands, "CancelAtxfer", {"Channel": agent})

    def back() -> str | None:
        return "ended" if state.ended else ("back" if state.caller_with_agent() else None)

    seen = await commands.until(back, commands.config.control_timeout)
    if seen == "ended":
        raise CommandError("the call ended during the consult transfer", code=CALL_ENDED)
    if seen is None:
        raise CommandError("the PBX did not bring the caller back to the agent")
    state.consulting = ""
    return _result(state)


async def blind_transfer(commands: Commands, *, extension: str, number: str) -> dict:
    check_number(number)
    state = commands.live_call(extension)
    agent = _agent_channel(state)
    _usable(state)
    cfg = commands.config
    await _act(commands, "BlindTransfer", {"Channel": agent, "Context": cfg.transfer_context, "Exten": number})

    def done() -> str | None:
        if state.transferred:
            return "transferred"
        return "ended" if state.ended else None

    seen = await commands.until(done, cfg.control_timeout)
    if seen != "transferred":
        raise CommandError(f"the PBX did not report the transfer to {number}", code=NOT_REACHED)
    return _result(state, number=number, mode="blind")


_COMMANDS: dict[str, Callable[..., Awaitable[dict]]] = {
    "hold": hold,
    "unhold": unhold,
    "mute": mute,
    "consult_transfer": consult_transfer,
    "complete_transfer": complete_transfer,
    "cancel_transfer": cancel_transfer,
    "blind_transfer": blind_transfer,
}
for _name, _handler in _COMMANDS.items():
    register_command(_name, _handler)

__all__ = ["CONTROL_CODES", "INVALID_NUMBER"]
