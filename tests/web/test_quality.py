"""工单质检 over HTTP: the checker's list and form (and its refusals), who reads which result, the
dashboard's section, the workbook. The week of tests/metrics/test_quality.py, sampled in full."""

from __future__ import annotations

from io import BytesIO

import pytest
import time_machine
from django.test import Client
from openpyxl import load_workbook

from hotline.models import AuditAction, AuditEntry, Role
from metrics import quality
from metrics.models import CheckScore, CheckStatus, CheckTarget, QualityCheck
from tests.conftest import make_user
from tests.metrics import test_quality as story
from tests.metrics.test_quality import WEEK, at

pytestmark = pytest.mark.django_db

# The fixtures of tests/metrics/test_quality.py, used here as they are.
week, checker, checklist, li = story.week, story.checker, story.checklist, story.li
NEXT = "period=week&date=2026-11-10"


@pytest.fixture
def sampled(week):
    quality.sample(WEEK, seed=1, percent=100, short_reply_chars=10)
    with time_machine.travel(at(10, 9), tick=False):
        yield week


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def form(checklist, target: str, value: int = 8, **override) -> dict[str, str]:
    data = {f"score_{i.pk}": str(value) for i in checklist.values() if i.target == target}
    data.update({f"score_{checklist[code].pk}": v for code, v in override.items()})
    return data


def first(target: str, **filters) -> QualityCheck:
    return QualityCheck.objects.filter(target=target, **filters).order_by("pk").first()


def test_the_checker_lists_the_checks_to_do_without_their_own_work(sampled, checker, agent):
    insider = make_user("checker_yuhu", Role.QUALITY, "YH")  # a checker seconded from 雨湖区
    response = client_for(insider).get("/quality/")
    assert response.status_code == 200
    listed = {c.pk for c in response.context["todo"]}
    assert listed == set(QualityCheck.objects.filter(target=CheckTarget.REGISTRATION).values_list("pk", flat=True))
    assert len(client_for(checker).get("/quality/").context["todo"]) == 10
    assert client_for(checker).get("/").url == "/quality/"  # the checker's home screen


def test_the_checker_scores_a_check_and_the_agent_and_the_dashboard_see_it(
    sampled, checker, checklist, agent, supervisor
):
    check = first(CheckTarget.REGISTRATION, agent=agent)
    page = client_for(checker).get(f"/quality/checks/{check.pk}/")
    assert page.status_code == 200 and 'data-testid="score-form"' in page.content.decode()
    assert "13800001001" not in page.content.decode()  # the caller masked: the checker is not center staff
    data = form(checklist, "registration", 9, **{"reg-address": "2"}) | {"comment": "地址缺门牌号"}
    response = client_for(checker).post(f"/quality/checks/{check.pk}/score/", data)
    assert response.status_code == 302 and response.url == "/quality/"
    check.refresh_from_db()
    assert check.status == CheckStatus.DONE and check.failed_items == 1 and check.comment == "地址缺门牌号"
    assert AuditEntry.objects.filter(action=AuditAction.QUALITY_CHECKED, user=checker).count() == 1
    mine = client_for(agent).get(f"/quality/?{NEXT}")
    assert [c.pk for c in mine.context["done"]] == [check.pk]
    assert client_for(agent).get(f"/quality/checks/{check.pk}/").status_code == 200
    dashboard = client_for(supervisor).get(f"/dashboard/?{NEXT}")
    agents = dashboard.context["quality"]["agents"]
    assert [(r.who, r.checks, r.failed_items) for r in agents] == [(agent, 1, 1)]
    assert f'data-testid="quality-agent-{agent.username}"' in dashboard.content.decode()


