"""Evaluation scores (综合考评): every unit's weighted score under a scheme, with its parts, and the ranking.

A scheme (``metrics.models.EvaluationScheme``) names indicators with weights and deduction
rules. Each indicator is a figure of the KPI engine (``metrics.kpis``), computed for all units at
once by its grouped scan (``Kpi.compute_all``), so a score costs a fixed number of queries
whatever the number of units. For a unit (rolled up over its subtree, as the dashboard ranks):

    indicator value v  = the figure's value, 1 − value for a lower-is-better rate, in [0, 1]
    contribution       = 100 × w × v / Σ w   (Σ over the indicators with data for this unit)
    score              = Σ contributions − Σ min(points × count, cap)

An indicator without data for a unit (empty denominator) is left out and the other weights are
renormalised; a unit with no data for any indicator has no score and is not ranked. Units are
ranked by score within their kind (departments with departments, districts with districts,
…); equal scores share a rank. docs/metrics.md has the reasons.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.utils import timezone

from hotline.models import Unit
from metrics import kpis
from metrics.kpis import NO_DATA, Figure
from metrics.models import DeductionRule, EvaluationScheme, Indicator
from metrics.periods import Period

LOWER_IS_BETTER = frozenset({Indicator.REOPEN_RATE, Indicator.REPEAT_RATE})
# Which KPI figures each indicator reads (its drill-down is the first one's rows).
SOURCES: dict[str, tuple[str, ...]] = {
    Indicator.ANSWER_RATE: ("answer_rate",),
    Indicator.ON_TIME_RATE: ("on_time_rate",),
    Indicator.SATISFACTION_RATE: ("satisfaction_rate",),
    Indicator.REOPEN_RATE: ("reopen_rate",),
    Indicator.REPEAT_RATE: ("repeat_rate",),
    Indicator.RESPONSE_RATE: ("response_rate",),
    Indicator.SOLVED_RATE: ("solved_rate",),
    Indicator.SATISFIED_RATE: ("satisfied_rate", "basically_satisfied"),
}
RULE_SOURCES = {DeductionRule.OVERDUE: "on_time_rate", DeductionRule.DISPUTE_REJECTED: "dispute_rejected"}


class SchemeNotFound(LookupError):
    pass


@dataclass(frozen=True)
class ScorePart:
    indicator: str
    label: str
    kpi: str  # the KPI whose rows are behind the figure (drill-down)
    figure: Figure
    value: float | None  # in [0, 1], after "lower is better"; None: no data
    weight: float
    effective_weight: float  # share of 100 after renormalisation; 0 without data
    contribution: float | None  # points

    def as_dict(self) -> dict[str, Any]:
        return {
            "indicator": self.indicator,
            "label": self.label,
            "figure": self.figure.as_dict(),
            "value": self.value,
            "weight": self.weight,
            "effective_weight": self.effective_weight,
            "contribution": self.contribution,
        }


@dataclass(frozen=True)
class ScoreDeduction:
    rule: str
    label: str
    kpi: str
    count: int
    points_each: float
    cap: float | None
    points: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "label": self.label,
            "count": self.count,
            "points_each": self.points_each,
            "cap": self.cap,
            "points": self.points,
        }


@dataclass
class Score:
    unit: Unit
    group: str  # the unit kind: units are ranked within it
    parts: list[ScorePart]
    deductions: list[ScoreDeduction]
    base: float | None
    score: float | None
    rank: int | None = None
    previous: float | None = None
    previous_rank: int | None = None

    @property
    def change(self) -> float | None:
        """Points gained since the previous period (None when either has no score)."""
        if self.score is None or self.previous is None:
            return None
        return round(self.score - self.previous, 2)

    def as_dict(self) -> dict[str, Any]:
        return {
            "unit": self.unit.pk,
            "unit_name": self.unit.name,
            "group": self.group,
            "rank": self.rank,
            "score": self.score,
            "base": self.base,
            "previous": self.previous,
            "previous_rank": self.previous_rank,
            "change": self.change,
            "parts": [p.as_dict() for p in self.parts],
            "deductions": [d.as_dict() for d in self.deductions],
        }


def find_scheme(name: str, period: Period) -> EvaluationScheme:
    """The active version of the scheme called ``name`` (code or name) valid on the period's first day."""
    versions = (
        EvaluationScheme.objects.filter(Q(code=name) | Q(name=name), is_active=True, valid_from__lte=period.first)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=period.first))
        .prefetch_related("indicators", "deductions")
        .order_by("-valid_from")
    )
    scheme = versions.first()
    if scheme is None:
        known = sorted(set(EvaluationScheme.objects.filter(is_active=True).values_list("code", flat=True)))
        raise SchemeNotFound(
            f"no evaluation scheme {name!r} valid on {period.first.isoformat()} (schemes: {', '.join(known) or 'none'})"
        )
    return scheme


def valid_schemes(period: Period) -> list[EvaluationScheme]:
    """The active scheme versions valid on the period's first day, one per code."""
    versions = (
        EvaluationScheme.objects.filter(is_active=True, valid_from__lte=period.first)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=period.first))
        .prefetch_related("indicators", "deductions")
        .order_by("code", "-valid_from")
    )
    chosen: dict[str, EvaluationScheme] = {}
    for version in versions:
        chosen.setdefault(version.code, version)
    return list(chosen.values())


