"""Weekly, monthly, quarterly and annual KPI reports as Excel workbooks (openpyxl).

Sheets: the KPIs of the city and of every unit (rolled up), one ranking per evaluation scheme
valid in the period (score, parts, deductions, rank within the kind of unit, and the change from the
previous period), the overdue list, and the hot topics. Text that came from people (ticket titles,
unit and topic names) is written as a string cell, never as a formula: a title "=HYPERLINK(...)"
stays text (formula injection).

``run_due_reports(now)`` is the step the job system calls: it writes each finished period's
report once into ``METRICS_REPORT_DIR`` (nothing when that setting is empty).
"""

from __future__ import annotations

import os
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Count, F, Q
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import Cell
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from hotline.models import Assignment, AssignmentStatus, Ticket, TicketStatus, Unit
from metrics import kpis, scores
from metrics.kpis import WITHDRAWN_OVERDUE, Figure
from metrics.periods import Period, local_tz

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
REPORT_KINDS = ("week", "month", "quarter", "year")
KPI_COLUMNS = (*kpis.FIVE, "acceptance_rate", "rating_rate")
HOT_TOPICS = 20


def put(ws: Worksheet, row: int, column: int, value: Any) -> Cell:
    """Write one cell; strings are always stored as text, whatever they start with."""
    cell = ws.cell(row=row, column=column)
    if isinstance(value, datetime):
        value = timezone.localtime(value, local_tz()).replace(tzinfo=None)
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"  # openpyxl would otherwise store "=..." as a formula
        if value.startswith(FORMULA_PREFIXES):
            cell.quotePrefix = True  # and Excel shows it as text even after an edit
    return cell


def header(ws: Worksheet, titles: list[str]) -> None:
    for column, title in enumerate(titles, start=1):
        put(ws, 1, column, title).font = Font(bold=True)
    ws.freeze_panes = "A2"


def _kpi_cells(ws: Worksheet, row: int, start: int, figures: dict[str, Figure]) -> None:
    column = start
    for key in KPI_COLUMNS:
        figure = figures[key]
        cell = put(ws, row, column, figure.value)
        cell.number_format = "0.00%"
        put(ws, row, column + 1, figure.numerator)
        put(ws, row, column + 2, figure.denominator)
        column += 3


def build_report(period: Period, now: datetime | None = None) -> Workbook:
    now = now or timezone.now()
    definitions = kpis.definitions()
    wb = Workbook()
    ws = wb.active
    ws.title = "KPIs"
    titles = ["单位代码", "单位", "级别"]
    for key in KPI_COLUMNS:
        titles += [f"{definitions[key].label}", "分子", "分母"]
    header(ws, titles)
    put(ws, 2, 1, "")
    put(ws, 2, 2, f"全市 {period}")
    put(ws, 2, 3, 0)
    _kpi_cells(ws, 2, 4, kpis.compute_kpis(period, None, now=now))
    for row, entry in enumerate(kpis.kpis_for_all_units(period, now=now), start=3):
        unit = entry["unit"]
        put(ws, row, 1, unit.code)
        put(ws, row, 2, unit.name)
        put(ws, row, 3, unit.level)
        _kpi_cells(ws, row, 4, entry["rollup"])
    for scheme in scores.valid_schemes(period):
        _scores_sheet(wb.create_sheet(f"考评-{scheme.code}"[:31]), scheme, period, now)
    _overdue_sheet(wb.create_sheet("超期"), period, now)
    _topics_sheet(wb.create_sheet("热点"), period)
    _flagged_sheet(wb.create_sheet("标记来电人"), period, now)
    return wb


def _scores_sheet(ws: Worksheet, scheme, period: Period, now: datetime) -> None:
    """One scheme's ranking: by kind of unit, then rank; the parts and deductions of every score beside it."""
    ranked = scores.scores_with_change(scheme, period, now=now)
    previous = scores.previous_period(period)
    titles = ["类别", "排名", "单位代码", "单位", "得分", f"上期得分（{previous}）", "变化", "上期排名"]
    indicators = list(scheme.indicators.all())
    deductions = list(scheme.deductions.all())
    for si in indicators:
        titles += [si.get_indicator_display(), "分子", "分母", f"权重 {si.weight:g}", "得分"]
    for rule in deductions:
        titles += [f"{rule.get_rule_display()}（次）", "扣分"]
    header(ws, titles)
    for row, score in enumerate(ranked, start=2):
        values = [
            score.unit.get_kind_display(),
            score.rank,
            score.unit.code,
            score.unit.name,
            score.score,
            score.previous,
            score.change,
            score.previous_rank,
        ]
        for part in score.parts:
            values += [part.value, part.figure.numerator, part.figure.denominator, part.weight, part.contribution]
        for cut in score.deductions:
            values += [cut.count, cut.points]
        for column, value in enumerate(values, start=1):
            cell = put(ws, row, column, value)
            if column > 8 and (column - 9) % 5 == 0 and column < 9 + 5 * len(indicators):
                cell.number_format = "0.00%"
    put(ws, len(ranked) + 3, 1, f"{scheme}: {scheme.basis}")


