"""Decide again which tickets repeat an earlier one, e.g. after HOTLINE_REPEAT_WINDOW_DAYS changed."""

from __future__ import annotations

from datetime import date, datetime, time

from django.core.management.base import BaseCommand
from django.utils import timezone

from hotline.services.repeats import recompute_repeats


class Command(BaseCommand):
    help = "Recompute Ticket.repeat_of for all tickets (or those registered since --since YYYY-MM-DD)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--since", type=date.fromisoformat, default=None)

    def handle(self, *args, since: date | None, **options) -> None:
        # Midnight of that day in the hotline's time zone.
        aware = timezone.make_aware(datetime.combine(since, time())) if since else None
        self.stdout.write(f"tickets changed: {recompute_repeats(aware)}")
