"""Automatic reminders (催办) before and after an assignment's deadlines, and escalation to the leader.

One job step, :func:`send_deadline_warnings`, looks at every open assignment near or past a
deadline and sends each kind of reminder once:

| kind | when | to |
|---|---|---|
| ``accept_soon`` | not accepted, accept-by within ``REMINDER_ACCEPT_LEAD_HOURS`` working hours | the unit |
| ``accept_overdue`` | still waiting to be accepted past accept-by | the unit |
| ``yellow`` | reply-by within ``REMINDER_REPLY_LEAD_DAYS`` working days | the unit |
| ``red`` | open past reply-by | the unit |
| ``escalated`` | open ``REMINDER_ESCALATE_AFTER_HOURS`` working hours past reply-by | the unit's leader in charge |

Each reminder is one transaction: a unique ``DeadlineWarning`` row (assignment, kind, deadline)
— the claim, so a rerun or a second worker sends nothing twice and an approved extension (a new
reply-by) makes the next one new — a timeline entry, and after commit a ``ticket.reminder``
push to the unit's workbench. The SMS to the unit's liaison (or, escalated, its leader) is
queued by callback's ``sms.notify_units`` step from the timeline entry (``data["notify"]``):
routing does not know about SMS, and the entry is the record that it is due.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from hotline.events import publish_on_commit, unit_group
from hotline.lib.workcal import WorkCalendar
from hotline.models import Assignment, AssignmentStatus
from hotline.models.tickets import ACTIVE_ASSIGNMENT_STATUSES
from hotline.services import timeline
from hotline.services.calendar import load_calendar
from routing.models import DeadlineWarning

ACCEPT_SOON, ACCEPT_OVERDUE, YELLOW, RED, ESCALATED = "accept_soon", "accept_overdue", "yellow", "red", "escalated"
KINDS = (ACCEPT_SOON, ACCEPT_OVERDUE, YELLOW, RED, ESCALATED)

# kind -> (timeline action, note, who gets the SMS)
ENTRIES = {
    ACCEPT_SOON: ("assignment.accept_soon", "即将超过签收时限：请尽快签收", "liaison"),
    ACCEPT_OVERDUE: ("assignment.accept_overdue", "已超过签收时限：请立即签收或退回", "liaison"),
    YELLOW: ("assignment.deadline_yellow", "即将到期：请在下一个工作日结束前答复", "liaison"),
    RED: ("assignment.deadline_red", "已超期：请尽快办理并答复", "liaison"),
    ESCALATED: ("assignment.escalated", "超期未办结，已报分管领导", "leader"),
}
NOTES = {kind: note for kind, (_action, note, _to) in ENTRIES.items()}


def _after(calendar: WorkCalendar, start: datetime, hours: int) -> datetime:
    """``hours`` working hours after ``start``; 0 is ``start`` itself (not the next office opening)."""
    return start if hours <= 0 else calendar.hours_deadline(start, hours).at


def kinds_due(assignment: Assignment, now: datetime, calendar: WorkCalendar) -> list[tuple[str, datetime]]:
    """The reminders this assignment has earned by ``now``, each with the deadline it is about."""
    if assignment.status not in ACTIVE_ASSIGNMENT_STATUSES:
        return []
    due: list[tuple[str, datetime]] = []
    if assignment.status == AssignmentStatus.PENDING and assignment.accept_by:
        if now > assignment.accept_by:
            due.append((ACCEPT_OVERDUE, assignment.accept_by))
        elif settings.REMINDER_ACCEPT_LEAD_HOURS > 0 and assignment.accept_by <= _after(
            calendar, now, settings.REMINDER_ACCEPT_LEAD_HOURS
        ):
            due.append((ACCEPT_SOON, assignment.accept_by))
    if now > assignment.reply_by:
        due.append((RED, assignment.reply_by))
        if now >= _after(calendar, assignment.reply_by, settings.REMINDER_ESCALATE_AFTER_HOURS):
            due.append((ESCALATED, assignment.reply_by))
    elif (
        settings.REMINDER_REPLY_LEAD_DAYS > 0
        and assignment.reply_by <= calendar.days_deadline(now, settings.REMINDER_REPLY_LEAD_DAYS).at
    ):
        due.append((YELLOW, assignment.reply_by))
    return due


def send_deadline_warnings(now: datetime | None = None, limit: int = 1000) -> int:
    """Job step. Returns how many reminders were sent."""
    now = now or timezone.now()
    calendar = load_calendar()
    reply_horizon = calendar.days_deadline(now, max(settings.REMINDER_REPLY_LEAD_DAYS, 0)).at
    accept_horizon = _after(calendar, now, settings.REMINDER_ACCEPT_LEAD_HOURS)
    candidates = (
        Assignment.objects.filter(status__in=ACTIVE_ASSIGNMENT_STATUSES)
        .filter(Q(reply_by__lte=reply_horizon) | Q(status=AssignmentStatus.PENDING, accept_by__lte=accept_horizon))
        .select_related("ticket", "unit")
        .order_by("reply_by", "pk")
    )
    sent = 0
    for assignment in candidates[:limit]:
        for kind, deadline in kinds_due(assignment, now, calendar):
            sent += _send(assignment, kind, deadline)
    return sent


def _send(assignment: Assignment, kind: str, deadline: datetime) -> int:
    action, note, notify = ENTRIES[kind]
    unit = assignment.unit
    data = {"unit": unit.name, "unit_id": unit.pk, "kind": kind, "deadline": deadline.isoformat(), "notify": notify}
    if kind in (YELLOW, RED, ESCALATED):
        data["reply_by"] = deadline.isoformat()
    if kind == ESCALATED:
        data["leader"] = unit.leader_name
    try:
        with transaction.atomic():
            DeadlineWarning.objects.create(assignment=assignment, level=kind, deadline=deadline)
            timeline.record(assignment.ticket, action, None, assignment=assignment, note=note, data=data)
            publish_on_commit(
                [unit_group(unit.pk)],
                {
                    "type": "ticket.reminder",
                    "ticket_id": assignment.ticket_id,
                    "number": assignment.ticket.number,
                    "assignment_id": assignment.pk,
                    "level": kind,
                    "overdue": kind in (ACCEPT_OVERDUE, RED, ESCALATED),
                    "deadline": deadline.isoformat(),
                    "note": note,
                },
            )
    except IntegrityError:
        return 0  # already sent, by an earlier run or another worker
    return 1
