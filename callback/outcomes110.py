"""The outcome of a 110 referral, told back to its 110 system by webhook (docs/referrals-110.md).

Job steps: ``referrals110.queue`` stores one delivery for each referral whose ticket reached an
outcome (the center approved the answer: revisit pending or closed) and whose system has a
webhook; ``referrals110.send`` POSTs the due ones under a lease, retrying failures with doubling
waits up to REFERRALS_110_WEBHOOK_ATTEMPTS; ``referrals110.recover`` queues again what a dead
worker left sending. A delivery that gave up leaves the outcome to the pull API.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from callback.models import Outcome110Delivery, SmsStatus
from hotline.models import InboundReferral
from hotline.services import referrals110

log = logging.getLogger(__name__)


def queue(now: datetime | None = None) -> int:
    """Store a delivery for each finished referral that has none yet. Returns how many."""
    now = now or timezone.now()
    due = (
        InboundReferral.objects.filter(ticket__status__in=referrals110.OUTCOME_STATUSES, outcome_delivery__isnull=True)
        .exclude(system__callback_url="")
        .select_related("system", "ticket", "matter")
    )
    stored = 0
    for referral in due[:200]:
        try:
            with transaction.atomic():
                Outcome110Delivery.objects.create(
                    referral=referral,
                    url=referral.system.callback_url,
                    payload=referrals110.view(referral),
                    next_attempt_at=now,
                    created_at=now,
                )
            stored += 1
        except IntegrityError:  # another worker stored it first
            pass
    return stored


def claim(now: datetime, limit: int = 50) -> list[int]:
    lease = now + timedelta(seconds=settings.SMS_LEASE_SECONDS)
    due = Outcome110Delivery.objects.filter(status=SmsStatus.QUEUED, next_attempt_at__lte=now)
    mine = []
    for pk in due.order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit]:
        claimed = Outcome110Delivery.objects.filter(pk=pk, status=SmsStatus.QUEUED).update(
            status=SmsStatus.SENDING, lease_until=lease, attempts=F("attempts") + 1
        )
        if claimed == 1:
            mine.append(pk)
    return mine


def post(delivery: Outcome110Delivery) -> int:
    """POST the payload; the 110 side's answer status (an exception for no answer)."""
    body = json.dumps(delivery.payload, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(delivery.url, data=body, method="POST")
    request.add_header("Content-Type", "application/json; charset=utf-8")
    request.add_header(
        "Idempotency-Key", f"12345-{delivery.referral.system.code}-{delivery.payload['incident_number']}"
    )
    token = delivery.referral.system.callback_token
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=settings.REFERRALS_110_WEBHOOK_TIMEOUT) as answer:
            return answer.status
    except urllib.error.HTTPError as exc:
        return exc.code


def deliver(pk: int, now: datetime) -> Outcome110Delivery:
    """Send one claimed delivery and record the answer; a 2xx is delivered, anything else retried."""
    delivery = Outcome110Delivery.objects.select_related("referral__system", "referral__ticket").get(pk=pk)
    if delivery.status != SmsStatus.SENDING:
        return delivery
    fields: dict = {"lease_until": None}
    try:
        status = post(delivery)
        problem = "" if 200 <= status < 300 else f"HTTP {status}"
    except (OSError, ValueError) as exc:  # refused, timed out, unresolvable: retried like a 5xx
        status, problem = None, str(exc)[:300] or type(exc).__name__
    fields["http_status"] = status
    if not problem:
        fields |= {"status": SmsStatus.DELIVERED, "sent_at": now, "error": "", "error_code": ""}
    else:
        fields |= {"error": problem[:300], "error_code": str(status or "network")[:16]}
        if delivery.attempts < settings.REFERRALS_110_WEBHOOK_ATTEMPTS:
            wait = settings.SMS_RETRY_SECONDS * 2 ** max(delivery.attempts - 1, 0)
            fields |= {"status": SmsStatus.QUEUED, "next_attempt_at": now + timedelta(seconds=wait)}
        else:
            fields["status"] = SmsStatus.FAILED
        log.warning("110 outcome %s not delivered (attempt %s): %s", pk, delivery.attempts, problem)
    updated = Outcome110Delivery.objects.filter(pk=pk, status=SmsStatus.SENDING).update(**fields)
    if updated and not problem:
        referrals110.record_reported(delivery.referral, at=now)
    delivery.refresh_from_db()
    return delivery


def send_due(now: datetime | None = None) -> int:
    """Claim and send what is due. Returns how many were handled."""
    now = now or timezone.now()
    mine = claim(now)
    for pk in mine:
        deliver(pk, now)
    return len(mine)


def recover(now: datetime | None = None) -> int:
    """A worker died between claim and answer: queue it again (the 110 side dedups by Idempotency-Key)."""
    now = now or timezone.now()
    return Outcome110Delivery.objects.filter(status=SmsStatus.SENDING, lease_until__lt=now).update(
        status=SmsStatus.QUEUED, lease_until=None, next_attempt_at=now
    )
