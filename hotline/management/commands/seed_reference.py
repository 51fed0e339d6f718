"""Seed what every installation needs: categories, topics, SLA policies and the holiday calendar."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from hotline.seed import seed_reference


class Command(BaseCommand):
    help = "Create or refresh categories, topics, SLA policies and the working-day calendar (no demo data)."

    def handle(self, *args, **options) -> None:
        for report in seed_reference():
            state = "official" if report.official else "provisional"
            self.stdout.write(f"calendar {report.year}: {state} ({report.source})")
            for line in report.disagreements:
                self.stdout.write(self.style.WARNING(f"  packages disagree: {line}"))
