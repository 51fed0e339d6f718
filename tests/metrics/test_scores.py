"""Issue 12, the evaluation scheme: a hand-computed December 2026 (no public holidays) for five units.

Everything goes through the real services at past moments. A complaint has ten working days:
dispatched on 1 Dec its deadline is 15 Dec 23:59:59, on 2 Dec 16 Dec, on 3 Dec 17 Dec.
Every caller and address differs (no repeats) and nothing is sent back (no redos).

Districts: 雨湖区 (YH), 岳塘区 (YT), 湘潭县 (XTX); departments: 市住建局 (ZJJ), 市城管局 (CGJ).
- T1 → YH lead, ZJJ assisting (1 Dec). YH replies 2 Dec, caller contacted. ZJJ accepts, never
  replies; the center approves on 17 Dec confirming the outstanding part: ZJJ's assisting
  assignment is withdrawn after its deadline (15 Dec) → late at ZJJ in December (defect 1's rule).
  Revisit: very satisfied, solved.
- T2 → YH (2 Dec), replied 3 Dec, caller not contacted. Revisit: basically satisfied, not solved.
- T3 → YT (1 Dec), replied 2 Dec, contacted. Revisit: satisfied, solved.
- T4 → YT (1 Dec), replied 16 Dec (deadline 15 Dec: late), contacted. Revisit on 17 Dec: unsatisfied,
  not solved, which reopens it: a redo at YT made 17 Dec, due 31 Dec, never replied (late as well).
- T5 → ZJJ (3 Dec), replied 4 Dec, contacted. Revisit: basically satisfied, solved.
- T6 → CGJ (3 Dec), replied 4 Dec, contacted. Revisit: very satisfied, solved.
- T7 → CGJ (3 Dec): CGJ disputes, the center decides the dispatch stands (4 Dec); replied 5 Dec,
  not contacted; approved, no revisit yet.
- T8 → XTX (3 Dec), replied 4 Dec, not contacted; approved, no revisit yet.
- 湘乡市 (XX), a district with nothing in December: no data, no score, no rank.

Hand computation (per unit, rolled up; the streets have no work of their own):

                 response        solved        satisfied (basic × 0.9)      on-time      satisfaction  reopen
  YH             1/2 = 0.5       1/2 = 0.5     (2 − 0.1·1)/2 = 0.95         2/2 = 1      2/2 = 1       0/2
  YT             2/2 = 1         1/2 = 0.5     1/2 = 0.5                    1/3          1/2 = 0.5     1/2
  XTX            0/1 = 0         no data       no data                      1/1 = 1      no data       0/1
  ZJJ            1/1 = 1         1/1 = 1       0.9/1 = 0.9                  1/2 = 0.5    1/1 = 1       0/1
  CGJ            1/2 = 0.5       1/1 = 1       1/1 = 1                      2/2 = 1      1/1 = 1       0/2

接诉即办 three rates = 100 × (0.1·response + 0.5·solved + 0.4·satisfied) / (sum of the weights with data):
  YH   100 × (0.05 + 0.25 + 0.38)   = 68.0      districts: YH 1, YT 2, XTX 3
  YT   100 × (0.10 + 0.25 + 0.20)   = 55.0
  XTX  100 × (0.1 · 0) / 0.1        = 0.0       (solved and satisfied: no data, their weights leave)
  ZJJ  100 × (0.10 + 0.50 + 0.36)   = 96.0      departments: ZJJ 1, CGJ 2
  CGJ  100 × (0.05 + 0.50 + 0.40)   = 95.0

湘潭 five KPIs: on-time 40, satisfaction 30, reopen 15 (1 − 0), repeat 15 (1 − 0); the answer
rate (10) is the center's and units have no data; 0.5 per overdue assignment, 1 per dispute lost
(the others have no redo and 0 repeats: reopen and repeat give 1 − 0 = 1):
  YH   40 + 30 + 15 + 15                                  = 100.0
  YT   40·(1/3) + 30·0.5 + 15·(1 − 0.5) + 15 = 13.333 + 15 + 7.5 + 15 = 50.833 → 50.83;
       two late (T4 and its redo) − 2 · 0.5 = 49.83
  XTX  (40·1 + 15 + 15) / 70 × 100 = 100.0 (satisfaction has no data)
  ZJJ  40·0.5 + 30 + 15 + 15 = 80, one late (T1's assisting part, withdrawn overdue) − 0.5 = 79.5
  CGJ  100, one dispute decided against it − 1           = 99.0
  districts: YH 1 and XTX 1 (equal scores share the rank), YT 3; departments: CGJ 1, ZJJ 2.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from drf_spectacular.generators import SchemaGenerator

from hotline.models import Assignment, AssignmentStatus, Ticket, Unit
from hotline.services import assignments, dispatch, disputes, tickets
from metrics import scores
from metrics.kpis import Figure
from metrics.periods import Period
from metrics.reports import build_report
from tests.conftest import api_as, make_user

from .conftest import SH, at, register, travel

pytestmark = pytest.mark.django_db

DECEMBER = Period.of("month", datetime(2026, 12, 1).date())
NOW = datetime(2027, 1, 20, 12, 0, tzinfo=SH)


def reply(assignment: Assignment, handler, when: datetime, contacted: bool) -> None:
    with travel(when):
        dispatch.reply_assignment(
            Assignment.objects.get(pk=assignment.pk), handler, "已处理完毕。", contacted_caller=contacted
        )


def approve(ticket: Ticket, dispatcher, when: datetime, **extra) -> None:
    with travel(when):
        tickets.review_reply(Ticket.objects.get(pk=ticket.pk), dispatcher, approve=True, **extra)


def revisit(ticket: Ticket, agent, when: datetime, rating: str, solved: bool) -> None:
    from callback import revisits

    with travel(when):
        # Scheduled as if days ago, so it is due at ``when``: staff record an answer only once it is due.
        made = revisits.schedule_revisit(Ticket.objects.get(pk=ticket.pk), now=when - timedelta(days=30))
        revisits.record_result(made, agent, rating=rating, solved=solved)


class Case:
    def __init__(self, agent, dispatcher, n: int, unit: str, handler, when: datetime, assisting=()):
        self.ticket = register(agent, when, f"1370000{n:04d}", f"建设路{n}号")
        with travel(when):
            made = dispatch.dispatch_ticket(
                self.ticket, agent, Unit.objects.get(code=unit), [Unit.objects.get(code=c) for c in assisting]
            )
        self.lead = assignments.current_lead(self.ticket)
        self.parts = made
        with travel(when.replace(minute=10)):
            dispatch.accept_assignment(self.lead, handler)


@pytest.fixture
def december(agent, dispatcher, yuhu, yuetang, zhujian):
    chengguan = make_user("handler_cgj", "unit_handler", "CGJ")
    xiangtan = make_user("handler_xtx", "unit_handler", "XTX")
    # T1: 雨湖区 leads, 住建局 assists and never replies.
    t1 = Case(agent, dispatcher, 1, "YH", yuhu, at(12, 1, 9), assisting=("ZJJ",))
    assisting = next(a for a in t1.parts if a.unit.code == "ZJJ")
    with travel(at(12, 1, 11)):
        dispatch.accept_assignment(assisting, zhujian)
    reply(t1.lead, yuhu, at(12, 2, 10), True)
    approve(t1.ticket, dispatcher, at(12, 17, 9), confirm_outstanding=True)
    assisting.refresh_from_db()
    assert assisting.status == AssignmentStatus.WITHDRAWN and assisting.withdrawn_at > assisting.reply_by
    revisit(t1.ticket, agent, at(12, 18, 10), "very_satisfied", True)
    # T2
    t2 = Case(agent, dispatcher, 2, "YH", yuhu, at(12, 2, 9))
    reply(t2.lead, yuhu, at(12, 3, 10), False)
    approve(t2.ticket, dispatcher, at(12, 3, 16))
    revisit(t2.ticket, agent, at(12, 4, 10), "basically_satisfied", False)
    # T3, T4: 岳塘区, the second one late.
    t3 = Case(agent, dispatcher, 3, "YT", yuetang, at(12, 1, 10))
    reply(t3.lead, yuetang, at(12, 2, 10), True)
    approve(t3.ticket, dispatcher, at(12, 2, 16))
    revisit(t3.ticket, agent, at(12, 3, 10), "satisfied", True)
    t4 = Case(agent, dispatcher, 4, "YT", yuetang, at(12, 1, 11))
    reply(t4.lead, yuetang, at(12, 16, 10), True)
    approve(t4.ticket, dispatcher, at(12, 16, 16))
    revisit(t4.ticket, agent, at(12, 17, 10), "unsatisfied", False)
    # T5: 住建局 leads.
    t5 = Case(agent, dispatcher, 5, "ZJJ", zhujian, at(12, 3, 9))
    reply(t5.lead, zhujian, at(12, 4, 10), True)
    approve(t5.ticket, dispatcher, at(12, 4, 16))
    revisit(t5.ticket, agent, at(12, 5, 10), "basically_satisfied", True)
    # T6, T7: 城管局, which loses a dispute about T7.
    t6 = Case(agent, dispatcher, 6, "CGJ", chengguan, at(12, 3, 9))
    reply(t6.lead, chengguan, at(12, 4, 10), True)
    approve(t6.ticket, dispatcher, at(12, 4, 16))
    revisit(t6.ticket, agent, at(12, 5, 10), "very_satisfied", True)
    t7 = Case(agent, dispatcher, 7, "CGJ", chengguan, at(12, 3, 10))
    with travel(at(12, 3, 11)):
        raised = disputes.raise_dispute(t7.lead, chengguan, "不属于本单位职责")
    with travel(at(12, 4, 9)):
        disputes.decide_dispute(raised, dispatcher, note="职责明确，派单维持")
    reply(t7.lead, chengguan, at(12, 5, 10), False)
    approve(t7.ticket, dispatcher, at(12, 5, 16))
    # T8: 湘潭县, no revisit yet.
    t8 = Case(agent, dispatcher, 8, "XTX", xiangtan, at(12, 3, 9))
    reply(t8.lead, xiangtan, at(12, 4, 10), False)
    approve(t8.ticket, dispatcher, at(12, 4, 16))


def by_code(result: list[scores.Score]) -> dict[str, scores.Score]:
    return {s.unit.code: s for s in result}


def parts(score: scores.Score) -> dict[str, scores.ScorePart]:
    return {p.indicator: p for p in score.parts}


def test_three_rates_scheme(december):
    scheme = scores.find_scheme("接诉即办 three rates", DECEMBER)
    result = by_code(scores.compute_scores(scheme, DECEMBER, now=NOW))
    expected = {"YH": (68.0, 1), "YT": (55.0, 2), "XTX": (0.0, 3), "ZJJ": (96.0, 1), "CGJ": (95.0, 2)}
    assert {code: (result[code].score, result[code].rank) for code in expected} == expected
    assert result["XX"].score is None and result["XX"].rank is None
    yh = parts(result["YH"])
    assert yh["response_rate"].figure == Figure(1, 2) and yh["response_rate"].value == 0.5
    assert yh["solved_rate"].figure == Figure(1, 2)
    assert yh["satisfied_rate"].value == pytest.approx(0.95)
    assert yh["satisfied_rate"].contribution == pytest.approx(38.0)
    assert yh["response_rate"].contribution == pytest.approx(5.0)
    xtx = parts(result["XTX"])
    assert xtx["solved_rate"].value is None and xtx["solved_rate"].contribution is None
    assert xtx["response_rate"].effective_weight == pytest.approx(100.0)
    assert result["ZJJ"].group == "department" and result["YH"].group == "district"


def test_five_kpis_scheme_with_deductions_and_the_withdrawn_assisting_part(december):
    scheme = scores.find_scheme("xiangtan-five", DECEMBER)
    result = by_code(scores.compute_scores(scheme, DECEMBER, now=NOW))
    expected = {"YH": (100.0, 1), "XTX": (100.0, 1), "YT": (49.83, 3), "CGJ": (99.0, 1), "ZJJ": (79.5, 2)}
    assert {code: (result[code].score, result[code].rank) for code in expected} == expected
    yt = parts(result["YT"])
    assert yt["on_time_rate"].figure == Figure(1, 3) and yt["reopen_rate"].figure == Figure(1, 2)
    zjj = result["ZJJ"]
    assert parts(zjj)["on_time_rate"].figure == Figure(1, 2)  # T5 on time; T1's assisting part withdrawn late
    assert parts(zjj)["answer_rate"].value is None  # the center's KPI: weight renormalised away
    assert zjj.base == 80.0
    assert [(d.rule, d.count, d.points) for d in zjj.deductions] == [("dispute_rejected", 0, 0.0), ("overdue", 1, 0.5)]
    assert [(d.rule, d.count, d.points) for d in result["CGJ"].deductions] == [
        ("dispute_rejected", 1, 1.0),
        ("overdue", 0, 0.0),
    ]
    assert parts(result["XTX"])["satisfaction_rate"].value is None
    assert parts(result["XTX"])["on_time_rate"].effective_weight == pytest.approx(100 * 40 / 70, abs=1e-3)


def test_the_change_from_the_previous_period(december):
    scheme = scores.find_scheme("jiesu-jiban", DECEMBER)
    result = by_code(scores.scores_with_change(scheme, DECEMBER, now=NOW))
    # November had no work: no previous score, no change.
    assert result["YH"].previous is None and result["YH"].change is None
    january = Period.of("month", datetime(2027, 1, 1).date())
    later = by_code(scores.scores_with_change(scheme, january, now=NOW))
    assert later["YH"].previous == 68.0 and later["YH"].score is None and later["YH"].previous_rank == 1


def test_a_cap_limits_a_deduction(december):
    scheme = scores.find_scheme("xiangtan-five", DECEMBER)
    rule = scheme.deductions.get(rule="overdue")
    rule.points, rule.cap = 30, 20
    rule.save()
    result = by_code(scores.compute_scores(scores.find_scheme("xiangtan-five", DECEMBER), DECEMBER, now=NOW))
    # YT: 50.83 − min(2 × 30, 20) = 30.83
    assert result["YT"].score == 30.83


def test_an_unknown_scheme_or_one_not_yet_valid_is_refused(seeded):
    with pytest.raises(scores.SchemeNotFound, match="no evaluation scheme 'nope'"):
        scores.find_scheme("nope", DECEMBER)
    with pytest.raises(scores.SchemeNotFound):
        scores.find_scheme("jiesu-jiban", Period.of("month", datetime(2019, 12, 1).date()))


def test_the_kpis_command_prints_the_ranking(december, capsys):

    call_command("kpis", "--from", "2026-12-01", "--to", "2026-12-31", "--scheme", "jiesu-jiban")
    out = capsys.readouterr().out
    assert "接诉即办 three rates" in out
    lines = [line for line in out.splitlines() if ". " in line]
    # Departments first, then districts, each ranked by score.
    assert [line.split()[:3] for line in lines[:2]] == [
        ["1.", "市住房和城乡建设局", "96.00"],
        ["2.", "市城市管理和综合执法局", "95.00"],
    ]
    assert ["1.", "雨湖区", "68.00"] in [line.split()[:3] for line in lines]
    call_command("kpis", "--from", "2026-12-01", "--to", "2026-12-31", "--scheme", "xiangtan-five", "--json")
    data = json.loads(capsys.readouterr().out)
    assert {s["unit_name"]: s["score"] for s in data["scores"]}["市城市管理和综合执法局"] == 99.0
    with pytest.raises(CommandError, match="no evaluation scheme"):
        call_command("kpis", "--from", "2026-12-01", "--to", "2026-12-31", "--scheme", "nope")


DEC = {"period": "month", "date": "2026-12-15"}


def test_the_rest_endpoint_gives_the_scores_in_the_schema(december, supervisor, yuhu):
    response = api_as(supervisor).get("/api/v1/metrics/scores/", {**DEC, "scheme": "jiesu-jiban"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["scheme"]["code"] == "jiesu-jiban" and body["previous_period"]["first"] == "2026-11-01"
    rows = {row["unit_name"]: row for row in body["units"]}
    assert (rows["雨湖区"]["score"], rows["雨湖区"]["rank"], rows["雨湖区"]["group"]) == (68.0, 1, "district")
    solved = next(p for p in rows["雨湖区"]["parts"] if p["indicator"] == "solved_rate")
    assert solved["figure"] == {"numerator": 1, "denominator": 2, "value": 0.5} and solved["contribution"] == 25.0
    # A unit handler sees its own subtree only.
    mine = api_as(yuhu).get("/api/v1/metrics/scores/", {**DEC, "scheme": "jiesu-jiban"}).json()
    subtree = set(Unit.objects.filter(pk__in=yuhu.unit.subtree_ids()).values_list("name", flat=True))
    assert {row["unit_name"] for row in mine["units"]} <= subtree
    assert "雨湖区" in {row["unit_name"] for row in mine["units"]}
    # Bad input: no scheme, an unknown one.
    assert api_as(supervisor).get("/api/v1/metrics/scores/", DEC).status_code == 400
    bad = api_as(supervisor).get("/api/v1/metrics/scores/", {**DEC, "scheme": "nope"})
    assert bad.status_code == 400 and "no evaluation scheme" in str(bad.json())
    assert "/api/v1/metrics/scores/" in SchemaGenerator().get_schema(request=None, public=True)["paths"]


def _drilled(client, url: str) -> int:
    response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    assert response.context["page"].paginator.count == response.content.decode().count('data-testid="drill-row"')
    return response.context["page"].paginator.count


def test_the_dashboard_ranks_by_score_and_drills_into_every_part(december, supervisor):
    client = Client()
    with travel(NOW):
        client.force_login(supervisor)
        response = client.get("/dashboard/?period=month&date=2026-12-05&scheme=xiangtan-five")
        assert response.status_code == 200
        ranking = response.context["ranking"]
        # Departments first (by score: CGJ 99, ZJJ 79.5, then the others without data), then districts.
        codes = [row["unit"].code for row in ranking]
        assert codes.index("CGJ") < codes.index("ZJJ") < codes.index("YH") < codes.index("YT")
        assert codes.index("XTX") < codes.index("YT")  # 100.0 ranks before 49.83
        html = response.content.decode()
        assert 'data-testid="score-ZJJ"' in html and "79.50" in html
        zjj = next(row for row in ranking if row["unit"].code == "ZJJ")["score"]
        for view in zjj["parts"]:
            figure = view["cell"].figure
            if view["part"].kpi == "answer_rate":
                continue  # a center KPI: the unit has no rows
            assert _drilled(client, view["cell"].numerator_url) == figure.numerator, view["part"].indicator
            assert _drilled(client, view["cell"].denominator_url) == figure.denominator, view["part"].indicator
        for cut in zjj["deductions"]:
            assert _drilled(client, cut["url"]) == cut["deduction"].count, cut["deduction"].rule
        cgj = next(row for row in ranking if row["unit"].code == "CGJ")["score"]
        dispute = next(c for c in cgj["deductions"] if c["deduction"].rule == "dispute_rejected")
        assert _drilled(client, dispute["url"]) == 1
        # The three rates drill into their rows too.
        three = client.get("/dashboard/?period=month&date=2026-12-05&scheme=jiesu-jiban").context["ranking"]
        yh = next(row for row in three if row["unit"].code == "YH")["score"]
        for view in yh["parts"]:
            assert _drilled(client, view["cell"].numerator_url) == view["cell"].figure.numerator
            assert _drilled(client, view["cell"].denominator_url) == view["cell"].figure.denominator
        assert client.get("/dashboard/?period=month&date=2026-12-05&scheme=nope").status_code == 400
        assert client.get("/dashboard/drill/solved_rate/?period=month&date=2026-12-05&part=late").status_code == 400


def test_the_excel_report_ranks_by_score_with_the_change_from_the_previous_period(december):
    january = Period.of("month", datetime(2027, 1, 1).date())
    with travel(NOW):
        wb = build_report(DECEMBER, now=NOW)
        later = build_report(january, now=NOW)
    ws = wb["考评-xiangtan-five"]
    header = [c.value for c in ws[1]]
    assert header[:5] == ["类别", "排名", "单位代码", "单位", "得分"] and header[5].startswith("上期得分")
    assert header[6:8] == ["变化", "上期排名"]
    rows = {r[2]: r for r in ws.iter_rows(min_row=2, values_only=True) if r[2]}
    assert rows["CGJ"][1] == 1 and rows["CGJ"][4] == 99.0
    assert rows["ZJJ"][1] == 2 and rows["ZJJ"][4] == 79.5
    assert rows["YT"][1] == 3 and rows["YT"][4] == 49.83
    # In the ranking order: within a kind, by rank.
    order = [r[2] for r in ws.iter_rows(min_row=2, values_only=True) if r[2] in ("CGJ", "ZJJ")]
    assert order == ["CGJ", "ZJJ"]
    # January carries December's scores as the previous period.
    jan = {r[2]: r for r in later["考评-jiesu-jiban"].iter_rows(min_row=2, values_only=True) if r[2]}
    assert jan["YH"][4] is None and jan["YH"][5] == 68.0 and jan["YH"][7] == 1
