"""Notifications follow the ticket (issue 15, point 7): revisit coming, the messages on the ticket, opting out."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from callback import notifications, queries, revisits
from callback.models import DoNotCall, Revisit, SmsMessage
from callback.sms import services as sms
from hotline import jobs
from hotline.models import Caller, Ticket
from tests.callback.conftest import revisit_pending_ticket
from tests.conftest import api_as
from tests.factories import new_ticket

pytestmark = pytest.mark.django_db
PHONE = "+8613800138000"


@pytest.fixture(autouse=True)
def _all_day(settings):
    settings.CALLBACK_HOURS = "00:00-23:59:59"  # whatever the time of day the tests run
    settings.SMS_INBOUND_TOKEN = "hook-token"
    settings.PUBLIC_BASE_URL = "https://12345.example.cn"


def texted(sender: str, body: str) -> SmsMessage | None:
    seen = set(SmsMessage.objects.filter(direction="out").values_list("pk", flat=True))
    assert APIClient().post("/api/v1/sms/inbound/?token=hook-token", {"From": sender, "Body": body}).status_code == 200
    return SmsMessage.objects.filter(direction="out").exclude(pk__in=seen).first()


def at_due(revisit: Revisit):
    return time_machine.travel(revisit.scheduled_for + timedelta(minutes=5), tick=False)


# --- a revisit is coming -------------------------------------------------------------------------


def test_the_caller_is_told_once_when_a_phone_revisit_comes_due(pending_ticket) -> None:
    revisit = revisits.schedule_revisit(pending_ticket, channel="phone")
    assert notifications.notify_revisits_due() == 0  # not due yet: nothing said
    with at_due(revisit):
        assert notifications.notify_revisits_due() == 1
        assert notifications.notify_revisits_due() == 0
        assert sms.send_due_sms() == 1
    message = SmsMessage.objects.get(purpose="revisit_due")
    assert (message.to, message.ticket, message.revisit) == (PHONE, pending_ticket, revisit)
    assert message.status == "delivered"
    assert pending_ticket.number in message.body and "致电回访" in message.body and "回TD退订" in message.body
    # Not reached, tried again hours later: still the one notice for this revisit.
    Revisit.objects.filter(pk=revisit.pk).update(scheduled_for=revisit.scheduled_for + timedelta(hours=3))
    with time_machine.travel(revisit.scheduled_for + timedelta(hours=4), tick=False):
        assert notifications.notify_revisits_due() == 0


def test_an_ivr_revisit_says_which_keys_and_an_sms_revisit_is_its_own_notice(agent, dispatcher, yuhu) -> None:
    ivr = revisits.schedule_revisit(revisit_pending_ticket(agent, dispatcher, yuhu), channel="ivr")
    survey = revisits.schedule_revisit(
        revisit_pending_ticket(agent, dispatcher, yuhu, phone="13900139000"), channel="sms"
    )
    with time_machine.travel(max(ivr.scheduled_for, survey.scheduled_for) + timedelta(minutes=5), tick=False):
        assert notifications.notify_revisits_due() == 1
    assert "按1满意" in SmsMessage.objects.get(purpose="revisit_due", revisit=ivr).body


def test_the_revisit_notice_waits_for_calling_hours(pending_ticket, settings) -> None:
    revisit = revisits.schedule_revisit(pending_ticket, channel="phone")
    settings.CALLBACK_HOURS = "08:30-21:00"
    night = timezone.localtime(revisit.scheduled_for).replace(hour=22, minute=0)
    assert notifications.notify_revisits_due(night) == 0
    assert notifications.notify_revisits_due(night + timedelta(hours=11)) == 1  # 09:00 next morning


def test_the_revisit_notice_is_a_job_step(pending_ticket) -> None:
    revisit = revisits.schedule_revisit(pending_ticket, channel="phone")
    with at_due(revisit):
        done = jobs.run_once()
    assert done["sms.notify_revisits"] == 1
    assert SmsMessage.objects.get(purpose="revisit_due").status == "delivered"


def test_no_revisit_notice_for_a_do_not_call_number_an_opted_out_caller_or_a_closed_ticket(
    agent, dispatcher, yuhu
) -> None:
    listed = revisits.schedule_revisit(revisit_pending_ticket(agent, dispatcher, yuhu), channel="phone")
    DoNotCall.objects.create(phone=PHONE, reason="不要联系我")  # listed after the revisit was scheduled
    quiet = revisits.schedule_revisit(revisit_pending_ticket(agent, dispatcher, yuhu, phone="13900139000"))
    Caller.objects.filter(phone="+8613900139000").update(no_messages=True)
    closed = revisits.schedule_revisit(revisit_pending_ticket(agent, dispatcher, yuhu, phone="13700137000"))
    Ticket.objects.filter(pk=closed.ticket_id).update(status="closed")
    with time_machine.travel(max(r.scheduled_for for r in (listed, quiet, closed)) + timedelta(minutes=5)):
        assert notifications.notify_revisits_due() == 0
    assert not SmsMessage.objects.filter(purpose="revisit_due").exists()


# --- opting out ----------------------------------------------------------------------------------


@pytest.mark.parametrize("word", ["TD", "td", "退订", "ＴＤ", " T D。", "t", "退订！"])
def test_td_or_tuiding_opts_out_with_a_confirmation(agent, word: str) -> None:
    new_ticket(agent)
    reply = texted("13800138000", word)
    assert reply.purpose == "opted_out" and reply.to == PHONE and "已退订" in reply.body
    assert Caller.objects.get(phone=PHONE).no_messages


def test_an_opted_out_caller_gets_no_notifications_but_still_the_answer_to_a_query(agent, dispatcher, yuhu) -> None:
    ticket = new_ticket(agent)
    assert notifications.notify_registered() == 1  # queued, not sent yet ...
    texted("13800138000", "退订")
    queued = SmsMessage.objects.get(purpose="ticket_registered")
    assert (queued.status, queued.error_code) == ("failed", "opted_out")  # ... and now never sent
    pending = revisit_pending_ticket(agent, dispatcher, yuhu)
    new_ticket(agent, content="另一件事")
    assert notifications.notify_registered() == 0
    assert notifications.notify_replies() == 0
    revisit = revisits.schedule_revisit(pending, channel="phone")
    with at_due(revisit):
        assert notifications.notify_revisits_due() == 0
    answer = texted("13800138000", f"查询 {ticket.number} {ticket.query_code}")
    assert answer.purpose == "query_answer" and "当前状态" in answer.body
    sent = set(SmsMessage.objects.filter(direction="out").exclude(status="failed").values_list("purpose", flat=True))
    assert sent == {"opted_out", "query_answer"}


def test_an_opted_out_caller_is_revisited_by_phone_not_by_sms_survey(pending_ticket) -> None:
    revisit = revisits.schedule_revisit(pending_ticket, channel="sms")
    queries.reply_to_sms(PHONE, "TD")
    with at_due(revisit):
        assert revisits.start_due_surveys() == 0
    revisit.refresh_from_db()
    assert (revisit.channel, revisit.status) == ("phone", "scheduled") and "退订" in revisit.note
    assert not SmsMessage.objects.filter(purpose="revisit_survey").exists()


def test_a_number_never_seen_that_opts_out_gets_nothing_when_it_calls_later(agent) -> None:
    texted("13900139000", "TD")
    new_ticket(agent, phone="13900139000")
    assert notifications.notify_registered() == 0


def test_revisit_sms_answers_still_work_next_to_the_opt_out(pending_ticket) -> None:
    revisit = revisits.schedule_revisit(pending_ticket, channel="sms")
    with at_due(revisit):
        revisits.start_due_surveys()
        assert "感谢" in texted(PHONE, "2").body
    assert Revisit.objects.get().rating == "basically_satisfied"


def test_the_agent_ticks_no_messages_on_the_register_form(agent, complaint) -> None:
    client = Client()
    client.force_login(agent)
    form = {"phone": "13812345678", "category": complaint.pk, "content": "咨询社保", "urgency": "normal"}
    page = client.post("/agent/register/submit/", {**form, "no_messages": "on", "form_token": "a"}).content.decode()
    caller = Caller.objects.get(phone="+8613812345678")
    assert caller.no_messages and 'data-testid="no-messages"' in page
    ticket = Ticket.objects.get()
    assert ticket.timeline.get(action="ticket.registered").data["no_messages"] is True
    assert notifications.notify_registered() == 0
    # A second call, box left unticked: the caller's wish stands (it is lifted in the admin only).
    client.post("/agent/register/submit/", {**form, "content": "再次咨询社保", "form_token": "b"})
    assert Caller.objects.get(phone="+8613812345678").no_messages
    assert notifications.notify_registered() == 0
    blank = client.get("/agent/register/").content.decode()
    assert 'name="no_messages"' in blank


# --- each message and its status on the ticket ---------------------------------------------------


def test_the_ticket_lists_its_messages_with_their_delivery_status(agent, yuhu, settings) -> None:
    ticket = new_ticket(agent)
    notifications.notify_registered()
    sms.send_due_sms()
    texted("13800138000", f"CX {ticket.number} {ticket.query_code}")
    rows = api_as(agent).get(f"/api/v1/tickets/{ticket.number}/messages/").json()
    assert [(r["direction"], r["purpose"], r["status"]) for r in rows] == [
        ("out", "ticket_registered", "delivered"),
        ("in", "inbound", "received"),
        ("out", "query_answer", "queued"),
    ]
    assert rows[0]["phone"] == PHONE and rows[0]["status_label"] and ticket.query_code in rows[0]["body"]
    assert api_as(agent).get(f"/api/v1/tickets/{ticket.pk}/messages/").json() == rows
    assert api_as(yuhu).get(f"/api/v1/tickets/{ticket.number}/messages/").status_code == 403
    assert api_as(agent).get("/api/v1/tickets/2020010199999/messages/").status_code == 404
    # The agent's ticket panel shows them too.
    client = Client()
    client.force_login(agent)
    # (a merge into itself is refused and answers with the ticket panel, which is all this needs)
    page = client.post(f"/agent/tickets/{ticket.pk}/merge/", {"into": ticket.pk}).content.decode()
    assert 'data-testid="ticket-sms"' in page and "CX " in page


def test_the_messages_endpoint_is_in_the_openapi_schema() -> None:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"]["/api/v1/tickets/{key}/messages/"]["get"]
    item = operation["responses"]["200"]["content"]["application/json"]["schema"]["items"]["$ref"]
    assert item.endswith("/SmsMessage")


# --- by SMS by default, by WeChat where bound -------------------------------------------------------


def _wechat_on(settings, *, registered: str = "tpl-registered") -> None:
    settings.WECHAT_APP_ID, settings.WECHAT_APP_SECRET, settings.WECHAT_TOKEN = "wx-app", "wx-secret", "wx-token"
    settings.WECHAT_TEMPLATE_REGISTERED = registered


def test_a_phone_bound_to_wechat_is_told_by_wechat_not_sms(agent, settings) -> None:
    from callback.models import WechatBinding

    _wechat_on(settings)
    WechatBinding.objects.create(openid="o-bound", phone=PHONE)
    bound = new_ticket(agent, phone=PHONE)
    other = new_ticket(agent, phone="13900139000", address="岳塘区9号")
    notifications.notify_registered()
    told = set(SmsMessage.objects.filter(purpose="ticket_registered").values_list("ticket_id", flat=True))
    assert told == {other.pk}
    assert bound.pk not in told


def test_sms_still_goes_when_wechat_is_off_or_has_no_template_for_the_notice(agent, settings) -> None:
    from callback.models import WechatBinding

    WechatBinding.objects.create(openid="o-bound", phone=PHONE)
    ticket = new_ticket(agent, phone=PHONE)
    _wechat_on(settings, registered="")  # on, but no "registered" template: WeChat would not carry it
    notifications.notify_registered()
    assert SmsMessage.objects.filter(purpose="ticket_registered", ticket=ticket).count() == 1
