"""Status notifications to bound WeChat users: template messages, queued and retried like SMS.

Three job steps (docs/jobs.md), registered by ``callback.apps``:

- ``wechat.notify`` reads what happened — as ``callback/notifications.py`` does for SMS, from the
  tickets, their timeline and the revisits — for callers whose phone is bound to an openid, and
  stores one :class:`WechatMessage` per event under a unique ``dedup_key`` (the key is the claim):
  **registered** (a ticket of the phone registered in the last SMS_NOTIFY_WITHIN_HOURS, not
  discarded, merged or handed to 110 by then), **replied** (the center approved the reply; one per
  reply round, ``reopen_count``) and **revisit due** (a revisit was scheduled). A number on the
  do-not-call list, or a caller who asked for no messages (``Caller.no_messages``), gets none,
  as for SMS. Only events with a template id set are queued.
- ``wechat.send`` claims due messages with a conditional UPDATE and a lease, sends each through
  WeChat's API outside any transaction, records the msgid, and on a transient error (network,
  HTTP 5xx, WeChat's busy/limit codes) queues it again with backoff, at most SMS_MAX_ATTEMPTS.
  A permanent error (the user unsubscribed: 43004, a bad openid or template) fails it for good.
- ``wechat.recover`` queues again a message whose worker died after claiming it and before WeChat
  answered (no msgid recorded): the same rule as ``sms.recover``.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone, translation

from callback.models import (
    OPEN_REVISIT_STATUSES,
    DoNotCall,
    Revisit,
    SmsStatus,
    WechatBinding,
    WechatMessage,
    WechatPurpose,
)
from callback.wechat import api, enabled
from hotline.models import Ticket, TicketStatus, TimelineEntry
from hotline.public import STAGES, track_link

log = logging.getLogger(__name__)
NOT_REGISTERED = (TicketStatus.DISCARDED, TicketStatus.MERGED, TicketStatus.TRANSFERRED_110)
REPLIED = (TicketStatus.REVISIT_PENDING, TicketStatus.CLOSED)
REMARKS = {
    WechatPurpose.REGISTERED: "您的诉求已受理，我们将尽快转交承办单位。",
    WechatPurpose.REPLIED: "承办单位的答复已经审核，点击查看详情。",
    WechatPurpose.REVISIT: "热线将联系您了解办理是否满意，请留意来电或短信。",
}
TITLES = {
    WechatPurpose.REGISTERED: "您的工单已受理",
    WechatPurpose.REPLIED: "您的工单已答复",
    WechatPurpose.REVISIT: "您的工单即将回访",
}


def _templates() -> dict[str, str]:
    return {
        WechatPurpose.REGISTERED: settings.WECHAT_TEMPLATE_REGISTERED,
        WechatPurpose.REPLIED: settings.WECHAT_TEMPLATE_REPLIED,
        WechatPurpose.REVISIT: settings.WECHAT_TEMPLATE_REVISIT,
    }


def _bound_tickets(tickets):
    bound = WechatBinding.objects.filter(phone=OuterRef("caller__phone"))
    no_calls = DoNotCall.objects.filter(phone=OuterRef("caller__phone"))
    # The caller's "no messages" (Caller.no_messages, docs/callbacks.md) covers WeChat as it covers SMS.
    return (
        tickets.filter(Exists(bound))
        .exclude(Exists(no_calls))
        .exclude(caller__no_messages=True)
        .select_related("caller")
    )


def due_events(now: datetime) -> list[tuple[str, Ticket, str]]:
    """(purpose, ticket, round) for each event of the window whose caller's phone is bound."""
    since = now - timedelta(hours=float(settings.SMS_NOTIFY_WITHIN_HOURS))
    events: list[tuple[str, Ticket, str]] = []
    registered = Ticket.objects.filter(created_at__gte=since).exclude(status__in=NOT_REGISTERED)
    events += [(WechatPurpose.REGISTERED, t, "0") for t in _bound_tickets(registered).order_by("pk")[:500]]
    approved = TimelineEntry.objects.filter(ticket=OuterRef("pk"), action="ticket.reply_approved", at__gte=since)
    replied = Ticket.objects.filter(status__in=REPLIED).filter(Exists(approved))
    events += [(WechatPurpose.REPLIED, t, str(t.reopen_count)) for t in _bound_tickets(replied).order_by("pk")[:500]]
    revisits = Revisit.objects.filter(status__in=OPEN_REVISIT_STATUSES, created_at__gte=since)
    revisit_due = Ticket.objects.filter(Exists(revisits.filter(ticket=OuterRef("pk"))))
    for ticket in _bound_tickets(revisit_due).order_by("pk")[:500]:
        revisit = revisits.filter(ticket=ticket).order_by("-pk").first()
        events.append((WechatPurpose.REVISIT, ticket, str(revisit.pk)))
    return events