def overdue_assignments(period: Period, now: datetime):
    """Assignments due in the period replied late, withdrawn overdue, or still open past their deadline."""
    late = Q(status=AssignmentStatus.REPLIED, replied_at__gt=F("reply_by"))
    still_open = Q(status__in=(AssignmentStatus.PENDING, AssignmentStatus.ACCEPTED), reply_by__lte=now)
    return (
        Assignment.objects.filter(**period.range("reply_by"))
        .filter(late | still_open | WITHDRAWN_OVERDUE)
        .select_related("ticket", "unit")
        .order_by("unit__code", "reply_by")
    )


def _overdue_sheet(ws: Worksheet, period: Period, now: datetime) -> None:
    header(ws, ["工单编号", "标题", "承办单位", "角色", "办理时限", "答复时间", "超期（小时）"])
    for row, a in enumerate(overdue_assignments(period, now), start=2):
        until = a.replied_at or a.withdrawn_at or now
        put(ws, row, 1, a.ticket.number)
        put(ws, row, 2, a.ticket.title)
        put(ws, row, 3, a.unit.name)
        put(ws, row, 4, a.get_role_display() + ("（二次派单）" if a.parent_id else ""))
        put(ws, row, 5, a.reply_by).number_format = "yyyy-mm-dd hh:mm"
        if a.replied_at:
            put(ws, row, 6, a.replied_at).number_format = "yyyy-mm-dd hh:mm"
        put(ws, row, 7, round((until - a.reply_by).total_seconds() / 3600, 1))


def _flagged_sheet(ws: Worksheet, period: Period, now: datetime) -> None:
    """恶意来电/缠访: the repeats of callers under a flag of the center, city and units, a line of their
    own beside the repeat complaint rate (which still counts them)."""
    kpi = kpis.FlaggedRepeats()
    header(ws, ["单位代码", "单位", kpi.label, "重复投诉"])
    city = kpi.compute(period, None, now=now)
    for column, value in enumerate(["", f"全市 {period}", city.numerator, city.denominator], start=1):
        put(ws, 2, column, value)
    units = list(Unit.objects.filter(is_active=True).order_by("level", "code"))
    figures = kpi.compute_all(period, units, now)
    for row, unit in enumerate(units, start=3):
        figure = figures[unit.pk]["rollup"]
        for column, value in enumerate([unit.code, unit.name, figure.numerator, figure.denominator], start=1):
            put(ws, row, column, value)


def hot_topics(period: Period, limit: int = HOT_TOPICS) -> list[dict[str, Any]]:
    """Topics with the most tickets registered in the period, and how many of those were repeats."""
    rows = (
        Ticket.objects.filter(**period.range("created_at"), topic__isnull=False)
        .exclude(status=TicketStatus.DISCARDED)
        .values("topic__code", "topic__name", "topic__parent__name")
        .annotate(tickets=Count("pk"), repeats=Count("pk", filter=kpis.repeat_q()))
        .order_by("-tickets", "topic__code")[:limit]
    )
    return list(rows)


def _topics_sheet(ws: Worksheet, period: Period) -> None:
    header(ws, ["排名", "类别", "诉求事项", "工单数", "其中重复"])
    for row, entry in enumerate(hot_topics(period), start=2):
        put(ws, row, 1, row - 1)
        put(ws, row, 2, entry["topic__parent__name"] or "")
        put(ws, row, 3, entry["topic__name"])
        put(ws, row, 4, entry["tickets"])
        put(ws, row, 5, entry["repeats"])


def write_report(period: Period, path: Path | str, now: datetime | None = None) -> Path:
    """Build the report and write it atomically (a reader never sees half a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = build_report(period, now)
    fd, tmp = tempfile.mkstemp(suffix=".xlsx", dir=path.parent)
    os.close(fd)
    try:
        wb.save(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def report_name(period: Period) -> str:
    return f"kpi-{period.kind}-{period.first:%Y%m%d}.xlsx"


def run_due_reports(now: datetime | None = None, out_dir: Path | str | None = None) -> int:
    """Job step: write the report of the last finished week, month, quarter and year, if not written yet."""
    out_dir = out_dir or settings.METRICS_REPORT_DIR
    if not out_dir:
        return 0
    now = now or timezone.now()
    today = timezone.localtime(now, local_tz()).date()
    written = 0
    for kind in REPORT_KINDS:
        period = Period.of(kind, Period.of(kind, today).first - timedelta(days=1))
        path = Path(out_dir) / report_name(period)
        if not path.exists():
            write_report(period, path, now)
            written += 1
    return written
