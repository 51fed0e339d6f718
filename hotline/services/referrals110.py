"""110转12345: a 110 platform's referral registered as a ticket of channel ``110``, once per
incident number; its status and outcome as the 110 side reads them (docs/referrals-110.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from hotline.errors import InvalidInput
from hotline.models import Category, Channel, InboundReferral, Matter110, System110, TicketStatus, User
from hotline.services import apikeys, timeline
from hotline.services.tickets import register_ticket

# The statuses in which the center has accepted an answer: the outcome is known and reported back.
OUTCOME_STATUSES = (TicketStatus.REVISIT_PENDING, TicketStatus.CLOSED)


def create_system(*, name: str, code: str, operator: str, callback_url: str = "", by: User | None = None, **extra):
    """A new 110 platform and its key; the key is returned once and never stored in clear."""
    system = System110(name=name, code=code, operator=operator, callback_url=callback_url, **extra)
    raw = system.new_key()
    system.created_by = by
    system.save()
    return system, raw


def authenticate(raw: str | None) -> System110:
    return apikeys.authenticate(System110, raw)


def _incident(raw: str) -> str:
    raw = (raw or "").strip()
    if not raw or len(raw) > 40 or not raw.isprintable() or any(c.isspace() for c in raw):
        raise InvalidInput(_("incident_number is required: 1 to 40 characters without spaces"), field="incident_number")
    return raw


def find_matter(code: str) -> Matter110:
    """A matter 110 may hand to 12345, by its code (or its Chinese name, as an agent types it)."""
    code = (code or "").strip()
    matter = Matter110.objects.filter(code=code).first() or Matter110.objects.filter(name=code).first()
    if matter is None or not matter.accepted_from_110:
        raise InvalidInput(
            _("matter %(code)s is not on the 12345↔110 list of matters 110 hands to 12345") % {"code": code[:32]},
            field="matter",
            reason="unknown_matter",
        )
    return matter


@dataclass
class Received:
    referral: InboundReferral
    created: bool


def receive(
    system: System110,
    *,
    incident_number: str,
    matter: str,
    content: str,
    phone: str,
    address: str = "",
    reported_at: str | datetime | None = None,
    caller_name: str = "",
    by: User | None = None,
) -> Received:
    """Register a referral as a ticket, or give back the ticket an incident number already made.

    Idempotent per (system, incident number): a repeat — a retry after a lost answer — gets the
    same ticket with ``created=False`` and changes nothing (the API answers 200 instead of 201).
    """
    incident_number = _incident(incident_number)
    earlier = _existing(system, incident_number)
    if earlier is not None:
        return Received(earlier, False)
    found = find_matter(matter)
    when = None
    if isinstance(reported_at, datetime):
        when = reported_at
    elif reported_at:
        when = parse_datetime(str(reported_at).strip())
        if when is None:
            raise InvalidInput(_("reported_at must be an ISO 8601 date and time"), field="reported_at")
        if timezone.is_naive(when):
            when = timezone.make_aware(when)
    category = Category.objects.filter(code=settings.REFERRALS_110_CATEGORY).first()
    if category is None:
        raise InvalidInput(
            _("the hotline has no category %(code)s for 110 referrals (REFERRALS_110_CATEGORY)")
            % {"code": settings.REFERRALS_110_CATEGORY}
        )
    source = {"system": system.name, "system_110": system.pk, "incident_110": incident_number, "matter": found.name}
    try:
        with transaction.atomic():
            ticket = register_ticket(
                by=by,
                phone=phone,
                caller_name=(caller_name or "").strip()[:50],
                content=content,
                title=f"[110 {found.name}] {(content or '').strip()[:20]}",
                category=category,
                address=(address or "").strip()[:200],
                channel=Channel.POLICE_110,
                source=source,
            )
            referral = InboundReferral.objects.create(
                system=system,
                incident_number=incident_number,
                matter=found,
                ticket=ticket,
                via=InboundReferral.Via.API if by is None else InboundReferral.Via.PHONE,
                reported_at=when,
                received_by=by,
            )
    except IntegrityError:
        # The same incident posted twice at once: the first one's ticket is the answer.
        earlier = _existing(system, incident_number)
        if earlier is None:
            raise
        return Received(earlier, False)
    apikeys.touch(system)
    return Received(referral, True)


def _existing(system: System110, incident_number: str) -> InboundReferral | None:
    return (
        InboundReferral.objects.select_related("ticket", "matter", "system")
        .filter(system=system, incident_number=incident_number)
        .first()
    )


def find(system: System110, incident_number: str) -> InboundReferral | None:
    """A system's own referral; another system's incident numbers are not its to read."""
    return _existing(system, (incident_number or "").strip())


def outcome_text(referral: InboundReferral) -> str:
    """What 12345 did: the resolution on the call, or the lead unit's last accepted reply."""
    ticket = referral.ticket
    if ticket.resolution:
        return ticket.resolution
    reply = ticket.assignments.exclude(reply_text="").order_by("-replied_at", "-pk").first()
    return reply.reply_text if reply else ""


def view(referral: InboundReferral) -> dict:
    """The referral as the 110 side reads it (the pull API and the webhook's body): no citizen data."""
    ticket = referral.ticket
    done = ticket.status in OUTCOME_STATUSES
    return {
        "incident_number": referral.incident_number,
        "system": referral.system.code,
        "ticket_number": ticket.number,
        "matter": referral.matter.code,
        "status": ticket.status,
        "status_display": str(TicketStatus(ticket.status).label),
        "received_at": referral.received_at.isoformat(),
        "finished": done,
        "outcome": outcome_text(referral) if done else "",
    }


def record_reported(referral: InboundReferral, *, at: datetime) -> None:
    """The outcome reached the 110 side: said on the ticket's timeline (both sides on it)."""
    with transaction.atomic():
        timeline.record(
            referral.ticket,
            "referral110.outcome_reported",
            None,
            data={"system": referral.system.name, "incident_110": referral.incident_number, "at": at.isoformat()},
        )
