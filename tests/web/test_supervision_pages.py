"""催办 and 督办 in the consoles and the API: the ticket page's forms, the marks on every list,
the supervisors' list and case pages, the Excel report, the API action and field."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from hotline.models import SupervisionCase, SupervisionStatus, TimelineEntry, Unit
from hotline.services import supervision
from tests.conftest import api_as
from tests.factories import dispatched_ticket, lead_assignment, new_ticket

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def html_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def due_date(days: int = 7) -> str:
    return (timezone.localdate() + timedelta(days=days)).isoformat()


def open_case(user, tickets, **extra):
    return supervision.open_case(
        user,
        tickets,
        extra.pop("form", "written"),
        extra.pop("reason", "超期未办"),
        timezone.now() + timedelta(days=5),
        **extra,
    )


# --- the ticket page ----------------------------------------------------------------------


def test_reviewers_get_the_remind_and_supervise_forms_agents_do_not(agent, dispatcher, supervisor) -> None:
    ticket = dispatched_ticket(agent)
    url = reverse("web:ticket", args=[ticket.pk])
    for user in (dispatcher, supervisor):
        html = html_of(client_for(user).get(url))
        assert 'data-testid="remind"' in html and 'data-testid="supervise"' in html
    html = html_of(client_for(agent).get(url))
    assert 'data-testid="remind"' not in html and 'data-testid="supervise"' not in html


def test_remind_from_the_ticket_page_is_on_the_timeline(agent, dispatcher) -> None:
    ticket = dispatched_ticket(agent)
    client = client_for(dispatcher)
    response = client.post(reverse("web:ticket-remind", args=[ticket.pk]), {"note": "请今日内联系群众"})
    assert response.status_code == 302
    entry = TimelineEntry.objects.get(ticket=ticket, action="ticket.reminder")
    assert entry.note == "请今日内联系群众" and entry.assignment == lead_assignment(ticket)
    html = html_of(client.get(reverse("web:ticket", args=[ticket.pk])))
    line = html[html.index('data-action="ticket.reminder"') :]
    assert "雨湖区" in line[:400] and "请今日内联系群众" in line[:400]


def test_remind_one_chosen_unit(agent, dispatcher) -> None:
    ticket = new_ticket(agent)
    from hotline.services import dispatch

    dispatch.dispatch_ticket(ticket, dispatcher, Unit.objects.get(code="YH"), [Unit.objects.get(code="ZJJ")])
    assisting = ticket.assignments.get(unit__code="ZJJ")
    client_for(dispatcher).post(
        reverse("web:ticket-remind", args=[ticket.pk]), {"note": "请协办单位配合", "assignment": assisting.pk}
    )
    assert list(TimelineEntry.objects.filter(action="ticket.reminder").values_list("assignment", flat=True)) == [
        assisting.pk
    ]


@pytest.mark.parametrize("post", [{"note": ""}, {"note": "长" * 501}, {"note": "好", "assignment": "999999"}])
def test_bad_reminders_are_refused_with_a_message_and_record_nothing(agent, dispatcher, post) -> None:
    ticket = dispatched_ticket(agent)
    client = client_for(dispatcher)
    response = client.post(reverse("web:ticket-remind", args=[ticket.pk]), post, follow=True)
    assert response.status_code == 200 and 'class="error"' in response.content.decode()
    assert not TimelineEntry.objects.filter(action="ticket.reminder").exists()


def test_an_agent_posting_a_reminder_is_refused(agent) -> None:
    ticket = dispatched_ticket(agent)
    response = client_for(agent).post(reverse("web:ticket-remind", args=[ticket.pk]), {"note": "催"}, follow=True)
    assert 'class="error"' in response.content.decode()
    assert not TimelineEntry.objects.filter(action="ticket.reminder").exists()


def test_supervise_from_the_ticket_page_marks_it_everywhere(agent, dispatcher, yuhu) -> None:
    ticket = dispatched_ticket(agent)
    unit = Unit.objects.get(code="YH")
    post = {"form": "leader_instruction", "reason": "市领导批示：限期整改", "due_by": due_date(), "unit": unit.pk}
    response = client_for(dispatcher).post(reverse("web:ticket-supervise", args=[ticket.pk]), post)
    assert response.status_code == 302
    case = SupervisionCase.objects.get()
    assert case.form == "leader_instruction" and case.unit == unit and case.leader_name == unit.leader_name
    assert timezone.localtime(case.due_by).date().isoformat() == due_date()
    html = html_of(client_for(dispatcher).get(reverse("web:ticket", args=[ticket.pk])))
    assert 'data-testid="supervised"' in html and 'data-testid="supervision-case"' in html
    assert "市领导批示：限期整改" in html
    # The unit: its inbox row and its ticket page.
    inbox = html_of(client_for(yuhu).get(reverse("web:workbench")))
    row = inbox[inbox.index(ticket.number) - 200 :]
    assert 'data-testid="supervised"' in row[:800]
    unit_page = html_of(client_for(yuhu).get(reverse("web:unit-ticket", args=[ticket.pk])))
    assert 'data-testid="supervision-case"' in unit_page and "市领导批示：限期整改" in unit_page
    assert 'data-testid="supervise"' not in unit_page  # units do not open cases


def test_bad_supervision_input_keeps_nothing(agent, dispatcher) -> None:
    ticket = dispatched_ticket(agent)
    url = reverse("web:ticket-supervise", args=[ticket.pk])
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    for post in (
        {"form": "nonsense", "reason": "x", "due_by": due_date()},
        {"form": "written", "reason": "", "due_by": due_date()},
        {"form": "written", "reason": "超期", "due_by": "not a date"},
        {"form": "written", "reason": "超期", "due_by": yesterday},
    ):
        response = client_for(dispatcher).post(url, post, follow=True)
        assert 'class="error"' in response.content.decode(), post
    assert not SupervisionCase.objects.exists()


def test_the_dispatch_queue_marks_a_supervised_waiting_ticket(agent, dispatcher, supervisor) -> None:
    waiting, other = new_ticket(agent), new_ticket(agent, phone="13900005555")
    open_case(supervisor, [waiting])
    html = html_of(client_for(dispatcher).get(reverse("web:dispatch")))
    rows = html.split('data-testid="waiting-row"')[1:]
    marked = [r for r in rows if 'data-testid="supervised"' in r]
    assert len(marked) == 1 and waiting.number in marked[0] and other.number not in marked[0]


def test_the_inbox_row_shows_the_latest_reminder(agent, dispatcher, yuhu) -> None:
    ticket = dispatched_ticket(agent)
    supervision.remind(ticket, dispatcher, "第一次催办")
    supervision.remind(ticket, dispatcher, "第二次催办：今天必须签收")
    html = html_of(client_for(yuhu).get(reverse("web:workbench")))
    assert html.count('data-testid="reminder"') == 1 and "第二次催办：今天必须签收" in html


# --- the supervisors' pages -----------------------------------------------------------------


def test_the_list_is_for_the_center_reviewers(agent, dispatcher, supervisor, yuhu) -> None:
    for user in (dispatcher, supervisor):
        assert client_for(user).get(reverse("web:supervision")).status_code == 200
    for user in (agent, yuhu):
        assert client_for(user).get(reverse("web:supervision")).status_code == 403
    assert client_for(yuhu).get(reverse("web:supervision-excel")).status_code == 403


def test_a_hot_problem_case_on_several_tickets_by_number(agent, supervisor) -> None:
    first, second = dispatched_ticket(agent), dispatched_ticket(agent, phone="13900006666")
    post = {
        "numbers": f"{first.number}，{second.number}\n{first.number}",
        "form": "special_topic",
        "title": "城正街广场舞噪音",
        "reason": "同一问题多次投诉",
        "due_by": due_date(),
        "unit": Unit.objects.get(code="YH").pk,
    }
    response = client_for(supervisor).post(reverse("web:supervision-open"), post)
    case = SupervisionCase.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("web:supervision-case", args=[case.pk])
    assert set(case.tickets.values_list("number", flat=True)) == {first.number, second.number}
    html = html_of(client_for(supervisor).get(reverse("web:supervision")))
    assert html.count('data-testid="case-row"') == 1 and "城正街广场舞噪音" in html


def test_an_unknown_number_opens_no_case(agent, supervisor) -> None:
    ticket = dispatched_ticket(agent)
    post = {"numbers": f"{ticket.number} 2099010199999", "form": "bulletin", "reason": "超期", "due_by": due_date()}
    response = client_for(supervisor).post(reverse("web:supervision-open"), post, follow=True)
    assert "2099010199999" in response.content.decode()
    assert not SupervisionCase.objects.exists()


def test_follow_up_and_close_on_the_case_page(agent, supervisor) -> None:
    ticket = dispatched_ticket(agent)
    case = open_case(supervisor, [ticket], form="meeting")
    client = client_for(supervisor)
    client.post(reverse("web:supervision-note", args=[case.pk]), {"text": "专题会议：三日内拿出方案"})
    response = client.post(
        reverse("web:supervision-close", args=[case.pk]), {"outcome": "bogus", "result": "x"}, follow=True
    )
    assert 'class="error"' in response.content.decode()
    client.post(reverse("web:supervision-close", args=[case.pk]), {"outcome": "solved", "result": "已整改到位"})
    case.refresh_from_db()
    assert case.status == SupervisionStatus.CLOSED and case.result == "已整改到位"
    html = html_of(client.get(reverse("web:supervision-case", args=[case.pk])))
    assert "专题会议：三日内拿出方案" in html and 'data-testid="case-result"' in html
    assert 'data-testid="case-close"' not in html
    # Closed cases leave the default (open) list but stay in "closed" and "all".
    assert 'data-testid="case-row"' not in html_of(client.get(reverse("web:supervision")))
    assert 'data-testid="case-row"' in html_of(client.get(reverse("web:supervision"), {"status": "closed"}))
    actions = list(
        TimelineEntry.objects.filter(ticket=ticket, action__startswith="supervision.").values_list("action", flat=True)
    )
    assert actions == ["supervision.opened", "supervision.note", "supervision.closed"]


def test_the_excel_report_lists_the_filtered_cases_and_their_tickets(agent, supervisor) -> None:
    first, second = dispatched_ticket(agent), dispatched_ticket(agent, phone="13900007777")
    open_case(supervisor, [first, second], form="special_topic", title='=HYPERLINK("x")')
    closed = open_case(supervisor, [first], form="bulletin", title="已办结")
    supervision.close_case(closed, supervisor, "solved", "好")
    response = client_for(supervisor).get(reverse("web:supervision-excel"), {"status": "all"})
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(BytesIO(response.content))
    cases, tickets = book.worksheets
    titles = [row[2].value for row in cases.iter_rows(min_row=2)]
    assert sorted(titles) == sorted(['=HYPERLINK("x")', "已办结"])
    assert all(row[2].data_type == "s" for row in cases.iter_rows(min_row=2))  # text, never a formula
    assert sorted(r[1].value for r in tickets.iter_rows(min_row=2)) == sorted(
        [first.number, second.number, first.number]
    )
    only_open = load_workbook(BytesIO(client_for(supervisor).get(reverse("web:supervision-excel")).content))
    assert only_open.worksheets[0].max_row == 2


# --- the API ------------------------------------------------------------------------------------


def test_api_remind_and_the_supervised_field(agent, dispatcher, supervisor, yuhu) -> None:
    ticket = dispatched_ticket(agent)
    client = api_as(dispatcher)
    url = f"/api/v1/tickets/{ticket.number}/"
    assert client.get(url).json()["supervised"] is False
    response = client.post(url + "remind/", {"note": "请尽快签收"}, format="json")
    assert response.status_code == 200, response.content
    assert any(e["action"] == "ticket.reminder" for e in response.json()["timeline"])
    open_case(supervisor, [ticket])
    assert client.get(url).json()["supervised"] is True
    listed = {t["number"]: t["supervised"] for t in client.get("/api/v1/tickets/").json()["results"]}
    assert listed[ticket.number] is True
    assert api_as(yuhu).get(url).json()["supervised"] is True


@pytest.mark.parametrize(
    "body, code",
    [({"note": ""}, 400), ({}, 400), ({"note": "x", "assignment": 999999}, 400), ({"note": "x" * 501}, 400)],
)
def test_api_remind_bad_input(agent, dispatcher, body, code) -> None:
    ticket = dispatched_ticket(agent)
    response = api_as(dispatcher).post(f"/api/v1/tickets/{ticket.pk}/remind/", body, format="json")
    assert response.status_code == code and response["Content-Type"].startswith("application/json")
    assert not TimelineEntry.objects.filter(action="ticket.reminder").exists()


def test_api_remind_refused_to_units_and_agents_and_on_a_waiting_ticket(agent, dispatcher, yuhu) -> None:
    ticket = dispatched_ticket(agent)
    assert api_as(yuhu).post(f"/api/v1/tickets/{ticket.pk}/remind/", {"note": "x"}, format="json").status_code == 403
    assert api_as(agent).post(f"/api/v1/tickets/{ticket.pk}/remind/", {"note": "x"}, format="json").status_code == 403
    other = dispatched_ticket(agent, phone="13900008888")
    foreign = lead_assignment(other).pk
    body = {"note": "x", "assignment": foreign}
    assert api_as(dispatcher).post(f"/api/v1/tickets/{ticket.pk}/remind/", body, format="json").status_code == 400
    waiting = new_ticket(agent, phone="13900009999")
    assert (
        api_as(dispatcher).post(f"/api/v1/tickets/{waiting.pk}/remind/", {"note": "x"}, format="json").status_code
        == 409
    )


def test_api_filter_by_supervised(agent, dispatcher, supervisor) -> None:
    watched, other = dispatched_ticket(agent), dispatched_ticket(agent, phone="13900001212")
    open_case(supervisor, [watched])
    client = api_as(dispatcher)
    yes = [t["number"] for t in client.get("/api/v1/tickets/", {"supervised": "true"}).json()["results"]]
    no = [t["number"] for t in client.get("/api/v1/tickets/", {"supervised": "false"}).json()["results"]]
    assert yes == [watched.number] and other.number in no and watched.number not in no


def test_api_cases_open_follow_close(agent, supervisor) -> None:
    first, second = dispatched_ticket(agent), dispatched_ticket(agent, phone="13900001313")
    client = api_as(supervisor)
    body = {
        "tickets": [first.number, second.number],
        "form": "meeting",
        "reason": "热点问题：夜间噪音",
        "due_by": (timezone.now() + timedelta(days=10)).isoformat(),
        "unit": Unit.objects.get(code="YH").pk,
    }
    response = client.post("/api/v1/supervision-cases/", body, format="json")
    assert response.status_code == 201, response.content
    case = response.json()
    assert sorted(case["tickets"]) == sorted([first.number, second.number]) and case["status"] == "open"
    url = f"/api/v1/supervision-cases/{case['id']}/"
    assert (
        client.post(url + "notes/", {"text": "已召开协调会"}, format="json").json()["notes"][0]["text"]
        == "已召开协调会"
    )
    closed = client.post(url + "close/", {"outcome": "solved", "result": "已解决"}, format="json")
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert client.post(url + "close/", {"outcome": "solved", "result": "再次"}, format="json").status_code == 409


@pytest.mark.parametrize(
    "change",
    [
        {"tickets": []},
        {"tickets": ["2099010199999"]},
        {"form": "telepathy"},
        {"reason": ""},
        {"due_by": "yesterday"},
        {"due_by": "2000-01-01T00:00:00Z"},
    ],
)
def test_api_bad_cases_are_400_and_leave_nothing(agent, supervisor, change) -> None:
    ticket = dispatched_ticket(agent)
    body = {"tickets": [ticket.number], "form": "written", "reason": "超期", "due_by": "2099-01-01T00:00:00Z", **change}
    response = api_as(supervisor).post("/api/v1/supervision-cases/", body, format="json")
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/json")
    assert not SupervisionCase.objects.exists()


def test_api_cases_units_read_their_own_and_act_on_none(agent, supervisor, yuhu, yuetang) -> None:
    ticket = dispatched_ticket(agent)
    case = open_case(supervisor, [ticket])
    assert [c["id"] for c in api_as(yuhu).get("/api/v1/supervision-cases/").json()["results"]] == [case.pk]
    assert api_as(yuetang).get("/api/v1/supervision-cases/").json()["results"] == []
    assert api_as(yuetang).get(f"/api/v1/supervision-cases/{case.pk}/").status_code == 404
    url = f"/api/v1/supervision-cases/{case.pk}/"
    assert api_as(yuhu).post(url + "notes/", {"text": "我们在办"}, format="json").status_code == 403
    body = {"tickets": [ticket.number], "form": "written", "reason": "x", "due_by": "2099-01-01T00:00:00Z"}
    assert api_as(yuhu).post("/api/v1/supervision-cases/", body, format="json").status_code == 403
    assert api_as(agent).post("/api/v1/supervision-cases/", body, format="json").status_code == 403