def _value(indicator: str, figures: dict[str, Figure], basic_weight: float) -> float | None:
    if indicator == Indicator.SATISFIED_RATE:
        good, basic = figures["satisfied_rate"], figures["basically_satisfied"]
        if not good.denominator:
            return None
        return (good.numerator - (1 - basic_weight) * basic.numerator) / good.denominator
    value = figures[SOURCES[indicator][0]].value
    if value is None:
        return None
    return 1 - value if indicator in LOWER_IS_BETTER else value


def _needed(scheme: EvaluationScheme) -> list[str]:
    keys = [key for si in scheme.indicators.all() for key in SOURCES[si.indicator]]
    keys += [RULE_SOURCES[d.rule] for d in scheme.deductions.all()]
    return list(dict.fromkeys(keys))


def compute_scores(
    scheme: EvaluationScheme, period: Period, *, now: datetime | None = None, units: list[Unit] | None = None
) -> list[Score]:
    """Every judged unit's score (rolled up), ranked within its kind; ordered by kind, rank, then code."""
    now = now or timezone.now()
    if units is None:
        units = list(Unit.objects.filter(is_active=True, kind__in=scheme.kinds()).order_by("level", "code"))
    catalogue = {**kpis.definitions(), **kpis.scoring_definitions()}
    per_kpi = {key: catalogue[key].compute_all(period, units, now) for key in _needed(scheme)}
    indicators = list(scheme.indicators.all())
    deductions = list(scheme.deductions.all())
    basic_weight = float(scheme.basically_satisfied_weight)
    labels = dict(Indicator.choices) | dict(DeductionRule.choices)
    scores = []
    for unit in units:
        figures = {key: per[unit.pk]["rollup"] for key, per in per_kpi.items()}
        values = {si.indicator: _value(si.indicator, figures, basic_weight) for si in indicators}
        total = sum(float(si.weight) for si in indicators if values[si.indicator] is not None)
        parts = []
        for si in indicators:
            value, weight = values[si.indicator], float(si.weight)
            share = 100 * weight / total if value is not None and total else 0.0
            source = SOURCES[si.indicator][0]
            parts.append(
                ScorePart(
                    si.indicator,
                    str(labels[si.indicator]),
                    source,
                    figures.get(source, NO_DATA),
                    None if value is None else round(value, 6),
                    weight,
                    round(share, 4),
                    None if value is None else round(share * value, 2),
                )
            )
        cuts = []
        for rule in deductions:
            figure = figures[RULE_SOURCES[rule.rule]]
            count = figure.denominator - figure.numerator if rule.rule == DeductionRule.OVERDUE else figure.numerator
            points = Decimal(count) * rule.points
            if rule.cap is not None:
                points = min(points, rule.cap)
            cuts.append(
                ScoreDeduction(
                    rule.rule,
                    str(labels[rule.rule]),
                    RULE_SOURCES[rule.rule],
                    count,
                    float(rule.points),
                    None if rule.cap is None else float(rule.cap),
                    float(points),
                )
            )
        raw = sum(float(si.weight) * values[si.indicator] for si in indicators if values[si.indicator] is not None)
        base = round(100 * raw / total, 2) if total else None
        score = None if base is None else round(base - sum(c.points for c in cuts), 2)
        scores.append(Score(unit, unit.kind, parts, cuts, base, score))
    rank(scores)
    return sorted(scores, key=_order)


def rank(scores: list[Score]) -> None:
    """Competition ranking (1, 1, 3) by score within each kind; units without a score get no rank."""
    groups: dict[str, list[Score]] = {}
    for s in scores:
        if s.score is not None:
            groups.setdefault(s.group, []).append(s)
    for members in groups.values():
        members.sort(key=lambda s: -s.score)
        for i, s in enumerate(members):
            s.rank = members[i - 1].rank if i and members[i - 1].score == s.score else i + 1


def _order(s: Score) -> tuple:
    return (s.unit.level, s.group, s.rank is None, s.rank or 0, s.unit.code)


def previous_period(period: Period) -> Period:
    """The period before: the same kind (week, month, quarter, year), or as many days before a custom range."""
    if period.kind != "custom":
        return Period.of(period.kind, period.first - timedelta(days=1))
    return Period(period.first - timedelta(days=period.days), period.first - timedelta(days=1))


def scores_with_change(
    scheme: EvaluationScheme, period: Period, *, now: datetime | None = None, units: list[Unit] | None = None
) -> list[Score]:
    """The period's scores with each unit's score and rank in the previous period (judged by the same scheme)."""
    now = now or timezone.now()
    current = compute_scores(scheme, period, now=now, units=units)
    before = {s.unit.pk: s for s in compute_scores(scheme, previous_period(period), now=now, units=units)}
    for s in current:
        old = before.get(s.unit.pk)
        if old is not None:
            s.previous, s.previous_rank = old.score, old.rank
    return current
