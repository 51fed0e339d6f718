"""The KPI dashboard over HTTP: scoping, drill-down lists equal to the figures, the Excel download.

The data is the hand-computed November 2026 of tests/metrics/conftest.py (and its rated December),
so every count below is also checked against the figures worked out by hand in test_kpis.py.
"""

from __future__ import annotations

import re
from datetime import datetime
from io import BytesIO

import pytest
import time_machine
from django.test import Client
from openpyxl import load_workbook

from hotline.models import Unit
from metrics import kpis
from tests.metrics import conftest as story
from tests.metrics.test_kpis import EXPECTED

pytestmark = pytest.mark.django_db

# The stories of tests/metrics/conftest.py, used here as they are.
november = story.november
rated_december = story.rated_december

NOV = "period=month&date=2026-11-05"
DEC = "period=month&date=2026-12-05"
JANUARY = datetime(2027, 1, 5, 12, 0, tzinfo=story.SH)  # every December deadline has passed too
ALL_KPIS = ("answer_rate", "on_time_rate", "acceptance_rate", "reopen_rate", "repeat_rate")
REVISIT_KPIS = ("satisfaction_rate", "rating_rate")


@pytest.fixture
def at_now():
    """Requests are served at NOW (15 Dec 2026), when every November deadline has passed."""
    with time_machine.travel(story.NOW, tick=False):
        yield


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def drill_count(client: Client, kpi: str, part: str, query: str, unit: Unit | None = None) -> tuple[int, int]:
    """(the total the drill-down page states, the rows it lists) — both must equal the figure."""
    url = f"/dashboard/drill/{kpi}/?{query}&part={part}" + (f"&unit={unit.pk}" if unit else "")
    response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    return response.context["page"].paginator.count, response.content.decode().count('data-testid="drill-row"')


def test_the_supervisor_sees_the_city_kpis_and_the_level_2_ranking(november, supervisor, at_now):
    response = client_for(supervisor).get(f"/dashboard/?{NOV}")
    assert response.status_code == 200
    main = {cell.key: cell.figure for cell in response.context["main"]}
    assert list(main) == list(kpis.FIVE)
    for key, (n, d) in EXPECTED[None, True].items():
        figure = main.get(key) or next(c.figure for c in response.context["extra"] if c.key == key)
        assert (figure.numerator, figure.denominator) == (n, d), key
    ranking = response.context["ranking"]
    assert ranking and {row["unit"].level for row in ranking} == {2}
    assert {row["unit"].code for row in ranking} == set(Unit.objects.filter(level=2).values_list("code", flat=True))
    yh = next(row for row in ranking if row["unit"].code == "YH")
    on_time = next(cell for cell in yh["cells"] if cell.key == "on_time_rate")
    assert (on_time.figure.numerator, on_time.figure.denominator) == EXPECTED["YH", True]["on_time_rate"]
    html = response.content.decode()
    assert 'data-testid="excel"' in html
    assert 'id="kpi-trend-data"' in html and "echarts-5.6.0.min.js" in html
    # A satisfaction rate with nothing rated in November is "no data", never 0 %.
    assert re.search(r'data-testid="value-satisfaction_rate">\s*<span class="muted">', html)


def test_the_trend_has_twelve_points_by_week_for_a_month_and_by_month_for_a_year(november, dispatcher, at_now):
    client = client_for(dispatcher)
    month = client.get(f"/dashboard/?{NOV}").context["trend"]
    assert month["step"] == "week" and len(month["labels"]) == 12
    assert month["labels"][-1] == "11-30"  # the ISO week holding 30 November starts that Monday
    year = client.get("/dashboard/?period=year&date=2026-06-01").context["trend"]
    assert year["step"] == "month" and year["labels"] == [f"2026-{m:02d}" for m in range(1, 13)]
    on_time = next(s for s in year["series"] if s["key"] == "on_time_rate")
    assert on_time["counts"][10] == [3, 6] and on_time["data"][10] == 50.0  # November
    assert on_time["data"][0] is None  # January: no data, a gap in the line


def test_a_unit_handler_sees_its_own_subtree_only(november, yuhu, at_now):
    client = client_for(yuhu)
    response = client.get(f"/dashboard/?{NOV}")
    assert response.status_code == 200
    assert response.context["scope"].code == "YH"
    main = {cell.key: cell.figure for cell in response.context["main"]}
    assert main["answer_rate"].value is None  # a center KPI: units have no data
    assert (main["on_time_rate"].numerator, main["on_time_rate"].denominator) == EXPECTED["YH", True]["on_time_rate"]
    mine = set(Unit.objects.get(code="YH").subtree_ids())
    codes = {row["unit"].code for row in response.context["ranking"]}
    assert "YH" in codes and "YH01" in codes
    assert {row["unit"].pk for row in response.context["ranking"]} <= mine
    assert 'data-testid="excel"' not in response.content.decode()

    yt = Unit.objects.get(code="YT")
    assert client.get(f"/dashboard/?{NOV}&unit={yt.pk}").status_code == 403
    assert client.get(f"/dashboard/drill/on_time_rate/?{NOV}&part=denominator&unit={yt.pk}").status_code == 403
    center = Unit.objects.get(level=1)
    assert client.get(f"/dashboard/drill/answer_rate/?{NOV}&part=numerator&unit={center.pk}").status_code == 403
    assert client.get(f"/dashboard/excel/?{NOV}").status_code == 403
    # A street under 雨湖区 is in its subtree.
    yh01 = Unit.objects.get(code="YH01")
    assert client.get(f"/dashboard/?{NOV}&unit={yh01.pk}").context["scope"] == yh01


