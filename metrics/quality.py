"""工单质检: sampling agents' registrations and units' replies, scoring them on a checklist, the results.

- ``sample(period)`` picks, for one period, a random share of each agent's registrations and of
  each unit's replies (``QUALITY_SAMPLE_PERCENT``, at least one each, from a seeded generator
  whose seed the round keeps), plus every reply a rule flags: short, "solved" without substance,
  redone (reopened or sent back), rated unsatisfied or unsolved by the caller. One check per item,
  with every reason it was picked. ``run_quality_sampling`` is the job step: the last finished
  period, once.
- ``score_check`` is one checker's scoring of one check: one transaction, checked once, audited.
- ``results`` and ``build_workbook`` are what the dashboard, the quality page and the Excel
  export show: per agent and per unit, the checks scored in a period.

docs/quality.md has the rules, the score and the roles.
"""

from __future__ import annotations

import math
import random
import re
import secrets
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Avg, Count, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from callback.models import UNSATISFIED_RATINGS, Revisit, RevisitStatus
from hotline import audit
from hotline.access import is_quality_checker
from hotline.errors import Conflict, InvalidInput, NotAllowed
from hotline.models import Assignment, AuditAction, Ticket, Unit, User
from hotline.services.common import clean_text
from metrics.models import (
    ChecklistItem,
    CheckReason,
    CheckScore,
    CheckStatus,
    CheckTarget,
    QualityCheck,
    QualityRound,
)
from metrics.periods import Period, local_tz
from metrics.reports import header, put

SAMPLE_KINDS = ("week", "month")
COMMENT_CHARS, NOTE_CHARS = 2000, 500
# A reply that says it is solved (已解决/已办结…) must say how: these words and the stock phrases
# of thanks and formality around them are not substance.
SOLVED_WORDS = ("已解决", "已办结", "已处理完毕", "已处理", "已完成", "已落实", "办结", "解决")
STOCK_PHRASES = (
    "经核实",
    "经查",
    "该问题",
    "此问题",
    "问题",
    "感谢",
    "谢谢",
    "您的",
    "市民",
    "来电人",
    "反映",
    "监督",
    "理解",
    "支持",
    "配合",
    "关心",
    "此事",
    "该事项",
    "已经",
)
_SOLVED = re.compile("|".join(map(re.escape, SOLVED_WORDS)))
_NOT_SUBSTANCE = re.compile("|".join(map(re.escape, sorted(SOLVED_WORDS + STOCK_PHRASES, key=len, reverse=True))))
_NOT_WORD = re.compile(r"[\W_]+")
# The order reasons are listed in, on a check and on the page.
REASON_ORDER = [reason.value for reason in CheckReason]


# --- the rules -------------------------------------------------------------------------------------


def meaningful_length(text: str) -> int:
    """Characters that carry words: letters, digits, Chinese; punctuation and spaces not counted."""
    return len(_NOT_WORD.sub("", text or ""))


def is_short(text: str, chars: int) -> bool:
    return meaningful_length(text) < chars


def says_solved_without_substance(text: str, chars: int) -> bool:
    """It says 已解决/已办结 (or the like), and with that and the stock phrases taken out little is left."""
    if not _SOLVED.search(text or ""):
        return False
    return meaningful_length(_NOT_SUBSTANCE.sub("", text)) < chars


# --- sampling --------------------------------------------------------------------------------------


def sample_size(count: int, percent: int) -> int:
    """The random share of ``count`` items: ``percent`` rounded up, at least one when there is any."""
    if count <= 0 or percent <= 0:
        return 0
    return min(count, max(1, math.ceil(count * percent / 100)))


def _random_picks(groups: Mapping[int, list[int]], percent: int, rng: random.Random) -> list[int]:
    """From each group (by owner id, in id order) its share, drawn by ``rng``: the same seed, the same picks."""
    picked: list[int] = []
    for owner in sorted(groups):
        pks = sorted(groups[owner])
        picked += sorted(rng.sample(pks, sample_size(len(pks), percent)))
    return picked


