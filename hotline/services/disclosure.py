"""办件公开: publishing a closed ticket whose caller agreed, and withdrawing it.

The center opens a closed ticket, is shown the automatic redaction (``draft``), edits what the
machine could not know, and publishes (``publish_case``): one transaction that locks the ticket,
checks consent, status and the reviewer's role, scans the edited texts again (an edit that
brings back a phone number or an ID card is refused, naming what was found), writes the case,
a timeline entry and an audit entry. The ticket's own texts are never touched. Withdrawing
(``withdraw_case``) keeps the row, with who, when and why. docs/disclosure.md.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hotline import audit
from hotline.access import is_center_reviewer
from hotline.errors import Conflict, DomainError, IllegalTransition, InvalidInput, NotAllowed
from hotline.lib import redact
from hotline.lib.textsearch import document
from hotline.models import (
    AssignmentRole,
    AssignmentStatus,
    AuditAction,
    PublishedCase,
    Ticket,
    TicketStatus,
    Unit,
    User,
)
from hotline.services import timeline
from hotline.services.common import clean_text, lock_ticket

# How a refusal names what the reviewer's text still holds.
KIND_NAMES = {
    redact.MOBILE: gettext_lazy("a mobile number"),
    redact.LANDLINE: gettext_lazy("a phone number"),
    redact.ID_CARD: gettext_lazy("an ID-card number"),
    redact.BANK_CARD: gettext_lazy("a bank-card number"),
    redact.PLATE: gettext_lazy("a plate number"),
    redact.EMAIL: gettext_lazy("an email address"),
    redact.NAME: gettext_lazy("the caller's name"),
}
TITLE_MAX = 100


@dataclass(frozen=True)
class Part:
    """One text of the ticket: as written, and as the machine would publish it."""

    field: str
    original: str
    redacted: redact.Redacted

    @property
    def segments(self) -> list[tuple[str, redact.Finding | None]]:
        return self.redacted.segments(self.original)


@dataclass(frozen=True)
class Draft:
    ticket: Ticket
    title: Part
    content: Part
    reply: Part
    unit: Unit | None
    refusal: str  # why it may not be published now; "" when it may

    @property
    def parts(self) -> tuple[Part, Part, Part]:
        return (self.title, self.content, self.reply)

    @property
    def hidden(self) -> dict[str, int]:
        return dict(Counter(f.kind for p in self.parts for f in p.redacted.findings))


def answer_of(ticket: Ticket) -> tuple[str, Unit | None]:
    """The answer the caller got: the center's lead unit's last reply, else what the agent said on the call."""
    lead = (
        ticket.assignments.filter(parent__isnull=True, role=AssignmentRole.LEAD, status=AssignmentStatus.REPLIED)
        .exclude(reply_text="")
        .select_related("unit")
        .order_by("-replied_at", "-pk")
        .first()
    )
    if lead is not None:
        return lead.reply_text, lead.unit
    return ticket.resolution, None


def awaiting_publication() -> QuerySet[Ticket]:
    """Closed tickets whose callers agreed, with no live case: the reviewers' to-do list, newest closed first."""
    live = PublishedCase.objects.filter(ticket=OuterRef("pk"), withdrawn_at__isnull=True)
    return (
        Ticket.objects.filter(status=TicketStatus.CLOSED, consent_public=True)
        .exclude(Exists(live))
        .select_related("topic__parent", "area", "category")
        .order_by("-closed_at", "-pk")
    )


def refusal_error(ticket: Ticket) -> DomainError | None:
    """Why ``ticket`` may not be published, as the error the service raises; None when it may."""
    if ticket.status != TicketStatus.CLOSED:
        return IllegalTransition(
            _("only a closed ticket can be published (this one is %(status)s)")
            % {"status": ticket.get_status_display()}
        )
    if not ticket.consent_public:
        return NotAllowed(_("the caller did not agree to publication, so this ticket cannot be published"))
    if PublishedCase.objects.filter(ticket=ticket, withdrawn_at__isnull=True).exists():
        return Conflict(_("this ticket is already published; withdraw it first to publish it again"))
    return None


def refusal(ticket: Ticket) -> str:
    """Why ``ticket`` may not be published (as the page says it), or ""."""
    error = refusal_error(ticket)
    return error.message if error else ""


def _names(ticket: Ticket) -> list[str]:
    return [ticket.caller.name] if ticket.caller.name else []


