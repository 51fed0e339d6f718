"""What the PBX shows after a (re)connect: the callers live in a queue or talking, from its own answers.

Pure: the ``CoreShowChannels`` items (every channel, with Linkedid, Application, BridgeId,
Context/Exten), the ``QueueStatus`` items (``QueueEntry`` = waiting callers with their Wait,
``QueueMember`` = member names) and what queue_log says of each caller (:mod:`telephony.queue_log`)
become one :class:`LiveCaller` per call, which the tracker adopts
(:meth:`telephony.tracker.CallTracker.adopt_live`). A channel that is not a caller in a queue
(an agent leg, a caller still in the IVR, an outbound leg) is not a call of its own here:
the IVR caller is followed from its QueueCallerJoin, as ever.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from telephony.queue_log import LoggedCall
from telephony.tracker import member_interface

_NO_VALUE = frozenset({"", "<unknown>"})


@dataclass(frozen=True)
class LiveCaller:
    linkedid: str
    caller_uniqueid: str
    caller_channel: str
    queue: str
    caller_number: str
    caller_name: str
    offered_at: float | None
    answered: bool = False
    answered_at: float | None = None
    interface: str = ""
    member_name: str = ""
    wait_seconds: int | None = None
    at_110: tuple[str, str] | None = None  # (context, exten) when the caller is with 110 now
    # The agent's leg (bridged with the caller, or waiting in the held context) and whether the caller
    # is on hold now (in the hold context, telephony/call_controls.py): the controls need both channels.
    agent_channel: str = ""
    agent_uniqueid: str = ""
    held: bool = False
    # The bridges the caller's and the agent's channels are in now (the controls wait for both in one).
    caller_bridge: str = ""
    agent_bridge: str = ""
    # A consult transfer under way: the number the agent is talking to and that leg's channel. The
    # consulted leg has the call's Linkedid and waits in the transfer context with the number as Exten,
    # bridged with the agent's channel, while the caller waits alone with music in the queue's bridge.
    consulting: str = ""
    consult_channel: str = ""
    consult_answered: bool = False  # its channel Up; while it rings it is bridged with the agent too (ringback)


def _get(item: Mapping[str, Any], key: str) -> str:
    value = item.get(key, "")
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value)


def _duration(text: str) -> int | None:
    """``HH:MM:SS`` -> seconds."""
    try:
        hours, minutes, seconds = (int(p) for p in text.split(":"))
    except ValueError:
        return None
    return hours * 3600 + minutes * 60 + seconds


def live_callers(
    channels: Iterable[Mapping[str, Any]],
    status: Iterable[Mapping[str, Any]],
    logged: Mapping[str, LoggedCall],
    *,
    targets_110: frozenset[tuple[str, str]],
    queues: frozenset[str] = frozenset(),
    known: frozenset[str] = frozenset(),
    now: float,
    hold_contexts: tuple[str, str] = ("", ""),
    transfer_context: str = "",
) -> list[LiveCaller]:
    """The callers the PBX has now. ``logged`` is queue_log by callid (current boot); ``known`` the Linkedids
    the bridge already follows (a call in the 110 context is adopted only if known or logged);
    ``hold_contexts`` the contexts of a held caller and of the agent holding them, ``transfer_context``
    the context of a consulted party (call controls)."""
    hold_context, held_context = hold_contexts
    entries = {_get(e, "Uniqueid"): e for e in status if _get(e, "Event") == "QueueEntry"}
    names = {
        _get(m, "Location") or _get(m, "Interface"): _get(m, "Name") or _get(m, "MemberName")
        for m in status
        if _get(m, "Event") == "QueueMember"
    }
    by_call: dict[str, list[Mapping[str, Any]]] = {}
    for channel in channels:
        linkedid = _get(channel, "Linkedid")
        if linkedid:
            by_call.setdefault(linkedid, []).append(channel)
    out: list[LiveCaller] = []
    for linkedid, legs in by_call.items():
        caller = None
        at_110 = None
        held = False
        for leg in legs:
            uniqueid = _get(leg, "Uniqueid")
            where = (_get(leg, "Context"), _get(leg, "Exten"))
            if hold_context and where[0] == hold_context:  # on hold: out of Queue(), in a holding bridge
                caller, held = leg, True
                break
            if _get(leg, "Application") == "Queue" or uniqueid in entries:
                caller = leg
                break
            if where in targets_110 and (uniqueid in logged or linkedid in known):
                caller, at_110 = leg, where
                break
        if caller is None:
            continue
        uniqueid = _get(caller, "Uniqueid")
        entry = entries.get(uniqueid)
        record = logged.get(uniqueid)
        queue = (
            (_get(entry, "Queue") if entry else "")
            or (record.queue if record else "")
            or (_get(caller, "ApplicationData").split(",", 1)[0] if _get(caller, "Application") == "Queue" else "")
        )
        if queues and queue and queue not in queues:
            continue
        bridge = _get(caller, "BridgeId")
        agent_leg = next(
            (leg for leg in legs if bridge and leg is not caller and _get(leg, "BridgeId") == bridge), None
        )
        if held:  # the agent's channel waits alone in the held context meanwhile
            agent_leg = next((leg for leg in legs if _get(leg, "Context") == held_context), None)
        consult_leg = None
        if transfer_context and not held:
            consult_leg = next(
                (
                    leg
                    for leg in legs
                    if leg is not caller and _get(leg, "Context") == transfer_context and _get(leg, "BridgeId")
                ),
                None,
            )
        if consult_leg is not None:  # the agent's channel is bridged with the consulted party, not the caller
            agent_leg = next(
                (
                    leg
                    for leg in legs
                    if leg is not consult_leg
                    and leg is not caller
                    and _get(leg, "BridgeId") == _get(consult_leg, "BridgeId")
                ),
                None,
            )
        consulted = consult_leg if agent_leg is not None else None
        interface = member_interface(_get(agent_leg, "Channel")) if agent_leg is not None else ""
        if not interface and record is not None and record.member_name:
            interface = next((i for i, n in names.items() if n == record.member_name), "")
        answered = agent_leg is not None or bool(record and record.connected_at is not None)
        if entry is not None:
            wait = _int(_get(entry, "Wait"))
            offered_at = now - wait if wait is not None else None
        elif record is not None and record.entered_at is not None:
            offered_at = float(record.entered_at)
        else:
            age = _duration(_get(caller, "Duration"))
            offered_at = now - age if age is not None else None
        if record is not None and record.entered_at is not None:
            offered_at = float(record.entered_at)
        connected = float(record.connected_at) if record and record.connected_at is not None else None
        number = _get(entry, "CallerIDNum") if entry else _get(caller, "CallerIDNum")
        name = _get(entry, "CallerIDName") if entry else _get(caller, "CallerIDName")
        number = "" if number in _NO_VALUE else number
        out.append(
            LiveCaller(
                linkedid=linkedid,
                caller_uniqueid=uniqueid,
                caller_channel=_get(caller, "Channel"),
                queue=queue,
                caller_number=number or (record.caller_number if record else ""),
                caller_name="" if name in _NO_VALUE or name == number else name,
                offered_at=offered_at,
                answered=answered,
                answered_at=connected if connected is not None else (now if answered else None),
                interface=interface,
                member_name=(record.member_name if record and record.member_name else names.get(interface, "")),
                wait_seconds=record.wait_seconds if record else None,
                at_110=at_110,
                agent_channel=_get(agent_leg, "Channel") if agent_leg is not None else "",
                agent_uniqueid=_get(agent_leg, "Uniqueid") if agent_leg is not None else "",
                held=held,
                caller_bridge=bridge,
                agent_bridge=_get(agent_leg, "BridgeId") if agent_leg is not None else "",
                consulting=_get(consulted, "Exten") if consulted is not None else "",
                consult_channel=_get(consulted, "Channel") if consulted is not None else "",
                consult_answered=consulted is not None and _get(consulted, "ChannelStateDesc") == "Up",
            )
        )
    return out


def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None