def test_a_bad_score_shows_the_form_again_with_what_was_entered(sampled, checker, checklist, agent):
    check = first(CheckTarget.REGISTRATION, agent=agent)
    data = form(checklist, "registration", 7, **{"reg-category": "12"}) | {"comment": "分类有误"}
    response = client_for(checker).post(f"/quality/checks/{check.pk}/score/", data, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 400
    body = response.content.decode()
    assert "分类准确" in body and "10" in response.context["errors"][0]
    assert 'value="12"' in body and "分类有误" in body  # nothing typed is lost
    assert QualityCheck.objects.get(pk=check.pk).status == CheckStatus.PENDING


def test_a_missing_required_item_and_a_word_for_a_score_are_refused(sampled, checker, checklist, agent):
    check = first(CheckTarget.REGISTRATION, agent=agent)
    missing = form(checklist, "registration", **{"reg-elements": ""})
    response = client_for(checker).post(f"/quality/checks/{check.pk}/score/", missing)
    assert response.status_code == 400 and "诉求要素完整" in response.context["errors"][0]
    words = form(checklist, "registration", **{"reg-elements": "good"})
    response = client_for(checker).post(f"/quality/checks/{check.pk}/score/", words, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400 and "whole number" in response.context["errors"][0]
    assert not CheckScore.objects.exists()


def test_scoring_twice_and_scoring_ones_own_work_are_refused(sampled, checker, checklist, agent):
    check = first(CheckTarget.REGISTRATION, agent=agent)
    assert (
        client_for(checker).post(f"/quality/checks/{check.pk}/score/", form(checklist, "registration")).status_code
        == 302
    )
    again = client_for(checker).post(f"/quality/checks/{check.pk}/score/", form(checklist, "registration", 1))
    assert again.status_code == 409 and CheckScore.objects.filter(score=1).count() == 0
    reply = first(CheckTarget.REPLY)
    insider = make_user("checker_yuhu", Role.QUALITY, "YH")
    own = client_for(insider).post(f"/quality/checks/{reply.pk}/score/", form(checklist, "reply"))
    assert own.status_code == 403 and QualityCheck.objects.get(pk=reply.pk).status == CheckStatus.PENDING


def test_others_results_are_not_shown(sampled, checker, checklist, agent, li, yuetang, yuhu):
    check = first(CheckTarget.REGISTRATION, agent=agent)
    reply = first(CheckTarget.REPLY)
    client_for(checker).post(f"/quality/checks/{check.pk}/score/", form(checklist, "registration"))
    client_for(checker).post(f"/quality/checks/{reply.pk}/score/", form(checklist, "reply"))
    assert client_for(li).get(f"/quality/checks/{check.pk}/").status_code == 403  # another agent's
    assert client_for(yuetang).get(f"/quality/checks/{reply.pk}/").status_code == 403  # another district's
    assert client_for(yuhu).get(f"/quality/checks/{reply.pk}/").status_code == 200
    assert client_for(yuhu).get(f"/quality/checks/{check.pk}/").status_code == 403  # an agent's, not the unit's
    assert [c.pk for c in client_for(li).get(f"/quality/?{NEXT}").context["done"]] == []
    # The unit handler's dashboard has its units' results, no agents.
    section = client_for(yuhu).get(f"/dashboard/?{NEXT}").context["quality"]
    assert section["agents"] is None and [r.name for r in section["units"]] == ["雨湖区"]
    assert client_for(yuetang).get(f"/dashboard/?{NEXT}").context["quality"]["units"] == []


def test_the_workbook_is_the_centers(sampled, checker, checklist, agent, supervisor, yuhu):
    check = first(CheckTarget.REGISTRATION, agent=agent)
    client_for(checker).post(f"/quality/checks/{check.pk}/score/", form(checklist, "registration"))
    response = client_for(supervisor).get(f"/quality/excel/?{NEXT}")
    assert response.status_code == 200
    wb = load_workbook(BytesIO(response.content))
    assert wb["坐席登记"]["B2"].value == 1 and wb["明细"]["A2"].value == check.ticket.number
    assert AuditEntry.objects.filter(action=AuditAction.EXPORT, user=supervisor).exists()
    assert client_for(yuhu).get(f"/quality/excel/?{NEXT}").status_code == 403
    assert client_for(agent).get(f"/quality/excel/?{NEXT}").status_code == 403


def test_the_lists_cost_the_same_queries_for_one_check_or_many(sampled, checker, checklist, agent, supervisor):
    """The checker's list and the reviewer's results are a fixed number of queries (select_related, grouped):
    session and user, the list's count and page, the checker's own, three per results table."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def cost(user) -> int:
        client = client_for(user)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/quality/?{NEXT}").status_code == 200
        return len(queries)

    registrations = list(QualityCheck.objects.filter(target=CheckTarget.REGISTRATION).order_by("pk")[:4])
    client_for(checker).post(f"/quality/checks/{registrations[0].pk}/score/", form(checklist, "registration"))
    one_todo, one_result = cost(checker), cost(supervisor)
    for check in registrations[1:]:
        client_for(checker).post(f"/quality/checks/{check.pk}/score/", form(checklist, "registration"))
    assert QualityCheck.objects.filter(status=CheckStatus.DONE).count() == 4
    assert cost(checker) == one_todo  # fewer to do, four scored by them: the same queries
    assert cost(supervisor) == one_result  # one result, then four: the same queries
