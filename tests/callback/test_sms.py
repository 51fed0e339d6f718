"""SMS through the official twilio client against a local server that answers as Twilio does."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from callback import notifications
from callback.models import SmsMessage, SmsPurpose
from callback.sms import services as sms
from hotline.models import Ticket
from tests.callback.conftest import FakeTwilio
from tests.factories import new_ticket

pytestmark = pytest.mark.django_db


def registered_sms(ticket: Ticket) -> SmsMessage:
    """The "registered" SMS, stored the way the job stores it (the ``sms.notify_registered`` step)."""
    notifications.notify_registered()
    return SmsMessage.objects.get(ticket=ticket, purpose=SmsPurpose.TICKET_REGISTERED)


def test_the_outbox_backend_stores_messages_as_delivered(agent) -> None:
    ticket = new_ticket(agent)
    message = registered_sms(ticket)
    assert notifications.notify_registered() == 0  # asked twice, stored once
    assert sms.send_due_sms() == 1
    message.refresh_from_db()
    assert message.status == "delivered" and message.provider_id.startswith("OUTBOX")
    assert ticket.number in message.body and ticket.query_code in message.body


def test_twilio_accepts_a_message_and_the_sid_is_stored(agent, fake_twilio: FakeTwilio, caplog) -> None:
    ticket = new_ticket(agent)
    caplog.set_level(logging.DEBUG)
    message = registered_sms(ticket)
    assert sms.send_due_sms() == 1
    message.refresh_from_db()
    assert message.status == "sent" and message.provider_id == "SM" + "0" * 31 + "1"
    (request,) = fake_twilio.requests
    assert request["path"] == f"/2010-04-01/Accounts/AC{'0' * 32}/Messages.json"
    assert request["form"] == {"To": "+8613800138000", "From": "+15005550006", "Body": message.body}
    assert request["auth"].startswith("Basic ")
    assert "test-token-not-a-secret" not in caplog.text


def test_an_invalid_number_400_fails_for_good_without_retrying(agent, fake_twilio: FakeTwilio) -> None:
    fake_twilio.answers.append(FakeTwilio.error(400, 21211, "The 'To' number +8613800138000 is not valid."))
    message = registered_sms(new_ticket(agent))
    sms.send_due_sms()
    message.refresh_from_db()
    assert (message.status, message.error_code) == ("failed", "21211")
    assert "is not valid" in message.error
    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        assert sms.send_due_sms() == 0
    assert len(fake_twilio.requests) == 1


@pytest.mark.parametrize(("status", "code"), [(429, 20429), (500, 20500)])
def test_a_429_or_500_is_retried_later_and_then_sent(agent, fake_twilio: FakeTwilio, status: int, code: int) -> None:
    fake_twilio.answers.append(FakeTwilio.error(status, code, "Too Many Requests" if status == 429 else "Internal"))
    message = registered_sms(new_ticket(agent))
    sms.send_due_sms()
    message.refresh_from_db()
    assert (message.status, message.error_code, message.attempts) == ("queued", str(code), 1)
    assert sms.send_due_sms() == 0  # not before its retry time
    with time_machine.travel(message.next_attempt_at + timedelta(seconds=1)):
        assert sms.send_due_sms() == 1
    message.refresh_from_db()
    assert (message.status, message.attempts, message.error) == ("sent", 2, "")
    assert len(fake_twilio.requests) == 2


def test_retries_stop_at_the_limit(agent, fake_twilio: FakeTwilio, settings) -> None:
    settings.SMS_MAX_ATTEMPTS = 2
    fake_twilio.answers += [FakeTwilio.error(500, 20500, "Internal")] * 2
    message = registered_sms(new_ticket(agent))
    sms.send_due_sms()
    message.refresh_from_db()
    with time_machine.travel(message.next_attempt_at + timedelta(seconds=1)):
        sms.send_due_sms()
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("failed", 2)


def test_twilio_unreachable_is_retried(agent, fake_twilio: FakeTwilio, settings) -> None:
    fake_twilio.close()
    message = registered_sms(new_ticket(agent))
    sms.send_due_sms()
    message.refresh_from_db()
    assert (message.status, message.error_code) == ("queued", "network")


def test_a_worker_killed_after_claiming_sends_the_message_once_after_the_lease(agent, fake_twilio: FakeTwilio) -> None:
    message = registered_sms(new_ticket(agent))
    now = timezone.now()
    assert sms.claim_sms(now) == [message.pk]  # ...and the worker dies before calling Twilio
    assert sms.send_due_sms(now + timedelta(seconds=30)) == 0  # the lease still holds
    assert sms.recover_stale_sms(now + timedelta(seconds=30)) == 0
    later = now + timedelta(minutes=5)
    assert sms.recover_stale_sms(later) == 1
    assert sms.send_due_sms(later) == 1
    assert sms.send_due_sms(later) == 0
    assert sms.recover_stale_sms(later + timedelta(minutes=5)) == 0
    assert len(fake_twilio.requests) == 1
    assert SmsMessage.objects.get().status == "sent"


def test_the_delivery_report_updates_the_stored_status(agent, fake_twilio: FakeTwilio) -> None:
    message = registered_sms(new_ticket(agent))
    sms.send_due_sms()
    message.refresh_from_db()
    assert sms.record_delivery_status(message.provider_id, "delivered") == 1
    assert sms.record_delivery_status(message.provider_id, "nonsense") == 0
    assert sms.record_delivery_status(message.provider_id, "failed") == 0  # delivered is final
    message.refresh_from_db()
    assert message.status == "delivered"
