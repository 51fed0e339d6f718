"""示闲/示忙: an agent's presence, changed in one place.

The phone system is told first; the row changes only once it said yes, so "ready"
means one thing everywhere: the agent's phone is in the queues and unpaused, and
the callback offers may go to them. Nothing else writes ``AgentState``.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext

from hotline.access import is_center_staff
from hotline.errors import InvalidInput, NotAllowed
from hotline.models import User
from telephony import control
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
