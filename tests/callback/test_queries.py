"""Queries by SMS (issue 15, point 5): "查询 <工单号> <查询码>" answers with the status and the link."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from rest_framework.test import APIClient

from callback import queries, revisits
from callback.models import Revisit, SmsMessage
from callback.queries import HELP_TEXT, NOT_FOUND_TEXT, THROTTLED_TEXT, UNREADABLE_TEXT, Query, parse
from hotline.models import Ticket
from hotline.services import tickets
from tests.factories import dispatched_ticket, new_ticket

pytestmark = pytest.mark.django_db
HOOK = "/api/v1/sms/inbound/?token=hook-token"
OWN_PHONE = "+8613800138000"
OTHER_PHONE = "+8613900139000"


@pytest.fixture(autouse=True)
def _limits(settings):
    """The page's default limits (conftest gives each test its own counters)."""
    settings.PUBLIC_TRACK_FAILURES_PER_ADDRESS = 10
    settings.PUBLIC_TRACK_FAILURES_PER_TICKET = 10
    settings.PUBLIC_TRACK_FAILURES_PER_ADDRESS_DAY = 50
    settings.PUBLIC_TRACK_FAILURES_PER_TICKET_DAY = 30
    settings.SMS_REPLIES_PER_SENDER_HOUR = 20
    settings.SMS_INBOUND_TOKEN = "hook-token"
    settings.PUBLIC_BASE_URL = "https://12345.example.cn"


def texted(sender: str, body: str) -> SmsMessage | None:
    """Send an SMS to the hotline's webhook; the reply it queued, if any."""
    before = SmsMessage.objects.filter(direction="out").values_list("pk", flat=True)
    seen = set(before)
    response = APIClient().post(HOOK, {"From": sender, "Body": body})
    assert response.status_code == 200 and response["Content-Type"] == "text/xml"
    new = SmsMessage.objects.filter(direction="out").exclude(pk__in=seen)
    assert new.count() <= 1
    return new.first()


@pytest.mark.parametrize(
    "text",
    [
        "查询 2026112900001 209672",
        "CX 2026112900001 209672",
        "cx2026112900001,209672",
        "Cx：2026112900001－209672",
        "查询　２０２６１１２９００００１　２０９６７２",
        "ＣＸ ２０２６１１２９００００１ ２０９６７２",
        "查询：2026112900001，209672。",
        "查询2026112900001209672",
        "查询 20261129 00001 209672",
        "查询 209672 2026112900001",
        "2026112900001 209672",
        " 查询 2026112900001 209672 😀",
        "查询 工单号2026112900001，查询码209672，谢谢",
        "工单号2026112900001，查询码209672",
    ],
)
def test_the_query_is_read_in_every_usual_spelling(text: str) -> None:
    assert parse(text) == Query("2026112900001", "209672")


@pytest.mark.parametrize(
    "text",
    [
        "查询 2026112900001",
        "查询一下工单2026112900001的进度",
        "CX2026112900001",
        "2026112900001",
        "２０２６１１２９００００１",
    ],
)
def test_the_number_alone_is_a_query_without_a_code(text: str) -> None:
    assert parse(text) == Query("2026112900001", None)


@pytest.mark.parametrize("text", ["查询", "查询进度", "CX 123", "查询 2026112900001 20967", "查询我的工单 2026"])
def test_a_query_word_with_no_readable_number_is_unreadable(text: str) -> None:
    assert parse(text) == Query(None)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "1",
        "3 晚上还是很吵",
        "3 工单2026112900001还没解决",
        "😀",
        "你好",
        "cxk 2026112900001 209672",
        "a" * 1000,
        "查询 " + "1" * 1000,
        None,
    ],
)
def test_anything_else_is_not_a_query(text) -> None:
    assert parse(text) is None


