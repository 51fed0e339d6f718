"""REST: the KPIs, the unit ranking, evaluation scores, call-center statistics and staffing (GET only).

Center staff see every unit and the call center; a unit handler sees the KPIs of its own
unit and the units below it (another unit is 403) and no call-center figures.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hotline.access import is_center_staff
from hotline.models import Unit
from metrics import callcenter, kpis, scores
from metrics.periods import KINDS, Period
from metrics.staffing import staffing
from telephony import desks
from web.api.permissions import IsCenterOrUnitHandler, IsCenterStaff

# --- input ----------------------------------------------------------------------------

# The days a period may name: a period, its neighbours and its trend stay far from date.min / date.max.
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(2999, 12, 31)


class PeriodQuery(serializers.Serializer):
    period = serializers.ChoiceField(
        choices=[k for k in KINDS if k != "custom"],
        required=False,
        help_text="day, week, month, quarter or year containing `date`; or give `from` and `to`.",
    )
    date = serializers.DateField(required=False, help_text="A day inside the period (with `period`).")
    # "from" is a keyword: declared below under its real name.
    to = serializers.DateField(required=False, help_text="Last local day, inclusive (with `from`).")

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateField(required=False, help_text="First local day (with `to`).")
        return fields

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        first, last = attrs.get("from"), attrs.get("to")
        for day in (first, last, attrs.get("date")):
            if day is not None and not FIRST_DAY <= day <= LAST_DAY:  # 0001-01-01 / 9999-12-31 overflow later
                raise serializers.ValidationError(
                    _("dates must be between %(first)s and %(last)s") % {"first": FIRST_DAY, "last": LAST_DAY}
                )
        try:
            if first or last:
                if not (first and last):
                    raise serializers.ValidationError("give both `from` and `to`")
                if (last - first).days > 366 * 5:
                    raise serializers.ValidationError("a custom period is at most five years")
                attrs["period_obj"] = Period(first, last)
            else:
                attrs["period_obj"] = Period.of(attrs.get("period", "month"), attrs.get("date") or timezone.localdate())
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from exc
        return attrs


class KpiQuery(PeriodQuery):
    unit = serializers.IntegerField(required=False, help_text="Unit id; default: the city (center) or your unit.")
    own = serializers.BooleanField(required=False, default=False, help_text="The unit's own work, not its subtree.")


class ScoreQuery(PeriodQuery):
    scheme = serializers.CharField(max_length=100, help_text="An evaluation scheme: its code or name.")


class CallQuery(PeriodQuery):
    short_abandon_seconds = serializers.IntegerField(required=False, min_value=0, max_value=600)
    service_level_seconds = serializers.IntegerField(required=False, min_value=1, max_value=600)


class StaffingQuery(CallQuery):
    target_level = serializers.FloatField(required=False, default=0.8, min_value=0.01, max_value=0.99)


PERIOD_PARAMS = [
    OpenApiParameter("period", str, enum=[k for k in KINDS if k != "custom"], description="default month"),
    OpenApiParameter("date", date, description="a day inside the period; default today"),
    OpenApiParameter("from", date, description="first local day of a custom period"),
    OpenApiParameter("to", date, description="last local day of a custom period (inclusive)"),
]
UNIT_PARAMS = [
    OpenApiParameter("unit", int, description="unit id; default: the city for center staff, else your unit"),
    OpenApiParameter("own", bool, description="the unit's own work only, not rolled up over its subtree"),
]
CALL_PARAMS = [
    OpenApiParameter("short_abandon_seconds", int, description="abandons under this are short (default setting)"),
    OpenApiParameter("service_level_seconds", int, description="service-level threshold (default setting)"),
]


# --- output ---------------------------------------------------------------------------


class FigureSerializer(serializers.Serializer):
    numerator = serializers.IntegerField()
    denominator = serializers.IntegerField()
    value = serializers.FloatField(allow_null=True, help_text="numerator ÷ denominator; null = no data")


class KpiSetSerializer(serializers.Serializer):
    answer_rate = FigureSerializer()
    on_time_rate = FigureSerializer()
    satisfaction_rate = FigureSerializer()
    reopen_rate = FigureSerializer()
    repeat_rate = FigureSerializer()
    acceptance_rate = FigureSerializer()
    rating_rate = FigureSerializer()


class PeriodSerializer(serializers.Serializer):
    kind = serializers.CharField()
    first = serializers.DateField()
    last = serializers.DateField()


class UnitBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    level = serializers.IntegerField()
    parent = serializers.IntegerField(source="parent_id", allow_null=True)


class KpiResultSerializer(serializers.Serializer):
    period = PeriodSerializer()
    unit = UnitBriefSerializer(allow_null=True)
    rollup = serializers.BooleanField()
    kpis = KpiSetSerializer()
    flagged_repeats = FigureSerializer(
        help_text="Of the repeat rate's repeats, those by callers under a flag of the center (恶意来电/缠访) ÷ all "
        "repeats: a line of its own, still counted in repeat_rate."
    )


class RankingRowSerializer(serializers.Serializer):
    unit = UnitBriefSerializer()
    own = KpiSetSerializer()
    rollup = KpiSetSerializer()


class RankingSerializer(serializers.Serializer):
    period = PeriodSerializer()
    units = RankingRowSerializer(many=True)


class ScorePartSerializer(serializers.Serializer):
    indicator = serializers.CharField()
    label = serializers.CharField()
    figure = FigureSerializer()
    value = serializers.FloatField(
        allow_null=True, help_text="0..1 (1 − rate for a lower-is-better rate); null = no data"
    )
    weight = serializers.FloatField()
    effective_weight = serializers.FloatField(help_text="points out of 100 after renormalising; 0 without data")
    contribution = serializers.FloatField(allow_null=True, help_text="effective_weight × value")


class ScoreDeductionSerializer(serializers.Serializer):
    rule = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()
    points_each = serializers.FloatField()
    cap = serializers.FloatField(allow_null=True)
    points = serializers.FloatField()


class ScoreRowSerializer(serializers.Serializer):
    unit = serializers.IntegerField()
    unit_name = serializers.CharField()
    group = serializers.CharField(help_text="the unit kind; ranks are within it")
    rank = serializers.IntegerField(allow_null=True)
    score = serializers.FloatField(allow_null=True, help_text="null: no data for any indicator")
    base = serializers.FloatField(allow_null=True, help_text="the weighted indicators before deductions")
    previous = serializers.FloatField(allow_null=True, help_text="the score in the previous period")
    previous_rank = serializers.IntegerField(allow_null=True)
    change = serializers.FloatField(allow_null=True)
    parts = ScorePartSerializer(many=True)
    deductions = ScoreDeductionSerializer(many=True)


class SchemeBriefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    valid_from = serializers.DateField()
    valid_until = serializers.DateField(allow_null=True)
    basically_satisfied_weight = serializers.FloatField()


class ScoresSerializer(serializers.Serializer):
    period = PeriodSerializer()
    previous_period = PeriodSerializer()
    scheme = SchemeBriefSerializer()
    units = ScoreRowSerializer(many=True)


class HourRowSerializer(serializers.Serializer):
    hour = serializers.IntegerField()
    calls = serializers.IntegerField()
    answered = serializers.IntegerField()


class WeekdayRowSerializer(serializers.Serializer):
    weekday = serializers.IntegerField(help_text="1 = Monday … 7 = Sunday")
    calls = serializers.IntegerField()
    answered = serializers.IntegerField()


class AgentRowSerializer(serializers.Serializer):
    agent = serializers.IntegerField()
    username = serializers.CharField()
    answered = serializers.IntegerField()
    answer_share = FigureSerializer()
    answered_within_15s = serializers.IntegerField()
    average_speed_of_answer = serializers.FloatField(allow_null=True)
    average_handle_time = serializers.FloatField(allow_null=True)


class DeskRowSerializer(serializers.Serializer):
    """One desk (专席): calls routed to it, answered there, overflowed on, and what ended in its queue."""

    queue = serializers.CharField()
    label = serializers.CharField()
    offered = serializers.IntegerField()
    answered_at_desk = serializers.IntegerField()
    desk_answer_rate = FigureSerializer()
    overflowed = serializers.IntegerField()
    answered_after_overflow = serializers.IntegerField()
    average_speed_of_answer = serializers.FloatField(allow_null=True)
    answered = serializers.IntegerField()
    abandoned = serializers.IntegerField()


class CallStatsSerializer(serializers.Serializer):
    period = PeriodSerializer()
    calls_asking_for_agent = serializers.IntegerField()
    answered = serializers.IntegerField()
    answer_rate = FigureSerializer()
    answer_rate_15s = FigureSerializer()
    service_level = FigureSerializer()
    service_level_seconds = serializers.IntegerField()
    abandon_rate = FigureSerializer()
    abandoned = serializers.IntegerField()
    short_abandons = serializers.IntegerField()
    short_abandon_seconds = serializers.IntegerField()
    timeouts = serializers.IntegerField()
    ivr_110 = serializers.IntegerField()
    transferred_110 = serializers.IntegerField()
    callbacks = serializers.IntegerField()
    average_speed_of_answer = serializers.FloatField(allow_null=True)
    average_handle_time = serializers.FloatField(allow_null=True)
    average_abandon_wait = serializers.FloatField(allow_null=True)
    by_hour = HourRowSerializer(many=True)
    by_weekday = WeekdayRowSerializer(many=True)
    agents = AgentRowSerializer(many=True)
    desks = DeskRowSerializer(many=True)


class StaffingRowSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    calls = serializers.IntegerField()
    answered = serializers.IntegerField()
    calls_per_hour = serializers.IntegerField()
    average_handle_time = serializers.FloatField(allow_null=True)
    traffic_erlangs = serializers.FloatField(allow_null=True)
    agents_recommended = serializers.IntegerField(allow_null=True)
    predicted_service_level = serializers.FloatField(allow_null=True)
    agents_observed = serializers.IntegerField()
    agents_observed_basis = serializers.CharField()


class StaffingSerializer(serializers.Serializer):
    period = PeriodSerializer()
    target_level = serializers.FloatField()
    target_seconds = serializers.IntegerField()
    intervals = StaffingRowSerializer(many=True)


# --- views ----------------------------------------------------------------------------


def _query(serializer_class, request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _figures(figures: dict[str, kpis.Figure]) -> dict[str, dict[str, Any]]:
    return {key: figure.as_dict() for key, figure in figures.items()}


def _period(period: Period) -> dict[str, Any]:
    return {"kind": period.kind, "first": period.first, "last": period.last}


class KpiView(APIView):
    permission_classes = [IsCenterOrUnitHandler]

    @extend_schema(
        parameters=PERIOD_PARAMS + UNIT_PARAMS,
        responses=KpiResultSerializer,
        summary="KPIs of the city or of one unit",
        tags=["metrics"],
    )
    def get(self, request: Request) -> Response:
        query = _query(KpiQuery, request)
        user = request.user
        unit_id = query.get("unit")
        if unit_id is None and not is_center_staff(user):
            unit_id = user.unit_id
        unit = None
        if unit_id is not None:
            unit = Unit.objects.filter(pk=unit_id).first()
            if unit is None:
                raise serializers.ValidationError({"unit": f"no unit with id {unit_id}"})
            if not is_center_staff(user) and unit.pk not in user.unit.subtree_ids():
                raise PermissionDenied("you see only your own unit and the units under it")
        rollup = not query["own"]
        figures = kpis.compute_kpis(query["period_obj"], unit, rollup=rollup)
        flagged = kpis.flagged_repeats(query["period_obj"], unit, rollup=rollup).as_dict()
        data = {
            "period": _period(query["period_obj"]),
            "unit": unit,
            "rollup": rollup,
            "kpis": _figures(figures),
            "flagged_repeats": flagged,
        }
        return Response(KpiResultSerializer(data).data)


class KpiRankingView(APIView):
    permission_classes = [IsCenterOrUnitHandler]

    @extend_schema(
        parameters=PERIOD_PARAMS,
        responses=RankingSerializer,
        summary="Every unit's KPIs (own and rolled up), for rankings; a unit handler gets its subtree",
        tags=["metrics"],
    )
    def get(self, request: Request) -> Response:
        query = _query(PeriodQuery, request)
        rows = kpis.kpis_for_all_units(query["period_obj"])
        if not is_center_staff(request.user):
            mine = set(request.user.unit.subtree_ids())
            rows = [row for row in rows if row["unit"].pk in mine]
        units = [{"unit": r["unit"], "own": _figures(r["own"]), "rollup": _figures(r["rollup"])} for r in rows]
        return Response(RankingSerializer({"period": _period(query["period_obj"]), "units": units}).data)


class ScoreView(APIView):
    permission_classes = [IsCenterOrUnitHandler]

    @extend_schema(
        parameters=[
            *PERIOD_PARAMS,
            OpenApiParameter("scheme", str, required=True, description="evaluation scheme code or name"),
        ],
        responses=ScoresSerializer,
        summary="Every unit's score under an evaluation scheme, its parts, its rank within its kind and its change",
        tags=["metrics"],
    )
    def get(self, request: Request) -> Response:
        query = _query(ScoreQuery, request)
        period = query["period_obj"]
        try:
            scheme = scores.find_scheme(query["scheme"], period)
        except scores.SchemeNotFound as exc:
            raise serializers.ValidationError({"scheme": str(exc)}) from exc
        rows = scores.scores_with_change(scheme, period)
        if not is_center_staff(request.user):
            mine = set(request.user.unit.subtree_ids())
            rows = [row for row in rows if row.unit.pk in mine]
        data = {
            "period": _period(period),
            "previous_period": _period(scores.previous_period(period)),
            "scheme": scheme,
            "units": [row.as_dict() for row in rows],
        }
        return Response(ScoresSerializer(data).data)


class CallCenterView(APIView):
    permission_classes = [IsCenterStaff]

    @extend_schema(
        parameters=PERIOD_PARAMS + CALL_PARAMS,
        responses=CallStatsSerializer,
        summary="Call-center statistics: answer rates, service level, ASA, handle time, abandons, per hour/day/agent",
        tags=["metrics"],
    )
    def get(self, request: Request) -> Response:
        query = _query(CallQuery, request)
        period, short = query["period_obj"], query.get("short_abandon_seconds")
        data = callcenter.call_stats(
            period, short_abandon_seconds=short, service_level_seconds=query.get("service_level_seconds")
        )
        for key in ("answer_rate", "answer_rate_15s", "service_level", "abandon_rate"):
            data[key] = data[key].as_dict()
        data["period"] = _period(period)
        data["by_hour"] = callcenter.calls_by_hour(period, short_abandon_seconds=short)
        data["by_weekday"] = callcenter.calls_by_weekday(period, short_abandon_seconds=short)
        data["agents"] = [
            {**row, "answer_share": row["answer_share"].as_dict()}
            for row in callcenter.agent_stats(period, short_abandon_seconds=short)
        ]
        data["desks"] = [
            {**row, "queue": queue, "label": desks.label(queue), "desk_answer_rate": row["desk_answer_rate"].as_dict()}
            for queue, row in callcenter.desk_stats(period, short_abandon_seconds=short).items()
        ]
        return Response(CallStatsSerializer(data).data)


class StaffingView(APIView):
    permission_classes = [IsCenterStaff]

    @extend_schema(
        parameters=[*PERIOD_PARAMS, *CALL_PARAMS, OpenApiParameter("target_level", float, description="default 0.8")],
        responses=StaffingSerializer,
        summary="Agents Erlang C recommends per half-hour, next to the agents who answered calls",
        tags=["metrics"],
    )
    def get(self, request: Request) -> Response:
        query = _query(StaffingQuery, request)
        period = query["period_obj"]
        if period.days > 31:
            raise serializers.ValidationError({"period": "staffing is listed per half-hour: at most 31 days"})
        seconds = query.get("service_level_seconds")
        rows = staffing(
            period,
            target_level=query["target_level"],
            target_seconds=seconds,
            short_abandon_seconds=query.get("short_abandon_seconds"),
        )
        data = {
            "period": _period(period),
            "target_level": query["target_level"],
            "target_seconds": seconds if seconds is not None else settings.METRICS_SERVICE_LEVEL_SECONDS,
            "intervals": rows,
        }
        return Response(StaffingSerializer(data).data)
