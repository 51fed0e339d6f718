"""The ticket lifecycle as one explicit table (DESIGN §6).

Each action names the ticket statuses it may start from and the roles that may
take it. Unit-side actions (accept, return, reply, ...) are additionally bound
to the acting user's own unit by ``hotline.access``. The status a ticket moves
to is decided by the service, because some actions branch (the lead unit's
accept moves the ticket, an assisting unit's does not); the reachable targets
are listed here so the table documents the whole graph.
"""

from __future__ import annotations

from dataclasses import dataclass

from hotline.errors import IllegalTransition, NotAllowed
from hotline.models import Role, TicketStatus, User
from hotline.models.tickets import OPEN_STATUSES

S = TicketStatus
CENTER = frozenset({Role.AGENT, Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN})
DISPATCHING = frozenset({Role.AGENT, Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN})
REVIEWING = frozenset({Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN})
UNIT = frozenset({Role.UNIT_HANDLER})


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    targets: frozenset[str]
    roles: frozenset[str]
    label: str


def _t(sources, targets, roles, label) -> Transition:
    return Transition(frozenset(sources), frozenset(targets), frozenset(roles), label)


TRANSITIONS: dict[str, Transition] = {
    "resolve": _t({S.REGISTERED}, {S.REVISIT_PENDING, S.CLOSED}, CENTER, "resolve on call"),
    "dispatch": _t({S.REGISTERED, S.RETURNED}, {S.DISPATCHED}, DISPATCHING, "dispatch"),
    "reassign": _t({S.DISPATCHED, S.IN_PROGRESS}, {S.DISPATCHED}, REVIEWING, "reassign"),
    "accept": _t({S.DISPATCHED, S.IN_PROGRESS}, {S.IN_PROGRESS, S.DISPATCHED}, UNIT, "accept"),
    "return": _t({S.DISPATCHED, S.IN_PROGRESS}, {S.RETURNED, S.DISPATCHED, S.IN_PROGRESS}, UNIT, "return"),
    "sub_dispatch": _t({S.IN_PROGRESS, S.DISPATCHED}, {S.IN_PROGRESS, S.DISPATCHED}, UNIT, "sub-dispatch"),
    "reply": _t({S.IN_PROGRESS, S.DISPATCHED}, {S.REPLIED, S.IN_PROGRESS, S.DISPATCHED}, UNIT, "reply"),
    "request_extension": _t({S.DISPATCHED, S.IN_PROGRESS}, {S.DISPATCHED, S.IN_PROGRESS}, UNIT, "request extension"),
    "dispute": _t({S.DISPATCHED, S.IN_PROGRESS}, {S.DISPATCHED, S.IN_PROGRESS}, UNIT, "dispute dispatch"),
    "review": _t({S.REPLIED}, {S.REVISIT_PENDING, S.CLOSED, S.IN_PROGRESS}, REVIEWING, "review reply"),
    "close": _t({S.REVISIT_PENDING}, {S.CLOSED}, CENTER, "close"),
    "reopen": _t({S.REVISIT_PENDING, S.CLOSED}, {S.IN_PROGRESS}, REVIEWING, "reopen"),
    "transfer_110": _t({S.REGISTERED}, {S.TRANSFERRED_110}, CENTER, "transfer to 110"),
    "merge": _t(OPEN_STATUSES, {S.MERGED}, CENTER, "merge"),
    "discard": _t({S.REGISTERED, S.RETURNED}, {S.DISCARDED}, REVIEWING, "move to recycle bin"),
    "restore": _t({S.DISCARDED}, {S.REGISTERED, S.RETURNED}, REVIEWING, "restore from recycle bin"),
    "attach": _t(OPEN_STATUSES, OPEN_STATUSES, CENTER | UNIT, "attach file"),
}


def check_transition(action: str, status: str, user: User | None) -> Transition:
    """Raise unless ``user`` may take ``action`` on a ticket in ``status``.

    ``user=None`` is the system itself (the bridge, the scheduler).
    """
    transition = TRANSITIONS[action]
    if user is not None and not user.is_superuser and user.role not in transition.roles:
        raise NotAllowed(f"a {user.get_role_display()} may not {transition.label}", action=action)
    if status not in transition.sources:
        raise IllegalTransition(
            f"cannot {transition.label} a ticket that is {TicketStatus(status).label}",
            action=action,
            status=status,
        )
    return transition


def allowed_actions(status: str, user: User) -> list[str]:
    """The actions this user's role could take on a ticket in this status (for UIs)."""
    return [
        name for name, t in TRANSITIONS.items() if status in t.sources and (user.is_superuser or user.role in t.roles)
    ]
