"""KPI dashboard (考核看板): the KPIs of a period, the ranking by score, the trend, and what is behind every number.

The ranking orders units by their score under an evaluation scheme (``metrics.scores``; ``?scheme=``,
default the first scheme valid for the period), within their kind, and shows each score's parts.

Center staff (supervisors, dispatchers, administrators) see the city and may open any unit;
a unit handler sees its own unit rolled up over its subtree and the units below it, and is
refused any other unit. Every numerator and denominator links to the rows it counts: those
lists are built from the KPI's own ``Parts`` (``metrics.kpis``), so their length is the number.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from io import BytesIO
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import BadRequest
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hotline import audit
from hotline.access import is_center_staff, sees_full_phone
from hotline.lib.phones import mask_phone
from hotline.models import AuditAction, Role, Ticket, Unit
from hotline.models.network import REVIEWING_ROLES
from metrics import kpis, reports, scores
from metrics.kpis import FIVE, Figure
from metrics.models import EvaluationScheme
from metrics.periods import Period
from web.api.metrics import PeriodQuery
from web.views import forbidden, role_required
from web.views import quality as quality_views
from web.views.snapshots import KPI_LABELS

viewers = role_required([Role.SUPERVISOR, Role.DISPATCHER, Role.ADMIN, Role.UNIT_HANDLER])
center_viewers = role_required(REVIEWING_ROLES)

LABELS = {
    **KPI_LABELS,
    "acceptance_rate": gettext_lazy("On-time acceptance rate"),
    "rating_rate": gettext_lazy("Rating rate"),
    "response_rate": gettext_lazy("Response rate"),
    "solved_rate": gettext_lazy("Solved rate"),
    "satisfied_rate": gettext_lazy("Satisfied rate"),
    "dispute_rejected": gettext_lazy("Disputes decided against the unit"),
}
SHOWN = (*FIVE, "acceptance_rate", "rating_rate")
# The ranking: the KPIs a unit is assessed on (the answer rate belongs to the center alone).
RANKED = ("on_time_rate", "acceptance_rate", "satisfaction_rate", "rating_rate", "reopen_rate", "repeat_rate")
LOWER_IS_BETTER = frozenset({"reopen_rate", "repeat_rate"})
PICKER_KINDS = {
    "week": gettext_lazy("Week"),
    "month": gettext_lazy("Month"),
    "quarter": gettext_lazy("Quarter"),
    "year": gettext_lazy("Year"),
}
PARTS = ("numerator", "denominator", "late")
TREND_POINTS = 12
PAGE_SIZE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class Refused(Exception):
    """The user asked for a unit outside their subtree."""


# --- input ---------------------------------------------------------------------------------


def read_period(request: HttpRequest) -> Period:
    """``period=week|month|quarter|year|day&date=…`` or ``from=…&to=…``, as the metrics API reads it."""
    query = PeriodQuery(data={k: v for k, v in request.GET.items() if v and k in ("period", "date", "from", "to")})
    if not query.is_valid():
        raise BadRequest("; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in query.errors.items()))
    return query.validated_data["period_obj"]


def read_scope(request: HttpRequest) -> Unit | None:
    """The unit whose subtree is shown; None is the whole city (center staff only)."""
    user = request.user
    raw = request.GET.get("unit", "")
    if raw:
        if not raw.isdigit():
            raise BadRequest("unit: not an id")
        unit = Unit.objects.filter(pk=int(raw)).first()
        if unit is None:
            raise Http404("no such unit")
    elif is_center_staff(user):
        return None
    else:
        unit = user.unit
    if not is_center_staff(user) and unit.pk not in user.unit.subtree_ids():
        raise Refused
    return None if unit.level == 1 else unit


def period_params(period: Period) -> dict[str, str]:
    if period.kind == "custom":
        return {"from": period.first.isoformat(), "to": period.last.isoformat()}
    return {"period": period.kind, "date": period.first.isoformat()}


def dashboard_url(period: Period, unit: Unit | None, scheme: EvaluationScheme | None = None) -> str:
    params = (
        period_params(period) | ({"unit": str(unit.pk)} if unit else {}) | ({"scheme": scheme.code} if scheme else {})
    )
    return f"{reverse('web:dashboard')}?{urlencode(params)}"


def drill_url(key: str, period: Period, unit: Unit | None, part: str) -> str:
    params = period_params(period) | ({"unit": str(unit.pk)} if unit else {}) | {"part": part}
    return f"{reverse('web:dashboard-drill', args=[key])}?{urlencode(params)}"


# --- the figures -----------------------------------------------------------------------------


@dataclass
class Cell:
    key: str
    label: str
    figure: Figure
    numerator_url: str
    denominator_url: str

    @property
    def percent(self) -> float | None:
        value = self.figure.value
        return None if value is None else round(value * 100, 1)

    @property
    def sort_value(self) -> str:
        value = self.figure.value
        return "" if value is None else f"{value:.6f}"


def cells(figures: dict[str, Figure], keys, period: Period, unit: Unit | None) -> list[Cell]:
    return [
        Cell(
            key,
            str(LABELS[key]),
            figures[key],
            drill_url(key, period, unit, "numerator"),
            drill_url(key, period, unit, "denominator"),
        )
        for key in keys
    ]


def read_scheme(request: HttpRequest, period: Period) -> EvaluationScheme | None:
    """``?scheme=CODE`` (default: the first valid scheme); an unknown code is a bad request."""
    code = request.GET.get("scheme", "")
    if code:
        try:
            return scores.find_scheme(code, period)
        except scores.SchemeNotFound as exc:
            raise BadRequest(f"scheme: {exc}") from exc
    valid = scores.valid_schemes(period)
    return valid[0] if valid else None


def score_view(score: scores.Score | None, period: Period) -> dict[str, Any] | None:
    """A score with a drill-down link behind every number of its parts and deductions."""
    if score is None:
        return None
    unit = score.unit
    parts = [
        {
            "part": part,
            "percent": None if part.value is None else round(part.value * 100, 1),
            "cell": Cell(part.kpi, part.label, part.figure, *(drill_url(part.kpi, period, unit, p) for p in PARTS[:2])),
        }
        for part in score.parts
    ]
    deductions = [
        {
            "deduction": cut,
            "url": drill_url(cut.kpi, period, unit, "late" if cut.rule == "overdue" else "numerator"),
        }
        for cut in score.deductions
    ]
    return {"score": score, "parts": parts, "deductions": deductions}


def ranking(
    period: Period, scope: Unit | None, now: datetime, scheme: EvaluationScheme | None = None
) -> list[dict[str, Any]]:
    """Level-2 units for the city; the unit and its children for a unit (each rolled up).

    With a scheme the rows are ordered by kind, then by score (rank across the whole city within
    the kind); units the scheme does not judge, or without a score, come last in their kind.
    """
    rows = kpis.kpis_for_all_units(period, now=now)
    if scope is None:
        rows = [row for row in rows if row["unit"].level == 2]
    else:
        rows = [row for row in rows if row["unit"].pk == scope.pk or row["unit"].parent_id == scope.pk]
    judged = {s.unit.pk: s for s in scores.scores_with_change(scheme, period, now=now)} if scheme else {}
    result = [
        {
            "unit": row["unit"],
            "url": dashboard_url(period, row["unit"], scheme),
            "cells": cells(row["rollup"], RANKED, period, row["unit"]),
            "score": score_view(judged.get(row["unit"].pk), period),
        }
        for row in rows
    ]

    def order(row: dict[str, Any]) -> tuple:
        score = row["score"]["score"] if row["score"] else None
        rank = score.rank if score else None
        return (row["unit"].level, row["unit"].kind, rank is None, rank or 0, row["unit"].code)

    return sorted(result, key=order)


def trend_periods(period: Period) -> tuple[str, list[Period]]:
    """Twelve weeks up to a week or month view, twelve months up to a quarter or year view."""
    step = "week" if period.kind in ("day", "week", "month") or period.days <= 62 else "month"
    points = [Period.of(step, period.last)]
    while len(points) < TREND_POINTS:
        points.insert(0, Period.of(step, points[0].first - timedelta(days=1)))
    return step, points


def trend(period: Period, scope: Unit | None, now: datetime) -> dict[str, Any]:
    step, points = trend_periods(period)
    definitions = kpis.definitions()
    series = []
    for key in FIVE:
        figures = [definitions[key].compute(p, scope, now=now) for p in points]
        series.append(
            {
                "key": key,
                "name": str(LABELS[key]),
                "data": [None if f.value is None else round(f.value * 100, 1) for f in figures],
                "counts": [[f.numerator, f.denominator] for f in figures],
            }
        )
    labels = [f"{p.first:%Y-%m}" if step == "month" else f"{p.first:%m-%d}" for p in points]
    return {"step": step, "labels": labels, "series": series, "no_data": str(_("no data"))}


# --- pages ----------------------------------------------------------------------------------


@viewers
def dashboard(request: HttpRequest) -> HttpResponse:
    try:
        scope = read_scope(request)
    except Refused:
        return forbidden(request, _("You see only your own unit and the units under it."))
    period = read_period(request)
    scheme = read_scheme(request, period)
    now = timezone.now()
    figures = kpis.compute_kpis(period, scope, now=now)
    kind = period.kind if period.kind in PICKER_KINDS else "month"
    chart = trend(period, scope, now)
    context = {
        "period": period,
        "scope": scope,
        "center": is_center_staff(request.user),
        "kinds": list(PICKER_KINDS.items()),
        "kind": kind,
        "date": request.GET.get("date") or _default_day(period).isoformat(),
        "main": cells(figures, FIVE, period, scope),
        "extra": cells(figures, ("acceptance_rate", "rating_rate"), period, scope),
        # 恶意来电/缠访: how many of the repeats came from callers the center flagged (not taken out of the KPI).
        "flagged_repeats": kpis.flagged_repeats(period, scope),
        "ranked": [(key, LABELS[key], key in LOWER_IS_BETTER) for key in RANKED],
        "ranking": ranking(period, scope, now, scheme),
        "scheme": scheme,
        "schemes": scores.valid_schemes(period),
        "trend": chart,
        "trend_rows": list(zip(chart["labels"], *[s["data"] for s in chart["series"]], strict=True)),
        "excel_url": f"{reverse('web:dashboard-excel')}?{urlencode(period_params(period))}",
        "city_url": dashboard_url(period, None, scheme),
        "parent_url": dashboard_url(period, scope.parent, scheme)
        if scope and scope.parent and scope.parent.level > 1 and _may_see(request, scope.parent)
        else "",
    }
    # 工单质检: its own section (web/templates/web/quality/_results.html), built by web.views.quality.
    context["quality"] = quality_views.section(request.user, period, scope)
    context["quality_excel_url"] = quality_views.excel_url(period) if is_center_staff(request.user) else ""
    if period.kind in PICKER_KINDS:
        # The scheme goes along only while it is the one chosen (another period may have another version).
        chosen = scheme if request.GET.get("scheme") else None
        context["previous_url"] = dashboard_url(Period.of(period.kind, period.first - timedelta(days=1)), scope, chosen)
        context["next_url"] = dashboard_url(Period.of(period.kind, period.last + timedelta(days=1)), scope, chosen)
    return render(request, "web/dashboard/dashboard.html", context)


def _default_day(period: Period):
    """The picker's date: today when the period holds it, else the period's first day."""
    today = timezone.localdate()
    return today if period.first <= today <= period.last else period.first


def _may_see(request: HttpRequest, unit: Unit) -> bool:
    return is_center_staff(request.user) or unit.pk in request.user.unit.subtree_ids()


# --- drill-down: the rows behind each number -------------------------------------------------------


def behind(key: str, period: Period, unit: Unit | None, now: datetime, part: str) -> QuerySet:
    """The rows a KPI counts for ``unit`` rolled up (None: the city), narrowed to one part.

    Mirrors ``Kpi.compute``: the city (or the center rolled up) counts ``city_parts``; a
    center-only KPI has no rows for a unit; a unit counts the rows charged to its subtree.
    """
    kpi = {**kpis.definitions(), **kpis.scoring_definitions()}[key]
    if unit is None or unit.level == 1:
        parts = kpi.city_parts(period, now)
        rows = parts.rows
    else:
        parts = kpi.parts(period, now)
        if kpi.unit_field is None:
            return parts.rows.none()
        rows = parts.rows.filter(**{f"{kpi.unit_field}_id__in": unit.subtree_ids()})
    if part == "late":  # counted, not in the numerator: the overdue deduction's rows
        return rows.filter(parts.denominator).exclude(parts.numerator)
    return rows.filter(parts.numerator if part == "numerator" else parts.denominator)


def answer_rate_rows(period, unit, now, part) -> QuerySet:
    """Calls (answered, or asking for an agent)."""
    return behind("answer_rate", period, unit, now, part).select_related("agent").order_by("offered_at", "pk")


def _assignments(rows: QuerySet) -> QuerySet:
    return rows.select_related("ticket", "unit", "parent")


def on_time_rate_rows(period, unit, now, part) -> QuerySet:
    """Assignments due in the period (replied on time, or decided)."""
    return _assignments(behind("on_time_rate", period, unit, now, part)).order_by("reply_by", "pk")


def acceptance_rate_rows(period, unit, now, part) -> QuerySet:
    """Assignments to be accepted in the period (accepted in time, or counted)."""
    return _assignments(behind("acceptance_rate", period, unit, now, part)).order_by("accept_by", "pk")


def reopen_rate_rows(period, unit, now, part) -> QuerySet:
    """Redo assignments made in the period, or replies of top-level leads submitted in it."""
    return _assignments(behind("reopen_rate", period, unit, now, part)).order_by("pk")


def repeat_rate_rows(period, unit, now, part) -> QuerySet:
    """Tickets (repeats, or registered). A unit counts distinct tickets through their lead assignments."""
    rows = behind("repeat_rate", period, unit, now, part)
    if rows.model is not Ticket:
        rows = Ticket.objects.filter(pk__in=rows.values("ticket_id"))
    return rows.select_related("caller", "topic", "repeat_of", "merged_into").order_by("created_at", "pk")


def satisfaction_rate_rows(period, unit, now, part) -> QuerySet:
    """Revisits done with a rating (satisfied ones for the numerator)."""
    return (
        behind("satisfaction_rate", period, unit, now, part)
        .select_related("ticket", "unit")
        .order_by("completed_at", "pk")
    )


def rating_rate_rows(period, unit, now, part) -> QuerySet:
    """Revisits finished (those that obtained a rating for the numerator)."""
    return (
        behind("rating_rate", period, unit, now, part).select_related("ticket", "unit").order_by("completed_at", "pk")
    )


def response_rate_rows(period, unit, now, part) -> QuerySet:
    """Lead replies submitted in the period (those that say the caller was contacted for the numerator)."""
    return _assignments(behind("response_rate", period, unit, now, part)).order_by("replied_at", "pk")


def solved_rate_rows(period, unit, now, part) -> QuerySet:
    """Revisits done in the period that asked whether the problem was solved (solved ones for the numerator)."""
    return (
        behind("solved_rate", period, unit, now, part).select_related("ticket", "unit").order_by("completed_at", "pk")
    )


def satisfied_rate_rows(period, unit, now, part) -> QuerySet:
    """Revisits done with a rating (very satisfied, satisfied or basically satisfied for the numerator)."""
    return (
        behind("satisfied_rate", period, unit, now, part)
        .select_related("ticket", "unit")
        .order_by("completed_at", "pk")
    )


def dispute_rows(period, unit, now, part) -> QuerySet:
    """Disputes decided in the period (those where the dispatch stands for the numerator)."""
    rows = behind("dispute_rejected", period, unit, now, part)
    return rows.select_related("assignment__ticket", "assignment__unit").order_by("decided_at", "pk")


@dataclass(frozen=True)
class Drill:
    rows: Callable[[Period, Unit | None, datetime, str], QuerySet]
    kind: str  # calls, assignments, tickets or revisits: which table the template shows
    # For assignments: the deadline and the moment compared with it.
    times: tuple[str, str] = ("", "")


DRILLS = {
    "answer_rate": Drill(answer_rate_rows, "calls"),
    "on_time_rate": Drill(on_time_rate_rows, "assignments", ("reply_by", "replied_at")),
    "acceptance_rate": Drill(acceptance_rate_rows, "assignments", ("accept_by", "accepted_at")),
    "reopen_rate": Drill(reopen_rate_rows, "assignments", ("dispatched_at", "replied_at")),
    "repeat_rate": Drill(repeat_rate_rows, "tickets"),
    "satisfaction_rate": Drill(satisfaction_rate_rows, "revisits"),
    "rating_rate": Drill(rating_rate_rows, "revisits"),
    "response_rate": Drill(response_rate_rows, "assignments", ("reply_by", "replied_at")),
    "solved_rate": Drill(solved_rate_rows, "revisits"),
    "satisfied_rate": Drill(satisfied_rate_rows, "revisits"),
    "dispute_rejected": Drill(dispute_rows, "disputes"),
}
# What each part counts, in the words of docs/metrics.md.
MEANINGS = {
    ("answer_rate", "numerator"): gettext_lazy("Calls answered by an agent (answered, or answered then transferred)."),
    ("answer_rate", "denominator"): gettext_lazy(
        "Calls that asked for an agent: answered, abandoned in the queue (short abandons left out) or timed out."
    ),
    ("on_time_rate", "numerator"): gettext_lazy("Assignments due in the period and replied by their deadline."),
    ("on_time_rate", "denominator"): gettext_lazy(
        "Assignments due in the period, replied or past their deadline (withdrawn overdue ones included, late)."
    ),
    ("acceptance_rate", "numerator"): gettext_lazy("Assignments accepted by their acceptance deadline."),
    ("acceptance_rate", "denominator"): gettext_lazy(
        "Assignments to accept in the period: accepted, or still pending past the deadline (redos left out)."
    ),
    ("reopen_rate", "numerator"): gettext_lazy("Redo assignments (sent back or reopened) made in the period."),
    ("reopen_rate", "denominator"): gettext_lazy("Replies of top-level lead assignments submitted in the period."),
    ("repeat_rate", "numerator"): gettext_lazy(
        "Tickets registered in the period that repeat an earlier one or were merged."
    ),
    ("repeat_rate", "denominator"): gettext_lazy("Tickets registered in the period (recycle bin left out)."),
    ("satisfaction_rate", "numerator"): gettext_lazy(
        "Revisits done in the period rated (very) satisfied, or basically satisfied if that counts."
    ),
    ("satisfaction_rate", "denominator"): gettext_lazy(
        "Revisits done in the period with a rating (ratings removed by a granted appeal left out)."
    ),
    ("rating_rate", "numerator"): gettext_lazy("Revisits done in the period with a rating."),
    ("rating_rate", "denominator"): gettext_lazy("Revisits finished in the period (done or unreachable)."),
    ("response_rate", "numerator"): gettext_lazy(
        "Lead replies submitted in the period that say the caller was contacted."
    ),
    ("response_rate", "denominator"): gettext_lazy("Lead replies submitted in the period."),
    ("solved_rate", "numerator"): gettext_lazy("Revisits done in the period in which the caller said it was solved."),
    ("solved_rate", "denominator"): gettext_lazy(
        "Revisits done in the period that asked whether it was solved (granted appeals left out)."
    ),
    ("satisfied_rate", "numerator"): gettext_lazy(
        "Revisits done in the period rated (very) satisfied or basically satisfied (the scheme weighs the last)."
    ),
    ("satisfied_rate", "denominator"): gettext_lazy(
        "Revisits done in the period with a rating (ratings removed by a granted appeal left out)."
    ),
    ("dispute_rejected", "numerator"): gettext_lazy("Disputes decided in the period where the dispatch stands."),
    ("dispute_rejected", "denominator"): gettext_lazy("Disputes decided in the period."),
}
LATE_MEANING = gettext_lazy(
    "Counted and not in the numerator: replied late, still open past the deadline, or withdrawn overdue."
)
TIME_LABELS = {
    "reply_by": gettext_lazy("Reply by"),
    "replied_at": gettext_lazy("Replied at"),
    "accept_by": gettext_lazy("Accept by"),
    "accepted_at": gettext_lazy("Accepted at"),
    "dispatched_at": gettext_lazy("Dispatched at"),
}


def _row(drill: Drill, obj, full_phone: bool, user=None) -> dict[str, Any]:
    """What the list shows of one row; phone numbers masked for the units (full ones audited)."""
    if drill.kind == "calls":
        if full_phone:
            audit.note_read(
                user, fields=["phone"], ticket=obj.ticket_id, phone=obj.caller_number, reason="KPI drill-down"
            )
        return {"obj": obj, "phone": obj.caller_number if full_phone else mask_phone(obj.caller_number)}
    if drill.kind == "tickets":
        if full_phone:
            audit.note_read(user, fields=["phone"], ticket=obj, phone=obj.caller.phone, reason="KPI drill-down")
        return {"obj": obj, "phone": obj.caller.phone if full_phone else obj.caller.masked_phone}
    if drill.kind == "assignments":
        return {"obj": obj, "times": [getattr(obj, name) for name in drill.times]}
    return {"obj": obj}


@viewers
def drill(request: HttpRequest, kpi: str) -> HttpResponse:
    spec = DRILLS.get(kpi)
    if spec is None:
        raise Http404("no such KPI")
    part = request.GET.get("part", "")
    if part not in PARTS:
        raise BadRequest("part: numerator, denominator or late")
    if part == "late" and kpi != "on_time_rate":
        raise BadRequest("part: late is the on-time rate's (the overdue deduction)")
    try:
        scope = read_scope(request)
    except Refused:
        return forbidden(request, _("You see only your own unit and the units under it."))
    period = read_period(request)
    now = timezone.now()
    rows = spec.rows(period, scope, now, part)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    full_phone = sees_full_phone(request.user)
    base = drill_url(kpi, period, scope, part)
    figure = {**kpis.definitions(), **kpis.scoring_definitions()}[kpi].compute(period, scope, now=now)
    context = {
        "kpi": kpi,
        "label": LABELS[kpi],
        "part": part,
        "part_label": {"numerator": _("numerator"), "denominator": _("denominator"), "late": _("late")}[part],
        "meaning": LATE_MEANING if part == "late" else MEANINGS[kpi, part],
        "kind": spec.kind,
        "time_labels": [TIME_LABELS[name] for name in spec.times if name],
        "period": period,
        "scope": scope,
        "figure": figure,
        "percent": None if figure.value is None else round(figure.value * 100, 1),
        "page": page,
        "rows": [_row(spec, obj, full_phone, request.user) for obj in page.object_list],
        "unit_links": not is_center_staff(request.user),
        "back_url": dashboard_url(period, scope),
        "page_url": f"{base}&page=",
        "other_url": drill_url(kpi, period, scope, "denominator" if part == "numerator" else "numerator"),
    }
    return render(request, "web/dashboard/drill.html", context)


# --- Excel -----------------------------------------------------------------------------------------


@center_viewers
def excel(request: HttpRequest) -> HttpResponse:
    """The period's report workbook (``metrics.reports.build_report``): the city and every unit.

    The builder has no per-unit scope, so the download is for center staff only.
    """
    period = read_period(request)
    buffer = BytesIO()
    reports.build_report(period).save(buffer)
    audit.record(AuditAction.EXPORT, reason="KPI report workbook", data={"period": str(period)})
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{reports.report_name(period)}"'
    return response