def draft(ticket: Ticket) -> Draft:
    """What publishing ``ticket`` would show, before the reviewer edits it (reads only)."""
    names = _names(ticket)
    reply, unit = answer_of(ticket)
    parts = [
        Part(f, text, redact.redact(text, names))
        for f, text in (("title", ticket.title), ("content", ticket.content), ("reply", reply))
    ]
    return Draft(ticket, *parts, unit=unit, refusal=refusal(ticket))


def check_clean(text: str, field: str, names: list[str]) -> None:
    """Refuse a text that still holds personal data the machine recognises."""
    found = redact.find(text, names)
    if found:
        kinds = "、".join(str(KIND_NAMES[k]) for k in dict.fromkeys(f.kind for f in found))
        raise InvalidInput(
            _("the %(field)s still holds %(what)s (“%(text)s”); hide it before publishing")
            % {"field": _field_name(field), "what": kinds, "text": found[0].text},
            field=field,
        )


def _field_name(field: str) -> str:
    return {"title": _("title"), "content": _("content"), "reply": _("reply")}[field]


def publish_case(
    ticket: Ticket, by: User, *, title: str, content: str, reply: str, typical: bool = False
) -> PublishedCase:
    """Publish ``ticket`` with the reviewer's texts (the draft's, edited). One transaction."""
    if not is_center_reviewer(by):
        raise NotAllowed(_("only the center's reviewers may publish tickets"))
    error = refusal_error(ticket)  # first the ticket's state, then the texts; again under the lock below
    if error is not None:
        raise error
    max_chars = settings.HOTLINE_MAX_CONTENT_CHARS
    texts = {
        "title": clean_text(title, "title", max_chars=TITLE_MAX),
        "content": clean_text(content, "content", max_chars=max_chars),
        "reply": clean_text(reply, "reply", max_chars=max_chars),
    }
    with transaction.atomic():
        ticket = lock_ticket(ticket)
        error = refusal_error(ticket)
        if error is not None:
            raise error
        names = _names(ticket)
        for field, text in texts.items():
            check_clean(text, field, names)
        auto = draft(ticket)
        now = timezone.now()
        case = PublishedCase.objects.create(
            ticket=ticket,
            **texts,
            category_id=ticket.category_id,
            topic_id=ticket.topic_id,
            area_id=ticket.area_id,
            unit=auto.unit,
            registered_on=timezone.localdate(ticket.created_at),
            closed_on=timezone.localdate(ticket.closed_at or now),
            typical=bool(typical),
            auto_title=auto.title.redacted.text[:TITLE_MAX],
            auto_content=auto.content.redacted.text,
            auto_reply=auto.reply.redacted.text,
            hidden=auto.hidden,
            tokens=document(texts["title"], texts["content"], texts["reply"]),
            published_by=by,
            published_at=now,
        )
        edited = [f for f, p in zip(texts, auto.parts, strict=True) if texts[f] != p.redacted.text.strip()]
        data = {"case": case.pk, "typical": case.typical, "hidden": auto.hidden, "edited": edited}
        timeline.record(ticket, "ticket.published", by, data=data)
        audit.record(AuditAction.CASE_PUBLISHED, user=by, reason="办件公开", subjects=[(ticket, "")], data=data)
    return case


def withdraw_case(case: PublishedCase, by: User, reason: str) -> PublishedCase:
    """撤回: the case leaves the public pages; the row stays with who, when and why."""
    if not is_center_reviewer(by):
        raise NotAllowed(_("only the center's reviewers may withdraw published tickets"))
    reason = clean_text(reason, "reason", max_chars=2000)
    with transaction.atomic():
        lock_ticket(case.ticket_id)
        case = PublishedCase.objects.select_for_update().get(pk=case.pk)
        if case.withdrawn_at is not None:
            raise Conflict(_("this case was already withdrawn"))
        case.withdrawn_by, case.withdrawn_at, case.withdraw_reason = by, timezone.now(), reason
        case.save(update_fields=["withdrawn_by", "withdrawn_at", "withdraw_reason"])
        data = {"case": case.pk}
        timeline.record(case.ticket, "ticket.publication_withdrawn", by, note=reason, data=data)
        audit.record(
            AuditAction.CASE_WITHDRAWN, user=by, reason=reason[:300], subjects=[(case.ticket_id, "")], data=data
        )
    return case
