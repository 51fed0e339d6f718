"""The ticket lifecycle as one explicit table (DESIGN §6).

Each action names the ticket statuses it may start from and the roles that may
take it. Unit-side actions (accept, return, reply, ...) are additionally bound
to the acting user's own unit by ``hotline.access``. The status a ticket moves
to is decided by the service, because some actions branch (the lead unit's
accept moves the ticket, an assisting unit's does not); ``check_move`` holds
every move to the targets listed here.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from hotline.errors import IllegalTransition, NotAllowed
from hotline.models import Role, TicketStatus, User
from hotline.models.network import CENTER_ROLES, REVIEWING_ROLES
from hotline.models.tickets import OPEN_STATUSES

S = TicketStatus
CENTER = CENTER_ROLES
REVIEWING = REVIEWING_ROLES
UNIT = frozenset({Role.UNIT_HANDLER})


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    targets: frozenset[str]
    roles: frozenset[str]


def _t(sources, targets, roles) -> Transition:
    return Transition(frozenset(sources), frozenset(targets), frozenset(roles))


TRANSITIONS: dict[str, Transition] = {
    "resolve": _t({S.REGISTERED}, {S.REVISIT_PENDING, S.CLOSED}, CENTER),
    "dispatch": _t({S.REGISTERED, S.RETURNED}, {S.DISPATCHED}, CENTER),
    "reassign": _t({S.DISPATCHED, S.IN_PROGRESS}, {S.DISPATCHED}, REVIEWING),
    # Once the lead has replied (REPLIED) only assisting parts are still open: they go on until the review.
    "accept": _t({S.DISPATCHED, S.IN_PROGRESS, S.REPLIED}, {S.IN_PROGRESS, S.DISPATCHED}, UNIT),
    "return": _t({S.DISPATCHED, S.IN_PROGRESS, S.REPLIED}, {S.RETURNED, S.DISPATCHED, S.IN_PROGRESS}, UNIT),
    "sub_dispatch": _t({S.IN_PROGRESS, S.DISPATCHED, S.REPLIED}, {S.IN_PROGRESS, S.DISPATCHED}, UNIT),
    "reply": _t({S.IN_PROGRESS, S.DISPATCHED, S.REPLIED}, {S.REPLIED, S.IN_PROGRESS, S.DISPATCHED}, UNIT),
    "request_extension": _t({S.DISPATCHED, S.IN_PROGRESS, S.REPLIED}, {S.DISPATCHED, S.IN_PROGRESS}, UNIT),
    "dispute": _t({S.DISPATCHED, S.IN_PROGRESS}, {S.DISPATCHED, S.IN_PROGRESS}, UNIT),
    "review": _t({S.REPLIED}, {S.REVISIT_PENDING, S.CLOSED, S.IN_PROGRESS}, REVIEWING),
    "close": _t({S.REVISIT_PENDING}, {S.CLOSED}, CENTER),
    "reopen": _t({S.REVISIT_PENDING, S.CLOSED}, {S.IN_PROGRESS}, REVIEWING),
    # The caller said "not satisfied" on the revisit: whoever recorded the answer (an agent too)
    # sends it back; reopening a closed ticket stays with the reviewers.
    "reopen_on_revisit": _t({S.REVISIT_PENDING}, {S.IN_PROGRESS}, CENTER),
    "transfer_110": _t({S.REGISTERED}, {S.TRANSFERRED_110}, CENTER),
    "merge": _t(OPEN_STATUSES, {S.MERGED}, CENTER),
    "discard": _t({S.REGISTERED, S.RETURNED}, {S.DISCARDED}, REVIEWING),
    "restore": _t({S.DISCARDED}, {S.REGISTERED, S.RETURNED}, REVIEWING),
    "attach": _t(OPEN_STATUSES, OPEN_STATUSES, CENTER | UNIT),
}

# How messages name each action ("a unit handler may not dispatch").
ACTION_LABELS = {
    "resolve": pgettext_lazy("workflow action", "resolve on call"),
    "dispatch": pgettext_lazy("workflow action", "dispatch"),
    "reassign": pgettext_lazy("workflow action", "reassign"),
    "accept": pgettext_lazy("workflow action", "accept"),
    "return": pgettext_lazy("workflow action", "return"),
    "sub_dispatch": pgettext_lazy("workflow action", "sub-dispatch"),
    "reply": pgettext_lazy("workflow action", "reply"),
    "request_extension": pgettext_lazy("workflow action", "request extension"),
    "dispute": pgettext_lazy("workflow action", "dispute dispatch"),
    "review": pgettext_lazy("workflow action", "review reply"),
    "close": pgettext_lazy("workflow action", "close"),
    "reopen": pgettext_lazy("workflow action", "reopen"),
    "reopen_on_revisit": pgettext_lazy("workflow action", "reopen after an unsatisfied revisit"),
    "transfer_110": pgettext_lazy("workflow action", "transfer to 110"),
    "merge": pgettext_lazy("workflow action", "merge"),
    "discard": pgettext_lazy("workflow action", "move to recycle bin"),
    "restore": pgettext_lazy("workflow action", "restore from recycle bin"),
    "attach": pgettext_lazy("workflow action", "attach file"),
}


def action_label(action: str):
    return ACTION_LABELS.get(action) or action.replace("_", " ")


def check_transition(action: str, status: str, user: User | None) -> Transition:
    """Raise unless ``user`` may take ``action`` on a ticket in ``status``.

    ``user=None`` is the system itself (the bridge, the scheduler).
    """
    transition = TRANSITIONS[action]
    if user is not None and not user.is_superuser and user.role not in transition.roles:
        raise NotAllowed(
            _("a %(role)s may not %(action)s") % {"role": user.get_role_display(), "action": action_label(action)},
            action=action,
        )
    if status not in transition.sources:
        raise IllegalTransition(
            _("cannot %(action)s a ticket that is %(status)s")
            % {"action": action_label(action), "status": TicketStatus(status).label},
            action=action,
            status=status,
        )
    return transition


def check_move(action: str, from_status: str, to_status: str) -> None:
    """Raise unless the table lets ``action`` move a ticket from ``from_status`` to ``to_status``."""
    transition = TRANSITIONS[action]
    if from_status not in transition.sources or to_status not in transition.targets:
        raise IllegalTransition(
            _("%(action)s cannot move a ticket from %(from)s to %(to)s")
            % {
                "action": action_label(action),
                "from": TicketStatus(from_status).label,
                "to": TicketStatus(to_status).label,
            },
            action=action,
            status=from_status,
            to_status=to_status,
        )
