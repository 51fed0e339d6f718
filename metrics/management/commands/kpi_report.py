"""Write the KPI report workbook of a week, month, quarter or year."""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from metrics.periods import Period
from metrics.reports import REPORT_KINDS, write_report


class Command(BaseCommand):
    help = "Write the KPI report (KPIs per unit, overdue list, hot topics) of the period containing --date."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--period", choices=REPORT_KINDS, default="month")
        parser.add_argument("--date", required=True, help="a day inside the period, YYYY-MM-DD")
        parser.add_argument("--out", required=True, help="the .xlsx file to write")

    def handle(self, *args, period: str, date: str, out: str, **options) -> None:
        try:
            day = _parse(date)
        except ValueError as exc:
            raise CommandError(f"not a date (YYYY-MM-DD): {date!r}") from exc
        target = Period.of(period, day)
        path = write_report(target, out)
        self.stdout.write(f"{target.kind} {target}: {path}")


def _parse(value: str) -> date:
    return date.fromisoformat(value)
