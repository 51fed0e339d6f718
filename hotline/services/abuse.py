"""Spam and abuse on the public entries: which reports are held for the center, and its decisions.

A report filed on /report/ or by an Open311 system is *held* (registered, but not dispatched) when one of a few signals
says it may be abuse — each one a reason the center reads on the review page:

- ``volume``: the submission came after suspicious volume from its network or for its phone (the
  web counted it and asked for a CAPTCHA, ``web/public.py``; /report/ only — an Open311 system has its
  key's rate limit);
- ``flagged``: the phone's caller has a flag in force (恶意来电/缠访, ``services/callers.py``);
- ``duplicate``: the same text from the same phone within ``ABUSE_DUPLICATE_DAYS``;
- ``links``: ``ABUSE_HOLD_LINKS`` or more web links in the text.

The center (dispatchers, supervisors, admins) then :func:`release`\\ s it — the normal flow, and the
caller runs the automatic dispatch as for a new report — or :func:`mark_spam`\\ s it: the ticket
goes to the recycle bin (discarded tickets are not counted by the KPIs, docs/metrics.md), and the
phone may be blocked from filing online for a while (:func:`blocked_until`); calling 12345 is never
blocked. Each decision is one transaction with a timeline entry and an audit entry. Nothing is deleted.

Locks: the ticket first (``lock_ticket``), then the held row.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from hotline import audit
from hotline.errors import IllegalTransition, InvalidInput, NotAllowed
from hotline.models import (
    Attachment,
    AuditAction,
    Caller,
    HeldReport,
    HoldReason,
    HoldStatus,
    Ticket,
    TicketStatus,
    User,
)
from hotline.models.network import REVIEWING_ROLES
from hotline.services import timeline
from hotline.services.common import clean_text, lock_ticket, notify
from hotline.services.tickets import discard_ticket

LINK = re.compile(r"(?:https?://|www\.)\S+|\b[a-z0-9-]+\.(?:com|cn|net|top|xyz|cc|vip|shop|info)\b", re.IGNORECASE)
MAX_BLOCK_DAYS = 366
NOTE_MAX = 1000


def hold_reasons(
    phone: str, content: str, *, volume: bool, now: datetime | None = None, exclude: Ticket | None = None
) -> list[str]:
    """The reasons to hold a report (empty: file it as usual): before registering it, or after with ``exclude``
    naming the new ticket (it is not its own duplicate)."""
    now = now or timezone.now()
    reasons = []
    if volume:
        reasons.append(HoldReason.VOLUME)
    caller = Caller.objects.filter(phone=phone).select_related("flag").first()
    if caller is not None and caller.flag_in_force(now) is not None:
        reasons.append(HoldReason.FLAGGED)
    text = (content or "").strip()
    since = now - timedelta(days=settings.ABUSE_DUPLICATE_DAYS)
    same = Ticket.objects.filter(caller=caller, content=text, created_at__gte=since)
    if exclude is not None:
        same = same.exclude(pk=exclude.pk)
    if caller is not None and text and same.exists():
        reasons.append(HoldReason.DUPLICATE)
    if settings.ABUSE_HOLD_LINKS > 0 and len(LINK.findall(text)) >= settings.ABUSE_HOLD_LINKS:
        reasons.append(HoldReason.LINKS)
    return [str(r) for r in reasons]


def hold(ticket: Ticket, reasons: list[str]) -> HeldReport:
    """Hold a just-registered ticket for review (inside the transaction that registered it)."""
    held = HeldReport.objects.create(ticket=ticket, caller_id=ticket.caller_id, reasons=list(reasons))
    labels = "；".join(held.reason_labels())
    timeline.record(ticket, "report.held", None, note=labels, data={"reasons": list(reasons)})
    return held


def is_held(ticket: Ticket) -> bool:
    return HeldReport.objects.filter(ticket_id=ticket.pk, status=HoldStatus.HELD).exists()


def pending() -> list[HeldReport]:
    rows = HeldReport.objects.filter(status=HoldStatus.HELD).select_related(
        "ticket__category", "ticket__area", "caller"
    )
    return list(rows.order_by("held_at", "pk"))


def photo_counts(ticket_ids: list[int]) -> dict[int, int]:
    """The citizen's photos per ticket, in one query."""
    rows = Attachment.objects.filter(ticket_id__in=ticket_ids, uploaded_by=None, assignment=None)
    return dict(rows.values_list("ticket_id").annotate(n=Count("pk")).values_list("ticket_id", "n"))


