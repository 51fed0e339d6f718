"""Retention of citizens' personal data (ADR 0002, PIPL art. 19; docs/security.md §10).

Personal data of a finished ticket is anonymised ``PERSONAL_DATA_RETENTION_DAYS`` after it was
finished (default 3 years): the ticket's address is cleared; once every ticket of a caller is
anonymised and the number has not called since the cut-off, the caller's name is cleared and
the phone replaced, everywhere it is held, by its one-way token (``hotline.audit.phone_token``).
Nothing is deleted; each ticket gets a timeline entry naming the rule, and each round an audit
entry. The figures of past periods stay exact: repeats were marked on the ticket when it was
registered (``Ticket.repeat_of``), and no KPI reads a name, a number or an address.

Other apps hold copies of the number (telephony: calls; callback: callbacks, SMS). They
register a ``Holder`` in their ``AppConfig.ready()`` — the arrow points inward as with job
steps — which anonymises their rows for a list of citizens, tells which numbers are still in
use, and lists what they hold about a number for a citizen's request (``manage.py citizen_data``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import phonenumbers
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Coalesce

from hotline import audit
from hotline.lib.phones import InvalidPhone, national_digits, normalize_phone
from hotline.lib.tokens import PREFIX as TOKEN_PREFIX
from hotline.models import AuditAction, Caller, Open311Request, Ticket, TicketStatus, TimelineEntry
from hotline.services import timeline

ANONYMISED = "ticket.anonymised"
RULE = "PERSONAL_DATA_RETENTION_DAYS"
FINISHED = (TicketStatus.CLOSED, TicketStatus.MERGED, TicketStatus.DISCARDED, TicketStatus.TRANSFERRED_110)
BATCH = 500  # tickets (and callers) a round: a backlog never holds a long lock
# Looking for due tickets scans the finished ones: once an hour is enough for a rule counted in
# years, unless the last look found a full batch (a backlog: go on next round).
CHECK_EVERY = timedelta(hours=1)
_next_check: datetime | None = None


@dataclass(frozen=True)
class Citizen:
    """A caller whose number is being replaced: its row id, its number, the token that replaces it."""

    caller_id: int
    phone: str
    token: str

    @property
    def numbers(self) -> list[str]:
        """The forms the number may be stored in: E.164 and as dialled inside China."""
        return number_forms(self.phone)


def number_forms(phone: str) -> list[str]:
    try:
        return sorted({phone, national_digits(phone)})
    except phonenumbers.NumberParseException:  # a token or a withheld number: stored as it is
        return [phone]


@dataclass(frozen=True)
class Holder:
    # Replace the number (and any name) in this app's rows; returns rows changed.
    anonymise: Callable[[list[Citizen]], int]
    # The numbers (E.164) among ``phones`` this app used since ``since``: those callers are kept.
    in_use: Callable[[list[str], datetime], set[str]]
    # What this app holds about a number, as sections of plain rows (a citizen's request).
    export: Callable[[str], dict[str, list[dict[str, Any]]]]


_holders: dict[str, Holder] = {}


def register_holder(name: str, holder: Holder) -> None:
    _holders[name] = holder


def holders() -> dict[str, Holder]:
    return dict(_holders)


def cutoff(now: datetime) -> datetime | None:
    days = settings.PERSONAL_DATA_RETENTION_DAYS
    return now - timedelta(days=days) if days > 0 else None


def due_tickets(cut: datetime):
    """Finished before ``cut`` and not yet anonymised. A merged, discarded or referred ticket has no
    ``closed_at``; its last change stands for when it was finished."""
    done = TimelineEntry.objects.filter(ticket=OuterRef("pk"), action=ANONYMISED)
    return (
        Ticket.objects.filter(status__in=FINISHED)
        .alias(finished=Coalesce("closed_at", "updated_at"))
        .filter(finished__lt=cut)
        .exclude(Exists(done))
        .order_by("pk")
    )


def due_callers(cut: datetime):
    """Callers known before ``cut`` whose every ticket is anonymised, with their number still in clear."""
    kept = Ticket.objects.filter(caller=OuterRef("pk")).exclude(
        Exists(TimelineEntry.objects.filter(ticket=OuterRef("pk"), action=ANONYMISED))
    )
    return (
        Caller.objects.filter(created_at__lt=cut)
        .exclude(phone__startswith=TOKEN_PREFIX)
        .exclude(Exists(kept))
        .order_by("pk")
    )


def anonymise_ticket(ticket_id: int, days: int) -> bool:
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update(of=("self",)).filter(pk=ticket_id).first()
        if ticket is None or TimelineEntry.objects.filter(ticket=ticket, action=ANONYMISED).exists():
            return False
        cleared = ["address"] if ticket.address else []
        if ticket.lat is not None:
            cleared.append("point")  # the exact point is as personal as the address; the area stays
        # A queryset update: the ticket's ``updated_at`` is no part of the personal data.
        Ticket.objects.filter(pk=ticket.pk).update(address="", lat=None, lng=None)
        # What an Open311 system told about the citizen besides the phone.
        if Open311Request.objects.filter(ticket=ticket).exclude(email="", device_id="", account_id="").exists():
            Open311Request.objects.filter(ticket=ticket).update(email="", device_id="", account_id="")
            cleared.append("open311")
        timeline.record(
            ticket,
            ANONYMISED,
            None,
            note=f"personal data anonymised {days} days after the ticket was finished ({RULE})",
            data={"rule": RULE, "days": days, "cleared": cleared},
        )
    return True


def anonymise_callers(callers: list[Caller], since: datetime) -> list[Citizen]:
    in_use: set[str] = set()
    phones = [c.phone for c in callers]
    for holder in _holders.values():
        in_use |= holder.in_use(phones, since)
    citizens = [Citizen(c.pk, c.phone, audit.phone_token(c.phone)) for c in callers if c.phone not in in_use]
    for citizen in citizens:
        with transaction.atomic():
            for holder in _holders.values():
                holder.anonymise([citizen])
            Caller.objects.filter(pk=citizen.caller_id).update(phone=citizen.token, name="")
    return citizens


def anonymise_due(now: datetime) -> int:
    """Tickets past retention, then their callers (at most ``BATCH`` of each); how many."""
    return sum(_anonymise(now))


def _anonymise(now: datetime) -> tuple[int, int]:
    cut = cutoff(now)
    if cut is None:
        return 0, 0
    days = settings.PERSONAL_DATA_RETENTION_DAYS
    tickets = [pk for pk in due_tickets(cut).values_list("pk", flat=True)[:BATCH] if anonymise_ticket(pk, days)]
    citizens = anonymise_callers(list(due_callers(cut)[:BATCH]), cut)
    if tickets or citizens:
        audit.record(
            AuditAction.ANONYMISED,
            reason=f"{RULE}={days}",
            screen="job retention.anonymise",
            subjects=[(pk, "") for pk in tickets] + [(None, c.token) for c in citizens],
            data={"tickets": len(tickets), "callers": len(citizens)},
        )
    return len(tickets), len(citizens)


def step(now: datetime) -> int:
    """The registered job step: ``anonymise_due`` at most once per ``CHECK_EVERY`` in this process."""
    global _next_check
    if _next_check is not None and now < _next_check:
        return 0
    tickets, callers = _anonymise(now)
    _next_check = None if BATCH in (tickets, callers) else now + CHECK_EVERY
    return tickets + callers


def find_callers(phone: str) -> list[Caller]:
    """The callers of a number as typed (any form) or of its token: the one in clear first, then
    the anonymised one (a citizen who calls again after anonymisation is a new caller row)."""
    token = audit.phone_token(phone)
    try:
        normal = normalize_phone(phone)
    except InvalidPhone:
        normal = phone
    found = Caller.objects.filter(Q(phone=normal) | Q(phone=token))
    return sorted(found, key=lambda c: (c.phone.startswith(TOKEN_PREFIX), c.pk))
