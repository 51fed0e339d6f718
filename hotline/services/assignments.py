"""Assignments as both the center's and the units' services use them: creating one with its
working-day deadlines, finding the lead, withdrawing, and recounting provisional deadlines."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from hotline.lib.workcal import WorkCalendar
from hotline.models import Assignment, AssignmentRole, AssignmentStatus, SlaPolicy, Ticket, Unit, Urgency, User
from hotline.models.tickets import ACTIVE_ASSIGNMENT_STATUSES
from hotline.services import timeline
from hotline.services.calendar import load_calendar
from hotline.services.common import lock_assignment

# Used only when an admin deleted every SLA policy of a category: one working
# day to accept, five to reply (the common municipal rule).
FALLBACK_ACCEPT_HOURS = 9
FALLBACK_REPLY_DAYS = 5


def sla_for(ticket: Ticket) -> tuple[int, int]:
    """(accept-by working hours, reply-by working days) for this ticket."""
    policies = {p.urgency: p for p in SlaPolicy.objects.filter(category_id=ticket.category_id)}
    policy = policies.get(ticket.urgency) or policies.get(Urgency.NORMAL)
    if policy is None:
        return FALLBACK_ACCEPT_HOURS, FALLBACK_REPLY_DAYS
    return policy.accept_hours, policy.reply_days


def new_assignment(
    ticket: Ticket,
    unit: Unit,
    role: str,
    by: User | None,
    *,
    parent: Assignment | None = None,
    reply_by: datetime | None = None,
    instructions: str = "",
    reopen_of: Assignment | None = None,
    now: datetime | None = None,
    calendar: WorkCalendar | None = None,
) -> Assignment:
    """Create one unit's assignment with its working-day deadlines."""
    now = now or timezone.now()
    calendar = calendar or load_calendar()
    accept_hours, reply_days = sla_for(ticket)
    accept = calendar.hours_deadline(now, accept_hours)
    provisional = accept.provisional
    if reply_by is None:
        reply = calendar.days_deadline(now, reply_days)
        reply_by, provisional = reply.at, provisional or reply.provisional
    else:
        reply_days = 0  # an explicit inner deadline is never recomputed
    return Assignment.objects.create(
        ticket=ticket,
        unit=unit,
        role=role,
        parent=parent,
        reopen_of=reopen_of,
        instructions=instructions,
        dispatched_by=by,
        dispatched_at=now,
        accept_by=min(accept.at, reply_by),
        reply_by=reply_by,
        original_reply_by=reply_by,
        deadline_provisional=provisional,
        accept_hours=accept_hours,
        reply_days=reply_days,
    )


def current_lead(ticket: Ticket) -> Assignment | None:
    """The top-level lead assignment that is (or was last) carrying the ticket."""
    return (
        Assignment.objects.filter(ticket=ticket, parent__isnull=True, role=AssignmentRole.LEAD)
        .exclude(status__in=[AssignmentStatus.WITHDRAWN, AssignmentStatus.RETURNED])
        .order_by("-pk")
        .first()
    )


def withdraw_active(
    ticket: Ticket, by: User | None, note: str, exclude: set[int] = frozenset(), only: set[int] | None = None
) -> list[int]:
    """Withdraw the still-active assignments of a (locked) ticket (all, or those in ``only``); returns their unit ids.

    The time is kept: an assignment withdrawn after its deadline still counts, late (docs/metrics.md).
    """
    active = Assignment.objects.select_for_update().filter(ticket=ticket, status__in=ACTIVE_ASSIGNMENT_STATUSES)
    if only is not None:
        active = active.filter(pk__in=only)
    withdrawn = list(active.exclude(pk__in=exclude))
    now = timezone.now()
    for assignment in withdrawn:
        assignment.status, assignment.withdrawn_at = AssignmentStatus.WITHDRAWN, now
        assignment.save(update_fields=["status", "withdrawn_at"])
        overdue = now > assignment.reply_by
        timeline.record(ticket, "assignment.withdrawn", by, assignment=assignment, note=note, data={"overdue": overdue})
    return [a.unit_id for a in withdrawn]


def recompute_provisional_deadlines(by: User | None) -> int:
    """Recount every open provisional deadline on the current calendar; returns how many changed.

    ``by`` is the admin who made the schedule official (the timeline names them).
    """
    calendar = load_calendar()
    changed = 0
    open_ones = Assignment.objects.filter(
        deadline_provisional=True, status__in=ACTIVE_ASSIGNMENT_STATUSES, reply_days__gt=0
    ).values_list("pk", flat=True)
    for pk in list(open_ones):
        with transaction.atomic():
            # Read under the ticket's lock: a unit or an extension may have acted since the query above.
            ticket, assignment = lock_assignment(pk)
            if not assignment.deadline_provisional or assignment.status not in ACTIVE_ASSIGNMENT_STATUSES:
                continue
            accept = calendar.hours_deadline(assignment.dispatched_at, assignment.accept_hours)
            reply = calendar.days_deadline(assignment.dispatched_at, assignment.reply_days)
            extended = assignment.reply_by != assignment.original_reply_by  # an approved extension stands
            fields = {
                "accept_by": accept.at,
                "original_reply_by": reply.at,
                "reply_by": assignment.reply_by if extended else reply.at,
                "deadline_provisional": accept.provisional or reply.provisional,
            }
            if all(getattr(assignment, k) == v for k, v in fields.items()):
                continue
            old_reply_by = assignment.reply_by
            for key, value in fields.items():
                setattr(assignment, key, value)
            assignment.save(update_fields=list(fields))
            timeline.record(
                ticket,
                "assignment.deadline_recomputed",
                by,
                assignment=assignment,
                note="按正式节假日安排重新计算期限",
                data={"old_reply_by": old_reply_by.isoformat(), "reply_by": assignment.reply_by.isoformat()},
            )
        changed += 1
    return changed
