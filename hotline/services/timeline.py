"""Append-only timeline entries; every transition writes one."""

from __future__ import annotations

from hotline.models import Assignment, Ticket, TimelineEntry, User


def record(
    ticket: Ticket,
    action: str,
    actor: User | None,
    *,
    from_status: str = "",
    to_status: str = "",
    note: str = "",
    assignment: Assignment | None = None,
    data: dict | None = None,
) -> TimelineEntry:
    return TimelineEntry.objects.create(
        ticket=ticket,
        assignment=assignment,
        action=action,
        actor=actor,
        actor_unit_id=getattr(actor, "unit_id", None),
        from_status=from_status,
        to_status=to_status,
        note=note,
        data=data or {},
    )
