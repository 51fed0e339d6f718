"""Sample a period's quality checks by hand (the job step samples each finished week or month by itself)."""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from hotline.errors import DomainError
from metrics import quality
from metrics.periods import Period


class Command(BaseCommand):
    help = (
        "Pick the quality checks of a period: --period week|month with --date, or --from and --to. "
        "A period is sampled once; the round keeps the seed, so its picks can be reproduced."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--period", choices=quality.SAMPLE_KINDS, default="week")
        parser.add_argument("--date", help="a day inside the period, YYYY-MM-DD")
        parser.add_argument("--from", dest="first", help="first day of a custom period, YYYY-MM-DD")
        parser.add_argument("--to", dest="last", help="last day of a custom period, YYYY-MM-DD")
        parser.add_argument("--seed", type=int, help="the random seed (default: a fresh one, stored on the round)")
        parser.add_argument("--percent", type=int, help="the random share (default QUALITY_SAMPLE_PERCENT)")

    def handle(self, *args, period, date, first, last, seed, percent, **options) -> None:
        try:
            if first or last:
                if not (first and last):
                    raise CommandError("give both --from and --to")
                target = Period(_day(first), _day(last))
            else:
                if not date:
                    raise CommandError("give --date (or --from and --to)")
                target = Period.of(period, _day(date))
            rnd = quality.sample(target, seed=seed, percent=percent)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"{target}: {rnd.checks.count()} checks (seed {rnd.seed})")


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"not a date (YYYY-MM-DD): {value!r}") from exc
