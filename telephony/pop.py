"""The screen pop: who is calling and their tickets, in one shape for every console that shows it.

The bridge sends it the moment an agent's phone rings (:func:`ringing_pop`); the console
builds it from the stored call when it loads or catches up (:func:`call_pop`). Both are
:func:`screen_pop`, so the console renders the same fields whichever way the pop came.
"""

from __future__ import annotations

from typing import Any

from hotline.events import agent_group
from hotline.models import Caller, Ticket
from hotline.models.tickets import OPEN_STATUSES
from hotline.services.tickets import find_caller
from telephony.lifecycle import AgentRinging
from telephony.models import Call
from telephony.services import agent_for_interface

HISTORY_LENGTH = 10  # tickets of each list an agent sees while the phone rings


def caller_history(caller_id: int | None) -> dict[str, Any]:
    """The caller's last tickets and their open ones: what tells an agent who is calling."""
    tickets: list[dict[str, Any]] = []
    open_tickets: list[dict[str, Any]] = []
    if caller_id:
        qs = Ticket.objects.filter(caller_id=caller_id).order_by("-created_at")
        fields = ("pk", "number", "status", "title")
        tickets = [
            {"id": pk, "number": n, "status": s, "title": t} for pk, n, s, t in qs.values_list(*fields)[:HISTORY_LENGTH]
        ]
        open_tickets = [
            {"id": pk, "number": n, "status": s, "title": t}
            for pk, n, s, t in qs.filter(status__in=OPEN_STATUSES).values_list(*fields)[:HISTORY_LENGTH]
        ]
    return {"caller_id": caller_id, "previous_tickets": tickets, "open_tickets": open_tickets}


def caller_flag(caller: Caller | None) -> dict[str, Any] | None:
    """The center's flag on the caller (恶意来电/缠访) if it is in force: kind, reason, expiry.

    Read from the caller row's ``flag``, which the caller's query brings along (no query of its own)."""
    flag = caller.flag_in_force() if caller is not None else None
    if flag is None:
        return None
    return {"kind": flag.kind, "reason": flag.reason, "expires_at": flag.expires_at.isoformat()}


def screen_pop(*, linkedid: str, caller_number: str, caller: Caller | None, caller_name: str = "") -> dict[str, Any]:
    """The pop of one call: the call's linkedid, the number, a name (the known caller's, else
    ``caller_name`` as the PBX gave it), the center's flag in force and the caller's ticket history."""
    return {
        "linkedid": linkedid,
        "caller_number": caller_number,
        "caller_name": caller.name if caller is not None else caller_name,
        "flag": caller_flag(caller),
        **caller_history(caller.pk if caller is not None else None),
    }


def call_pop(call: Call) -> dict[str, Any]:
    """The pop of a stored call."""
    caller = call.caller if call.caller_id else None
    return screen_pop(
        linkedid=call.linkedid, caller_number=call.caller_number, caller=caller, caller_name=call.caller_name
    )


def ringing_pop(event: AgentRinging, pbx: str | None = None) -> tuple[str, dict[str, Any]] | None:
    """The ``call.screen_pop`` message for a ringing agent and its group, read (never written) from the event.

    The bridge sends it the moment it reads AgentCalled, not after the batch holding the event
    is written: the agent sees who is calling while the phone rings, not a write later. The
    call's row may not exist yet, so the pop names the call by its linkedid. None when the
    interface is nobody's phone (on ``pbx``, the PBX the event came from). Only this agent gets the
    caller's history.
    """
    user = agent_for_interface(event.interface, pbx)
    if user is None:
        return None
    pop = screen_pop(
        linkedid=event.linkedid, caller_number=event.caller_number, caller=find_caller(event.caller_number)
    )
    return agent_group(user.pk), {"type": "call.screen_pop", "event": event.as_dict(), **pop}
