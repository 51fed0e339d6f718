"""Deadline warnings: when an assignment turns yellow (due within a working day) or red (overdue),
write one timeline entry and send one reminder (催办) to the unit — once per transition.

"Once" is a unique row per (assignment, level, reply_by): a rerun, or two workers,
insert it once; an approved extension changes reply_by, so a later transition is new.
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from hotline.deadlines import NORMAL, RED, warning_level
from hotline.events import publish_on_commit, unit_group
from hotline.models import Assignment
from hotline.models.tickets import ACTIVE_ASSIGNMENT_STATUSES
from hotline.services import timeline
from hotline.services.calendar import load_calendar
from routing.models import DeadlineWarning

NOTES = {"yellow": "即将到期：请在下一个工作日结束前答复", "red": "已超期：请尽快办理并答复"}


def send_deadline_warnings(now: datetime | None = None, limit: int = 1000) -> int:
    """Job step. Returns how many warnings were sent."""
    now = now or timezone.now()
    calendar = load_calendar()
    horizon = calendar.days_deadline(now, 1).at
    candidates = (
        Assignment.objects.filter(status__in=ACTIVE_ASSIGNMENT_STATUSES, reply_by__lte=horizon)
        .select_related("ticket", "unit")
        .order_by("reply_by")
    )
    sent = 0
    for assignment in candidates[:limit]:
        level = warning_level(assignment, now, calendar)
        if level == NORMAL:
            continue
        try:
            with transaction.atomic():
                DeadlineWarning.objects.create(assignment=assignment, level=level, reply_by=assignment.reply_by)
                timeline.record(
                    assignment.ticket,
                    f"assignment.deadline_{level}",
                    None,
                    assignment=assignment,
                    note=NOTES[level],
                    data={"unit": assignment.unit.name, "reply_by": assignment.reply_by.isoformat()},
                )
                publish_on_commit(
                    [unit_group(assignment.unit_id)],
                    {
                        "type": "ticket.reminder",
                        "ticket_id": assignment.ticket_id,
                        "number": assignment.ticket.number,
                        "assignment_id": assignment.pk,
                        "level": level,
                        "overdue": level == RED,
                        "reply_by": assignment.reply_by.isoformat(),
                    },
                )
        except IntegrityError:
            continue  # already sent, by an earlier run or another worker
        sent += 1
    return sent