def _flagged_replies(period: Period, replies: QuerySet, chars: int) -> dict[int, set[str]]:
    """Replies a rule flags, with the rules: by their text (replied in the period), by what happened
    to them in the period (redone; rated unsatisfied or unsolved at the revisit)."""
    flags: dict[int, set[str]] = defaultdict(set)
    for pk, text in replies.values_list("pk", "reply_text"):
        if is_short(text, chars):
            flags[pk].add(CheckReason.SHORT_REPLY)
        if says_solved_without_substance(text, chars):
            flags[pk].add(CheckReason.EMPTY_SOLVED)
    redone = Assignment.objects.filter(**period.range("dispatched_at"), reopen_of__replied_at__isnull=False)
    for pk in redone.values_list("reopen_of_id", flat=True):
        flags[pk].add(CheckReason.REOPENED)
    unhappy = (
        Revisit.objects.filter(**period.range("completed_at"), status=RevisitStatus.DONE)
        .filter(assignment__replied_at__isnull=False)
        .exclude(excluded_from_kpi=True)
    )
    for pk, rating, solved in unhappy.values_list("assignment_id", "rating", "solved"):
        if rating in UNSATISFIED_RATINGS or solved is False:
            flags[pk].add(CheckReason.DISSATISFIED)
    return flags


def _ordered(reasons: Iterable[str]) -> list[str]:
    return sorted(set(reasons), key=REASON_ORDER.index)


@transaction.atomic
def sample(
    period: Period,
    *,
    seed: int | None = None,
    percent: int | None = None,
    short_reply_chars: int | None = None,
    now: datetime | None = None,
) -> QualityRound:
    """Pick the period's checks (one round per period: a second one is ``Conflict``).

    Random: each agent's registrations (tickets they registered in the period) and each unit's
    replies (submitted in the period). Rules, on replies: short, solved without substance, redone
    in the period, unsatisfied or unsolved at a revisit done in the period. An item already checked
    (an earlier round picked it) is not picked again.
    """
    percent = settings.QUALITY_SAMPLE_PERCENT if percent is None else percent
    chars = settings.QUALITY_SHORT_REPLY_CHARS if short_reply_chars is None else short_reply_chars
    seed = secrets.randbits(62) if seed is None else seed
    if QualityRound.objects.filter(kind=period.kind, first=period.first).exists():
        raise Conflict(_("this period has been sampled already"))
    rnd = QualityRound.objects.create(
        kind=period.kind,
        first=period.first,
        last=period.last,
        seed=seed,
        percent=percent,
        short_reply_chars=chars,
        created_at=now or timezone.now(),
    )
    rng = random.Random(seed)

    registrations = Ticket.objects.filter(**period.range("created_at"), created_by__isnull=False)
    by_agent: dict[int, list[int]] = defaultdict(list)
    for pk, agent in registrations.values_list("pk", "created_by_id"):
        by_agent[agent].append(pk)
    picked_tickets = set(_random_picks(by_agent, percent, rng))
    done_tickets = set(
        QualityCheck.objects.filter(target=CheckTarget.REGISTRATION, ticket_id__in=picked_tickets).values_list(
            "ticket_id", flat=True
        )
    )
    tickets = Ticket.objects.in_bulk(picked_tickets - done_tickets)
    checks = [
        QualityCheck(
            round=rnd,
            target=CheckTarget.REGISTRATION,
            ticket_id=pk,
            agent_id=tickets[pk].created_by_id,
            reasons=[CheckReason.RANDOM.value],
        )
        for pk in sorted(tickets)
    ]

    replies = Assignment.objects.filter(**period.range("replied_at"))
    by_unit: dict[int, list[int]] = defaultdict(list)
    for pk, unit in replies.values_list("pk", "unit_id"):
        by_unit[unit].append(pk)
    reasons: dict[int, set[str]] = _flagged_replies(period, replies, chars)
    for pk in _random_picks(by_unit, percent, rng):
        reasons[pk].add(CheckReason.RANDOM)
    done_replies = set(
        QualityCheck.objects.filter(target=CheckTarget.REPLY, assignment_id__in=list(reasons)).values_list(
            "assignment_id", flat=True
        )
    )
    parts = Assignment.objects.in_bulk([pk for pk in reasons if pk not in done_replies])
    checks += [
        QualityCheck(
            round=rnd,
            target=CheckTarget.REPLY,
            ticket_id=parts[pk].ticket_id,
            assignment_id=pk,
            unit_id=parts[pk].unit_id,
            reasons=[str(r) for r in _ordered(reasons[pk])],
        )
        for pk in sorted(parts)
    ]
    # A concurrent round (the job step beside this command) may have picked one of them meanwhile: the
    # unique constraints keep one check per item, and this round leaves that one alone.
    QualityCheck.objects.bulk_create(checks, ignore_conflicts=True)
    return rnd


def last_finished(kind: str, now: datetime) -> Period:
    today = timezone.localtime(now, local_tz()).date()
    return Period.of(kind, Period.of(kind, today).first - timedelta(days=1))


