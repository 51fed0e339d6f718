"""Job steps that find tickets whose caller should get an SMS and queue it once (docs/callbacks.md).

``hotline`` does not know about SMS: these steps read the tickets and their timeline,
which are the record of what happened, and queue each message under a unique
``SmsMessage.dedup_key`` — the key is the claim. A step run twice, in two workers at
once, or again after a worker was killed half-way, stores each message once, and
``sms.send`` sends each stored message once.

- **registered** (工单号 + 查询码): tickets registered in the last ``SMS_NOTIFY_WITHIN_HOURS``
  through a channel in ``SMS_REGISTERED_CHANNELS`` (default: phone only — the web, WeChat
  and app forms show the number and query code on screen when the citizen submits), unless
  the ticket was discarded, merged or handed to 110 before the step saw it. The text carries
  the short link to the progress page (``hotline.public.track_link``) when PUBLIC_BASE_URL is set.
- **reply available**: the center approved the lead unit's reply (timeline
  ``ticket.reply_approved``) within ``SMS_NOTIFY_WITHIN_HOURS`` and the ticket is now
  ``revisit_pending`` or ``closed``. One message per reply round (``reopen_count``): a
  reopened ticket replied again is announced again. A demand answered on the call
  (``resolve_on_call``) has no unit reply and gets none. Queued only within calling hours.

A number on the do-not-call list (``DoNotCall``: "never called back or revisited by phone or
SMS") gets neither. ``Caller.no_revisit`` is about revisits only and does not stop them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import CharField, Exists, OuterRef, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from callback import conf
from callback.models import DoNotCall, SmsMessage, SmsPurpose
from callback.sms import services as sms
from hotline.models import Ticket, TicketStatus, TimelineEntry
from hotline.public import track_link

# A ticket in one of these was withdrawn before the step saw it: no "registered" message.
NOT_REGISTERED = (TicketStatus.DISCARDED, TicketStatus.MERGED, TicketStatus.TRANSFERRED_110)
REPLIED = (TicketStatus.REVISIT_PENDING, TicketStatus.CLOSED)


def _since(now: datetime) -> datetime:
    return now - timedelta(hours=float(settings.SMS_NOTIFY_WITHIN_HOURS))


def _contactable(tickets):
    return tickets.exclude(Exists(DoNotCall.objects.filter(phone=OuterRef("caller__phone"))))


def tickets_to_tell_registered(now: datetime):
    told = SmsMessage.objects.filter(ticket=OuterRef("pk"), purpose=SmsPurpose.TICKET_REGISTERED)
    tickets = (
        Ticket.objects.filter(created_at__gte=_since(now), channel__in=list(settings.SMS_REGISTERED_CHANNELS))
        .exclude(status__in=NOT_REGISTERED)
        .exclude(Exists(told))
    )
    return _contactable(tickets).select_related("caller").order_by("created_at", "pk")


def tickets_to_tell_replied(now: datetime):
    approved = TimelineEntry.objects.filter(ticket=OuterRef("pk"), action="ticket.reply_approved", at__gte=_since(now))
    text = CharField()
    key = Concat(Value("reply:"), Cast("pk", text), Value(":"), Cast("reopen_count", text), output_field=text)
    tickets = (
        Ticket.objects.filter(status__in=REPLIED)
        .filter(Exists(approved))
        .annotate(reply_key=key)
        .exclude(Exists(SmsMessage.objects.filter(dedup_key=OuterRef("reply_key"))))
    )
    return _contactable(tickets).select_related("caller").order_by("pk")


def registered_text(ticket: Ticket) -> str:
    """The number, the code and the link that fills both in (docs/citizens.md). Short: one or two SMS parts."""
    link = track_link(ticket)
    if not link:
        return sms.registered_text(ticket)
    return f"【12345】您的诉求已受理，工单号{ticket.number}，查询码{ticket.query_code}。查办理进度：{link}"


def notify_registered(now: datetime | None = None, limit: int = 500) -> int:
    """Job step: queue the "registered" SMS of each ticket that needs it. Returns how many were stored."""
    now = now or timezone.now()
    stored = 0
    for ticket in tickets_to_tell_registered(now)[:limit]:
        _, created = sms.queue_sms_once(
            ticket.caller.phone,
            registered_text(ticket),
            SmsPurpose.TICKET_REGISTERED,
            ticket=ticket,
            dedup_key=sms.registered_key(ticket),
        )
        stored += created
    return stored


def notify_replies(now: datetime | None = None, limit: int = 500) -> int:
    """Job step: queue the "reply available" SMS of each ticket whose reply was approved. Returns how many."""
    now = now or timezone.now()
    if not conf.calling_hours().allows(now):
        return 0  # held until the morning; the window is long enough to cover a night
    stored = 0
    for ticket in tickets_to_tell_replied(now)[:limit]:
        _, created = sms.queue_sms_once(
            ticket.caller.phone,
            sms.reply_text(ticket),
            SmsPurpose.REPLY_AVAILABLE,
            ticket=ticket,
            dedup_key=sms.reply_key(ticket),
        )
        stored += created
    return stored
