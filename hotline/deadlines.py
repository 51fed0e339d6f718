"""Warning levels of assignments: normal, yellow (due within a working day), red (overdue)."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from hotline.lib.workcal import WorkCalendar
from hotline.models import Assignment
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
