"""工单查询 (issue 14, point 1): one search for the center and the units, on the page, in Excel and on the API."""

from __future__ import annotations

import re
from datetime import timedelta
from io import BytesIO

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from hotline.models import Channel, Ticket, TicketSearch, Unit
from hotline.services import dispatch, supervision
from hotline.services.search import reindex_all
from tests.conftest import api_as
from tests.factories import dispatched_ticket, lead_assignment, new_ticket

URL = reverse("web:search")
EXPORT = reverse("web:search-export")


def client_of(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def numbers(html: str) -> list[str]:
    return re.findall(r'data-testid="search-row"><td><a href="[^"]*"><strong>(\d+)</strong>', html)


def search(client: Client, **params) -> str:
    response = client.get(URL, params)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def three(agent) -> list[Ticket]:
    """Noise on a square, a broken street light, a water cut: three callers, three streets."""
    return [
        new_ticket(
            agent, phone="13800138000", caller_name="王建国", content="小区楼下广场舞音乐太吵，晚上十点后仍未停止。"
        ),
        new_ticket(
            agent, phone="0731-58123456", topic="0202", content="人民路路灯不亮已经一周", address="岳塘区人民路12号"
        ),
        new_ticket(agent, phone="13900139000", caller_name="李秀英", content="停水三天无人处理", address="A3栋302室"),
    ]


def test_words_in_chinese_content_are_found_without_spaces(agent, three):
    page = search(client_of(agent), q="广场舞")
    assert numbers(page) == [three[0].number]
    assert numbers(search(client_of(agent), q="路灯 一周")) == [three[1].number]  # two terms: both
    assert numbers(search(client_of(agent), q="路灯 停水")) == []
    assert numbers(search(client_of(agent), q="太吵晚上")) == []  # across the comma is not in the text


def test_number_query_code_address_and_case_folded_latin(agent, three):
    c = client_of(agent)
    assert numbers(search(c, q=three[1].number)) == [three[1].number]
    assert three[2].number in numbers(search(c, q=three[2].query_code))
    assert numbers(search(c, q="a3栋")) == [three[2].number]
    assert numbers(search(c, q="人民路12号")) == [three[1].number]


def test_phone_in_any_format_and_caller_name(agent, three):
    c = client_of(agent)
    for typed in ("13800138000", "138 0013 8000", "+86-138-0013-8000", "+8613800138000"):
        assert numbers(search(c, phone=typed)) == [three[0].number], typed
    assert numbers(search(c, phone="0731 5812 3456")) == [three[1].number]
    assert numbers(search(c, name="秀英")) == [three[2].number]
    page = search(c, phone="12345")
    assert numbers(page) == [] and "not a valid phone number" in page


def test_a_reply_and_a_resolution_are_searchable_at_once(agent, yuhu):
    ticket = dispatched_ticket(agent, content="井盖缺失")
    assignment = lead_assignment(ticket)
    dispatch.accept_assignment(assignment, yuhu)
    dispatch.reply_assignment(assignment, yuhu, "已联系市政养护处补装新井盖")
    resolved = new_ticket(agent, content="咨询社保卡补办", resolve_with="告知携带身份证到社保大厅办理")
    c = client_of(agent)
    assert numbers(search(c, q="养护处")) == [ticket.number]
    assert numbers(search(c, q="社保大厅")) == [resolved.number]
    # The rows are the services' doing, in their transaction; a rebuild gives the same rows.
    before = dict(TicketSearch.objects.values_list("ticket_id", "tokens"))
    assert reindex_all() == Ticket.objects.count()
    assert dict(TicketSearch.objects.values_list("ticket_id", "tokens")) == before


def test_filters(agent, three, yuhu):
    c = client_of(agent)
    noise_topic_parent = three[0].topic.parent_id
    assert set(numbers(search(c, topic=noise_topic_parent))) == {
        t.number for t in three
    }  # a parent topic: all under it
    assert numbers(search(c, topic=three[1].topic_id)) == [three[1].number]
    assert set(numbers(search(c, area=three[0].area.parent_id))) == {t.number for t in three}
    dispatch.dispatch_ticket(three[0], agent, Unit.objects.get(code="YH"))
    assert numbers(search(c, unit=Unit.objects.get(code="YH").pk)) == [three[0].number]
    assert numbers(search(c, status="dispatched")) == [three[0].number]
    assert len(numbers(search(c, status=["dispatched", "registered"]))) == 3
    assert numbers(search(c, channel=Channel.WECHAT)) == []
    today = timezone.localdate()
    assert len(numbers(search(c, created_from=today, created_to=today))) == 3
    assert numbers(search(c, created_to=today - timedelta(days=1))) == []
    assert numbers(search(c, category=three[0].category_id, q="停水")) == [three[2].number]


def test_overdue_and_repeat(agent, three):
    c = client_of(agent)
    dispatch.dispatch_ticket(three[1], agent, Unit.objects.get(code="YT"))
    lead = lead_assignment(three[1])
    lead.reply_by = timezone.now() - timedelta(hours=1)
    lead.save(update_fields=["reply_by"])
    assert numbers(search(c, overdue="on")) == [three[1].number]
    again = new_ticket(agent, phone="13900139000", content="停水第四天了")
    assert again.repeat_of_id == three[2].pk
    assert numbers(search(c, repeat="on")) == [again.number]


def test_supervised_filters_to_tickets_under_an_open_case_and_marks_them(agent, dispatcher, three, yuhu):
    """Issue 14: the center's search page had no "supervised" filter."""
    for t in three[:2]:
        dispatch.dispatch_ticket(t, agent, Unit.objects.get(code="YH"))
    case = supervision.open_case(
        dispatcher, [three[0]], "written", "群众反复投诉。", timezone.now() + timedelta(days=3)
    )
    supervision.open_case(dispatcher, [three[1]], "phone", "电话督办。", timezone.now() + timedelta(days=3))
    supervision.close_case(
        Ticket.objects.get(pk=three[1].pk).supervisions.get(form="phone"), dispatcher, "solved", "已办结"
    )
    c = client_of(dispatcher)
    page = search(c, supervised="on")
    assert numbers(page) == [three[0].number]  # the closed case's ticket is no longer supervised
    assert 'data-testid="supervised"' in page and 'name="supervised" id="id_supervised" checked' in page
    assert numbers(search(c, supervised="on", q="路灯")) == []  # ANDed with the other criteria
    assert sorted(numbers(search(c))) == sorted(t.number for t in three)  # unticked: every ticket
    # A unit filters its own tickets the same way; the export follows the page.
    assert numbers(search(client_of(yuhu), supervised="on")) == [three[0].number]
    book = load_workbook(BytesIO(c.get(EXPORT, {"supervised": "on"}).content))
    assert [row[0].value for row in book.active.iter_rows(min_row=2)] == [three[0].number]
    assert case.is_open


def test_center_results_open_the_center_ticket_page(agent, three):
    page = search(client_of(agent), q="路灯")
    assert f'href="{reverse("web:ticket", args=[three[1].pk])}"' in page
    assert "+8673158123456" in page  # the center sees the whole number


def test_a_unit_searches_its_subtree_with_masked_phones_and_no_names(agent, yuhu, chengzheng, yuetang):
    mine = dispatched_ticket(agent, lead="YH", caller_name="王建国", content="广场舞太吵")
    dispatch.accept_assignment(lead_assignment(mine), yuhu)
    dispatch.sub_dispatch(lead_assignment(mine), yuhu, Unit.objects.get(code="YH01"))
    theirs = dispatched_ticket(agent, lead="YT", phone="13900139000", content="广场舞也太吵")
    page = search(client_of(yuhu), q="广场舞")
    assert numbers(page) == [mine.number]
    assert f'href="{reverse("web:unit-ticket", args=[mine.pk])}"' in page
    assert "138****8000" in page and "13800138000" not in page and "王建国" not in page
    assert numbers(search(client_of(chengzheng), q="广场舞")) == [mine.number]  # the street it went down to
    assert numbers(search(client_of(yuetang), q="广场舞")) == [theirs.number]
    # A unit may not find out whose number or name a ticket has by guessing.
    for params in ({"phone": "13800138000"}, {"name": "王建国"}):
        refused = search(client_of(yuhu), **params)
        assert numbers(refused) == [] and "only the center may search" in refused


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"q": "路" * 1000}, "longer than 100 characters"),
        ({"q": "%_'\";--"}, "no letters or digits"),
        ({"created_from": "2026-13-45"}, "Enter a valid date"),
        ({"created_from": "2026-11-29", "created_to": "2026-11-01"}, "start date is after the end date"),
        ({"unit": "abc"}, "Select a valid choice"),
    ],
)
def test_bad_input_is_a_clear_message_and_keeps_the_form(agent, three, params, message):
    page = search(client_of(agent), **params)
    assert message in page and numbers(page) == []
    if "q" in params:
        assert params["q"][:2] in page  # the input is kept


