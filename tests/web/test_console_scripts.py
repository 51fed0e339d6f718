"""The agent reads scripts on the console: the opening line, what to ask for the matter, the
closing line with the ticket's number, and the revisit and callback lines (issue 17, point 3)."""

from __future__ import annotations

from django.test import Client

from callback import revisits
from hotline.models import Category, Script, Ticket, Topic
from tests.web.test_console_revisits import due_revisit  # noqa: F401  (fixture)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_console_opens_with_the_agents_number(agent):
    page = client_for(agent).get("/agent/").content.decode()
    assert "1001号话务员为您服务" in page and 'data-testid="script-opening"' in page
    assert 'hx-get="/agent/script/"' in page  # choosing the matter asks for its scripts


def test_the_matter_scripts_follow_the_choice_and_bad_ids_show_none(agent):
    client = client_for(agent)
    complaint = Category.objects.get(code="complaint").pk
    noise = Topic.objects.get(code="0201").pk
    html = client.get("/agent/script/", {"category": complaint, "topic": noise}).content.decode()
    assert html.index("投诉要素") < html.index("噪音来源")
    for bad in ({"category": "x", "topic": ""}, {"category": "999999"}, {}):
        html = client.get("/agent/script/", bad).content.decode()
        assert 'data-testid="script-matter"' not in html and "Choose" not in html  # the hint, in Chinese
        assert "选择" in html


def test_the_closing_line_tells_the_number_code_and_due_date(agent):
    panel = (
        client_for(agent)
        .post(
            "/agent/register/submit/",
            {
                "phone": "13800138000",
                "category": Category.objects.get(code="help").pk,
                "content": "小区门口路灯不亮",
                "urgency": "normal",
            },
        )
        .content.decode()
    )
    ticket = Ticket.objects.get()
    assert f"已为您登记，工单编号{ticket.number}，查询码{ticket.query_code}" in panel
    assert "月" in panel.split("相关部门将在")[1][:8]  # the due date, as it is said


def test_the_revisit_line_carries_the_units_reply(agent, due_revisit):  # noqa: F811
    revisits.claim_revisit(due_revisit, agent)
    page = client_for(agent).get("/agent/").content.decode()
    assert 'data-testid="script-revisit"' in page and "已联系城管部门现场处理" in page
    Script.objects.filter(kind="revisit").update(body="您好，关于“{title}”，回访一下。")
    page = client_for(agent).get("/agent/").content.decode()
    assert f"关于“{due_revisit.ticket.title}”，回访一下" in page
