"""重复投诉: whether a new ticket repeats an earlier one.

A ticket repeats the latest earlier ticket (not in the recycle bin) of the same caller, or
of the same non-empty address and topic, registered within HOTLINE_REPEAT_WINDOW_DAYS.
It is decided when the ticket is registered, so the agent's hint, the ticket and the
repeat complaint rate all say the same thing, and the KPI reads a column instead of
searching history for every ticket. A ticket going to or coming back from the recycle bin
changes which tickets are "earlier tickets": ``remark_around`` decides again for the tickets
it may concern, in the same transaction. A merge changes no mark: the merged ticket is still
a demand that was made (an earlier ticket for later ones), and counts itself through
``merged_into``. After changing the window, recompute_repeats().
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q, QuerySet

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
    tickets = Ticket.objects.all()
    if since is not None:
        tickets = tickets.filter(created_at__gte=since)
    return _decide_again(tickets)


def remark_around(ticket: Ticket) -> int:
    """Decide again for the tickets whose mark may name or skip ``ticket`` (just discarded or restored).

    Those are the tickets registered after it, within the window, by its caller or at its address
    and topic; returns how many changed.
    """
    same = Q(caller_id=ticket.caller_id)
    if ticket.topic_id is not None and ticket.address:
        same |= Q(topic_id=ticket.topic_id, address=ticket.address)
    later = Ticket.objects.filter(
        same, created_at__gt=ticket.created_at, created_at__lte=ticket.created_at + window()
    ).exclude(pk=ticket.pk)
    return _decide_again(later)


def _decide_again(tickets: QuerySet[Ticket]) -> int:
    changed = 0
    tickets = tickets.order_by("created_at", "pk")
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
