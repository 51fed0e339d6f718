"""Queueing, sending and receiving SMS. Every message is a row; the backend is called only by the job step.

A message is queued inside the caller's transaction (so it exists only if the
business change committed), then :func:`send_due_sms` claims it with a
conditional UPDATE (queued → sending, with a lease), calls the backend outside
any transaction and records the answer. A worker killed after the claim leaves
a lease that runs out; :func:`recover_stale_sms` queues such a message once more
— only if no provider id was recorded, i.e. the provider never answered.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from callback.models import SmsMessage, SmsPurpose, SmsStatus
from callback.sms import SmsError, get_backend
from hotline.models import Ticket

log = logging.getLogger(__name__)
MAX_BODY = 500


def queue_sms(
    to: str,
    body: str,
    purpose: str,
    *,
    ticket: Ticket | None = None,
    revisit=None,
    dedup_key: str | None = None,
) -> SmsMessage:
    """Store an outgoing message; the job sends it. The same ``dedup_key`` is stored (and sent) once."""
    return queue_sms_once(to, body, purpose, ticket=ticket, revisit=revisit, dedup_key=dedup_key)[0]


def queue_sms_once(
    to: str,
    body: str,
    purpose: str,
    *,
    ticket: Ticket | None = None,
    revisit=None,
    dedup_key: str | None = None,
) -> tuple[SmsMessage, bool]:
    """:func:`queue_sms`, also saying whether this call stored it (False: ``dedup_key`` was already there)."""
    if dedup_key:
        existing = SmsMessage.objects.filter(dedup_key=dedup_key).first()
        if existing is not None:
            return existing, False
    try:
        with transaction.atomic():
            message = SmsMessage.objects.create(
                to=to,
                body=body[:MAX_BODY],
                purpose=purpose,
                ticket=ticket,
                revisit=revisit,
                dedup_key=dedup_key,
                backend=settings.SMS_BACKEND.rsplit(".", 1)[-1],
            )
            return message, True
    except IntegrityError:  # the same key stored by a concurrent worker: that one is the message
        return SmsMessage.objects.get(dedup_key=dedup_key), False


def claim_sms(now: datetime | None = None, limit: int = 50) -> list[int]:
    """Claim due messages for this worker. Returns the ids it now owns."""
    now = now or timezone.now()
    lease = now + timedelta(seconds=settings.SMS_LEASE_SECONDS)
    ids = SmsMessage.objects.filter(direction="out", status=SmsStatus.QUEUED, next_attempt_at__lte=now)
    mine = []
    for pk in ids.order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit]:
        claimed = SmsMessage.objects.filter(pk=pk, status=SmsStatus.QUEUED).update(
            status=SmsStatus.SENDING, lease_until=lease, attempts=F("attempts") + 1
        )
        if claimed == 1:
            mine.append(pk)
    return mine


def deliver(pk: int, now: datetime | None = None) -> SmsMessage:
    """Send one claimed message through the backend and record the answer."""
    now = now or timezone.now()
    message = SmsMessage.objects.get(pk=pk)
    if message.status != SmsStatus.SENDING:
        return message
    try:
        result = get_backend().send(message.to, message.body)
    except SmsError as exc:
        message.error, message.error_code = exc.message[:300], exc.code[:16]
        if exc.retry and message.attempts < settings.SMS_MAX_ATTEMPTS:
            wait = settings.SMS_RETRY_SECONDS * 2 ** max(message.attempts - 1, 0)
            message.status, message.next_attempt_at = SmsStatus.QUEUED, now + timedelta(seconds=wait)
        else:
            message.status = SmsStatus.FAILED
        log.warning("SMS %s not sent (%s): %s", pk, exc.code, exc.message)
    else:
        message.provider_id, message.status, message.sent_at = result.provider_id[:64], result.status, now
        message.error = message.error_code = ""
    message.lease_until = None
    SmsMessage.objects.filter(pk=pk, status=SmsStatus.SENDING).update(
        status=message.status,
        provider_id=message.provider_id,
        sent_at=message.sent_at,
        error=message.error,
        error_code=message.error_code,
        next_attempt_at=message.next_attempt_at,
        lease_until=None,
    )
    return message


def send_due_sms(now: datetime | None = None) -> int:
    """Job step: claim and send what is due. Returns how many were handled."""
    mine = claim_sms(now)
    for pk in mine:
        deliver(pk, now)
    return len(mine)


def recover_stale_sms(now: datetime | None = None) -> int:
    """Job step: a worker died between claim and answer: queue the message again, once."""
    now = now or timezone.now()
    return SmsMessage.objects.filter(status=SmsStatus.SENDING, lease_until__lt=now, provider_id="").update(
        status=SmsStatus.QUEUED, lease_until=None, next_attempt_at=now
    )


# Twilio's MessageStatus values and ours.
_PROVIDER_STATUS = {
    "sent": SmsStatus.SENT,
    "delivered": SmsStatus.DELIVERED,
    "undelivered": SmsStatus.FAILED,
    "failed": SmsStatus.FAILED,
}


def record_delivery_status(provider_id: str, provider_status: str, error_code: str = "") -> int:
    """The provider's status callback: update the stored message. Unknown statuses change nothing."""
    status = _PROVIDER_STATUS.get((provider_status or "").lower())
    if status is None or not provider_id:
        return 0
    fields = {"status": status}
    if error_code:
        fields["error_code"] = error_code[:16]
    return SmsMessage.objects.filter(provider_id=provider_id).exclude(status=SmsStatus.DELIVERED).update(**fields)


def store_inbound(sender: str, body: str, provider_id: str = "") -> SmsMessage:
    return SmsMessage.objects.create(
        direction="in",
        to="",
        sender=sender[:32],
        body=(body or "")[:MAX_BODY],
        purpose=SmsPurpose.INBOUND,
        status=SmsStatus.RECEIVED,
        provider_id=provider_id[:64],
        sent_at=timezone.now(),
    )


def registered_text(ticket: Ticket) -> str:
    return f"【12345】您的诉求已受理，工单号{ticket.number}，查询码{ticket.query_code}，可凭此查询办理进度。"


def reply_text(ticket: Ticket) -> str:
    return f"【12345】您的工单{ticket.number}已有办理答复，请凭查询码{ticket.query_code}查看。"


def registered_key(ticket: Ticket) -> str:
    return f"registered:{ticket.pk}"


def reply_key(ticket: Ticket) -> str:
    """One per reply round: a reopened ticket (reopen_count + 1) that is replied again is told again."""
    return f"reply:{ticket.pk}:{ticket.reopen_count}"
