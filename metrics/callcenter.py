"""Call-center statistics from Call rows, by database aggregation (DESIGN §8, GB/T 33358-2016).

Every rate shares the answer rate's denominator: calls that asked for an agent, short
abandons left out (they are reported on their own). Hours and weekdays are local time.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Avg, Case, CharField, Count, F, Q, Value, When
from django.db.models.functions import Coalesce, ExtractHour, ExtractIsoWeekDay, NullIf
from django.utils.translation import gettext

from hotline.models import User
from metrics.kpis import AnswerRate, Figure, answer_rate_by_agent, short_abandon_q
from metrics.periods import Period, local_tz
from telephony.models import Outcome, WrapUpCode
from telephony.wrapup import TICKET_CODE

GBT_ANSWER_SECONDS = 15  # GB/T 33358-2016: answered within 15 seconds


def call_stats(
    period: Period, *, short_abandon_seconds: int | None = None, service_level_seconds: int | None = None
) -> dict[str, Any]:
    """The period's call-center figures in one query."""
    short = settings.METRICS_SHORT_ABANDON_SECONDS if short_abandon_seconds is None else short_abandon_seconds
    level_seconds = settings.METRICS_SERVICE_LEVEL_SECONDS if service_level_seconds is None else service_level_seconds
    parts = AnswerRate(short).parts(period, period.end)
    answered, asked = parts.numerator, parts.denominator
    row = parts.rows.aggregate(
        asked=Count("pk", filter=asked),
        answered=Count("pk", filter=answered),
        within_15=Count("pk", filter=answered & Q(wait_seconds__lte=GBT_ANSWER_SECONDS)),
        within_level=Count("pk", filter=answered & Q(wait_seconds__lte=level_seconds)),
        abandoned=Count("pk", filter=Q(outcome=Outcome.ABANDONED) & ~short_abandon_q(short)),
        short_abandons=Count("pk", filter=short_abandon_q(short)),
        timeouts=Count("pk", filter=Q(outcome=Outcome.TIMEOUT)),
        refused=Count("pk", filter=Q(outcome=Outcome.REFUSED)),
        ivr_110=Count("pk", filter=Q(outcome=Outcome.IVR_110)),
        transferred_110=Count("pk", filter=Q(outcome=Outcome.TRANSFERRED_110)),
        callbacks=Count("pk", filter=Q(outcome=Outcome.OUTBOUND)),
        asa=Avg("wait_seconds", filter=answered),
        aht=Avg("talk_seconds", filter=answered & Q(talk_seconds__isnull=False)),
        abandon_wait=Avg("wait_seconds", filter=Q(outcome=Outcome.ABANDONED) & ~short_abandon_q(short)),
    )
    return {
        "calls_asking_for_agent": row["asked"],
        "answered": row["answered"],
        "answer_rate": Figure(row["answered"], row["asked"]),
        "answer_rate_15s": Figure(row["within_15"], row["asked"]),
        "service_level": Figure(row["within_level"], row["asked"]),
        "service_level_seconds": level_seconds,
        "abandon_rate": Figure(row["abandoned"], row["asked"]),
        "abandoned": row["abandoned"],
        "short_abandons": row["short_abandons"],
        "short_abandon_seconds": short,
        "timeouts": row["timeouts"],
        "refused": row["refused"],
        "ivr_110": row["ivr_110"],
        "transferred_110": row["transferred_110"],
        "callbacks": row["callbacks"],
        "average_speed_of_answer": _round(row["asa"]),
        "average_handle_time": _round(row["aht"]),
        "average_abandon_wait": _round(row["abandon_wait"]),
    }


def calls_by_hour(period: Period, *, short_abandon_seconds: int | None = None) -> list[dict[str, int]]:
    """Calls asking for an agent and answered, per local hour of day (0–23, all 24 listed)."""
    return _by(period, ExtractHour("offered_at", tzinfo=local_tz()), range(24), "hour", short_abandon_seconds)


def calls_by_weekday(period: Period, *, short_abandon_seconds: int | None = None) -> list[dict[str, int]]:
    """The same per local ISO weekday (1 = Monday … 7 = Sunday)."""
    return _by(
        period, ExtractIsoWeekDay("offered_at", tzinfo=local_tz()), range(1, 8), "weekday", short_abandon_seconds
    )


def _by(period: Period, key, keys: range, name: str, short: int | None) -> list[dict[str, int]]:
    parts = AnswerRate(short).parts(period, period.end)
    rows = (
        parts.rows.filter(parts.denominator)
        .values(key=key)
        .annotate(calls=Count("pk"), answered=Count("pk", filter=parts.numerator))
    )
    found = {row["key"]: row for row in rows}
    return [
        {name: k, "calls": found.get(k, {}).get("calls", 0), "answered": found.get(k, {}).get("answered", 0)}
        for k in keys
    ]


