"""Caller history analysis for the center's review of abusive and persistent callers (恶意来电/缠访).

What a supervisor looks at before flagging a caller or declining the agents' reports: how often
the caller called and registered tickets over several spans, how many of the tickets repeat an
earlier one, and the agents' reports. Counted by aggregation (one query per kind of row for a
caller, and subqueries for the review list), never by looping over rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from hotline.models import Caller, CallerReport, ReportStatus, Ticket, TicketStatus
from metrics.kpis import repeat_q
from telephony.models import Call

SPANS = (7, 30, 90, 365)  # days: "calls per period" on the caller's page
REVIEW_DAYS = 30  # the review list's counts
# A caller with this many repeat tickets within REVIEW_DAYS is listed for review without any report.
FREQUENT_REPEATS = 3
VIEWS = ("review", "frequent", "flagged", "all")


@dataclass(frozen=True)
class Span:
    days: int
    calls: int
    tickets: int
    repeats: int
    reports: int


def _filtered(field: str, since: datetime, extra: Q | None = None) -> Count:
    condition = Q(**{f"{field}__gte": since})
    return Count("pk", filter=condition & extra if extra is not None else condition)


def caller_history(caller: Caller, now: datetime | None = None) -> dict[str, Any]:
    """Counts per span and in all, for one caller: three aggregate queries."""
    now = now or timezone.now()
    starts = {days: now - timedelta(days=days) for days in SPANS}
    calls = Call.objects.filter(caller=caller).aggregate(
        total=Count("pk"), **{f"d{d}": _filtered("offered_at", s) for d, s in starts.items()}
    )
    tickets = Ticket.objects.filter(caller=caller).exclude(status=TicketStatus.DISCARDED)
    repeats = repeat_q()
    ticket_counts = tickets.aggregate(
        total=Count("pk"),
        repeats=Count("pk", filter=repeats),
        **{f"t{d}": _filtered("created_at", s) for d, s in starts.items()},
        **{f"r{d}": _filtered("created_at", s, repeats) for d, s in starts.items()},
    )
    report_counts = CallerReport.objects.filter(caller=caller).aggregate(
        total=Count("pk"),
        pending=Count("pk", filter=Q(status=ReportStatus.PENDING)),
        **{f"p{d}": _filtered("reported_at", s) for d, s in starts.items()},
    )
    return {
        "spans": [
            Span(d, calls[f"d{d}"], ticket_counts[f"t{d}"], ticket_counts[f"r{d}"], report_counts[f"p{d}"])
            for d in SPANS
        ],
        "total": Span(0, calls["total"], ticket_counts["total"], ticket_counts["repeats"], report_counts["total"]),
        "pending_reports": report_counts["pending"],
    }


def _count(qs: QuerySet) -> Coalesce:
    """How many rows of ``qs`` belong to the outer caller, as a subquery (no join fans the list out)."""
    counted = qs.filter(caller_id=OuterRef("pk")).order_by().values("caller_id").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted[:1], output_field=IntegerField()), Value(0))


def review_list(view: str = "review", now: datetime | None = None) -> QuerySet[Caller]:
    """The callers the center reviews, with their counts of the last ``REVIEW_DAYS``:

    ``review``: with reports waiting for a decision; ``frequent``: with at least
    ``FREQUENT_REPEATS`` repeats (reported or not: 缠访 shows in the history first);
    ``flagged``: under a flag in force; ``all``: any caller ever reported or flagged, or frequent.
    """
    now = now or timezone.now()
    since = now - timedelta(days=REVIEW_DAYS)
    tickets = Ticket.objects.exclude(status=TicketStatus.DISCARDED).filter(created_at__gte=since)
    callers = Caller.objects.select_related("flag", "flag__set_by").annotate(
        calls_recent=_count(Call.objects.filter(offered_at__gte=since)),
        tickets_recent=_count(tickets),
        repeats_recent=_count(tickets.filter(repeat_q())),
        reports_pending=_count(CallerReport.objects.filter(status=ReportStatus.PENDING)),
        reports_total=_count(CallerReport.objects.all()),
    )
    in_force = Q(flag__isnull=False, flag__lifted_at__isnull=True, flag__expires_at__gt=now)
    if view == "review":
        callers = callers.filter(reports_pending__gt=0)
    elif view == "frequent":
        callers = callers.filter(repeats_recent__gte=FREQUENT_REPEATS)
    elif view == "flagged":
        callers = callers.filter(in_force)
    else:
        callers = callers.filter(
            Q(reports_total__gt=0) | Q(flag__isnull=False) | Q(repeats_recent__gte=FREQUENT_REPEATS)
        )
    return callers.order_by("-reports_pending", "-repeats_recent", "-pk")
