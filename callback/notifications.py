"""Job steps that find tickets whose caller should get an SMS and queue it once (docs/callbacks.md).

``hotline`` does not know about SMS: these steps read the tickets and their timeline,
which are the record of what happened, and queue each message under a unique
``SmsMessage.dedup_key`` — the key is the claim. A step run twice, in two workers at
once, or again after a worker was killed half-way, stores each message once, and
``sms.send`` sends each stored message once.

- **registered** (工单号 + 查询码): tickets registered in the last ``SMS_NOTIFY_WITHIN_HOURS``
  through a channel in ``SMS_REGISTERED_CHANNELS`` (default: phone, Open311 and the channels of
  /report/ — web, photo, wechat, app: the page shows the number, but it may be closed first), unless
  the ticket was discarded, merged or handed to 110 before the step saw it. The text carries
  the short link to the progress page (``hotline.public.track_link``) when PUBLIC_BASE_URL is set.
- **reply available**: the center approved the lead unit's reply (timeline
  ``ticket.reply_approved``) within ``SMS_NOTIFY_WITHIN_HOURS`` and the ticket is now
  ``revisit_pending`` or ``closed``. One message per reply round (``reopen_count``): a
  reopened ticket replied again is announced again. A demand answered on the call
  (``resolve_on_call``) has no unit reply and gets none. Queued only within calling hours.

- **revisit coming**: a phone or IVR revisit has come due (``scheduled_for`` passed within
  ``SMS_NOTIFY_WITHIN_HOURS``) and is still open: the caller is told the hotline will call and
  how to answer. Once per revisit, whatever its retries; queued only within calling hours. An
  SMS revisit gets none: its survey message is the notice and says how to answer.

A number on the do-not-call list (``DoNotCall``: "never called back or revisited by phone or
SMS") gets none of them, nor does a caller who opted out (``Caller.no_messages``: by replying
TD/退订, :func:`opt_out`, or ticked by the agent at registration). ``Caller.no_revisit`` is about
revisits only and does not stop them. A phone bound to WeChat gets a notice by WeChat instead,
while WeChat is on and has a template for it (``callback.wechat.takes_over``; docs/citizens.md).
:func:`messages_of` lists a ticket's messages with their delivery status for the staff.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import CharField, Exists, OuterRef, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from callback import conf, wechat
from callback.models import (
    OPEN_REVISIT_STATUSES,
    DoNotCall,
    Revisit,
    RevisitChannel,
    SmsMessage,
    SmsPurpose,
    SmsStatus,
    WechatBinding,
)
from callback.sms import services as sms
from hotline.models import Caller, Ticket, TicketStatus, TimelineEntry
from hotline.public import track_link
from hotline.services.tickets import find_or_create_caller

# A ticket in one of these was withdrawn before the step saw it: no "registered" message.
NOT_REGISTERED = (TicketStatus.DISCARDED, TicketStatus.MERGED, TicketStatus.TRANSFERRED_110)
REPLIED = (TicketStatus.REVISIT_PENDING, TicketStatus.CLOSED)
# What an opt-out stops (answers to the caller's own texts and the revisit survey are not notifications).
NOTIFICATIONS = (SmsPurpose.TICKET_REGISTERED, SmsPurpose.REPLY_AVAILABLE, SmsPurpose.REVISIT_DUE)
OPT_OUT_HINT = "回TD退订"  # the usual last words of a Chinese notification SMS
OPT_OUT_WORDS = frozenset({"TD", "T", "退订", "退订短信"})
OPTED_OUT_TEXT = "【12345】您已退订12345工单通知短信，将不再收到受理、答复和回访提醒短信。如需恢复请拨打12345。"
REVISIT_DUE_TEXTS = {
    RevisitChannel.PHONE: "【12345】您的工单{number}已有办理答复，12345近日将致电回访，请留意接听。{hint}",
    RevisitChannel.IVR: (
        "【12345】您的工单{number}已有办理答复，12345近日将来电请您评价：按1满意，2基本满意，3不满意。{hint}"
    ),
}


def _since(now: datetime) -> datetime:
    return now - timedelta(hours=float(settings.SMS_NOTIFY_WITHIN_HOURS))


def _contactable(tickets, purpose: str, caller: str = "caller"):
    """Leave out numbers on the do-not-call list, callers who opted out of messages, and phones
    bound to WeChat when WeChat carries this notice (by SMS by default, by WeChat where bound)."""
    dnc = DoNotCall.objects.filter(phone=OuterRef(f"{caller}__phone"))
    tickets = tickets.exclude(Exists(dnc)).exclude(**{f"{caller}__no_messages": True})
    if wechat.takes_over(purpose):
        tickets = tickets.exclude(Exists(WechatBinding.objects.filter(phone=OuterRef(f"{caller}__phone"))))
    return tickets


def tickets_to_tell_registered(now: datetime):
    told = SmsMessage.objects.filter(ticket=OuterRef("pk"), purpose=SmsPurpose.TICKET_REGISTERED)
    tickets = (
        Ticket.objects.filter(created_at__gte=_since(now), channel__in=list(settings.SMS_REGISTERED_CHANNELS))
        .exclude(status__in=NOT_REGISTERED)
        .exclude(Exists(told))
    )
    return _contactable(tickets, "registered").select_related("caller").order_by("created_at", "pk")


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
    return _contactable(tickets, "replied").select_related("caller").order_by("pk")


def registered_text(ticket: Ticket) -> str:
    """The number, the code and the link that fills both in (docs/citizens.md). Short: one or two SMS parts."""
    link = track_link(ticket)
    if not link:
        return sms.registered_text(ticket) + OPT_OUT_HINT
    number, code = ticket.number, ticket.query_code
    return f"【12345】您的诉求已受理，工单号{number}，查询码{code}。查办理进度：{link} {OPT_OUT_HINT}"


def reply_text(ticket: Ticket) -> str:
    link = track_link(ticket)
    if not link:
        return sms.reply_text(ticket) + OPT_OUT_HINT
    return f"【12345】您的工单{ticket.number}已有办理答复，查看：{link} {OPT_OUT_HINT}"


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
            reply_text(ticket),
            SmsPurpose.REPLY_AVAILABLE,
            ticket=ticket,
            dedup_key=sms.reply_key(ticket),
        )
        stored += created
    return stored


def revisits_to_announce(now: datetime):
    """Open phone and IVR revisits that came due recently and whose caller has not been told."""
    told = SmsMessage.objects.filter(revisit=OuterRef("pk"), purpose=SmsPurpose.REVISIT_DUE)
    due = (
        Revisit.objects.filter(
            status__in=OPEN_REVISIT_STATUSES,
            channel__in=list(REVISIT_DUE_TEXTS),
            scheduled_for__lte=now,
            scheduled_for__gte=_since(now),
            ticket__status=TicketStatus.REVISIT_PENDING,
        )
        .exclude(Exists(told))
        .select_related("ticket__caller")
    )
    return _contactable(due, "revisit", "ticket__caller").order_by("scheduled_for", "pk")


def notify_revisits_due(now: datetime | None = None, limit: int = 500) -> int:
    """Job step: queue the "revisit coming" SMS of each phone/IVR revisit that came due. Returns how many."""
    now = now or timezone.now()
    if not conf.calling_hours().allows(now):
        return 0
    stored = 0
    for revisit in revisits_to_announce(now)[:limit]:
        ticket = revisit.ticket
        _, created = sms.queue_sms_once(
            ticket.caller.phone,
            REVISIT_DUE_TEXTS[revisit.channel].format(number=ticket.number, hint=OPT_OUT_HINT),
            SmsPurpose.REVISIT_DUE,
            ticket=ticket,
            revisit=revisit,
            dedup_key=f"revisit_due:{revisit.pk}",
        )
        stored += created
    return stored


def is_opt_out(text: str) -> bool:
    """ "TD", "退订" and the like, alone (any case, full-width, spaces and punctuation around)."""
    if not isinstance(text, str) or len(text) > 20:
        return False
    folded = "".join(ch for ch in unicodedata.normalize("NFKC", text) if ch.isalnum()).upper()
    return folded in OPT_OUT_WORDS


def opt_out(phone: str) -> Caller:
    """退订: no more notifications to this number (E.164); what is still queued for it is not sent."""
    caller = find_or_create_caller(phone)  # a number never seen gets a caller, so its first ticket is quiet too
    Caller.objects.filter(pk=caller.pk).update(no_messages=True)
    SmsMessage.objects.filter(to=phone, status=SmsStatus.QUEUED, purpose__in=NOTIFICATIONS).update(
        status=SmsStatus.FAILED, error="opted out (退订)", error_code="opted_out"
    )
    return caller


def messages_of(ticket: Ticket):
    """Every SMS about a ticket, sent or received, oldest first, with its delivery status."""
    return SmsMessage.objects.filter(ticket=ticket).order_by("created_at", "pk")
