"""Staffing per half-hour: agents Erlang C recommends for the observed traffic, next to those observed.

Per local half-hour of each day in the period: calls that asked for an agent (short abandons
out) give the arrival rate, the answered calls' mean talk time gives the handle time, and
``metrics.lib.erlang.agents_needed`` the agents reaching the service-level target. The
agents shown beside it are the distinct agents who answered a call in that half-hour: the
PBX side keeps no history of agents logged in or paused (``telephony.AgentState`` holds only
the current state), so this undercounts agents who were ready but got no call.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Avg, Case, Count, IntegerField, Value, When
from django.db.models.functions import ExtractHour, ExtractMinute, TruncDate

from metrics.kpis import AnswerRate
from metrics.lib.erlang import agents_needed
from metrics.periods import Period, local_tz

HALF_HOUR = timedelta(minutes=30)


def staffing(
    period: Period,
    *,
    target_level: float = 0.8,
    target_seconds: int | None = None,
    short_abandon_seconds: int | None = None,
) -> list[dict[str, Any]]:
    """One row per half-hour with calls in the period, in time order (a single grouped query)."""
    tz = local_tz()
    target_seconds = settings.METRICS_SERVICE_LEVEL_SECONDS if target_seconds is None else target_seconds
    parts = AnswerRate(short_abandon_seconds).parts(period, period.end)
    half = Case(
        When(minute__lt=30, then=Value(0)),
        default=Value(30),
        output_field=IntegerField(),
    )
    rows = (
        parts.rows.filter(parts.denominator)
        .annotate(
            day=TruncDate("offered_at", tzinfo=tz),
            hour=ExtractHour("offered_at", tzinfo=tz),
            minute=ExtractMinute("offered_at", tzinfo=tz),
        )
        .annotate(half=half)
        .values("day", "hour", "half")
        .annotate(
            calls=Count("pk"),
            answered=Count("pk", filter=parts.numerator),
            aht=Avg("talk_seconds", filter=parts.numerator),
            agents=Count("agent", distinct=True, filter=parts.numerator),
        )
        .order_by("day", "hour", "half")
    )
    result = []
    for row in rows:  # one row per half-hour interval, not per call
        start = datetime.combine(row["day"], time(row["hour"], row["half"]), tzinfo=tz)
        calls_per_hour = row["calls"] * 2
        aht = float(row["aht"]) if row["aht"] else None
        needed = (
            agents_needed(calls_per_hour, aht, target_level=target_level, target_seconds=target_seconds)
            if aht
            else None
        )
        result.append(
            {
                "start": start,
                "end": start + HALF_HOUR,
                "calls": row["calls"],
                "answered": row["answered"],
                "calls_per_hour": calls_per_hour,
                "average_handle_time": None if aht is None else round(aht, 1),
                "traffic_erlangs": None if needed is None else round(needed.traffic, 3),
                "agents_recommended": None if needed is None else needed.agents,
                "predicted_service_level": None if needed is None else round(needed.service_level, 4),
                "agents_observed": row["agents"],
                "agents_observed_basis": "distinct agents who answered a call in the half-hour",
            }
        )
    return result
