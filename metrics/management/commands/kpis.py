"""Print the five KPIs of a period, for the city or one unit, with numerators and denominators;
or, with ``--scheme``, every unit's score under an evaluation scheme, ranked within its kind."""

from __future__ import annotations

import json
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from hotline.models import Unit
from metrics import kpis, scores
from metrics.periods import Period


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"not a date (YYYY-MM-DD): {value!r}") from exc


class Command(BaseCommand):
    help = "Print the five KPIs (DESIGN §8) for local days --from..--to, for the city or one unit's subtree."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--from", dest="first", required=True, help="first local day, YYYY-MM-DD")
        parser.add_argument("--to", dest="last", required=True, help="last local day (inclusive), YYYY-MM-DD")
        parser.add_argument("--unit", type=int, help="unit id (default: the whole city)")
        parser.add_argument("--own", action="store_true", help="the unit's own work only, not its subtree")
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument("--scheme", help="an evaluation scheme (code or name): print the units' scores instead")

    def handle(self, *args, first: str, last: str, unit: int | None, own: bool, json: bool, **options) -> None:
        try:
            period = Period(_date(first), _date(last))
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if options.get("scheme"):
            self._scores(options["scheme"], period, json)
            return
        target = None
        if unit is not None:
            target = Unit.objects.filter(pk=unit).first()
            if target is None:
                raise CommandError(f"no unit with id {unit}")
        figures = kpis.compute_kpis(period, target, rollup=not own)
        if json:
            self.stdout.write(_dumps({key: figures[key].as_dict() for key in kpis.FIVE}))
            return
        definitions = kpis.definitions()
        scope = target.name if target else "全市 (whole city)"
        self.stdout.write(f"{scope} · {period}" + (" · own work" if own and target else ""))
        for key in kpis.FIVE:
            figure = figures[key]
            value = "no data" if figure.value is None else f"{figure.value:.2%}"
            label = f"{key} {definitions[key].label}"
            self.stdout.write(f"  {label:<28} {value:>8}   {figure.numerator} / {figure.denominator}")

    def _scores(self, name: str, period: Period, as_json: bool) -> None:
        try:
            scheme = scores.find_scheme(name, period)
        except scores.SchemeNotFound as exc:
            raise CommandError(str(exc)) from exc
        ranked = scores.scores_with_change(scheme, period)
        if as_json:
            self.stdout.write(_dumps({"scheme": scheme.code, "scores": [s.as_dict() for s in ranked]}))
            return
        self.stdout.write(f"{scheme} · {period}")
        group = None
        for s in ranked:
            if s.group != group:
                group = s.group
                self.stdout.write(f"  [{s.unit.get_kind_display()}]")
            score = "no data" if s.score is None else f"{s.score:.2f}"
            change = "" if s.change is None else f" ({s.change:+.2f})"
            rank = "-" if s.rank is None else str(s.rank)
            parts = ", ".join(
                f"{p.indicator} {'—' if p.value is None else f'{p.value:.2%}'}"
                f" {p.figure.numerator}/{p.figure.denominator}"
                for p in s.parts
            )
            cuts = "".join(f", −{d.points:g} {d.rule} ×{d.count}" for d in s.deductions if d.points)
            self.stdout.write(f"  {rank:>3}. {s.unit.name:<20} {score:>8}{change}   {parts}{cuts}")


def _dumps(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False)
