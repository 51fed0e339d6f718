"""Rewrite every ticket's search row, e.g. after hotline.lib.textsearch changed (docs/search.md)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from hotline.services.search import reindex_all


class Command(BaseCommand):
    help = "Rewrite the ticket search rows of all tickets."

    def handle(self, *args, **options) -> None:
        self.stdout.write(f"tickets indexed: {reindex_all()}")