def test_an_sms_query_answers_with_the_status_in_plain_words_and_the_link(agent) -> None:
    ticket = new_ticket(agent)
    reply = texted("13800138000", f"查询 {ticket.number} {ticket.query_code}")
    assert reply.purpose == "query_answer" and reply.to == OWN_PHONE and reply.ticket_id == ticket.pk
    assert f"您的工单{ticket.number}当前状态：已受理" in reply.body
    assert f"https://12345.example.cn/t/{ticket.number}?c={ticket.query_code}" in reply.body
    assert SmsMessage.objects.filter(direction="in", body__startswith="查询").count() == 1


def test_full_width_cx_from_any_phone_works_and_says_nothing_of_the_caller(agent, dispatcher) -> None:
    ticket = dispatched_ticket(agent)
    wide = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in f"{ticket.number} {ticket.query_code}")
    reply = texted(OTHER_PHONE, f"ＣＸ　{wide}")
    assert "当前状态：已转办" in reply.body
    assert "138" not in reply.body.replace(ticket.number, "") and "广场舞" not in reply.body


def test_the_number_alone_answers_only_the_tickets_own_phone(agent) -> None:
    ticket = new_ticket(agent)
    mine = texted(OWN_PHONE, ticket.number)
    assert "当前状态：已受理" in mine.body and ticket.query_code in mine.body  # the link carries it
    theirs = texted(OTHER_PHONE, f"查询 {ticket.number}")
    assert theirs.body == NOT_FOUND_TEXT and ticket.query_code not in theirs.body


def test_a_wrong_code_and_an_unknown_number_answer_the_same(agent) -> None:
    ticket = new_ticket(agent)
    wrong = "000000" if ticket.query_code != "000000" else "111111"
    assert texted(OTHER_PHONE, f"查询 {ticket.number} {wrong}").body == NOT_FOUND_TEXT
    assert texted(OTHER_PHONE, f"查询 2020010199999 {ticket.query_code}").body == NOT_FOUND_TEXT


def test_a_merged_ticket_answers_with_the_one_it_went_into_and_a_discarded_one_says_withdrawn(
    agent, dispatcher
) -> None:
    first = new_ticket(agent)
    repeat = new_ticket(agent, phone="13900139000")
    tickets.merge_ticket(repeat, first, dispatcher, "同一广场舞噪音")
    merged = queries.answer_text(f"查询 {repeat.number} {repeat.query_code}", OTHER_PHONE)
    assert f"您的工单{repeat.number}已并入工单{first.number}办理，当前状态：已受理" in merged
    assert f"/t/{repeat.number}?c={repeat.query_code}" in merged
    mistake = new_ticket(agent, phone="13700137000")
    tickets.discard_ticket(mistake, dispatcher, "误登记")
    assert "当前状态：已撤销" in queries.answer_text(f"CX {mistake.number} {mistake.query_code}", OTHER_PHONE)


def test_one_number_guessing_is_throttled_and_then_refused_even_the_right_code(agent) -> None:
    ticket = new_ticket(agent)
    for guess in range(10):
        answer = queries.answer_text(f"查询 {ticket.number} {guess:06d}", OTHER_PHONE)
        assert answer in (NOT_FOUND_TEXT,) or ticket.query_code == f"{guess:06d}"
    assert queries.answer_text(f"查询 {ticket.number} {ticket.query_code}", OTHER_PHONE) == THROTTLED_TEXT
    # Another ticket from the same sender: the sender is full too.
    other = new_ticket(agent, phone="13700137000")
    assert queries.answer_text(f"查询 {other.number} {other.query_code}", OTHER_PHONE) == THROTTLED_TEXT
    # The ticket's own caller asking for another ticket is not held back by the guesser.
    assert "当前状态" in queries.answer_text(f"查询 {other.number} {other.query_code}", OWN_PHONE)


def test_a_ticket_guessed_from_many_numbers_is_throttled(agent) -> None:
    ticket = new_ticket(agent)
    wrong = "000000" if ticket.query_code != "000000" else "111111"
    for n in range(10):
        assert queries.answer_text(f"查询 {ticket.number} {wrong}", f"+86139000000{n:02d}") == NOT_FOUND_TEXT
    assert queries.answer_text(f"查询 {ticket.number} {ticket.query_code}", OWN_PHONE) == THROTTLED_TEXT


