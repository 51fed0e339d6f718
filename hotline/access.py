"""Who may see which ticket, and whose phone numbers are shown in full."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext as _

from hotline import audit
from hotline.errors import NotAllowed
from hotline.models import Assignment, AssignmentStatus, Role, Ticket, User
from hotline.models.network import CENTER_ROLES, REVIEWING_ROLES


def is_center_staff(user: User | None) -> bool:
    """The one rule for "works at the 12345 center": agents, dispatchers, supervisors, admins (and superusers)."""
    return bool(user is not None and user.is_authenticated and (user.is_superuser or user.role in CENTER_ROLES))


def is_center_reviewer(user: User | None) -> bool:
    """Center staff who review, decide and correct: dispatchers, supervisors, admins (and superusers)."""
    return is_center_staff(user) and (user.is_superuser or user.role in REVIEWING_ROLES)


def may_flag_callers(user: User | None) -> bool:
    """Flagging a caller (恶意来电/缠访) is the center's decision: supervisors and admins, never an agent alone."""
    return is_center_staff(user) and (user.is_superuser or user.role in (Role.SUPERVISOR, Role.ADMIN))


def is_auditor(user: User | None) -> bool:
    """Reads the audit log and nothing else; a superuser is not an auditor unless given the role."""
    return bool(user is not None and user.is_authenticated and user.role == Role.AUDITOR and user.is_active)


def is_quality_checker(user: User | None) -> bool:
    """Scores the quality checks (质检); a superuser is not a checker unless given the role."""
    return bool(user is not None and user.is_authenticated and user.role == Role.QUALITY and user.is_active)


def visible_tickets(user: User, qs: QuerySet[Ticket] | None = None) -> QuerySet[Ticket]:
    """Center staff see every ticket; a unit handler only those assigned to their subtree."""
    qs = Ticket.objects.all() if qs is None else qs
    if is_center_staff(user):
        return qs
    if user.role == Role.UNIT_HANDLER and user.unit_id:
        assigned = Assignment.objects.filter(ticket=OuterRef("pk"), unit_id__in=user.unit.subtree_ids()).exclude(
            status=AssignmentStatus.WITHDRAWN
        )
        return qs.filter(Exists(assigned))
    return qs.none()


def check_can_view(user: User, ticket: Ticket) -> None:
    if not visible_tickets(user, Ticket.objects.filter(pk=ticket.pk)).exists():
        raise NotAllowed(_("this ticket is not assigned to your unit"))


def check_own_unit(user: User | None, assignment: Assignment) -> None:
    """Unit-side actions are taken by a member of the assignment's own unit."""
    if user is None or user.is_superuser:
        return
    if user.role != Role.UNIT_HANDLER or user.unit_id != assignment.unit_id:
        raise NotAllowed(_("only the assigned unit may do this"), unit=assignment.unit_id)


# Who listens to calls: supervisors and quality checkers, besides the agent who took the call.
RECORDING_LISTENERS = frozenset({Role.SUPERVISOR, Role.QUALITY})


def may_hear_recording(user: User | None, call_agent_id: int | None) -> bool:
    """A call's recording: supervisors, quality checkers (质检), the agent who took it (and superusers)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser or user.role in RECORDING_LISTENERS:
        return True
    return user.role == Role.AGENT and call_agent_id is not None and call_agent_id == user.pk


def sees_full_phone(user: User) -> bool:
    """Center staff call citizens back; units see masked numbers (DESIGN §10)."""
    return is_center_staff(user)


def sees_caller_name(user: User | None) -> bool:
    """The one rule for the caller's name: only the center, which talks to citizens, sees it."""
    return is_center_staff(user)


def may_search_by_phone(user: User | None) -> bool:
    """Searching by a full number would tell a masked viewer whether a guess is right: center only."""
    return sees_full_phone(user)


def caller_view(user: User | None, ticket: Ticket, *, reason: str = audit.HANDLING) -> dict[str, str]:
    """The caller as ``user`` may see them, for the API and the pages alike: phone and name.

    The one door to a ticket's caller, so it is also where the showing is audited (the full
    phone, the name, and the ticket's address shown beside them; docs/security.md §9).
    """
    caller = ticket.caller
    full_phone, name = sees_full_phone(user), sees_caller_name(user)
    audit.note_ticket(user, ticket, full_phone=full_phone, name=name, reason=reason)
    return {
        "phone": caller.phone if full_phone else caller.masked_phone,
        "name": caller.name if name else "",
    }
