"""The KPI engine (DESIGN §8): every KPI is one definition, computed by database aggregation.

Each KPI names the rows it counts, which of them make the numerator and which the
denominator, and the path from a row to the unit it is charged to. The same definition
gives one unit's figure (its own work, or rolled up over its subtree), the whole city's,
and every unit's at once (``kpis_for_all_units``: three grouped queries per KPI, whatever
the number of units). The definitions and the reasons behind them are in docs/metrics.md.

A figure is (numerator, denominator); an empty denominator is "no data" (value None).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Case, Count, Exists, F, OuterRef, Q, QuerySet, When
from django.utils import timezone

from callback.models import Rating, Revisit, RevisitStatus
from hotline.models import (
    Assignment,
    AssignmentRole,
    AssignmentStatus,
    CallerFlag,
    Dispute,
    DisputeStatus,
    Ticket,
    TicketStatus,
    Unit,
)
from hotline.models.tickets import ACTIVE_ASSIGNMENT_STATUSES
from metrics.periods import Period
from telephony.models import Call, Outcome


@dataclass(frozen=True)
class Figure:
    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        """numerator ÷ denominator, or None ("no data") when nothing was counted."""
        return self.numerator / self.denominator if self.denominator else None

    def as_dict(self) -> dict[str, Any]:
        return {"numerator": self.numerator, "denominator": self.denominator, "value": self.value}

    def __add__(self, other: Figure) -> Figure:
        return Figure(self.numerator + other.numerator, self.denominator + other.denominator)


NO_DATA = Figure(0, 0)


@dataclass(frozen=True)
class Parts:
    """The rows a KPI counts, which of them are its numerator and denominator, and what is counted."""

    rows: QuerySet
    numerator: Q
    denominator: Q = field(default_factory=Q)
    # Count distinct values of this field instead of rows (tickets reached through assignments).
    distinct: str | None = None

    def counts(self) -> dict[str, Count]:
        counted = self.distinct or "pk"
        return {
            "n": Count(counted, filter=self.numerator or None, distinct=bool(self.distinct)),
            "d": Count(counted, filter=self.denominator or None, distinct=bool(self.distinct)),
        }

    def figure(self, **filters: Any) -> Figure:
        return _figure(self.rows.filter(**filters).aggregate(**self.counts()))

    def grouped(self, key) -> dict[int, Figure]:
        return {row["key"]: _figure(row) for row in self.rows.values(key=key).annotate(**self.counts())}


class Kpi:
    """One KPI: override ``parts`` (and ``city_parts`` when the whole city counts other rows)."""

    key: str = ""
    label: str = ""
    # Path from a counted row to its unit; None when the KPI belongs to the center alone.
    unit_field: str | None = "unit"
    # Every row counts at exactly one unit and the city counts the same rows: subtree and city
    # figures are sums of the units' own figures, so one grouped scan gives all three.
    additive: bool = True

    def parts(self, period: Period, now: datetime) -> Parts:
        raise NotImplementedError

    def city_parts(self, period: Period, now: datetime) -> Parts:
        """What the whole city (the center's rolled-up figure) counts."""
        return self.parts(period, now)

    def compute(
        self, period: Period, unit: Unit | None = None, *, rollup: bool = True, now: datetime | None = None
    ) -> Figure:
        """The figure of one unit (own work, or its subtree with ``rollup``), or of the city (``unit=None``)."""
        now = now or timezone.now()
        if unit is None or (rollup and unit.level == 1):
            return self.city_parts(period, now).figure()
        if self.unit_field is None:
            return self.city_parts(period, now).figure() if unit.level == 1 else NO_DATA
        ids = unit.subtree_ids() if rollup else [unit.pk]
        return self.parts(period, now).figure(**{f"{self.unit_field}_id__in": ids})

    def compute_all(
        self, period: Period, units: list[Unit], now: datetime | None = None
    ) -> dict[int, dict[str, Figure]]:
        """Every unit's own and rolled-up figure from one grouped scan (three for a non-additive KPI)."""
        now = now or timezone.now()
        if self.unit_field is None:
            city = self.city_parts(period, now).figure()
            return {u.pk: dict.fromkeys(("own", "rollup"), city if u.level == 1 else NO_DATA) for u in units}
        u = self.unit_field
        parts = self.parts(period, now)
        if self.additive:
            return self._sum_up(parts.grouped(F(f"{u}_id")), units)
        city = self.city_parts(period, now).figure()
        own = parts.grouped(F(f"{u}_id"))
        # A level-3 unit's subtree is itself; a level-2 unit's is itself and its children.
        subtree = parts.grouped(Case(When(**{f"{u}__level": 3}, then=F(f"{u}__parent_id")), default=F(f"{u}_id")))
        result = {}
        for unit in units:
            mine = own.get(unit.pk, NO_DATA)
            rolled = {1: city, 2: subtree.get(unit.pk, NO_DATA)}.get(unit.level, mine)
            result[unit.pk] = {"own": mine, "rollup": rolled}
        return result

    @staticmethod
    def _sum_up(own: dict[int | None, Figure], units: list[Unit]) -> dict[int, dict[str, Figure]]:
        """Subtree and city figures as sums of the units' own figures (rows without a unit count for the city)."""
        tree = {pk: (parent, level) for pk, parent, level in Unit.objects.values_list("pk", "parent_id", "level")}
        city = sum(own.values(), NO_DATA)
        subtree: dict[int, Figure] = {}
        for unit_id, figure in own.items():
            if unit_id is None:
                continue
            # A level-2 unit's subtree is itself and its level-3 children.
            parent, level = tree.get(unit_id, (None, 0))
            top = parent if level == 3 else unit_id
            subtree[top] = subtree.get(top, NO_DATA) + figure
        result = {}
        for unit in units:
            mine = own.get(unit.pk, NO_DATA)
            rolled = {1: city, 2: subtree.get(unit.pk, NO_DATA)}.get(unit.level, mine)
            result[unit.pk] = {"own": mine, "rollup": rolled}
        return result


def _figure(row: dict[str, Any]) -> Figure:
    return Figure(row["n"] or 0, row["d"] or 0)


# --- answer rate 来电接听率 ------------------------------------------------------------

ANSWERED_OUTCOMES = (Outcome.ANSWERED, Outcome.TRANSFERRED_110, Outcome.TRANSFERRED)


def answered_q() -> Q:
    """Answered by an agent: answered, or answered and then transferred (to 110 or elsewhere).

    A call whose end the bridge did not see (``unknown``) counts as answered if it has ``answered_at``.
    """
    return Q(outcome__in=ANSWERED_OUTCOMES) | Q(outcome=Outcome.UNKNOWN, answered_at__isnull=False)


def short_abandon_q(threshold: int | None = None) -> Q:
    threshold = settings.METRICS_SHORT_ABANDON_SECONDS if threshold is None else threshold
    return Q(outcome=Outcome.ABANDONED, wait_seconds__lt=threshold)


def asked_for_agent_q(short_abandon_seconds: int | None = None) -> Q:
    """Calls that asked for an agent: answered, abandoned (except short abandons), timed out or refused.

    Never in it: ivr_110 (the caller chose 110 in the IVR), callback (our own outbound call),
    unknown without an answer (it never reached the queue), live calls (no outcome yet).
    """
    missed = (Outcome.ABANDONED, Outcome.TIMEOUT, Outcome.REFUSED)
    return (answered_q() | Q(outcome__in=missed)) & ~short_abandon_q(short_abandon_seconds)


class AnswerRate(Kpi):
    """Calls answered by an agent ÷ calls that asked for an agent, by ``offered_at``. A center KPI."""

    key, label = "answer_rate", "来电接听率"
    unit_field = None

    def __init__(self, short_abandon_seconds: int | None = None) -> None:
        self.short = short_abandon_seconds

    def parts(self, period: Period, now: datetime) -> Parts:
        return Parts(Call.objects.filter(**period.range("offered_at")), answered_q(), asked_for_agent_q(self.short))


def answer_rate_by_agent(period: Period, short_abandon_seconds: int | None = None) -> dict[int, Figure]:
    """Per agent: calls the agent answered ÷ all calls that asked for an agent (the agent's share).

    Call rows record only the agent who answered, not the agents a call rang at first, so a
    per-agent "answered ÷ offered to this agent" cannot be derived; see docs/metrics.md.
    """
    parts = AnswerRate(short_abandon_seconds).parts(period, timezone.now())
    total = parts.rows.aggregate(d=Count("pk", filter=parts.denominator))["d"]
    answered = parts.rows.filter(parts.numerator, agent__isnull=False).values("agent_id").annotate(n=Count("pk"))
    return {row["agent_id"]: Figure(row["n"], total) for row in answered}


# --- on-time completion 按期办结率 and on-time acceptance 按时签收率 ------------------------

# Withdrawn (reassigned, merged, or ended by the center's approval) while already overdue.
WITHDRAWN_OVERDUE = Q(status=AssignmentStatus.WITHDRAWN, withdrawn_at__gt=F("reply_by"))


class OnTimeRate(Kpi):
    """Assignments replied by their (extended) ``reply_by`` ÷ assignments whose ``reply_by`` falls in the period.

    Open assignments count once their deadline has passed (overdue); one still open with its
    deadline ahead is not decided yet and is left out. An assignment withdrawn after its
    deadline passed counts, late; withdrawn before it, or returned, it is left out.
    Every assignment counts at its own unit: lead, assisting, sub-dispatched and redo alike.
    """

    key, label = "on_time_rate", "按期办结率"

    def parts(self, period: Period, now: datetime) -> Parts:
        replied = Q(status=AssignmentStatus.REPLIED)
        open_overdue = Q(status__in=ACTIVE_ASSIGNMENT_STATUSES, reply_by__lte=now)
        rows = Assignment.objects.filter(**period.range("reply_by")).filter(replied | open_overdue | WITHDRAWN_OVERDUE)
        return Parts(rows, replied & Q(replied_at__lte=F("reply_by")))


class AcceptanceRate(Kpi):
    """Assignments accepted by their ``accept_by`` ÷ assignments whose ``accept_by`` falls in the period.

    Counted: every assignment that was accepted, and those still pending past ``accept_by``.
    Left out: redos (accepted automatically when created), assignments returned or withdrawn
    without being accepted, and pending ones whose ``accept_by`` is still ahead.
    """

    key, label = "acceptance_rate", "按时签收率"

    def parts(self, period: Period, now: datetime) -> Parts:
        rows = Assignment.objects.filter(reopen_of__isnull=True, **period.range("accept_by")).filter(
            Q(accepted_at__isnull=False) | Q(status=AssignmentStatus.PENDING, accept_by__lte=now)
        )
        return Parts(rows, Q(accepted_at__lte=F("accept_by")))


# --- reopen rate 发回重办率 -----------------------------------------------------------

TOP_LEAD = Q(parent__isnull=True, role=AssignmentRole.LEAD)


class ReopenRate(Kpi):
    """Redo assignments created in the period ÷ replies the center reviews, submitted in the period.

    A redo (``reopen_of`` set) is made by a review send-back or a reopen after the revisit,
    always at the ticket's top-level lead unit; so the replies counted are those of top-level
    lead assignments (redos included). Each send-back counts, a ticket sent back twice twice.
    """

    key, label = "reopen_rate", "发回重办率"

    def parts(self, period: Period, now: datetime) -> Parts:
        made = Q(reopen_of__isnull=False, **period.range("dispatched_at"))
        replied = TOP_LEAD & Q(status=AssignmentStatus.REPLIED, **period.range("replied_at"))
        return Parts(Assignment.objects.filter(made | replied), made, replied)


# --- repeat complaint rate 重复投诉率 ---------------------------------------------------


def repeat_q(prefix: str = "") -> Q:
    """The ticket (at ``prefix``) repeats an earlier one, as marked when it was registered
    (hotline.services.repeats: same caller, or same address and topic, within the window),
    or it was merged into another ticket."""
    return Q(**{f"{prefix}merged_into__isnull": False}) | Q(**{f"{prefix}repeat_of__isnull": False})


class RepeatRate(Kpi):
    """Tickets registered in the period that repeat an earlier one ÷ tickets registered in the period.

    Tickets in the recycle bin (discarded) are not tickets. For a unit: tickets whose lead
    assignment (top-level or sub-dispatched) is at the unit; a merged ticket keeps the unit its
    withdrawn lead assignment had. The city counts every ticket, dispatched or not.
    """

    key, label = "repeat_rate", "重复投诉率"
    additive = False  # a ticket counts once in a subtree although both levels hold its lead; the city counts all

    def parts(self, period: Period, now: datetime) -> Parts:
        kept = ~Q(status=AssignmentStatus.WITHDRAWN) | Q(ticket__status=TicketStatus.MERGED)
        rows = (
            Assignment.objects.filter(role=AssignmentRole.LEAD, **period.range("ticket__created_at"))
            .exclude(ticket__status=TicketStatus.DISCARDED)
            .exclude(status=AssignmentStatus.RETURNED)
            .filter(kept)
        )
        return Parts(rows, repeat_q("ticket__"), distinct="ticket_id")

    def city_parts(self, period: Period, now: datetime) -> Parts:
        rows = Ticket.objects.filter(**period.range("created_at")).exclude(status=TicketStatus.DISCARDED)
        return Parts(rows, repeat_q())

    def compute_all(
        self, period: Period, units: list[Unit], now: datetime | None = None
    ) -> dict[int, dict[str, Figure]]:
        """Three cheap grouped scans instead of a subtree regrouping of every lead row.

        Sub-dispatches only go to a level-2 unit's own children and are withdrawn with it, so
        the tickets in a level-2 subtree are exactly those whose top-level lead is at that unit:
        its own and its rolled-up figure are the same count. Level-3 units count their
        sub-dispatched leads; the city counts tickets.
        """
        now = now or timezone.now()
        parts = self.parts(period, now)
        top = Parts(parts.rows.filter(parent__isnull=True), parts.numerator, distinct="ticket_id").grouped(F("unit_id"))
        sub = Parts(parts.rows.filter(parent__isnull=False), parts.numerator, distinct="ticket_id").grouped(
            F("unit_id")
        )
        city = self.city_parts(period, now).figure()
        result = {}
        for unit in units:
            if unit.level == 1:
                mine, rolled = top.get(unit.pk, NO_DATA), city
            elif unit.level == 2:
                mine = rolled = top.get(unit.pk, NO_DATA)
            else:
                mine = rolled = sub.get(unit.pk, NO_DATA)
            result[unit.pk] = {"own": mine, "rollup": rolled}
        return result


def flagged_caller_q(prefix: str = "") -> Q:
    """The ticket's caller was under a flag of the center (恶意来电/缠访) when the ticket was registered:
    set before it, not yet expired, not lifted before it (hotline.services.callers)."""
    registered = OuterRef(f"{prefix}created_at")
    flags = CallerFlag.objects.filter(
        caller_id=OuterRef(f"{prefix}caller_id"), set_at__lte=registered, expires_at__gt=registered
    ).filter(Q(lifted_at__isnull=True) | Q(lifted_at__gt=registered))
    return Q(Exists(flags))


class FlaggedRepeats(RepeatRate):
    """重复投诉 by flagged callers: repeats whose caller was flagged when registering them ÷ all repeats.

    Not a KPI of its own and not taken out of the repeat complaint rate: the same repeats stay in
    it, and this line says how many of them came from callers the center flagged (docs/metrics.md).
    """

    key, label = "flagged_repeats", "其中被标记来电人的重复投诉"

    def parts(self, period: Period, now: datetime) -> Parts:
        rows = super().parts(period, now)
        return Parts(
            rows.rows, repeat_q("ticket__") & flagged_caller_q("ticket__"), repeat_q("ticket__"), rows.distinct
        )

    def city_parts(self, period: Period, now: datetime) -> Parts:
        rows = super().city_parts(period, now)
        return Parts(rows.rows, repeat_q() & flagged_caller_q(), repeat_q())


def flagged_repeats(period: Period, unit: Unit | None = None, *, rollup: bool = True) -> Figure:
    return FlaggedRepeats().compute(period, unit, rollup=rollup)


# --- satisfaction 回访满意率 and rating rate 参评率 --------------------------------------

SATISFIED = (Rating.VERY_SATISFIED, Rating.SATISFIED)


class SatisfactionRate(Kpi):
    """Revisits rated (very) satisfied [+ basically satisfied] ÷ revisits that obtained a rating.

    By ``completed_at``; charged to the lead unit judged (``Revisit.unit``). Ratings taken out
    by a granted appeal (``excluded_from_kpi``) leave both sides.
    """

    key, label = "satisfaction_rate", "回访满意率"

    def parts(self, period: Period, now: datetime) -> Parts:
        good = SATISFIED + ((Rating.BASICALLY_SATISFIED,) if settings.METRICS_BASICALLY_SATISFIED_COUNTS else ())
        rows = Revisit.objects.filter(
            status=RevisitStatus.DONE, excluded_from_kpi=False, **period.range("completed_at")
        ).exclude(rating=Rating.NONE)
        return Parts(rows, Q(rating__in=good))


class RatingRate(Kpi):
    """参评率: revisits that obtained a rating ÷ revisits finished (done or unreachable), by ``completed_at``.

    A granted appeal removes a rating from satisfaction, not the fact that one was given: it stays here.
    """

    key, label = "rating_rate", "参评率"

    def parts(self, period: Period, now: datetime) -> Parts:
        finished = (RevisitStatus.DONE, RevisitStatus.UNREACHABLE)
        rows = Revisit.objects.filter(status__in=finished, **period.range("completed_at"))
        return Parts(rows, Q(status=RevisitStatus.DONE) & ~Q(rating=Rating.NONE))


# --- indicators of the evaluation schemes (metrics.scores) ---------------------------------


class ResponseRate(Kpi):
    """响应率: lead replies in which the unit says it contacted the caller ÷ lead replies, by ``replied_at``.

    Lead assignments (top-level or sub-dispatched, redos included) replied in the period; an
    assisting unit answers the lead, not the caller, and is left out.
    """

    key, label = "response_rate", "响应率"

    def parts(self, period: Period, now: datetime) -> Parts:
        rows = Assignment.objects.filter(
            role=AssignmentRole.LEAD, status=AssignmentStatus.REPLIED, **period.range("replied_at")
        )
        return Parts(rows, Q(contacted_caller=True))


def _judged_revisits(period: Period) -> QuerySet:
    return Revisit.objects.filter(status=RevisitStatus.DONE, excluded_from_kpi=False, **period.range("completed_at"))


class SolvedRate(Kpi):
    """解决率: revisits in which the caller said the problem was solved ÷ revisits that asked (``solved`` set).

    By ``completed_at``, charged to the lead unit judged; a granted appeal (``excluded_from_kpi``) takes it out.
    """

    key, label = "solved_rate", "解决率"

    def parts(self, period: Period, now: datetime) -> Parts:
        return Parts(_judged_revisits(period).filter(solved__isnull=False), Q(solved=True))


class SatisfiedRate(Kpi):
    """满意率's counts: revisits rated very satisfied, satisfied or basically satisfied ÷ revisits with a rating.

    A scheme weighs the basically satisfied ones (``BasicallySatisfied``) with its own factor.
    """

    key, label = "satisfied_rate", "满意率"

    def parts(self, period: Period, now: datetime) -> Parts:
        good = (*SATISFIED, Rating.BASICALLY_SATISFIED)
        return Parts(_judged_revisits(period).exclude(rating=Rating.NONE), Q(rating__in=good))


class BasicallySatisfied(SatisfiedRate):
    key, label = "basically_satisfied", "基本满意"

    def parts(self, period: Period, now: datetime) -> Parts:
        rated = super().parts(period, now)
        return Parts(rated.rows, Q(rating=Rating.BASICALLY_SATISFIED))


class DisputesAgainst(Kpi):
    """Disputes decided in the period (``decided_at``) where the dispatch stands (the unit's objection failed).

    Charged to the disputing assignment's unit; the numerator is the count a deduction uses.
    """

    key, label = "dispute_rejected", "异议不成立"
    unit_field = "assignment__unit"

    def parts(self, period: Period, now: datetime) -> Parts:
        rows = Dispute.objects.filter(**period.range("decided_at")).exclude(status=DisputeStatus.PENDING)
        return Parts(rows, Q(status=DisputeStatus.DISPATCH_STANDS))


def scoring_definitions() -> dict[str, Kpi]:
    """The counts the evaluation schemes use besides the five KPIs (not shown as KPIs themselves)."""
    kpis: list[Kpi] = [ResponseRate(), SolvedRate(), SatisfiedRate(), BasicallySatisfied(), DisputesAgainst()]
    return {k.key: k for k in kpis}


# --- the set -----------------------------------------------------------------------------

FIVE = ("answer_rate", "on_time_rate", "satisfaction_rate", "reopen_rate", "repeat_rate")


def definitions(short_abandon_seconds: int | None = None) -> dict[str, Kpi]:
    """Fresh KPI objects (settings are read now), the five of DESIGN §8 first."""
    kpis: list[Kpi] = [
        AnswerRate(short_abandon_seconds),
        OnTimeRate(),
        SatisfactionRate(),
        ReopenRate(),
        RepeatRate(),
        AcceptanceRate(),
        RatingRate(),
    ]
    return {k.key: k for k in kpis}


def answer_rate(period: Period, *, short_abandon_seconds: int | None = None) -> Figure:
    return AnswerRate(short_abandon_seconds).compute(period)


def on_time_rate(period: Period, unit: Unit | None = None, *, rollup: bool = True, now: datetime | None = None):
    return OnTimeRate().compute(period, unit, rollup=rollup, now=now)


def acceptance_rate(period: Period, unit: Unit | None = None, *, rollup: bool = True, now: datetime | None = None):
    return AcceptanceRate().compute(period, unit, rollup=rollup, now=now)


def satisfaction_rate(period: Period, unit: Unit | None = None, *, rollup: bool = True) -> Figure:
    return SatisfactionRate().compute(period, unit, rollup=rollup)


def rating_rate(period: Period, unit: Unit | None = None, *, rollup: bool = True) -> Figure:
    return RatingRate().compute(period, unit, rollup=rollup)


def reopen_rate(period: Period, unit: Unit | None = None, *, rollup: bool = True) -> Figure:
    return ReopenRate().compute(period, unit, rollup=rollup)


def repeat_rate(period: Period, unit: Unit | None = None, *, rollup: bool = True) -> Figure:
    return RepeatRate().compute(period, unit, rollup=rollup)


def compute_kpis(
    period: Period,
    unit: Unit | None = None,
    *,
    rollup: bool = True,
    now: datetime | None = None,
    short_abandon_seconds: int | None = None,
) -> dict[str, Figure]:
    """Every KPI of one unit (or the city), keyed as in ``definitions``."""
    now = now or timezone.now()
    return {
        key: kpi.compute(period, unit, rollup=rollup, now=now)
        for key, kpi in definitions(short_abandon_seconds).items()
    }


def kpis_for_all_units(
    period: Period, *, now: datetime | None = None, short_abandon_seconds: int | None = None
) -> list[dict[str, Any]]:
    """Every active unit's KPIs, own and rolled up, from a fixed number of grouped queries (rankings)."""
    now = now or timezone.now()
    units = list(Unit.objects.filter(is_active=True).order_by("level", "code"))
    per_kpi = {key: kpi.compute_all(period, units, now) for key, kpi in definitions(short_abandon_seconds).items()}
    return [
        {
            "unit": unit,
            "own": {key: figures[unit.pk]["own"] for key, figures in per_kpi.items()},
            "rollup": {key: figures[unit.pk]["rollup"] for key, figures in per_kpi.items()},
        }
        for unit in units
    ]