def agent_stats(period: Period, *, short_abandon_seconds: int | None = None) -> list[dict[str, Any]]:
    """Per agent who answered: calls answered, share of all calls asking for an agent, ASA and handle time."""
    shares = answer_rate_by_agent(period, short_abandon_seconds)
    parts = AnswerRate(short_abandon_seconds).parts(period, period.end)
    rows = (
        parts.rows.filter(parts.numerator, agent__isnull=False)
        .values("agent_id")
        .annotate(
            within_15=Count("pk", filter=Q(wait_seconds__lte=GBT_ANSWER_SECONDS)),
            asa=Avg("wait_seconds"),
            aht=Avg("talk_seconds"),
        )
    )
    names = dict(User.objects.filter(pk__in=shares).values_list("pk", "username"))
    return [
        {
            "agent": row["agent_id"],
            "username": names.get(row["agent_id"], ""),
            "answered": shares[row["agent_id"]].numerator,
            "answer_share": shares[row["agent_id"]],
            "answered_within_15s": row["within_15"],
            "average_speed_of_answer": _round(row["asa"]),
            "average_handle_time": _round(row["aht"]),
        }
        for row in sorted(rows, key=lambda r: r["agent_id"])
    ]


def desk_stats(period: Period, *, short_abandon_seconds: int | None = None) -> dict[str, dict[str, Any]]:
    """Per desk (专席, telephony.desks), by the desk each call was routed to (``Call.desk``).

    ``offered``: calls asking for an agent that were routed to the desk; ``answered_at_desk``: answered
    there; ``overflowed``: sent on to another queue (the desk had nobody in time), and of those
    ``answered_after_overflow``; ``answered``/``abandoned``: calls that ended in this queue (what the
    wallboard shows next to the queue's live figures). Calls from before desks existed count under
    their queue. Every configured queue is listed, with zeros when it had no call.
    """
    short = settings.METRICS_SHORT_ABANDON_SECONDS if short_abandon_seconds is None else short_abandon_seconds
    parts = AnswerRate(short).parts(period, period.end)
    asked = parts.rows.filter(parts.denominator)
    answered = parts.numerator
    routed = {
        row["routed_to"]: row
        for row in asked.annotate(routed_to=Coalesce(NullIf("desk", Value("")), "queue"))
        .values("routed_to")
        .annotate(
            offered=Count("pk"),
            answered_at_desk=Count("pk", filter=answered & Q(queue=F("routed_to"))),
            overflowed=Count("pk", filter=~Q(queue=F("routed_to"))),
            answered_after_overflow=Count("pk", filter=answered & ~Q(queue=F("routed_to"))),
            asa=Avg("wait_seconds", filter=answered),
        )
    }
    ended = {
        row["queue"]: row
        for row in parts.rows.values("queue").annotate(
            answered=Count("pk", filter=answered),
            abandoned=Count("pk", filter=Q(outcome=Outcome.ABANDONED) & ~short_abandon_q(short)),
        )
    }
    out: dict[str, dict[str, Any]] = {}
    for queue in [*settings.AMI_QUEUES, *sorted((set(routed) | set(ended)) - set(settings.AMI_QUEUES) - {""})]:
        r, e = routed.get(queue, {}), ended.get(queue, {})
        offered = r.get("offered", 0)
        out[queue] = {
            "offered": offered,
            "answered_at_desk": r.get("answered_at_desk", 0),
            "desk_answer_rate": Figure(r.get("answered_at_desk", 0), offered),
            "overflowed": r.get("overflowed", 0),
            "answered_after_overflow": r.get("answered_after_overflow", 0),
            "average_speed_of_answer": _round(r.get("asa")),
            "answered": e.get("answered", 0),
            "abandoned": e.get("abandoned", 0),
        }
    return out


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)


def wrapup_stats(period: Period, *, short_abandon_seconds: int | None = None) -> list[dict[str, Any]]:
    """Answered calls of the period per wrap-up code (话后小结, telephony.wrapup), in two queries.

    A call without a code counts as 已登记工单 when a ticket was registered from it (the code the
    console pre-selects), else as 未选择 (``code`` blank). Every active code is listed, with 0 calls
    when none; an inactive one only when it still has calls in the period.
    """
    short = settings.METRICS_SHORT_ABANDON_SECONDS if short_abandon_seconds is None else short_abandon_seconds
    parts = AnswerRate(short).parts(period, period.end)
    effective = Coalesce(
        "wrapup_code__code",
        Case(When(ticket__isnull=False, then=Value(TICKET_CODE)), default=Value("")),
        output_field=CharField(),
    )
    counts = {
        row["key"]: row["n"]
        for row in parts.rows.filter(parts.numerator).annotate(key=effective).values("key").annotate(n=Count("pk"))
    }
    rows = [
        {"code": c.code, "name": c.name, "calls": counts.pop(c.code, 0)}
        for c in WrapUpCode.objects.all()
        if c.active or counts.get(c.code)
    ]
    rows.append({"code": "", "name": gettext("Not chosen"), "calls": counts.pop("", 0)})
    return rows