def pending_count() -> int:
    return HeldReport.objects.filter(status=HoldStatus.HELD).count()


def blocked_until(phone: str, now: datetime | None = None) -> datetime | None:
    """Until when a phone may not file reports online (a spam decision's block), or None."""
    now = now or timezone.now()
    rows = HeldReport.objects.filter(caller__phone=phone, blocked_until__gt=now)
    return rows.order_by("-blocked_until").values_list("blocked_until", flat=True).first()


def _check_reviewer(by: User | None) -> None:
    if by is None or not (by.is_superuser or by.role in REVIEWING_ROLES):
        raise NotAllowed(_("only the center's dispatchers, supervisors and administrators review held reports"))


def _lock(held: HeldReport) -> tuple[Ticket, HeldReport]:
    ticket = lock_ticket(held.ticket_id)
    held = HeldReport.objects.select_for_update().get(pk=held.pk)
    if held.status != HoldStatus.HELD:
        raise IllegalTransition(
            _("this report was already decided: %(status)s") % {"status": held.get_status_display()}
        )
    return ticket, held


def _audit(action: str, by: User, held: HeldReport, note: str, **data) -> None:
    audit.record(
        action,
        user=by,
        reason=note[:300],
        subjects=[(held.ticket_id, audit.phone_token(held.caller.phone))],
        data={"held": held.pk, "reasons": held.reasons, **data},
    )


def release(held: HeldReport, by: User, note: str = "") -> Ticket:
    """Not abuse: the ticket joins the dispatch queue. The caller then runs the automatic dispatch."""
    _check_reviewer(by)
    note = clean_text(note, "note", max_chars=NOTE_MAX, required=False)
    with transaction.atomic():
        ticket, held = _lock(held)
        held.status, held.decided_by, held.decided_at, held.decision_note = (
            HoldStatus.RELEASED,
            by,
            timezone.now(),
            note,
        )
        held.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        timeline.record(ticket, "report.released", by, note=note)
        _audit(AuditAction.REPORT_RELEASED, by, held, note)
        notify(ticket, "released")
    return ticket


def mark_spam(held: HeldReport, by: User, note: str, block_days: int = 0) -> Ticket:
    """Spam or abuse: the ticket goes to the recycle bin with the note (kept, not counted by the KPIs);
    with ``block_days`` the phone may not file reports online for that many days."""
    _check_reviewer(by)
    note = clean_text(note, "note", max_chars=NOTE_MAX)
    if not 0 <= block_days <= MAX_BLOCK_DAYS:
        raise InvalidInput(_("a block lasts 0 to %(days)s days") % {"days": MAX_BLOCK_DAYS}, field="block_days")
    now = timezone.now()
    with transaction.atomic():
        ticket, held = _lock(held)
        if ticket.status not in (TicketStatus.REGISTERED, TicketStatus.RETURNED):
            raise IllegalTransition(_("the ticket has moved on; handle it on its own page"))
        until = now + timedelta(days=block_days) if block_days else None
        held.status, held.decided_by, held.decided_at, held.decision_note = HoldStatus.SPAM, by, now, note
        held.blocked_until = until
        held.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "blocked_until"])
        data = {"blocked_until": until.isoformat() if until else None, "block_days": block_days}
        timeline.record(ticket, "report.marked_spam", by, note=note, data=data)
        ticket = discard_ticket(ticket, by, _("spam or abuse: %(note)s") % {"note": note})
        _audit(AuditAction.REPORT_SPAM, by, held, note, **data)
    return ticket
