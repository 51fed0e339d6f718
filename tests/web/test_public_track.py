"""The citizens' progress page /track/: what a caller sees of their ticket, and what never shows.

Tickets are moved through the real services; the page is read through HTTP as a phone would.
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import resolve
from django.utils import timezone

from callback import notifications, revisits
from callback.models import SmsMessage
from hotline.models import Assignment, Ticket, TicketStatus, Unit
from hotline.public import citizen_view, track_path
from hotline.services import dispatch, tickets
from tests.callback.conftest import due_revisit
from tests.factories import dispatched_ticket, lead_assignment, new_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _own_counters(settings):
    """Each test its own throttle counters: a fresh key prefix on the configured cache (Redis in CI)."""
    settings.CACHES = {name: {**conf, "KEY_PREFIX": f"t-{uuid.uuid4().hex}"} for name, conf in settings.CACHES.items()}


def citizen(language: str = "zh-hans") -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE=language, REMOTE_ADDR="203.0.113.7")


def open_link(ticket: Ticket, client: Client | None = None):
    return (client or citizen()).get(track_path(ticket))


def text(response) -> str:
    return response.content.decode()


def replied(agent, handler, reply: str = "街道已约谈组织者，音量已调低，22点前结束。") -> Ticket:
    ticket = dispatched_ticket(agent)
    lead = lead_assignment(ticket)
    dispatch.accept_assignment(lead, handler)
    dispatch.reply_assignment(lead, handler, reply)
    ticket.refresh_from_db()
    return ticket


def test_a_new_ticket_reads_received_with_the_phone_masked(agent) -> None:
    content = "小区楼下广场舞音乐太吵，晚上十点后仍未停止。我家住三楼，孩子今年中考，已多次沟通无果。"
    ticket = new_ticket(agent, content=content, caller_name="王建国")
    response = open_link(ticket)
    assert response.status_code == 200
    page = text(response)
    assert "已受理" in page and ticket.number in page
    assert "138****8000" in page and "13800138000" not in page
    assert "广场舞音乐太吵" in page  # the one-line title
    # Not the full text, the address or the name: a six-digit code should not open them.
    assert "孩子今年中考" not in page and "城正街88号" not in page and "王建国" not in page
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "same-origin"


def test_each_step_of_a_ticket_in_plain_words_and_the_reply_only_after_approval(agent, dispatcher, yuhu) -> None:
    ticket = dispatched_ticket(agent)
    page = text(open_link(ticket))
    assert "已转办" in page and "雨湖区" in page
    lead = lead_assignment(ticket)
    assert lead.reply_by.astimezone(timezone.get_current_timezone()).strftime("%Y-%m-%d") in page

    dispatch.accept_assignment(lead, yuhu)
    assert "办理中" in text(open_link(ticket))

    dispatch.reply_assignment(lead, yuhu, "街道已约谈组织者，音量已调低。")
    page = text(open_link(ticket))
    assert "已答复" in page
    assert "街道已约谈组织者" not in page  # not yet approved by the center

    tickets.review_reply(ticket, dispatcher, approve=True)
    page = text(open_link(ticket))
    assert "回访中" in page and "街道已约谈组织者" in page

    revisit = due_revisit(Ticket.objects.get(pk=ticket.pk))
    revisits.record_result(revisit, agent, rating="satisfied", comment="谢谢")
    page = text(open_link(ticket))
    assert "已办结" in page and "满意" in page and "街道已约谈组织者" in page


def test_an_unsatisfied_revisit_shows_the_ticket_back_in_hand_without_the_old_reply(agent, dispatcher, yuhu) -> None:
    ticket = replied(agent, yuhu)
    tickets.review_reply(ticket, dispatcher, approve=True)
    revisit = due_revisit(Ticket.objects.get(pk=ticket.pk))
    revisits.record_result(revisit, agent, rating="unsatisfied", comment="还是很吵")
    view = citizen_view(ticket)
    assert view.stage.key == "in_progress"
    assert view.reply == ""
    assert "redone" in str(view.revisit)
    assert view.reply_by is not None  # the redo's new deadline


def test_nothing_internal_reaches_the_page(agent, dispatcher, yuhu, zhujian) -> None:
    yuhu.first_name, yuhu.last_name = "三丰", "张"
    yuhu.save()
    # First to the wrong unit, which returns it with a reason; then to 雨湖区 with instructions.
    ticket = new_ticket(agent)
    dispatch.dispatch_ticket(ticket, agent, Unit.objects.get(code="ZJJ"), instructions="内部指示甲乙丙")
    wrong = Assignment.objects.get(ticket=ticket)
    dispatch.return_assignment(wrong, zhujian, "退回理由：不属于本单位职责")
    ticket.refresh_from_db()
    dispatch.dispatch_ticket(ticket, dispatcher, Unit.objects.get(code="YH"), instructions="请核实后处理丁戊")
    lead = lead_assignment(ticket)
    dispatch.accept_assignment(lead, yuhu)
    dispatch.reply_assignment(lead, yuhu, "已处理完毕。")
    tickets.review_reply(ticket, dispatcher, approve=True, note="审核意见内部己庚")

    page = text(open_link(ticket))
    assert "已处理完毕" in page
    unit = Unit.objects.get(code="YH")
    secrets = ["内部指示甲乙丙", "退回理由", "丁戊", "审核意见内部己庚", "张三丰", "handler_yuhu", "agent_wang"]
    secrets += [s for s in (unit.leader_name, unit.leader_phone, unit.liaison_name, unit.liaison_phone) if s]
    for secret in secrets:
        assert secret not in page, secret
    assert "市住房和城乡建设局" not in page  # the unit that returned it never handled it


def test_a_merged_ticket_shows_the_ticket_it_went_into_but_none_of_its_callers_data(agent, dispatcher, yuhu) -> None:
    earlier = replied(agent, yuhu, reply="已处理。")
    tickets.review_reply(earlier, dispatcher, approve=True)
    other = new_ticket(agent, phone="13900139000", content="另一位市民：同一处广场舞噪音。", address="城正街90号")
    tickets.merge_ticket(other, earlier, agent)
    page = text(open_link(other))
    assert "已合并办理" in page and earlier.number in page
    assert "已处理。" in page  # the approved answer of the ticket it is handled in
    assert "139****9000" in page and "另一位市民" in page  # its own caller's own data
    assert "138****8000" not in page and "小区楼下广场舞" not in page  # not the other caller's


def test_a_discarded_ticket_reads_withdrawn_to_the_holder_of_its_code(agent, dispatcher) -> None:
    ticket = new_ticket(agent)
    tickets.discard_ticket(ticket, dispatcher, "重复登记")
    response = open_link(ticket)
    assert response.status_code == 200
    assert "已撤销" in text(response) and "重复登记" not in text(response)


def test_a_ticket_handed_to_110_says_so(agent) -> None:
    ticket = new_ticket(agent)
    tickets.transfer_to_110(ticket, agent, "打架斗殴")
    page = text(open_link(ticket))
    assert "已移交公安110" in page and "打架斗殴" not in page


def test_every_status_has_words_for_a_citizen() -> None:
    from hotline.public import STAGES

    assert set(STAGES) == set(TicketStatus.values)


def test_the_form_posts_the_number_and_code_and_accepts_full_width_digits(agent) -> None:
    ticket = new_ticket(agent)
    full_width = "".join(chr(ord(d) + 0xFEE0) for d in ticket.number)
    response = citizen().post("/track/", {"n": f" {full_width[:8]}\u3000{full_width[8:]} ", "c": ticket.query_code})
    assert response.status_code == 200 and ticket.number in text(response)


@pytest.mark.parametrize(
    "number, code, hint",
    [
        ("abc", "123456", "工单号为13位数字"),
        ("202611290000", "123456", "工单号为13位数字"),  # a digit short
        ("2026112900001", "12345a", "查询码为6位数字"),
        ("1" * 10_000, "1" * 10_000, "工单号为13位数字"),
        ("", "", "工单号为13位数字"),
        ("2026112900001; DROP TABLE", "123456", "工单号为13位数字"),
    ],
)
def test_malformed_input_gets_a_plain_hint_and_is_not_counted(agent, number, code, hint) -> None:
    ticket = new_ticket(agent)
    client = citizen()
    for _ in range(15):  # more than the failure limit
        response = client.post("/track/", {"n": number, "c": code})
        assert response.status_code == 400 and hint in text(response)
    assert client.post("/track/", {"n": ticket.number, "c": ticket.query_code}).status_code == 200


def test_a_wrong_code_and_an_unknown_number_read_the_same(agent) -> None:
    ticket = new_ticket(agent)
    wrong = "0" * 6 if ticket.query_code != "000000" else "1" * 6
    unknown = ticket.number[:8] + "99999"
    a = citizen().post("/track/", {"n": ticket.number, "c": wrong})
    b = citizen().post("/track/", {"n": unknown, "c": ticket.query_code})
    assert a.status_code == b.status_code == 404
    token = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')  # masked afresh on every page
    assert token.sub("", text(a).replace(ticket.number, "N")) == token.sub("", text(b).replace(unknown, "N"))


def test_the_query_code_ends_some_months_after_the_ticket_closed(agent, settings) -> None:
    settings.PUBLIC_TRACK_DAYS_AFTER_CLOSE = 180
    ticket = new_ticket(agent)
    tickets.resolve_on_call(ticket, agent, "已当场解答。")
    ticket.refresh_from_db()
    assert open_link(ticket).status_code == 200
    Ticket.objects.filter(pk=ticket.pk).update(
        status=TicketStatus.CLOSED, closed_at=timezone.now() - timedelta(days=181)
    )
    assert open_link(ticket).status_code == 404


def test_the_registration_sms_carries_a_short_link_that_opens_the_ticket(agent, settings) -> None:
    settings.PUBLIC_BASE_URL = "https://12345.xiangtan.example/"
    ticket = new_ticket(agent)
    assert notifications.notify_registered() == 1
    body = SmsMessage.objects.get(ticket=ticket).body
    link = f"https://12345.xiangtan.example/t/{ticket.number}?c={ticket.query_code}"
    assert link in body and ticket.number in body and ticket.query_code in body
    assert len(body) <= 134  # two SMS parts at most
    path = link.removeprefix("https://12345.xiangtan.example")
    assert resolve(path.split("?")[0]).url_name == "track-short"
    response = citizen().get(path)
    assert response.status_code == 200 and "已受理" in text(response)


def test_without_a_public_address_the_sms_is_as_before(agent, settings) -> None:
    settings.PUBLIC_BASE_URL = ""
    ticket = new_ticket(agent)
    notifications.notify_registered()
    body = SmsMessage.objects.get(ticket=ticket).body
    assert "http" not in body and ticket.query_code in body


def test_large_text_is_a_cookie_set_by_a_plain_form(agent) -> None:
    ticket = new_ticket(agent)
    client = citizen()
    client.get("/track/")  # the CSRF cookie, as a browser gets it
    response = client.post("/track/text-size/", {"large": "1", "next": track_path(ticket)})
    assert response.status_code == 302 and response["Location"] == track_path(ticket)
    assert 'class="large"' in text(client.get(track_path(ticket)))
    client.post("/track/text-size/", {"large": "0", "next": "https://evil.example/"})
    assert 'class="large"' not in text(client.get("/track/"))
    assert client.post("/track/text-size/", {"next": "https://evil.example/"})["Location"] == "/track/"


def test_the_page_comes_in_english_through_set_language(agent) -> None:
    ticket = new_ticket(agent)
    client = citizen()
    client.get("/track/")
    response = client.post("/i18n/setlang/", {"language": "en", "next": track_path(ticket)})
    assert response["Location"] == track_path(ticket)
    page = text(client.get(track_path(ticket)))
    assert "Received" in page and "已受理" not in page


def test_the_empty_form_fits_a_phone_and_needs_no_script() -> None:
    page = text(citizen().get("/track/?n=2026112900001"))
    assert 'name="viewport"' in page and "<script" not in page
    assert 'value="2026112900001"' in page


def test_a_street_the_district_passed_the_work_to_is_named_as_handling_it_on_the_spot(agent, yuhu, chengzheng) -> None:
    ticket = dispatched_ticket(agent)
    lead = lead_assignment(ticket)
    dispatch.accept_assignment(lead, yuhu)
    dispatch.sub_dispatch(lead, yuhu, Unit.objects.get(code="YH01"), instructions="请现场核查")
    page = text(open_link(ticket))
    assert '雨湖区 <span class="muted">· 主办单位' in page
    street = Unit.objects.get(code="YH01").name
    assert f'{street} <span class="muted">· 具体承办' in page
    assert "请现场核查" not in page
