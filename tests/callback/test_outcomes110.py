"""The outcome of a 110 referral goes back to its 110 system's webhook — a local fake 110 — once the
center has an answer; a failure is retried later with a longer wait, and the pull API says the same."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from callback import outcomes110
from callback.models import Outcome110Delivery, SmsStatus
from hotline.models import TimelineEntry
from hotline.services import referrals110, tickets
from tests.callback.fake110 import Fake110
from tests.servers import free_port

INCIDENT = "XT110-20261129-0107"


@pytest.fixture
def fake():
    with Fake110() as server:
        yield server


def referral(url: str):
    system, key = referrals110.create_system(
        name="湘潭市公安局110指挥中心", code="xt110", operator="市公安局", callback_url=url, callback_token="s3cret"
    )
    received = referrals110.receive(
        system, incident_number=INCIDENT, matter="kai_suo", content="老人被锁在门外，钥匙丢失", phone="13800138000"
    )
    return received.referral, key


@pytest.mark.django_db(transaction=True)
def test_a_finished_referral_is_posted_back_after_a_failure_and_said_on_the_timeline(seeded, agent, fake) -> None:
    made, key = referral(fake.url)
    now = timezone.now()
    # Not finished yet: nothing to tell.
    assert outcomes110.queue(now) == 0
    tickets.resolve_on_call(made.ticket, agent, "已联系社区开锁服务，门已打开")
    assert outcomes110.queue(now) == 1 and outcomes110.queue(now) == 0  # once per referral

    fake.answers = [503]
    assert outcomes110.send_due(now) == 1
    delivery = Outcome110Delivery.objects.get()
    assert delivery.status == SmsStatus.QUEUED and delivery.http_status == 503 and delivery.attempts == 1
    assert delivery.next_attempt_at > now
    assert outcomes110.send_due(now) == 0  # not due again yet
    assert not TimelineEntry.objects.filter(ticket=made.ticket, action="referral110.outcome_reported").exists()

    later = delivery.next_attempt_at + timedelta(seconds=1)
    assert outcomes110.send_due(later) == 1
    delivery.refresh_from_db()
    assert delivery.status == SmsStatus.DELIVERED and delivery.attempts == 2 and delivery.http_status == 200
    assert len(fake.requests) == 2
    sent = fake.requests[-1]
    assert sent["path"] == "/12345/outcomes" and sent["headers"]["Authorization"] == "Bearer s3cret"
    assert sent["json"]["incident_number"] == INCIDENT and sent["json"]["finished"] is True
    assert sent["json"]["outcome"] == "已联系社区开锁服务，门已打开" and "13800138000" not in str(sent["json"])
    assert sent["headers"]["Idempotency-Key"] == f"12345-xt110-{INCIDENT}"
    entry = TimelineEntry.objects.get(ticket=made.ticket, action="referral110.outcome_reported")
    assert entry.data["incident_110"] == INCIDENT

    # The pull API gives the same outcome.
    pulled = Client().get(f"/api/110/v1/referrals/{INCIDENT}", HTTP_X_API_KEY=key).json()
    assert pulled["finished"] is True and pulled["outcome"] == sent["json"]["outcome"]


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_webhook_is_retried_with_longer_waits_then_given_up(seeded, agent, settings) -> None:
    settings.REFERRALS_110_WEBHOOK_ATTEMPTS = 3
    made, _key = referral(f"http://127.0.0.1:{free_port()}/nobody")  # nothing listens there
    tickets.resolve_on_call(made.ticket, agent, "已处理")
    now = timezone.now()
    outcomes110.queue(now)
    waits = []
    for _ in range(3):
        assert outcomes110.send_due(now) == 1
        delivery = Outcome110Delivery.objects.get()
        waits.append(delivery.next_attempt_at - now)
        now = delivery.next_attempt_at
    assert delivery.status == SmsStatus.FAILED and delivery.error_code == "network" and delivery.attempts == 3
    assert waits[1] == 2 * waits[0]
    assert outcomes110.send_due(now + timedelta(days=1)) == 0


@pytest.mark.django_db(transaction=True)
def test_a_system_without_a_webhook_pulls(seeded, agent) -> None:
    made, _key = referral("")
    tickets.resolve_on_call(made.ticket, agent, "已处理")
    assert outcomes110.queue(timezone.now()) == 0


@pytest.mark.django_db(transaction=True)
def test_a_delivery_left_sending_by_a_dead_worker_is_queued_again(seeded, agent, fake) -> None:
    made, _key = referral(fake.url)
    tickets.resolve_on_call(made.ticket, agent, "已处理")
    now = timezone.now()
    outcomes110.queue(now)
    assert outcomes110.claim(now) != []
    assert outcomes110.recover(now + timedelta(hours=1)) == 1
    assert outcomes110.send_due(now + timedelta(hours=1)) == 1
    assert Outcome110Delivery.objects.get().status == SmsStatus.DELIVERED
