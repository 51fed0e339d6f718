"""The ticket search's own row: each ticket's searchable text as tokens (hotline.lib.textsearch)."""

from __future__ import annotations

from django.db import models

from hotline.models.tickets import Ticket


class TicketSearch(models.Model):
    """One row per ticket, rewritten by ``hotline.services.search.index_ticket`` in the transaction
    that changes a searched text (registration, resolution, a unit's reply).

    ``tokens`` is " tok tok … ": the number, the query code, title, content, address, the
    resolution and every reply. On PostgreSQL the migration adds ``tsv``, a stored tsvector
    generated from it, with a GIN index (docs/search.md); SQLite searches ``tokens`` by substring.
    A row of its own keeps the ticket table narrow for the KPIs' scans.
    """

    ticket = models.OneToOneField(Ticket, primary_key=True, on_delete=models.CASCADE, related_name="search")
    tokens = models.TextField(default=" ")

    class Meta:
        verbose_name = "ticket search row"

    def __str__(self) -> str:
        return f"search {self.ticket_id}"
