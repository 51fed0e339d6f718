"""The consoles' pages over HTTP: landing by role, access rules, and the flows through the services."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.test import Client
from django.utils import timezone

from hotline.models import Assignment, Referral, Ticket, TicketStatus, Unit
from hotline.services import dispatch, tickets
from telephony.models import Call
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    ("persona", "screen"),
    [("agent", "/agent/"), ("yuhu", "/unit/"), ("dispatcher", "/dispatch/"), ("supervisor", "/wallboard/")],
)
def test_each_role_lands_on_its_screen_after_login(request, persona, screen):
    user = request.getfixturevalue(persona)
    response = Client().post("/login/", {"username": user.username, "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == screen
    assert response.status_code == 200
    assert 'hx-ext="ws"' in response.content.decode()


def test_screens_need_a_login_and_the_right_role(agent, yuhu):
    assert Client().get("/agent/").url.startswith("/login/")
    assert client_for(yuhu).get("/agent/").status_code == 403
    assert client_for(agent).get("/wallboard/").status_code == 403


def test_logout_is_a_post(agent):
    client = client_for(agent)
    assert client.get("/logout/").status_code == 405
    assert client.post("/logout/").status_code == 302
    assert client.get("/agent/").status_code == 302


def test_the_login_form_is_csrf_protected(agent):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/login/", {"username": agent.username, "password": PASSWORD})
    assert response.status_code == 403


def test_five_wrong_passwords_lock_the_account_out(agent):
    client = Client()
    for _ in range(5):
        client.post("/login/", {"username": agent.username, "password": "wrong"})
    response = client.post("/login/", {"username": agent.username, "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_unit_handler_cannot_open_another_units_ticket(agent, yuhu, yuetang, complaint, noise, yuhu_area):
    ticket = tickets.register_ticket(
        by=agent, phone="13812345678", content="噪音", category=complaint, topic=noise, area=yuhu_area
    )
    dispatch.dispatch_ticket(ticket, agent, yuhu.unit)
    response = client_for(yuetang).get(f"/unit/tickets/{ticket.pk}/")
    assert response.status_code == 403
    page = client_for(yuhu).get(f"/unit/tickets/{ticket.pk}/").content.decode()
    assert "138****5678" in page and "13812345678" not in page  # units see the number masked


def test_agent_registers_from_the_console_and_dispatches_a_suggestion(agent, complaint, noise, yuhu_area):
    client = client_for(agent)
    response = client.post(
        "/agent/register/submit/",
        {
            "phone": "13812345678",
            "category": complaint.pk,
            "topic": noise.pk,
            "area": yuhu_area.pk,
            "content": "夜间施工噪音扰民",
            "urgency": "normal",
            "call_linkedid": "1700000000.42",
            "register": "",
        },
    )
    ticket = Ticket.objects.get(call_linkedid="1700000000.42")
    page = response.content.decode()
    assert ticket.number in page and "雨湖区" in page  # the suggestion names its unit
    yh = Unit.objects.get(code="YH")
    response = client.post(f"/agent/tickets/{ticket.pk}/dispatch/", {"unit": yh.pk, "version": ticket.version})
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.DISPATCHED
    assert Assignment.objects.get(ticket=ticket).unit == yh


def test_the_register_form_from_a_pop_is_filled_from_the_call_named_by_its_linkedid(agent):
    Call.objects.create(linkedid="1700000000.42", pbx_epoch=1600000000, caller_number="13800000001")
    Call.objects.create(linkedid="1700000000.42", pbx_epoch=1700000000, caller_number="13812345678")
    client = client_for(agent)
    page = client.get("/agent/register/", {"linkedid": "1700000000.42"}).content.decode()
    # The newest PBX boot's call of that id: linkedids start over when Asterisk restarts.
    assert 'value="13812345678"' in page and 'value="1700000000.42"' in page
    blank = client.get("/agent/register/", {"linkedid": "no-such-call"}).content.decode()
    assert 'name="phone"' in blank and "13812345678" not in blank  # no such call: a blank form, not an error


def test_resolve_on_call_needs_the_answer_given(agent, complaint):
    client = client_for(agent)
    data = {"phone": "13812345678", "category": complaint.pk, "content": "咨询社保", "urgency": "normal"}
    response = client.post("/agent/register/submit/", {**data, "resolve": ""})
    assert not Ticket.objects.exists()
    assert 'class="error"' in response.content.decode()
    client.post("/agent/register/submit/", {**data, "resolve": "", "resolution": "已告知办理流程"})
    ticket = Ticket.objects.get()
    assert ticket.resolved_on_call


def test_an_agent_merges_a_duplicate_in_one_click(agent, complaint, noise, yuhu_area):
    first = tickets.register_ticket(by=agent, phone="13812345678", content="噪音", category=complaint)
    second = tickets.register_ticket(by=agent, phone="13812345678", content="又是噪音", category=complaint)
    page = client_for(agent).post(f"/agent/tickets/{second.pk}/merge/", {"into": first.pk}).content.decode()
    second.refresh_from_db()
    assert second.status == TicketStatus.MERGED and second.merged_into == first
    assert first.number in page


def test_a_pause_with_a_reason_is_kept_on_the_agents_row_and_shown_by_its_label(agent):
    with mock.patch("telephony.control.call_bridge", return_value={"ok": True}) as bridge:
        page = client_for(agent).post("/agent/state/", {"state": "paused", "reason": "training"}).content.decode()
    assert [c.args[0] for c in bridge.call_args_list] == ["queue_add", "pause"]
    assert (agent.agent_state.status, agent.agent_state.reason) == ("paused", "training")
    assert "badge-paused" in page and ("(培训)" in page or "(Training)" in page)
    with mock.patch("telephony.control.call_bridge", return_value={"ok": True}):
        client_for(agent).post("/agent/state/", {"state": "ready"})
    agent.agent_state.refresh_from_db()
    assert (agent.agent_state.status, agent.agent_state.reason) == ("ready", "")


def test_a_bridge_that_does_not_answer_is_shown_and_changes_nothing(agent, settings):
    settings.BRIDGE_COMMAND_TIMEOUT = 0.2
    page = client_for(agent).post("/agent/state/", {"state": "ready"}).content.decode()
    assert 'data-testid="state-error"' in page
    assert not hasattr(agent, "agent_state") or agent.agent_state.status != "ready"
    page = client_for(agent).post("/agent/transfer-110/", {"reason": "打架斗殴"}).content.decode()
    assert 'data-testid="transfer-error"' in page
    assert not Referral.objects.exists()


def test_unit_accepts_sub_dispatches_and_replies_up_the_chain(agent, yuhu, chengzheng, dispatcher, complaint, noise):
    ticket = tickets.register_ticket(by=agent, phone="13812345678", content="噪音", category=complaint, topic=noise)
    lead = dispatch.dispatch_ticket(ticket, agent, yuhu.unit)[0]
    yh, street = client_for(yuhu), client_for(chengzheng)
    assert ticket.number in yh.get("/unit/").content.decode()
    yh.post(f"/unit/assignments/{lead.pk}/accept/")
    inner = timezone.localdate(lead.reply_by)
    yh.post(
        f"/unit/assignments/{lead.pk}/sub-dispatch/", {"to_unit": chengzheng.unit_id, "reply_by": inner.isoformat()}
    )
    child = Assignment.objects.get(parent=lead)
    street.post(f"/unit/assignments/{child.pk}/accept/")
    street.post(f"/unit/assignments/{child.pk}/reply/", {"text": "已现场处理"})
    yh.post(f"/unit/assignments/{lead.pk}/reply/", {"text": "街道已处理完毕"})
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.REPLIED
    center = client_for(dispatcher)
    assert ticket.number in center.get("/dispatch/").content.decode()
    center.post(f"/dispatch/tickets/{ticket.pk}/review/", {"approve": "1"})
    ticket.refresh_from_db()
    assert ticket.status in (TicketStatus.REVISIT_PENDING, TicketStatus.CLOSED)


def test_a_domain_error_is_shown_not_swallowed(agent, yuhu, complaint):
    ticket = tickets.register_ticket(by=agent, phone="13812345678", content="噪音", category=complaint)
    lead = dispatch.dispatch_ticket(ticket, agent, yuhu.unit)[0]
    client = client_for(yuhu)
    client.post(f"/unit/assignments/{lead.pk}/accept/")
    too_late = timezone.localdate(lead.reply_by + timedelta(days=3))
    response = client.post(
        f"/unit/assignments/{lead.pk}/sub-dispatch/",
        {"to_unit": Unit.objects.get(code="YH01").pk, "reply_by": too_late.isoformat()},
        follow=True,
    )
    assert "下派办理时限不能晚于本单位的办理时限" in response.content.decode()  # in the page's language
    assert not Assignment.objects.filter(parent=lead).exists()
    english = client.post(
        f"/unit/assignments/{lead.pk}/sub-dispatch/",
        {"to_unit": Unit.objects.get(code="YH01").pk, "reply_by": too_late.isoformat()},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "inner deadline cannot be later" in english.content.decode()


def test_wallboard_page_renders_todays_figures(supervisor):
    page = client_for(supervisor).get("/wallboard/").content.decode()
    assert 'id="wb-today"' in page and 'id="wb-overdue"' in page and 'id="wb-queues"' in page
