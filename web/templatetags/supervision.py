"""Marks on lists: which rows' tickets are supervised (督办) and which assignments were reminded (催办).

Each tag reads the whole list in one query, so a list of any length costs one query, not one per row,
and the snapshot builders of the consoles stay as they are.
"""

from __future__ import annotations

from django import template

from hotline.models import TimelineEntry
from hotline.services import supervision

register = template.Library()


def _ticket_id(row) -> int:
    return getattr(row, "ticket_id", None) or row.pk


@register.simple_tag
def supervision_marks(rows) -> dict:
    """``{% supervision_marks rows as marks %}``: ticket id → its open case, for tickets or assignments."""
    return supervision.supervision_by_ticket({_ticket_id(r) for r in rows})


@register.simple_tag
def reminders_for(assignments) -> dict:
    """``{% reminders_for inbox as reminders %}``: assignment id → the center's latest 催办 of it."""
    ids = [a.pk for a in assignments]
    if not ids:
        return {}
    entries = TimelineEntry.objects.filter(action="ticket.reminder", assignment_id__in=ids).order_by("at", "pk")
    return {e.assignment_id: e for e in entries}


@register.simple_tag
def supervision_cases(ticket):
    """``{% supervision_cases ticket as cases %}``: every case of the ticket, open or closed, with its notes."""
    return list(supervision.cases_of(ticket))


@register.filter
def get(mapping, key):
    return mapping.get(key) if mapping else None
