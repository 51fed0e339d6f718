"""Warning levels of assignments — normal, yellow (due within a working day), red (overdue) — and
the dispatch-by of urgent tickets (当日转办), derived from the registration time."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from hotline.lib.workcal import WorkCalendar
from hotline.models import Assignment, Ticket, TicketStatus, Urgency
from hotline.models.tickets import ACTIVE_ASSIGNMENT_STATUSES
from hotline.services.calendar import load_calendar

NORMAL, YELLOW, RED = "normal", "yellow", "red"


def warning_level(assignment: Assignment, now: datetime | None = None, calendar: WorkCalendar | None = None) -> str:
    """Red once the deadline has passed; yellow when it falls before the end of the next working day."""
    if assignment.status not in ACTIVE_ASSIGNMENT_STATUSES:
        return NORMAL
    now = now or timezone.now()
    if now > assignment.reply_by:
        return RED
    calendar = calendar or load_calendar()
    if assignment.reply_by <= calendar.days_deadline(now, 1).at:
        return YELLOW
    return NORMAL


WAITING_FOR_DISPATCH = frozenset({TicketStatus.REGISTERED, TicketStatus.RETURNED})


def dispatch_by(ticket: Ticket, calendar: WorkCalendar | None = None) -> datetime | None:
    """当日转办: an urgent ticket is to be dispatched by the end of the working day it was registered on
    (registered on a day off: the next working day). Other tickets have no dispatch-by (no stated basis).

    Derived, not stored: it follows from ``created_at``, the urgency and the calendar.
    """
    if ticket.urgency != Urgency.URGENT:
        return None
    calendar = calendar or load_calendar()
    day = ticket.created_at.astimezone(calendar.tz).date()
    return calendar.days_deadline(ticket.created_at, 0 if calendar.is_workday(day) else 1).at


def dispatch_level(ticket: Ticket, now: datetime | None = None, calendar: WorkCalendar | None = None) -> str:
    """Red while an urgent ticket still waits for dispatch past its dispatch-by; else normal."""
    if ticket.status not in WAITING_FOR_DISPATCH:
        return NORMAL
    due = dispatch_by(ticket, calendar)
    return RED if due is not None and (now or timezone.now()) > due else NORMAL
