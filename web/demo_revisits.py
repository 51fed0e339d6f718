"""Revisit rows for the demo history (web/demo.py), consistent with each ticket's timeline.

The replay closes tickets "回访满意" and reopens them "回访不满意" without revisit rows;
this adds them afterwards: a done revisit with a satisfied-side rating for each
close that followed revisit_pending, an unsatisfied one for each reopen, and a
scheduled revisit for each ticket still waiting, half of them due now. Safe to run again.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from callback.models import Rating, Revisit, RevisitStatus
from callback.revisits import schedule_revisit
from hotline.models import Assignment, Ticket, TicketStatus, TimelineEntry
from hotline.services.assignments import current_lead

SATISFIED_MIX = [Rating.SATISFIED, Rating.SATISFIED, Rating.VERY_SATISFIED, Rating.BASICALLY_SATISFIED]


def seed_revisits() -> dict[str, int]:
    made = {"done": 0, "unsatisfied": 0, "scheduled": 0}
    entries = (
        TimelineEntry.objects.filter(action__in=["ticket.closed", "ticket.reopened"], from_status="revisit_pending")
        .select_related("ticket", "assignment")
        .order_by("at", "pk")
    )
    for entry in entries:
        ticket = entry.ticket
        if Revisit.objects.filter(ticket=ticket, completed_at=entry.at).exists():
            continue
        pending_since = (
            TimelineEntry.objects.filter(ticket=ticket, to_status="revisit_pending", at__lte=entry.at)
            .order_by("-at", "-pk")
            .values_list("at", flat=True)
            .first()
        ) or entry.at
        if entry.action == "ticket.reopened":
            judged = entry.assignment.reopen_of if entry.assignment and entry.assignment.reopen_of_id else None
            rating, solved, key = Rating.UNSATISFIED, False, "unsatisfied"
        else:
            judged = _lead_before(ticket, entry)
            rating, solved, key = SATISFIED_MIX[ticket.pk % len(SATISFIED_MIX)], True, "done"
        Revisit.objects.create(
            ticket=ticket,
            assignment=judged,
            unit=judged.unit if judged else None,
            status=RevisitStatus.DONE,
            rating=rating,
            solved=solved,
            completed_at=entry.at,
            scheduled_for=pending_since,
            attempts=1,
            comment=entry.note.partition("：")[2],
            created_at=pending_since,
        )
        made[key] += 1
    for ticket in Ticket.objects.filter(status=TicketStatus.REVISIT_PENDING).order_by("pk"):
        had = Revisit.objects.filter(ticket=ticket, status=RevisitStatus.SCHEDULED).exists()
        if schedule_revisit(ticket) is not None and not had:
            made["scheduled"] += 1
    _some_due_now()
    return made


def _some_due_now() -> None:
    """Half of the waiting revisits fall due now, so a first-time user can try the revisit loop
    at once; the rest keep the dates the rules gave them."""
    now = timezone.now()
    later = Revisit.objects.filter(status=RevisitStatus.SCHEDULED, scheduled_for__gt=now).order_by("pk")
    ids = list(later.values_list("pk", flat=True))[::2]
    Revisit.objects.filter(pk__in=ids).update(scheduled_for=now - timedelta(minutes=30))


def _lead_before(ticket: Ticket, entry: TimelineEntry) -> Assignment | None:
    """The lead assignment that had replied when the ticket was closed."""
    lead = (
        Assignment.objects.filter(ticket=ticket, parent__isnull=True, role="lead", replied_at__lte=entry.at)
        .order_by("-replied_at", "-pk")
        .first()
    )
    return lead or current_lead(ticket)