def test_metacharacters_are_searched_as_text_not_syntax(agent, three):
    c = client_of(agent)
    for q in ("广场%", "广场.*", "[广场]", "广场\\", "'广场'--", "广场_"):
        assert numbers(search(c, q=q)) == [three[0].number], q  # the letters count, the rest separates
    assert numbers(search(c, q="广场' OR '1'='1")) == []  # every term must be there: no widening


def test_empty_query_lists_everything_newest_first_and_pages(agent):
    made = [new_ticket(agent, phone=f"1380013{i:04d}", content=f"第{i}件") for i in range(27)]
    c = client_of(agent)
    first = search(c)
    assert numbers(first) == [t.number for t in reversed(made)][:25]
    assert re.search(r'data-testid="search-count">27<', first)
    assert numbers(search(c, page=2)) == [made[1].number, made[0].number]
    assert numbers(search(c, page=99)) == [made[1].number, made[0].number]  # past the end: the last page
    assert numbers(search(c, page="x")) == numbers(first)
    assert numbers(search(c, order="oldest"))[:2] == [made[0].number, made[1].number]
    assert numbers(search(c, order="number"))[0] == min(t.number for t in made)


def test_export_is_the_same_search_with_formulas_kept_as_text(agent, yuhu):
    evil = dispatched_ticket(
        agent, lead="YH", caller_name="王建国", title='=HYPERLINK("http://x","点")', content="广场舞"
    )
    new_ticket(agent, content="别的事")
    response = client_of(agent).get(EXPORT, {"q": "广场舞"})
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxml")
    ws = load_workbook(BytesIO(response.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][0] == evil.number
    title = next(c for c in ws[2] if c.value and str(c.value).startswith("=HYPERLINK"))
    assert title.data_type == "s" and title.quotePrefix
    assert "+8613800138000" in rows[1] and "王建国" in rows[1]
    unit_rows = list(load_workbook(BytesIO(client_of(yuhu).get(EXPORT).content)).active.iter_rows(values_only=True))
    assert len(unit_rows) == 2 and "138****8000" in unit_rows[1] and "王建国" not in unit_rows[1]
    assert client_of(agent).get(EXPORT, {"q": "路" * 1000}).status_code == 400


def test_outsiders_get_no_search(seeded, zhujian):
    assert Client().get(URL).status_code == 302  # to the login
    from tests.conftest import make_user

    citizen_admin = make_user("someone", "admin")
    assert client_of(citizen_admin).get(URL).status_code == 200  # center admin
    assert "Search" in search(client_of(zhujian)) or "搜索" in search(client_of(zhujian))


# --- the REST API: the same search behind /api/v1/tickets/ -------------------------------------------


def api_numbers(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [t["number"] for t in response.json()["results"]]


def test_api_searches_the_same_way(agent, three, yuhu):
    api = api_as(agent)
    assert api_numbers(api.get("/api/v1/tickets/", {"q": "广场舞"})) == [three[0].number]
    assert api_numbers(api.get("/api/v1/tickets/", {"phone": "138-0013-8000"})) == [three[0].number]
    assert api_numbers(api.get("/api/v1/tickets/", {"name": "秀英"})) == [three[2].number]
    assert api_numbers(api.get("/api/v1/tickets/", {"q": "人民路", "repeat": "false"})) == [three[1].number]
    bad = api.get("/api/v1/tickets/", {"q": "路" * 1000})
    assert bad.status_code == 400 and "100 characters" in bad.json()["message"]
    assert api.get("/api/v1/tickets/", {"q": "广场舞", "page": 9}).status_code == 404  # past the end: JSON 404
    assert api.get("/api/v1/tickets/", {"phone": "12345"}).status_code == 400
    assert api.get("/api/v1/tickets/", {"name": "王\x00"}).status_code == 400
    assert api.get("/api/v1/tickets/", {"q": "广场舞\x00"}).status_code == 400
    assert numbers(search(client_of(agent), name="王\x00")) == []  # the page: a message, no server error
    assert api_as(yuhu).get("/api/v1/tickets/", {"name": "秀英"}).status_code == 403
    assert api_as(yuhu).get("/api/v1/tickets/", {"phone": "13800138000"}).status_code == 403


def test_search_page_query_count_does_not_grow_with_the_page(agent, django_assert_max_num_queries):
    for i in range(30):
        new_ticket(agent, phone=f"1380013{i:04d}", content=f"第{i}件广场舞")
    c = client_of(agent)
    # session, user, the 2FA device check, count (capped), page of tickets with joins, their top
    # assignments, the form's choices (category, topic, area, unit), the audit entry of the phones
    # shown and its subjects (security §9), the supervision marks of the rows; on PostgreSQL also
    # the word's candidate ids and SET LOCAL jit = off in a savepoint (hotline.search.planner_guard).
    with django_assert_max_num_queries(14 + (4 if connection.vendor == "postgresql" else 0)):
        assert len(numbers(search(c, q="广场舞"))) == 25


@pytest.mark.postgres
def test_postgres_uses_the_tsvector_index_and_answers_as_sqlite_does(agent, three):
    assert connection.vendor == "postgresql"
    c = client_of(agent)
    assert numbers(search(c, q="广场舞")) == [three[0].number]
    assert numbers(search(c, q="广")) == [three[0].number]
    assert numbers(search(c, q="a3")) == [three[2].number]
    assert numbers(search(c, q="吵晚上")) == []
    with connection.cursor() as cur:
        cur.execute("SET enable_seqscan = off")
        cur.execute(
            "EXPLAIN SELECT ticket_id FROM hotline_ticketsearch WHERE tsv @@ to_tsquery('simple', %s)",
            ["'广场' <-> '场舞'"],
        )
        plan = "\n".join(row[0] for row in cur.fetchall())
        cur.execute("SET enable_seqscan = on")
    assert "hotline_ticketsearch_tsv" in plan


@pytest.mark.postgres
def test_postgres_tests_row_by_row_when_a_word_matches_many(agent, monkeypatch):
    """Past CANDIDATES matches the page tests each ticket in sort order (hotline.search.ROW_MATCH)."""
    from hotline import search as search_module
    from web.views import search as search_view

    made = [new_ticket(agent, phone=f"1380013{i:04d}", content=f"广场舞第{i}次") for i in range(4)]
    new_ticket(agent, content="路灯不亮")
    monkeypatch.setattr(search_module, "CANDIDATES", 2)
    monkeypatch.setattr(search_view, "COUNT_CAP", 2)
    c = client_of(agent)
    page = search(c, q="广场舞")
    assert numbers(page) == [made[3].number, made[2].number]  # newest first, the pager within the cap
    assert re.search(r'data-testid="search-count">more than 2<', page)  # the words alone: known to be many
    assert numbers(search(c, q="广场舞", status="registered", order="oldest")) == [made[0].number, made[1].number]
    assert re.search(r'data-testid="search-count">more than 2<', search(c, q="广场舞", status="registered"))
    narrowed = search(c, q="广场舞", channel="wechat")  # narrowed by more than the words: counted
    assert numbers(narrowed) == [] and re.search(r'data-testid="search-count">0<', narrowed)
