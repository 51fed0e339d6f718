"""The registered and reply-available SMS: found by the job from the tickets, stored and sent once."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from callback import notifications, revisits
from callback.models import DoNotCall, SmsMessage
from callback.sms import services as sms
from hotline import jobs
from hotline.models import Assignment, Ticket
from hotline.services import dispatch, tickets
from tests.callback.conftest import FakeTwilio, due_revisit
from tests.factories import new_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _all_day(settings):
    settings.CALLBACK_HOURS = "00:00-23:59:59"  # whatever the time of day the tests run


def test_a_phone_ticket_gets_its_number_and_query_code_once(agent) -> None:
    ticket = new_ticket(agent)
    assert notifications.notify_registered() == 1
    assert notifications.notify_registered() == 0
    assert sms.send_due_sms() == 1
    assert notifications.notify_registered() == 0
    message = SmsMessage.objects.get()
    assert (message.purpose, message.to, message.ticket, message.status) == (
        "ticket_registered",
        "+8613800138000",
        ticket,
        "delivered",
    )
    assert ticket.number in message.body and ticket.query_code in message.body


def test_who_does_not_get_the_registered_sms(agent, dispatcher, settings) -> None:
    settings.SMS_REGISTERED_CHANNELS = ["phone"]  # the default also has open311, web and photo (/report/)
    new_ticket(agent, phone="13800138001", channel="web")  # not opted in: only what the page showed
    new_ticket(agent, phone="13800138002", channel="wechat")
    DoNotCall.objects.create(phone="+8613800138003", reason="不要联系我")
    new_ticket(agent, phone="13800138003")
    tickets.discard_ticket(new_ticket(agent, phone="13800138004"), dispatcher, "骚扰电话")
    with time_machine.travel(timezone.now() - timedelta(hours=49)):
        new_ticket(agent, phone="13800138005")  # before the window: e.g. when the job was deployed
    new_ticket(agent, phone="13800138006", channel="photo")
    assert notifications.notify_registered() == 0
    settings.SMS_REGISTERED_CHANNELS = ["phone", "photo"]  # a channel is opted in by settings
    assert notifications.notify_registered() == 1
    assert list(SmsMessage.objects.values_list("to", flat=True)) == ["+8613800138006"]


class Killed(BaseException):
    """What a SIGKILL looks like from inside the step: nothing after this line runs."""


def test_a_worker_killed_mid_step_does_not_send_twice(agent, fake_twilio: FakeTwilio, monkeypatch) -> None:
    phones = ["13800138011", "13800138012", "13800138013"]
    for phone in phones:
        new_ticket(agent, phone=phone)
    real = sms.queue_sms_once
    calls = []

    def dies_after_the_second(*args, **kwargs):
        result = real(*args, **kwargs)
        calls.append(result)
        if len(calls) == 2:
            raise Killed  # the second message is stored; the worker dies before the third
        return result

    monkeypatch.setattr(notifications.sms, "queue_sms_once", dies_after_the_second)
    with pytest.raises(Killed):
        notifications.notify_registered()
    monkeypatch.undo()
    assert SmsMessage.objects.count() == 2
    # Another worker (or the next round) takes over; a second claim-and-die while sending changes nothing.
    assert notifications.notify_registered() == 1
    now = timezone.now()
    claimed = sms.claim_sms(now)
    assert len(claimed) == 3  # ... and this worker dies before calling Twilio
    assert sms.recover_stale_sms(now + timedelta(minutes=5)) == 3
    assert sms.send_due_sms(now + timedelta(minutes=5)) == 3
    for _ in range(2):
        assert notifications.notify_registered() == 0
        assert sms.send_due_sms(now + timedelta(minutes=10)) == 0
    assert sorted(r["form"]["To"] for r in fake_twilio.requests) == [f"+86{p}" for p in phones]


def test_an_approved_reply_is_announced_once_per_round(pending_ticket, agent, dispatcher, yuhu) -> None:
    SmsMessage.objects.all().delete()  # the registered SMS is not what this test is about
    assert notifications.notify_replies() == 1
    assert notifications.notify_replies() == 0
    first = SmsMessage.objects.get(purpose="reply_available")
    assert pending_ticket.number in first.body and pending_ticket.query_code in first.body
    # The caller is not satisfied: the unit redoes it, the center approves the new reply.
    revisit = due_revisit(pending_ticket)
    revisits.record_result(revisit, agent, rating="unsatisfied", comment="还是很吵")
    assert notifications.notify_replies() == 0  # in progress again: nothing to tell
    redo = Assignment.objects.filter(ticket=pending_ticket).latest("pk")
    dispatch.reply_assignment(redo, yuhu, "已再次联系城管部门，夜间加强巡查。")
    tickets.review_reply(Ticket.objects.get(pk=pending_ticket.pk), dispatcher, approve=True)
    assert notifications.notify_replies() == 1
    assert notifications.notify_replies() == 0
    keys = SmsMessage.objects.filter(purpose="reply_available").values_list("dedup_key", flat=True)
    assert sorted(keys) == [f"reply:{pending_ticket.pk}:0", f"reply:{pending_ticket.pk}:1"]


def test_who_does_not_get_the_reply_sms(agent) -> None:
    on_call = new_ticket(agent, phone="13800138021")
    tickets.resolve_on_call(on_call, agent, "已在电话中解答：广场舞噪音可向城管投诉。")
    assert Ticket.objects.get(pk=on_call.pk).status in ("revisit_pending", "closed")
    new_ticket(agent, phone="13800138022")  # registered, nothing replied yet
    assert notifications.notify_replies() == 0


def test_the_reply_sms_waits_for_calling_hours_and_a_no_revisit_caller_still_gets_it(
    agent, dispatcher, yuhu, settings
) -> None:
    from tests.callback.conftest import revisit_pending_ticket

    ticket = revisit_pending_ticket(agent, dispatcher, yuhu)
    settings.CALLBACK_HOURS = "08:30-21:00"
    night = timezone.localtime().replace(hour=23, minute=0)
    if night < timezone.now():
        night += timedelta(days=1)
    morning = (night + timedelta(days=1)).replace(hour=8, minute=45)
    assert notifications.notify_replies(night) == 0
    ticket.caller.no_revisit = True  # no revisit, but the reply is still news to them
    ticket.caller.save()
    assert notifications.notify_replies(morning) == 1
    # Long after the approval the job no longer looks back: a worker deployed late does not spam.
    SmsMessage.objects.filter(purpose="reply_available").delete()
    assert notifications.notify_replies(timezone.now() + timedelta(hours=49)) == 0


def test_a_do_not_call_number_gets_no_reply_sms(pending_ticket) -> None:
    DoNotCall.objects.create(phone=pending_ticket.caller.phone)
    assert notifications.notify_replies() == 0


def test_one_job_round_stores_and_sends_the_registered_sms(agent) -> None:
    new_ticket(agent)
    done = jobs.run_once()
    assert (done["sms.notify_registered"], done["sms.send"]) == (1, 1)
    assert jobs.run_once()["sms.notify_registered"] == 0
    assert SmsMessage.objects.get().status == "delivered"
