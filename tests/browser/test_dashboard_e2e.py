"""The KPI dashboard end to end in headless Chromium, against `manage.py serve` (as test_consoles_e2e.py).

The served app runs on its own temporary SQLite file, seeded with `seed_demo` (40 tickets over
40 days, their calls and revisits). HTTP only: the telephony services are not started, so no
call arrives while the figures are read. The screenshot is written to docs/screenshots/dashboard.png.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from tests.browser.chromium import NEEDS_CHROMIUM, login, served_demo, shot

FIVE = ("answer_rate", "on_time_rate", "satisfaction_rate", "reopen_rate", "repeat_rate")

pytestmark = NEEDS_CHROMIUM


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # HTTP only: no simulator or bridge, so no call arrives while the figures are read.
    folder = tmp_path_factory.mktemp("dashboard")
    with served_demo(folder, seed=["--tickets", "40", "--days", "40"], serve=["--no-services"]) as server:
        yield server


def latest_ticket_day(server) -> str:
    """The local day of the newest seeded ticket: its month surely has data, whatever today is."""
    with sqlite3.connect(server["db"]) as conn:
        (stamp,) = conn.execute("select max(created_at) from hotline_ticket").fetchone()
    moment = datetime.fromisoformat(stamp.replace(" ", "T"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    return moment.astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat()


def sort_values(page, column: int) -> list[str]:
    return page.eval_on_selector_all(
        "[data-testid=ranking] tbody tr",
        f"rows => rows.map(r => r.children[{column}].getAttribute('data-sort'))",
    )


def test_the_supervisor_reads_sorts_drills_down_and_downloads(browser, server, tmp_path):
    page = login(browser, server, "supervisor", accept_downloads=True)
    page.click("nav >> text=考核看板")
    page.wait_for_selector("[data-testid=kpi-on_time_rate]")
    day = latest_ticket_day(server)
    page.select_option("[data-testid=period-kind]", "month")
    page.fill("[data-testid=period-date]", day)
    page.click("[data-testid=period-show]")
    page.wait_for_url(re.compile(r"period=month"))
    assert f"date={day}" in page.url

    # The five KPIs, each a value (or "no data") over numerator / denominator links.
    for key in FIVE:
        value = page.inner_text(f"[data-testid=kpi-{key}] [data-testid=value-{key}]").strip()
        assert re.fullmatch(r"\d+(\.\d)?%|无数据", value), (key, value)
        numerator = int(page.inner_text(f"[data-testid=drill-{key}-numerator]"))
        denominator = int(page.inner_text(f"[data-testid=drill-{key}-denominator]"))
        assert numerator <= denominator
        assert (value == "无数据") == (denominator == 0), (key, value, denominator)
    # ECharts drew the trend (and finished animating it).
    page.wait_for_selector("#kpi-trend[data-rendered=true] canvas")

    # Sort the ranking by the on-time rate: ascending by a click, descending by the keyboard.
    header = page.locator("[data-testid=sort-on_time_rate]")
    column = 3  # the first KPI column, after the rank and the score
    before = page.eval_on_selector_all("[data-testid=ranking] tbody tr", "rows => rows.map(r => r.dataset.testid)")
    header.click()
    assert page.get_attribute("th:has([data-testid=sort-on_time_rate])", "aria-sort") == "ascending"
    ascending = sort_values(page, column)
    numbers = [float(v) for v in ascending if v]
    assert numbers == sorted(numbers) and len(numbers) >= 2, ascending
    assert ascending[: len(numbers)] == [v for v in ascending if v]  # no data sorts last
    header.focus()
    page.keyboard.press("Enter")
    assert page.get_attribute("th:has([data-testid=sort-on_time_rate])", "aria-sort") == "descending"
    descending = [float(v) for v in sort_values(page, column) if v]
    assert descending == sorted(numbers, reverse=True)
    after = page.eval_on_selector_all("[data-testid=ranking] tbody tr", "rows => rows.map(r => r.dataset.testid)")
    assert sorted(after) == sorted(before) and after != before
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "dashboard")

    # Drill down from the repeat rate's denominator: the list is as long as the number.
    tickets = int(page.inner_text("[data-testid=drill-repeat_rate-denominator]"))
    assert 0 < tickets <= 50
    dashboard_url = page.url
    page.click("[data-testid=drill-repeat_rate-denominator]")
    page.wait_for_selector("[data-testid=drill-list]")
    assert "/dashboard/drill/repeat_rate/" in page.url and "part=denominator" in page.url
    assert int(page.inner_text("[data-testid=drill-total]")) == tickets
    assert page.locator("[data-testid=drill-row]").count() == tickets
    # ... and from the on-time numerator of the first ranked unit with any.
    page.goto(dashboard_url)
    link = page.locator("[data-testid=ranking] a[data-testid$='-on_time_rate-numerator']").filter(
        has_text=re.compile(r"^[1-9]\d?$")
    )
    replied = int(link.first.inner_text())
    link.first.click()
    page.wait_for_selector("[data-testid=drill-list]")
    assert page.locator("[data-testid=drill-row]").count() == replied

    # The Excel report of the same month opens with openpyxl and holds the same ticket count.
    page.goto(dashboard_url)
    with page.expect_download() as download:
        page.click("[data-testid=excel]")
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.name.startswith("kpi-month-") and path.suffix == ".xlsx"
    sheet = load_workbook(path)["KPIs"]
    header_row = [c.value for c in sheet[1]]
    city = [c.value for c in sheet[2]]
    repeat = header_row.index("重复投诉率")
    assert city[1].startswith("全市") and city[repeat + 2] == tickets
    assert sheet.max_row > 2  # the units follow the city


def test_a_unit_handler_sees_its_subtree_and_is_refused_other_units(browser, server):
    page = login(browser, server, "unit_yh", accept_downloads=True)
    page.click("nav >> text=考核看板")
    page.wait_for_selector("[data-testid=kpi-on_time_rate]")
    assert page.inner_text("[data-testid=scope]") == "雨湖区"
    assert page.locator("[data-testid=excel]").count() == 0
    ranked = page.eval_on_selector_all("[data-testid=ranking] tbody tr", "rows => rows.map(r => r.dataset.testid)")
    assert "rank-YH" in ranked and all(code.startswith("rank-YH") for code in ranked), ranked
    with sqlite3.connect(server["db"]) as conn:
        (other,) = conn.execute("select id from hotline_unit where code='YT'").fetchone()
    response = page.goto(f"{server['base']}/dashboard/drill/on_time_rate/?part=numerator&unit={other}")
    assert response.status == 403
