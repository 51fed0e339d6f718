"""Keeping the ticket search's rows current: written in the same transaction as the text they index.

The services that write a searched text call ``index_ticket`` before they return (registration,
直接办结, a unit's reply); no signal is involved, so no write path can skip it unnoticed
(tests/web/test_search.py registers, resolves and replies, then searches). docs/search.md.
"""

from __future__ import annotations

from django.db import transaction

from hotline.lib.textsearch import document
from hotline.models import Assignment, Ticket, TicketSearch


def ticket_document(ticket: Ticket, replies: list[str] | None = None) -> str:
    """The token string of everything searched by words: number, query code, title, content,
    address, resolution and the units' replies (``replies`` given: no query for them)."""
    if replies is None:
        replies = list(
            Assignment.objects.filter(ticket=ticket)
            .exclude(reply_text="")
            .order_by("pk")
            .values_list("reply_text", flat=True)
        )
    texts = (ticket.number, ticket.query_code, ticket.title, ticket.content, ticket.address, ticket.resolution)
    return document(*texts, *replies)


def index_ticket(ticket: Ticket, *, new: bool = False) -> None:
    """Rewrite the ticket's search row; ``new``: just registered, nothing replied yet (one INSERT)."""
    if new:
        TicketSearch.objects.create(ticket=ticket, tokens=ticket_document(ticket, replies=[]))
        return
    TicketSearch.objects.update_or_create(ticket=ticket, defaults={"tokens": ticket_document(ticket)})


def reindex_all(batch: int = 2000) -> int:
    """Rewrite every ticket's row (after the tokenizer changes); returns how many. One transaction per batch."""
    done, last = 0, 0
    while True:
        tickets = list(Ticket.objects.filter(pk__gt=last).order_by("pk")[:batch])
        if not tickets:
            return done
        replies: dict[int, list[str]] = {}
        rows = Assignment.objects.filter(ticket__in=tickets).exclude(reply_text="").order_by("pk")
        for ticket_id, text in rows.values_list("ticket_id", "reply_text"):
            replies.setdefault(ticket_id, []).append(text)
        with transaction.atomic():
            TicketSearch.objects.filter(ticket__in=tickets).delete()
            TicketSearch.objects.bulk_create(
                [TicketSearch(ticket=t, tokens=ticket_document(t, replies.get(t.pk, []))) for t in tickets]
            )
        done += len(tickets)
        last = tickets[-1].pk
