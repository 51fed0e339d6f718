"""恶意来电/缠访 in the consoles and the API: the agent reports from the console, the center reviews
callers and flags them on /callers/, an agent is refused the flag at every door, bad input is refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from hotline.models import AuditAction, AuditEntry, CallerFlag, CallerReport, ReportStatus, Role
from hotline.services import callers
from telephony.models import Call
from tests.conftest import api_as, make_user
from tests.factories import new_ticket

pytestmark = pytest.mark.django_db


def client_for(user, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def html_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def in_days(days: int) -> str:
    return (timezone.localdate() + timedelta(days=days)).isoformat()


@pytest.fixture
def rude(agent):
    ticket = new_ticket(agent, phone="13900139000", caller_name="某先生")
    now = timezone.now()
    Call.objects.create(linkedid="1795770144.0", caller=ticket.caller, caller_number="13900139000", agent=agent,
                        offered_at=now, answered_at=now)  # fmt: skip
    return ticket


# --- the agent console --------------------------------------------------------------------


def test_the_agent_reports_abuse_on_the_call_and_on_the_ticket_from_the_console(agent, rude):
    client = client_for(agent)
    html = html_of(client.get(reverse("web:agent")))
    assert 'data-testid="report-abuse"' in html
    url = reverse("web:agent-report-caller")
    html = html_of(client.post(url, {"linkedid": "1795770144.0", "note": "辱骂话务员"}))
    assert 'data-testid="report-message"' in html
    html = html_of(client.post(url, {"ticket": rude.pk, "note": ""}))
    assert 'data-testid="report-message"' in html
    assert CallerReport.objects.filter(caller=rude.caller, status=ReportStatus.PENDING).count() == 2
    assert not CallerFlag.objects.exists()  # a report is never a flag


def test_the_agent_cannot_report_somebody_elses_call(agent, rude, seeded):
    other = make_user("agent_chen", Role.AGENT, "XT12345", agent_extension="1002")
    html = html_of(client_for(other, "zh-hans").post(reverse("web:agent-report-caller"), {"linkedid": "1795770144.0"}))
    assert 'data-testid="report-error"' in html and "这个来电不是您的" in html
    assert not CallerReport.objects.exists()


def test_the_pop_shows_the_flag_to_the_agent(agent, supervisor, rude):
    callers.set_flag(rude.caller, supervisor, "abuse", "多次辱骂话务员", timezone.now() + timedelta(days=5))
    html = html_of(client_for(agent).get(reverse("web:agent")))
    assert 'data-testid="pop-flag"' in html and "多次辱骂话务员" in html


# --- the center's review --------------------------------------------------------------------


def test_the_supervisor_reviews_a_reported_caller_and_flags_them(agent, supervisor, rude):
    callers.report_caller(rude.caller, agent, "辱骂话务员", ticket=rude)
    client = client_for(supervisor)
    html = html_of(client.get(reverse("web:callers")))
    assert html.count('data-testid="caller-row"') == 1 and "+8613900139000" in html
    page = reverse("web:caller", args=[rude.caller_id])
    html = html_of(client.get(page))
    assert 'data-testid="caller-history"' in html and "辱骂话务员" in html and 'data-testid="decline-form"' in html
    response = client.post(
        reverse("web:caller-flag", args=[rude.caller_id]),
        {"kind": "abuse", "reason": "三次辱骂话务员", "expires_on": in_days(30)},
    )
    assert response.status_code == 302
    flag = CallerFlag.objects.get()
    assert flag.set_by == supervisor and timezone.localtime(flag.expires_at).date().isoformat() == in_days(30)
    html = html_of(client.get(page))
    assert 'data-testid="caller-flag"' in html and 'data-testid="lift-form"' in html
    assert 'data-testid="report-flagged"' in html
    # Showing the full number on these pages is audited.
    assert AuditEntry.objects.filter(action=AuditAction.PERSONAL_DATA_READ, user=supervisor).exists()


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"kind": "abuse", "reason": "辱骂", "expires_on": in_days(-1)}, "到期时间必须晚于现在"),
        ({"kind": "abuse", "reason": "", "expires_on": in_days(5)}, "原因：该字段是必填项"),
        ({"kind": "abuse", "reason": "辱骂", "expires_on": ""}, "到期日"),
        ({"kind": "abuse", "reason": "辱骂", "expires_on": in_days(400)}, "最长"),
    ],
)
def test_a_flag_with_bad_input_is_refused_on_the_page_in_chinese(supervisor, rude, data, words):
    client = client_for(supervisor, "zh-hans")
    response = client.post(reverse("web:caller-flag", args=[rude.caller_id]), data)
    assert response.status_code == 302
    shown = " ".join(m.message for m in get_messages(response.wsgi_request))
    assert words in shown, shown
    assert not CallerFlag.objects.exists()


@pytest.mark.parametrize("who", ["agent", "dispatcher"])
def test_an_agent_or_a_dispatcher_cannot_flag_on_the_page(who, request, rude):
    client = client_for(request.getfixturevalue(who))
    url = reverse("web:caller-flag", args=[rude.caller_id])
    response = client.post(url, {"kind": "abuse", "reason": "辱骂", "expires_on": in_days(5)})
    assert response.status_code == 403
    assert client.get(reverse("web:callers")).status_code == 403
    assert not CallerFlag.objects.exists()


def test_an_unknown_caller_is_not_found(supervisor, rude):
    client = client_for(supervisor, "zh-hans")
    url = reverse("web:caller-flag", args=[rude.caller_id + 999])
    assert client.post(url, {"kind": "abuse", "reason": "辱骂", "expires_on": in_days(5)}).status_code == 404
    response = client.get(reverse("web:callers"), {"phone": "13700000000"})
    assert response.status_code == 302
    assert "没有这个号码的来电人" in " ".join(m.message for m in get_messages(response.wsgi_request))
    response = client.get(reverse("web:callers"), {"phone": "139 0013 9000"})
    assert response.url == reverse("web:caller", args=[rude.caller_id])


def test_the_supervisor_declines_and_lifts(agent, supervisor, rude):
    callers.report_caller(rude.caller, agent, "", ticket=rude)
    client = client_for(supervisor)
    client.post(reverse("web:caller-decline", args=[rude.caller_id]), {"note": "情绪激动，非恶意"})
    assert CallerReport.objects.get().status == ReportStatus.DECLINED
    callers.set_flag(rude.caller, supervisor, "abuse", "辱骂", timezone.now() + timedelta(days=3))
    client.post(reverse("web:caller-lift", args=[rude.caller_id]), {"reason": "已道歉"})
    assert CallerFlag.objects.get().lift_reason == "已道歉"


# --- the API ----------------------------------------------------------------------------------


def test_an_agent_cannot_flag_through_the_api_but_reports(agent, rude):
    api = api_as(agent)
    body = {"kind": "abuse", "reason": "辱骂", "expires_at": (timezone.now() + timedelta(days=5)).isoformat()}
    assert api.post(f"/api/v1/callers/{rude.caller_id}/flag/", body, format="json").status_code == 403
    assert api.get(f"/api/v1/callers/{rude.caller_id}/").status_code == 403
    response = api.post(f"/api/v1/callers/{rude.caller_id}/reports/", {"ticket": rude.number, "note": "辱骂"})
    assert response.status_code == 201 and response.json()["status"] == "pending"
    response = api.post(f"/api/v1/callers/{rude.caller_id}/reports/", {"call": "1795770144.0"})
    assert response.status_code == 201
    response = api.post(f"/api/v1/callers/{rude.caller_id}/reports/", {"call": "not-this-callers"})
    assert response.status_code == 400
    assert not CallerFlag.objects.exists()


def test_the_supervisor_flags_through_the_api_and_bad_input_is_refused(supervisor, rude):
    api = api_as(supervisor, "zh-hans")
    url = f"/api/v1/callers/{rude.caller_id}/flag/"
    later = (timezone.now() + timedelta(days=5)).isoformat()
    past = (timezone.now() - timedelta(minutes=1)).isoformat()
    refused = api.post(url, {"kind": "abuse", "reason": "辱骂", "expires_at": past}, format="json")
    assert refused.status_code == 400 and refused.json()["message"] == "到期时间必须晚于现在"
    refused = api.post(url, {"kind": "abuse", "reason": " ", "expires_at": later}, format="json")
    assert refused.status_code == 400 and refused.json()["field"] == "reason"
    unknown = f"/api/v1/callers/{rude.caller_id + 999}/flag/"
    assert api.post(unknown, {"kind": "abuse", "reason": "辱骂", "expires_at": later}, format="json").status_code == 404
    assert not CallerFlag.objects.exists()
    created = api.post(url, {"kind": "abuse", "reason": "辱骂", "expires_at": later}, format="json")
    assert created.status_code == 201 and created.json()["in_force"] is True
    record = api.get(f"/api/v1/callers/{rude.caller_id}/").json()
    assert record["flag"]["reason"] == "辱骂" and record["history"]["total"]["tickets"] == 1
    listed = api.get("/api/v1/callers/?view=flagged").json()
    assert [row["id"] for row in listed["results"]] == [rude.caller_id]
