"""The report workbook, read back with openpyxl."""

from __future__ import annotations

import zipfile
from datetime import datetime

import pytest
from django.core.management import call_command
from django.test import override_settings
from openpyxl import load_workbook

from hotline.models import Ticket
from metrics.reports import run_due_reports

from .conftest import NOW, SH, dispatched

pytestmark = pytest.mark.django_db

NASTY = ['=HYPERLINK("http://evil","x")', "+1+1", "-2+3", "@SUM(A1)"]


def test_monthly_report_has_kpis_overdue_and_hot_topics(november, tmp_path, capsys):
    out = tmp_path / "nov.xlsx"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("django.utils.timezone.now", lambda: NOW)
        call_command("kpi_report", "--period", "month", "--date", "2026-11-05", "--out", str(out))
    wb = load_workbook(out)
    assert wb.sheetnames == ["KPIs", "考评-jiesu-jiban", "考评-xiangtan-five", "超期", "热点", "标记来电人"]
    kpi = wb["KPIs"]
    header = [c.value for c in kpi[1]]
    assert header[:6] == ["单位代码", "单位", "级别", "来电接听率", "分子", "分母"]
    city = [c.value for c in kpi[2]]
    on_time = header.index("按期办结率")
    assert city[on_time : on_time + 3] == [0.5, 3, 6]
    yh = next(row for row in kpi.iter_rows(values_only=True) if row[0] == "YH")
    assert yh[on_time : on_time + 3] == (0.5, 3, 6)
    zjj = next(row for row in kpi.iter_rows(values_only=True) if row[0] == "ZJJ")
    assert zjj[on_time : on_time + 3] == (None, 0, 0)  # no data is an empty cell, not 0 %
    overdue = list(wb["超期"].iter_rows(min_row=2, values_only=True))
    # T2 (one minute late), T4 and its sub-dispatch (still open).
    assert sorted(r[0] for r in overdue) == sorted(
        Ticket.objects.get(pk=november.tickets[k].pk).number for k in ("t2", "t4", "t4")
    )
    late = next(r for r in overdue if r[5] is not None)
    assert late[6] == pytest.approx(1 / 60, abs=0.05)
    topics = list(wb["热点"].iter_rows(min_row=2, values_only=True))
    assert topics[0][2:] == ("噪音扰民", 7, 2)  # T1–T4, R1–R3; T3 and R3 repeat
    flagged = list(wb["标记来电人"].iter_rows(values_only=True))
    assert flagged[0] == ("单位代码", "单位", "其中被标记来电人的重复投诉", "重复投诉")
    repeats = header.index("重复投诉率")
    # Nobody was flagged: none of the city's repeats (the repeat rate's numerator) is a flagged caller's.
    assert flagged[1][2:] == (0, city[repeats + 1]) and city[repeats + 1] > 0


def test_text_from_people_is_never_a_formula(seeded, agent, yuhu, tmp_path):
    for index, text in enumerate(NASTY):
        ticket, _ = dispatched(agent, yuhu, datetime(2026, 11, 2, 9, index, tzinfo=SH), f"1370000000{index}", text)
        Ticket.objects.filter(pk=ticket.pk).update(title=text)
    out = tmp_path / "nasty.xlsx"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("django.utils.timezone.now", lambda: NOW)
        call_command("kpi_report", "--period", "month", "--date", "2026-11-05", "--out", str(out))
    sheet = load_workbook(out)["超期"]
    titles = {row[1].value: row[1] for row in sheet.iter_rows(min_row=2)}
    assert set(titles) == set(NASTY)
    for cell in titles.values():
        assert cell.data_type == "s"
        assert cell.quotePrefix
    with zipfile.ZipFile(out) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in z.read(name), name


def test_run_due_reports_writes_each_finished_period_once(seeded, tmp_path):
    now = datetime(2027, 1, 1, 2, 0, tzinfo=SH)
    assert run_due_reports(now, tmp_path) == 4  # the week of 21 Dec, December, Q4, 2026
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "kpi-month-20261201.xlsx",
        "kpi-quarter-20261001.xlsx",
        "kpi-week-20261221.xlsx",
        "kpi-year-20260101.xlsx",
    ]
    assert run_due_reports(now, tmp_path) == 0


@override_settings(METRICS_REPORT_DIR="")
def test_run_due_reports_does_nothing_without_a_report_directory(seeded):
    assert run_due_reports(datetime(2027, 1, 1, 2, 0, tzinfo=SH)) == 0
