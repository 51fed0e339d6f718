"""示闲/示忙: an agent's presence, changed in one place.

The phone system is told first; the row changes only once it said yes, so "ready"
means one thing everywhere: the agent's phone is in the queues and unpaused, and
the callback offers may go to them. Nothing else writes ``AgentState``: the bridge's
:func:`mark_absent` only records what the PBX already shows (the phone is in no queue).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from hotline.access import is_center_staff
from hotline.errors import InvalidInput, NotAllowed
from hotline.models import User
from telephony import control
from telephony import pbx as pbxs
from telephony.models import AgentState, AgentStatus

# What an agent can choose; on_call is not chosen, it follows the live call.
CHOSEN = (AgentStatus.READY, AgentStatus.PAUSED, AgentStatus.OFFLINE)
DEFAULT_PAUSE_REASON = "break"


def set_agent_state(agent: User, state: str, reason: str = "") -> AgentState:
    """Drive the bridge (queue add/pause/remove), then store the status and the pause reason.

    Raises ``control.BridgeUnavailable`` / ``control.CommandFailed`` as the bridge does, and then
    the row is unchanged.
    """
    if state not in CHOSEN:
        raise InvalidInput(gettext("unknown agent status %(value)s") % {"value": repr(state)}, field="status")
    if not is_center_staff(agent):
        raise NotAllowed(gettext("only center staff take calls"))
    reason = (reason or DEFAULT_PAUSE_REASON)[:32] if state == AgentStatus.PAUSED else ""
    if state == AgentStatus.READY:
        control.log_in(agent)
        control.ready(agent)
    elif state == AgentStatus.PAUSED:
        control.log_in(agent, paused=True, reason=reason)
        control.pause(agent, reason)
    else:
        control.log_out(agent)
    row, _ = AgentState.objects.update_or_create(
        user=agent, defaults={"status": state, "reason": reason, "changed_at": timezone.now()}
    )
    return row


def mark_absent(pbx: str, present: Iterable[str], agent_interface: str, *, before: datetime) -> list[int]:
    """After the bridge (re)connects: agents of ``pbx`` stored as ready or paused whose phone the PBX lists
    in none of the queues (``present``: member interfaces from QueueStatus) are offline now.

    The PBX is not told anything (the phone is already out of its queues); the console then shows
    "offline" and the agent presses Ready again, which puts the phone back. Only rows last changed
    ``before`` the PBX was asked: a Ready pressed while the answer was on its way is newer than it.
    Returns the users changed.
    """
    present = set(present)
    on_pbx = Q(pbx=pbx) | (Q(pbx="") if pbx == pbxs.default_name() else Q(pk__in=[]))
    changed: list[int] = []
    rows = AgentState.objects.filter(on_pbx, status__in=(AgentStatus.READY, AgentStatus.PAUSED), changed_at__lt=before)
    for row in rows.select_related("user"):
        extension = row.user.agent_extension
        if extension and agent_interface.format(extension=extension) in present:
            continue
        with transaction.atomic():
            # Conditional: a Ready pressed meanwhile (the phone is back in the queue) is left alone.
            done = AgentState.objects.filter(pk=row.pk, changed_at=row.changed_at).update(
                status=AgentStatus.OFFLINE, reason="", changed_at=timezone.now()
            )
        if done:
            changed.append(row.pk)
    return changed