def run_quality_sampling(now: datetime | None = None) -> int:
    """Job step: sample the last finished period once; returns the number of checks it made."""
    kind = settings.QUALITY_SAMPLE_PERIOD
    if kind not in SAMPLE_KINDS:
        raise ValueError(f"QUALITY_SAMPLE_PERIOD must be one of {', '.join(SAMPLE_KINDS)}, not {kind!r}")
    now = now or timezone.now()
    period = last_finished(kind, now)
    if QualityRound.objects.filter(kind=kind, first=period.first).exists():
        return 0
    try:
        rnd = sample(period, now=now)
    except (Conflict, IntegrityError):  # another worker sampled it first
        return 0
    return rnd.checks.count()


# --- scoring ---------------------------------------------------------------------------------------


def checklist(target: str) -> list[ChecklistItem]:
    return list(ChecklistItem.objects.filter(target=target, is_active=True))


def is_own_work(check: QualityCheck, user: User) -> bool:
    """The checker registered the ticket, or wrote or belongs to the unit of the reply."""
    if check.target == CheckTarget.REGISTRATION:
        return check.agent_id == user.pk or check.ticket.created_by_id == user.pk
    reply = check.assignment
    return reply.replied_by_id == user.pk or (user.unit_id is not None and user.unit_id == check.unit_id)