def test_failures_on_the_web_page_count_for_sms_too(agent) -> None:
    """One throttle: the page's per-ticket bucket and the SMS's are the same counter."""
    ticket = new_ticket(agent)
    wrong = "000000" if ticket.query_code != "000000" else "111111"
    for n in range(10):
        client = APIClient(REMOTE_ADDR=f"198.51.100.{n + 1}")
        assert client.get(f"/api/v1/public/tickets/{ticket.number}/?code={wrong}").status_code == 404
    assert queries.answer_text(f"查询 {ticket.number} {ticket.query_code}", OWN_PHONE) == THROTTLED_TEXT


def test_an_unreadable_query_says_how_and_is_not_counted(agent) -> None:
    ticket = new_ticket(agent)
    for _ in range(15):
        assert texted(OTHER_PHONE, "查询 我的工单").body == UNREADABLE_TEXT
    assert "当前状态" in queries.answer_text(f"查询 {ticket.number} {ticket.query_code}", OTHER_PHONE)


@pytest.mark.parametrize("body", ["", "😀😀😀", "你好，请问我的投诉怎么样了", "ａｂｃ　１２３", "好" * 1000])
def test_anything_else_gets_the_short_help_text(agent, body: str) -> None:
    reply = texted("13800138000", body)
    assert reply.body == HELP_TEXT and reply.purpose == "query_answer"
    assert len(HELP_TEXT) <= 70  # one SMS part
    stored = SmsMessage.objects.get(direction="in")
    assert stored.body == body[:500] and stored.sender == OWN_PHONE


def test_many_messages_from_one_number_stop_getting_replies(agent) -> None:
    for n in range(30):
        texted(OTHER_PHONE, f"第{n}条")
    assert SmsMessage.objects.filter(direction="in").count() == 30
    assert SmsMessage.objects.filter(direction="out", to=OTHER_PHONE).count() == 20
    assert texted(OWN_PHONE, "?").body == HELP_TEXT  # others are still answered


def test_revisit_answers_keep_working_and_a_query_is_still_a_query(pending_ticket) -> None:
    revisit = revisits.schedule_revisit(pending_ticket, channel="sms")
    with time_machine.travel(revisit.scheduled_for + timedelta(minutes=1), tick=False):
        revisits.start_due_surveys()
        query = texted(OWN_PHONE, f"CX {pending_ticket.number} {pending_ticket.query_code}")
        assert "当前状态：回访中" in query.body
        garbage = texted(OWN_PHONE, "好")
        assert "未能识别" in garbage.body and garbage.purpose == "survey_answer"
        thanks = texted(OWN_PHONE, "１ 很满意")
        assert "感谢" in thanks.body and thanks.ticket_id == pending_ticket.pk
    revisit = Revisit.objects.get()
    assert (revisit.status, revisit.rating) == ("done", "satisfied")
    assert Ticket.objects.get(pk=pending_ticket.pk).status == "closed"
    assert texted(OWN_PHONE, "1").body == HELP_TEXT  # nothing left to rate


def test_answer_text_is_none_for_a_non_query_so_wechat_can_answer_its_own_way(agent) -> None:
    assert queries.answer_text("你好", "") is None
    ticket = new_ticket(agent)
    # No phone (a WeChat user not bound yet): the number alone opens nothing; the pair does.
    assert queries.answer_text(ticket.number, "", sender="wechat:o123") == NOT_FOUND_TEXT
    assert "当前状态" in queries.answer_text(f"{ticket.number} {ticket.query_code}", "", sender="wechat:o123")


def test_a_number_on_the_do_not_call_list_still_gets_the_answer_it_asked_for(agent) -> None:
    from callback.models import DoNotCall

    ticket = new_ticket(agent)
    DoNotCall.objects.create(phone=OWN_PHONE, reason="不要来电")
    assert "当前状态：已受理" in texted(OWN_PHONE, f"查询 工单号{ticket.number}，查询码{ticket.query_code}").body