def test_a_street_handler_cannot_see_its_district(november, chengzheng, at_now):
    client = client_for(chengzheng)
    assert client.get(f"/dashboard/?{NOV}").context["scope"].code == "YH01"
    yh = Unit.objects.get(code="YH")
    assert client.get(f"/dashboard/?{NOV}&unit={yh.pk}").status_code == 403


@pytest.mark.parametrize("scope", [None, "YH", "YH01"], ids=["city", "YH", "YH01"])
def test_drill_down_lists_exactly_the_rows_of_each_number(november, supervisor, scope, at_now):
    client = client_for(supervisor)
    unit = Unit.objects.get(code=scope) if scope else None
    expected = EXPECTED[None, True] if scope is None else EXPECTED.get((scope, True), EXPECTED.get((scope, False)))
    for key in ALL_KPIS:
        numerator, denominator = expected[key]
        assert drill_count(client, key, "numerator", NOV, unit) == (numerator, numerator), key
        assert drill_count(client, key, "denominator", NOV, unit) == (denominator, denominator), key


def test_drill_down_of_the_revisit_kpis(rated_december, supervisor, zhujian):
    with time_machine.travel(JANUARY, tick=False):
        client = client_for(supervisor)
        zjj = Unit.objects.get(code="ZJJ")
        for unit in (None, zjj):
            assert drill_count(client, "satisfaction_rate", "numerator", DEC, unit) == (3, 3)
            assert drill_count(client, "satisfaction_rate", "denominator", DEC, unit) == (4, 4)
            assert drill_count(client, "rating_rate", "numerator", DEC, unit) == (5, 5)
            assert drill_count(client, "rating_rate", "denominator", DEC, unit) == (6, 6)
        # The unit handler of 市住建局 sees the same rows of its own unit, and nothing of 雨湖区.
        own = client_for(zhujian)
        assert drill_count(own, "rating_rate", "denominator", DEC) == (6, 6)
        assert drill_count(own, "answer_rate", "denominator", DEC) == (0, 0)
        yh = Unit.objects.get(code="YH")
        assert own.get(f"/dashboard/drill/rating_rate/?{DEC}&part=denominator&unit={yh.pk}").status_code == 403


def test_units_see_masked_phone_numbers_and_the_center_sees_them_in_full(november, supervisor, yuhu, at_now):
    url = f"/dashboard/drill/repeat_rate/?{NOV}&part=denominator"
    unit_html = client_for(yuhu).get(url).content.decode()
    assert "138****0001" in unit_html and "13800000001" not in unit_html
    center_html = client_for(supervisor).get(url).content.decode()
    assert "13800000001" in center_html


def test_drill_down_paginates_and_keeps_the_total(seeded, supervisor):
    from telephony.models import Call

    offered = datetime(2026, 11, 3, 9, 0, tzinfo=story.SH)
    for i in range(60):
        story.call(f"p{i}", offered, "abandoned", 30 + i)
    with time_machine.travel(story.NOW, tick=False):
        client = client_for(supervisor)
        first = client.get(f"/dashboard/drill/answer_rate/?{NOV}&part=denominator")
        second = client.get(f"/dashboard/drill/answer_rate/?{NOV}&part=denominator&page=2")
    assert Call.objects.count() == 60
    assert first.context["page"].paginator.count == 60
    assert first.content.decode().count('data-testid="drill-row"') == 50
    assert second.content.decode().count('data-testid="drill-row"') == 10


def test_bad_requests_and_other_roles(november, supervisor, agent, at_now):
    client = client_for(supervisor)
    assert client.get(f"/dashboard/drill/on_time_rate/?{NOV}&part=everything").status_code == 400
    assert client.get(f"/dashboard/drill/no_such_kpi/?{NOV}&part=numerator").status_code == 404
    assert client.get("/dashboard/?period=decade").status_code == 400
    assert client.get("/dashboard/?unit=999999").status_code == 404
    assert client_for(agent).get("/dashboard/").status_code == 403
    assert Client().get("/dashboard/").url.startswith("/login/")


def test_the_excel_download_is_the_period_report(november, supervisor, at_now):
    response = client_for(supervisor).get(f"/dashboard/excel/?{NOV}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    assert 'filename="kpi-month-20261101.xlsx"' in response["Content-Disposition"]
    wb = load_workbook(BytesIO(response.content))
    assert wb.sheetnames == ["KPIs", "考评-jiesu-jiban", "考评-xiangtan-five", "超期", "热点", "标记来电人"]
    sheet = wb["KPIs"]
    header = [c.value for c in sheet[1]]
    on_time = header.index("按期办结率")
    city = [c.value for c in sheet[2]]
    assert city[on_time : on_time + 3] == [0.5, 3, 6]
    yh = next(row for row in sheet.iter_rows(values_only=True) if row[0] == "YH")
    assert list(yh[on_time : on_time + 3]) == [0.5, *EXPECTED["YH", True]["on_time_rate"]]