def _two(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def weighted_score(scored: Iterable[tuple[int, int, Decimal]]) -> Decimal:
    """100 × Σ weight × score ÷ highest ÷ Σ weight, over the items scored: (score, highest, weight)."""
    scored = list(scored)
    total = sum((w for _s, _m, w in scored), Decimal(0))
    points = sum((w * Decimal(s) / Decimal(m) for s, m, w in scored), Decimal(0))
    return _two(Decimal(100) * points / total)


def score_check(
    check_id: int, by: User, scores: Mapping[int, int | None], *, notes: Mapping[int, str] | None = None, comment=""
) -> QualityCheck:
    """Score one check on its checklist (``scores``: item id → score, None for an optional item left out).

    One transaction: the check is locked, refused if already scored (``Conflict``), if it is the
    checker's own work or the user is no checker (``NotAllowed``), if a score is outside its
    item's range, names an item not on the checklist or a required item has none
    (``InvalidInput``); then the item scores, the result and an audit entry are written together.
    """
    comment = clean_text(comment, "comment", max_chars=COMMENT_CHARS, required=False)
    notes = {
        pk: clean_text(note, "comment", max_chars=NOTE_CHARS, required=False) for pk, note in (notes or {}).items()
    }
    if not is_quality_checker(by):
        raise NotAllowed(_("only a quality checker scores checks"))
    with transaction.atomic():
        check = (
            QualityCheck.objects.select_for_update(of=("self",)).select_related("ticket", "assignment").get(pk=check_id)
        )
        if check.status == CheckStatus.DONE:
            raise Conflict(_("this check has already been scored"))
        if is_own_work(check, by):
            raise NotAllowed(_("you cannot check your own work"))
        items = checklist(check.target)
        known = {item.pk for item in items}
        unknown = [pk for pk in scores if pk not in known]
        if unknown:
            raise InvalidInput(_("these items are not on the checklist: %(items)s") % {"items": unknown})
        rows, missing = [], []
        for item in items:
            value = scores.get(item.pk)
            if value is None:
                if item.required:
                    missing.append(item.name)
                continue
            if not 0 <= value <= item.max_score:
                raise InvalidInput(
                    _("%(item)s: the score must be between 0 and %(max)s") % {"item": item.name, "max": item.max_score}
                )
            rows.append(
                CheckScore(
                    quality_check=check,
                    item=item,
                    score=value,
                    max_score=item.max_score,
                    weight=item.weight,
                    passed=value >= item.pass_score,
                    comment=notes.get(item.pk, ""),
                )
            )
        if missing:
            raise InvalidInput(_("score every required item: %(items)s") % {"items": "、".join(missing)})
        if not rows:
            raise InvalidInput(_("score at least one item"))
        CheckScore.objects.bulk_create(rows)
        check.score = weighted_score((r.score, r.max_score, r.weight) for r in rows)
        check.failed_items = sum(not r.passed for r in rows)
        check.status, check.checker, check.checked_at = CheckStatus.DONE, by, timezone.now()
        check.comment = comment
        check.save(update_fields=["score", "failed_items", "status", "checker", "checked_at", "comment"])
        audit.record(
            AuditAction.QUALITY_CHECKED,
            user=by,
            reason="quality check",
            subjects=[(check.ticket_id, "")],
            data={"check": check.pk, "target": check.target, "score": str(check.score), "failed": check.failed_items},
        )
    return check


# --- results ---------------------------------------------------------------------------------------


@dataclass
class Result:
    """The checks of one agent or one unit scored in a period."""

    who: Any  # a User or a Unit
    checks: int
    average: Decimal | None
    failed_items: int
    failed: list[tuple[str, int]] = field(default_factory=list)  # item name, times failed, most first

    @property
    def name(self) -> str:
        return display_name(self.who)


def display_name(who: Any) -> str:
    if isinstance(who, Unit):
        return who.name
    return who.get_full_name() or who.username


def done_checks(period: Period) -> QuerySet[QualityCheck]:
    return QualityCheck.objects.filter(status=CheckStatus.DONE, **period.range("checked_at"))


def results(
    period: Period, target: str, *, units: Iterable[int] | None = None, agent: int | None = None
) -> list[Result]:
    """Per agent (registrations) or per unit (replies): checks, average score, failed items and which.

    ``units`` narrows replies to those units, ``agent`` registrations to that agent. Three queries.
    """
    owner = "agent" if target == CheckTarget.REGISTRATION else "unit"
    checks = done_checks(period).filter(target=target)
    if units is not None:
        checks = checks.filter(unit_id__in=list(units))
    if agent is not None:
        checks = checks.filter(agent_id=agent)
    rows = list(
        checks.values(f"{owner}_id")
        .annotate(n=Count("pk"), avg=Avg("score"), failed=Sum("failed_items"))
        .order_by(f"{owner}_id")
    )
    failed: dict[int, list[tuple[str, int]]] = defaultdict(list)
    misses = (
        CheckScore.objects.filter(quality_check__in=checks, passed=False)
        .values(f"quality_check__{owner}_id", "item__name")
        .annotate(n=Count("pk"))
        .order_by(f"quality_check__{owner}_id", "-n", "item__name")
    )
    for miss in misses:
        failed[miss[f"quality_check__{owner}_id"]].append((miss["item__name"], miss["n"]))
    model = User if owner == "agent" else Unit
    whom = model.objects.in_bulk([row[f"{owner}_id"] for row in rows])
    out = [
        Result(
            who=whom[row[f"{owner}_id"]],
            checks=row["n"],
            average=None if row["avg"] is None else _two(Decimal(row["avg"])),
            failed_items=row["failed"] or 0,
            failed=failed[row[f"{owner}_id"]],
        )
        for row in rows
    ]
    return sorted(out, key=lambda r: (r.average is None, r.average or 0, r.name))


# --- Excel -----------------------------------------------------------------------------------------


def build_workbook(period: Period) -> Workbook:
    """Per agent, per unit, and every check scored in the period with its item scores (the report writer's cells)."""
    wb = Workbook()
    ws = wb.active
    ws.title = "坐席登记"
    _results_sheet(ws, results(period, CheckTarget.REGISTRATION), "坐席")
    _results_sheet(wb.create_sheet("单位答复"), results(period, CheckTarget.REPLY), "单位")
    _checks_sheet(wb.create_sheet("明细"), period)
    return wb


def _results_sheet(ws, rows: list[Result], who: str) -> None:
    header(ws, [who, "质检数", "平均分", "不合格项数", "不合格项（次）"])
    for n, result in enumerate(rows, start=2):
        put(ws, n, 1, result.name)
        put(ws, n, 2, result.checks)
        put(ws, n, 3, None if result.average is None else float(result.average))
        put(ws, n, 4, result.failed_items)
        put(ws, n, 5, "；".join(f"{name}（{count}）" for name, count in result.failed))


def _checks_sheet(ws, period: Period) -> None:
    header(ws, ["工单编号", "质检对象", "坐席/单位", "抽取原因", "质检员", "质检时间", "得分", "不合格项", "评语"])
    checks = done_checks(period).select_related("ticket", "agent", "unit", "checker").order_by("checked_at", "pk")
    failed: dict[int, list[str]] = defaultdict(list)
    for check_id, name in CheckScore.objects.filter(quality_check__in=checks, passed=False).values_list(
        "quality_check_id", "item__name"
    ):
        failed[check_id].append(name)
    for n, check in enumerate(checks, start=2):
        put(ws, n, 1, check.ticket.number)
        put(ws, n, 2, check.get_target_display())
        put(ws, n, 3, display_name(check.agent or check.unit))
        put(ws, n, 4, "、".join(check.reason_labels()))
        put(ws, n, 5, display_name(check.checker))
        put(ws, n, 6, check.checked_at).number_format = "yyyy-mm-dd hh:mm"
        put(ws, n, 7, float(check.score))
        put(ws, n, 8, "、".join(failed[check.pk]))
        put(ws, n, 9, check.comment)


def workbook_name(period: Period) -> str:
    return f"quality-{period.first:%Y%m%d}-{period.last:%Y%m%d}.xlsx"
