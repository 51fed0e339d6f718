"""派单 queue for a real day (issue 14, point 2): every waiting ticket, paged, with age, urgency,
channel and 当日转办, filters whose counts match the list, and a way back to the same list."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from django.urls import reverse

from hotline.models import Channel, Ticket, Unit, Urgency
from hotline.services import dispatch, tickets
from tests.factories import new_ticket
from tests.web.test_consumers import connect_as, receive_until, run

TZ = ZoneInfo("Asia/Shanghai")
URL = reverse("web:dispatch")


def numbers(html: str) -> list[str]:
    return re.findall(r'data-testid="waiting-row"[^>]*><td><a href="[^"]*"><strong>(\d+)</strong></a>', html)


def page(client: Client, **params) -> str:
    response = client.get(URL, params)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def logged_in(dispatcher) -> Client:
    client = Client()
    client.force_login(dispatcher)
    return client


@pytest.fixture
def day_of_27(agent) -> list[Ticket]:
    """26 tickets registered over the last days and one today, oldest first."""
    now = datetime.now(TZ)
    made = [
        new_ticket(agent, phone=f"1380013{i:04d}", address=f"雨湖区{i}号", created_at=now - timedelta(hours=60 - 2 * i))
        for i in range(26)
    ]
    made.append(new_ticket(agent, phone="13900139000", address="岳塘区1号"))
    return made


def test_every_waiting_ticket_is_listed_page_by_page_and_the_count_matches(logged_in, day_of_27):
    first = page(logged_in)
    assert re.search(r'data-testid="waiting-count">27<', first)
    assert numbers(first) == [t.number for t in day_of_27[:25]]
    second = page(logged_in, page=2)
    assert numbers(second) == [t.number for t in day_of_27[25:]]  # today's ticket is reachable
    assert "Page 2 of 2" in second or "第 2 页" in second


def test_newest_first_puts_todays_ticket_on_top(logged_in, day_of_27):
    assert numbers(page(logged_in, order="newest"))[0] == day_of_27[-1].number


def test_each_row_shows_its_age_channel_and_urgency(logged_in, agent):
    ticket = new_ticket(
        agent, channel=Channel.WECHAT, urgency=Urgency.URGENT, created_at=datetime.now(TZ) - timedelta(hours=3)
    )
    html = page(logged_in)
    row = html[html.index(ticket.number) :]
    row = row[: row.index("</tr>")]
    assert 'data-testid="age"' in row and re.search(r"3\s*(hours|小时)", row)
    assert str(Channel.WECHAT.label) in row
    assert str(Urgency.URGENT.label) in row
    assert 'data-testid="dispatch-by"' in row


def test_filters_narrow_the_list_and_its_count(logged_in, agent, yuhu):
    phone = new_ticket(agent, phone="13800000001")
    wechat = new_ticket(agent, phone="13800000002", address="岳塘区2号", channel=Channel.WECHAT)
    returned = new_ticket(agent, phone="13800000003", address="岳塘区3号")
    dispatch.dispatch_ticket(returned, agent, yuhu.unit)
    dispatch.return_assignment(returned.assignments.get(), yuhu, "不属于本单位职责范围")

    html = page(logged_in, channel="wechat")
    assert numbers(html) == [wechat.number]
    assert re.search(r'data-testid="waiting-count">1<', html)
    assert "3" in re.search(r'class="small muted">[^<]*</span></h1>', html).group(0)  # "of 3 waiting"

    html = page(logged_in, status="returned")
    assert numbers(html) == [returned.number]
    assert "不属于本单位职责范围" in html and 'data-testid="return-reason"' in html
    assert phone.number not in numbers(html)


def test_past_dispatch_by_lists_only_urgent_tickets_left_waiting_beyond_their_day(logged_in, agent):
    now = datetime.now(TZ)
    late = new_ticket(agent, phone="13800000011", urgency=Urgency.URGENT, created_at=now - timedelta(days=4))
    new_ticket(agent, phone="13800000012", address="岳塘区12号", urgency=Urgency.URGENT)  # due end of its day
    new_ticket(agent, phone="13800000013", address="岳塘区13号", created_at=now - timedelta(days=4))  # not urgent
    html = page(logged_in, late="on")
    assert numbers(html) == [late.number]
    assert "warn-red" in html


def test_bad_filter_values_are_ignored_not_an_error(logged_in, day_of_27):
    html = page(logged_in, channel="fax", urgency="<script>", order="sideways", page="abc")
    assert len(numbers(html)) == 25
    assert "<script>" not in html


def test_dispatching_from_a_filtered_page_returns_to_that_page(logged_in, day_of_27):
    ticket = day_of_27[26]
    unit = Unit.objects.get(code="YH")
    response = logged_in.post(
        reverse("web:center-dispatch", args=[ticket.pk]),
        {"unit": unit.pk, "back": "order=newest&channel=phone&page=2&evil=https://x.example"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"{URL}?order=newest&channel=phone&page=2"
    ticket.refresh_from_db()
    assert ticket.status == "dispatched"


@pytest.mark.django_db(transaction=True)
def test_the_socket_re_renders_the_filtered_list_it_was_opened_with(dispatcher, agent, complaint):
    async def scenario():
        comm, _ = await connect_as(dispatcher, "/ws/dispatch/?channel=wechat")
        await comm.receive_from(timeout=5)
        register = sync_to_async(tickets.register_ticket)
        phone_ticket = await register(by=agent, phone="13812345678", content="路灯不亮", category=complaint)
        wechat_ticket = await register(
            by=agent, phone="13812345679", content="井盖缺失", category=complaint, channel=Channel.WECHAT
        )
        frame = await receive_until(comm, wechat_ticket.number)
        assert phone_ticket.number not in frame
        await comm.disconnect()

    run(scenario)
