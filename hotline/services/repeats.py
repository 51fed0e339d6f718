"""重复投诉: whether a new ticket repeats an earlier one.

A ticket repeats the latest earlier ticket (not in the recycle bin) of the same caller, or
of the same non-empty address and topic, registered within HOTLINE_REPEAT_WINDOW_DAYS.
It is decided once, when the ticket is registered, so the agent's hint, the ticket and the
repeat complaint rate all say the same thing, and the KPI reads a column instead of
searching history for every ticket. After changing the window, recompute_repeats().
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q

from hotline.models import Ticket, TicketStatus


def window() -> timedelta:
    return timedelta(days=settings.HOTLINE_REPEAT_WINDOW_DAYS)


def earlier_match(
    *, caller_id: int, topic_id: int | None, address: str, created_at: datetime, exclude_pk: int | None = None
) -> Ticket | None:
    same = Q(caller_id=caller_id)
    if topic_id is not None and address:
        same |= Q(topic_id=topic_id, address=address)
    qs = Ticket.objects.filter(same, created_at__lt=created_at, created_at__gte=created_at - window()).exclude(
        status=TicketStatus.DISCARDED
    )
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs.order_by("-created_at", "-pk").first()


def recompute_repeats(since: datetime | None = None) -> int:
    """Decide again for every ticket (registered since ``since``); returns how many changed."""
    changed = 0
    tickets = Ticket.objects.order_by("created_at", "pk")
    if since is not None:
        tickets = tickets.filter(created_at__gte=since)
    for ticket in tickets.only("pk", "caller_id", "topic_id", "address", "created_at", "repeat_of_id").iterator():
        match = earlier_match(
            caller_id=ticket.caller_id,
            topic_id=ticket.topic_id,
            address=ticket.address,
            created_at=ticket.created_at,
            exclude_pk=ticket.pk,
        )
        new = match.pk if match else None
        if new != ticket.repeat_of_id:
            Ticket.objects.filter(pk=ticket.pk).update(repeat_of_id=new)
            changed += 1
    return changed