def template_data(purpose: str, ticket: Ticket, now: datetime) -> dict:
    """The classic template fields (first, keyword1–3, remark): number, status, time."""
    stage = STAGES[ticket.status]
    return {
        "first": {"value": TITLES[purpose]},
        "keyword1": {"value": ticket.number},
        "keyword2": {"value": str(stage.word)},
        "keyword3": {"value": timezone.localtime(now).strftime("%Y-%m-%d %H:%M")},
        "remark": {"value": REMARKS[purpose]},
    }


def queue_notifications(now: datetime | None = None) -> int:
    """Job step ``wechat.notify``: store one message per due event and bound openid. Returns how many."""
    if not enabled():
        return 0
    now = now or timezone.now()
    templates = _templates()
    stored = 0
    with translation.override("zh-hans"):
        for purpose, ticket, round_ in due_events(now):
            template = templates[purpose]
            if not template:
                continue
            for openid in WechatBinding.objects.filter(phone=ticket.caller.phone).values_list("openid", flat=True):
                key = f"wx:{purpose}:{ticket.pk}:{round_}:{openid}"
                if WechatMessage.objects.filter(dedup_key=key).exists():
                    continue
                try:
                    with transaction.atomic():
                        WechatMessage.objects.create(
                            openid=openid,
                            purpose=purpose,
                            ticket=ticket,
                            template_id=template,
                            url=track_link(ticket),
                            data=template_data(purpose, ticket, now),
                            dedup_key=key,
                        )
                    stored += 1
                except IntegrityError:  # another worker stored it first: that one is the message
                    pass
    return stored


def claim(now: datetime, limit: int = 50) -> list[int]:
    lease = now + timedelta(seconds=settings.SMS_LEASE_SECONDS)
    due = WechatMessage.objects.filter(status=SmsStatus.QUEUED, next_attempt_at__lte=now)
    mine = []
    for pk in due.order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit]:
        claimed = WechatMessage.objects.filter(pk=pk, status=SmsStatus.QUEUED).update(
            status=SmsStatus.SENDING, lease_until=lease, attempts=F("attempts") + 1
        )
        if claimed == 1:
            mine.append(pk)
    return mine


def deliver(pk: int, now: datetime) -> WechatMessage:
    """Send one claimed message and record WeChat's answer."""
    message = WechatMessage.objects.get(pk=pk)
    if message.status != SmsStatus.SENDING:
        return message
    fields: dict = {"lease_until": None}
    try:
        msgid = api.send_template(message.openid, message.template_id, message.data, message.url)
    except api.WechatError as exc:
        fields |= {"error": exc.message[:300], "error_code": exc.code[:16]}
        if exc.retry and message.attempts < settings.SMS_MAX_ATTEMPTS:
            wait = settings.SMS_RETRY_SECONDS * 2 ** max(message.attempts - 1, 0)
            fields |= {"status": SmsStatus.QUEUED, "next_attempt_at": now + timedelta(seconds=wait)}
        else:
            fields["status"] = SmsStatus.FAILED
        log.warning("WeChat message %s not sent (%s): %s", pk, exc.code, exc.message)
    else:
        fields |= {"status": SmsStatus.SENT, "msgid": msgid[:32], "sent_at": now, "error": "", "error_code": ""}
    WechatMessage.objects.filter(pk=pk, status=SmsStatus.SENDING).update(**fields)
    message.refresh_from_db()
    return message


def send_due(now: datetime | None = None) -> int:
    """Job step ``wechat.send``: claim and send what is due. Returns how many were handled."""
    if not enabled():
        return 0
    now = now or timezone.now()
    mine = claim(now)
    for pk in mine:
        deliver(pk, now)
    return len(mine)


def recover(now: datetime | None = None) -> int:
    """Job step ``wechat.recover``: a worker died between claim and answer — queue it again, once."""
    now = now or timezone.now()
    return WechatMessage.objects.filter(status=SmsStatus.SENDING, lease_until__lt=now, msgid="").update(
        status=SmsStatus.QUEUED, lease_until=None, next_attempt_at=now
    )
