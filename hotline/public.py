"""What a citizen may see of a ticket, given its number and query code (docs/citizens.md).

This module is the one place that rule lives: the public page (``web/views/public.py``) and the
public API (``web/api/public.py``) both render :func:`citizen_view` and nothing else.

Shown: the status in plain words, the demand's category and one-line title, the caller's phone
masked, the units it went to (names only), the dates, the reply deadline, the reply once the
center has approved it, and the revisit result. Never shown: the full text and the address of
the demand (a six-digit code should not open them: docs/citizens.md), the caller's name, staff
names or phones, unit contacts, timeline notes, return reasons, instructions, internal review
notes, another caller's data.

Lookups are built so that a wrong code and an unknown number cost the same and answer the same
(:func:`find_for_citizen`); throttling and logging are the web's (``web/public.py``).
"""

from __future__ import annotations

import hmac
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import pgettext_lazy

from hotline.models import Assignment, AssignmentRole, AssignmentStatus, Ticket, TicketStatus, TimelineEntry

S = TicketStatus

# Ticket numbers are YYYYMMDD + a five-digit daily sequence; query codes six digits.
NUMBER_LENGTH = 13
CODE_LENGTH = 6
# Compared against when the number is unknown, so both paths do one comparison of the same length.
_NO_CODE = "\x00" * CODE_LENGTH
# A merged ticket shows the one it went into; a chain of merges is followed this far.
MERGE_HOPS = 5


@dataclass(frozen=True)
class Stage:
    """How a status reads to a citizen: a word, a sentence, and how far along it is (1–6)."""

    key: str
    word: Promise
    explanation: Promise
    step: int


STAGES: dict[str, Stage] = {
    S.REGISTERED: Stage(
        "received",
        pgettext_lazy("citizen status", "Received"),
        pgettext_lazy(
            "citizen status", "The hotline has recorded your request and is deciding which unit will handle it."
        ),
        1,
    ),
    # A unit said "not ours" and the center is choosing again: to the citizen it is still being routed.
    S.RETURNED: Stage(
        "received",
        pgettext_lazy("citizen status", "Received"),
        pgettext_lazy(
            "citizen status", "The hotline has recorded your request and is deciding which unit will handle it."
        ),
        1,
    ),
    S.DISPATCHED: Stage(
        "forwarded",
        pgettext_lazy("citizen status", "Forwarded"),
        pgettext_lazy("citizen status", "Your request has been sent to the unit responsible for it."),
        2,
    ),
    S.IN_PROGRESS: Stage(
        "in_progress",
        pgettext_lazy("citizen status", "Being handled"),
        pgettext_lazy("citizen status", "The responsible unit is working on your request."),
        3,
    ),
    # The unit has answered; the center checks the answer before it is published.
    S.REPLIED: Stage(
        "replied",
        pgettext_lazy("citizen status", "Replied"),
        pgettext_lazy(
            "citizen status", "The unit has answered. The hotline is checking the answer and will publish it here."
        ),
        4,
    ),
    S.REVISIT_PENDING: Stage(
        "revisit",
        pgettext_lazy("citizen status", "Follow-up"),
        pgettext_lazy(
            "citizen status", "The answer is below. The hotline will contact you to ask whether you are satisfied."
        ),
        5,
    ),
    S.CLOSED: Stage(
        "completed",
        pgettext_lazy("citizen status", "Completed"),
        pgettext_lazy("citizen status", "Your request has been dealt with and the case is closed."),
        6,
    ),
    S.TRANSFERRED_110: Stage(
        "transferred_110",
        pgettext_lazy("citizen status", "Handed to the police (110)"),
        pgettext_lazy(
            "citizen status", "This matter belongs to the police. It was handed to 110, who will deal with it."
        ),
        0,
    ),
    S.MERGED: Stage(
        "merged",
        pgettext_lazy("citizen status", "Merged"),
        pgettext_lazy(
            "citizen status", "The same matter was already being handled in another ticket; its progress is shown here."
        ),
        0,
    ),
    # The recycle bin (回收站): registered by mistake or a duplicate. Said plainly, not hidden as
    # "not found": only the holder of the code sees it, and a citizen who had an SMS deserves to know.
    S.DISCARDED: Stage(
        "withdrawn",
        pgettext_lazy("citizen status", "Withdrawn"),
        pgettext_lazy(
            "citizen status", "This ticket was withdrawn by the hotline. If you think this is a mistake, call 12345."
        ),
        0,
    ),
}
# The six steps a normal ticket walks, for the progress bar.
STEPS = (
    pgettext_lazy("citizen status", "Received"),
    pgettext_lazy("citizen status", "Forwarded"),
    pgettext_lazy("citizen status", "Being handled"),
    pgettext_lazy("citizen status", "Replied"),
    pgettext_lazy("citizen status", "Follow-up"),
    pgettext_lazy("citizen status", "Completed"),
)

# The revisit's answer as recorded on the timeline (``revisit.done`` data["rating"]).
RATINGS = {
    "very_satisfied": pgettext_lazy("revisit result", "very satisfied"),
    "satisfied": pgettext_lazy("revisit result", "satisfied"),
    "basically_satisfied": pgettext_lazy("revisit result", "basically satisfied"),
    "unsatisfied": pgettext_lazy("revisit result", "not satisfied (sent back to the unit to be redone)"),
    "very_unsatisfied": pgettext_lazy("revisit result", "very unsatisfied (sent back to the unit to be redone)"),
}
UNREACHABLE = pgettext_lazy("revisit result", "we could not reach you")

ROLE_WORDS = {
    AssignmentRole.LEAD: pgettext_lazy("citizen unit role", "lead unit"),
    AssignmentRole.ASSISTING: pgettext_lazy("citizen unit role", "assisting unit"),
}
# A town/street or county department the lead unit passed the work down to.
ON_THE_SPOT = pgettext_lazy("citizen unit role", "handling it on the spot")


@dataclass(frozen=True)
class UnitPart:
    name: str
    role: Promise
    replied: bool


@dataclass(frozen=True)
class Followed:
    """The ticket a merged one went into: its progress only, none of its caller's data."""

    number: str
    stage: Stage
    units: list[UnitPart]
    reply_by: datetime | None
    reply: str
    replied_at: datetime | None
    closed_at: datetime | None


@dataclass(frozen=True)
class CitizenView:
    number: str
    stage: Stage
    category: str
    title: str
    phone: str  # masked
    registered_at: datetime
    dispatched_at: datetime | None
    reply_by: datetime | None
    replied_at: datetime | None
    closed_at: datetime | None
    reply: str
    revisit: Promise | None
    revisit_at: datetime | None
    units: list[UnitPart] = field(default_factory=list)
    merged_into: Followed | None = None


def clean_number(raw: object) -> str | None:
    """A ticket number as typed: full-width digits and spaces allowed; anything else is None."""
    return _digits(raw, NUMBER_LENGTH)


def clean_code(raw: object) -> str | None:
    return _digits(raw, CODE_LENGTH)


def _digits(raw: object, length: int) -> str | None:
    text = raw if isinstance(raw, str) else ""
    if len(text) > 4 * length:  # refuse a long paste before normalising it
        return None
    text = "".join(unicodedata.normalize("NFKC", text).split()).replace("-", "")
    if len(text) != length or not (text.isascii() and text.isdigit()):
        return None
    return text


def find_for_citizen(number: str | None, code: str | None, now: datetime | None = None) -> Ticket | None:
    """The ticket if ``code`` is its query code; else None — the same for an unknown number.

    Both paths run one indexed query and one constant-time comparison. A ticket closed longer
    than PUBLIC_TRACK_DAYS_AFTER_CLOSE ago no longer opens: a code's lifetime has an end.
    """
    ticket = None
    if number is not None:
        ticket = Ticket.objects.filter(number=number).only("pk", "query_code", "closed_at", "status").first()
    expected = ticket.query_code if ticket is not None else _NO_CODE
    given = code if code is not None else ""
    matches = hmac.compare_digest(expected.encode(), given.encode())
    if ticket is None or code is None or not matches or _expired(ticket, now or timezone.now()):
        return None
    return ticket


def _expired(ticket: Ticket, now: datetime) -> bool:
    days = settings.PUBLIC_TRACK_DAYS_AFTER_CLOSE
    closed = ticket.closed_at is not None and ticket.status in (S.CLOSED, S.TRANSFERRED_110)
    return bool(days) and closed and ticket.closed_at < now - timedelta(days=days)


def citizen_view(ticket: Ticket) -> CitizenView:
    """The ticket as its caller may see it (see the module's docstring for what is left out)."""
    ticket = Ticket.objects.select_related("caller", "category", "merged_into").get(pk=ticket.pk)
    parts = _parts(ticket)
    entries = list(
        TimelineEntry.objects.filter(
            ticket=ticket, action__in=["ticket.dispatched", "revisit.done", "revisit.unreachable"]
        ).values("action", "at", "data")
    )
    dispatched = [e["at"] for e in entries if e["action"] == "ticket.dispatched"]
    revisits = [e for e in entries if e["action"] != "ticket.dispatched"]
    last_revisit = revisits[-1] if revisits else None
    revisit = None
    if last_revisit is not None:
        if last_revisit["action"] == "revisit.unreachable":
            revisit = UNREACHABLE
        else:
            revisit = RATINGS.get(str((last_revisit["data"] or {}).get("rating", "")))
    reply, replied_at = _approved_reply(ticket, parts)
    return CitizenView(
        number=ticket.number,
        stage=STAGES[ticket.status],
        category=ticket.category.name,
        title=ticket.title,
        phone=ticket.caller.masked_phone,
        registered_at=ticket.created_at,
        dispatched_at=dispatched[0] if dispatched else None,
        reply_by=_reply_by(ticket, parts),
        replied_at=replied_at,
        closed_at=ticket.closed_at if ticket.status == S.CLOSED else None,
        reply=reply,
        revisit=revisit,
        revisit_at=last_revisit["at"] if revisit is not None else None,
        units=_unit_parts(parts),
        merged_into=_followed(ticket),
    )


def _parts(ticket: Ticket) -> list[Assignment]:
    """Assignments that carried the ticket: a returned or withdrawn one ended without an answer."""
    return list(
        Assignment.objects.filter(ticket=ticket)
        .exclude(status__in=[AssignmentStatus.RETURNED, AssignmentStatus.WITHDRAWN])
        .select_related("unit")
        .only("pk", "role", "status", "parent_id", "reply_by", "replied_at", "reply_text", "unit__name")
        .order_by("pk")
    )


def _unit_parts(parts: list[Assignment]) -> list[UnitPart]:
    seen: dict[str, UnitPart] = {}
    for part in parts:
        replied = part.status == AssignmentStatus.REPLIED or (part.unit.name in seen and seen[part.unit.name].replied)
        role = ROLE_WORDS[part.role] if part.parent_id is None else ON_THE_SPOT
        seen[part.unit.name] = UnitPart(part.unit.name, role, replied)
    return list(seen.values())


def _top_lead(parts: list[Assignment]) -> Assignment | None:
    leads = [p for p in parts if p.parent_id is None and p.role == AssignmentRole.LEAD]
    return leads[-1] if leads else None


def _reply_by(ticket: Ticket, parts: list[Assignment]) -> datetime | None:
    lead = _top_lead(parts)
    if lead is None or ticket.status not in (S.DISPATCHED, S.IN_PROGRESS):
        return None
    return lead.reply_by


def _approved_reply(ticket: Ticket, parts: list[Assignment]) -> tuple[str, datetime | None]:
    """The answer the center approved: only once the ticket is past review (or answered on the call)."""
    if ticket.status not in (S.REVISIT_PENDING, S.CLOSED):
        return "", None
    if ticket.resolved_on_call:
        return ticket.resolution, ticket.created_at
    lead = _top_lead(parts)
    if lead is None or lead.status != AssignmentStatus.REPLIED:
        return "", None
    return lead.reply_text, lead.replied_at


def _followed(ticket: Ticket) -> Followed | None:
    if ticket.status != S.MERGED or ticket.merged_into is None:
        return None
    target = ticket.merged_into
    for _ in range(MERGE_HOPS):
        if target.status != S.MERGED or target.merged_into_id is None:
            break
        target = Ticket.objects.get(pk=target.merged_into_id)
    parts = _parts(target)
    reply, replied_at = _approved_reply(target, parts)
    return Followed(
        number=target.number,
        stage=STAGES[target.status],
        units=_unit_parts(parts),
        reply_by=_reply_by(target, parts),
        reply=reply,
        replied_at=replied_at,
        closed_at=target.closed_at if target.status == S.CLOSED else None,
    )


def track_path(ticket: Ticket) -> str:
    """The short link's path (served by ``web``'s ``track-short`` route; a test holds them equal)."""
    return f"/t/{ticket.number}?c={ticket.query_code}"


def track_link(ticket: Ticket) -> str:
    """The absolute short link for an SMS; empty when PUBLIC_BASE_URL is not set."""
    base = settings.PUBLIC_BASE_URL.rstrip("/")
    return f"{base}{track_path(ticket)}" if base else ""


@dataclass(frozen=True)
class Listed:
    """One line of "my tickets": enough to recognise the ticket; opening it shows :func:`citizen_view`."""

    number: str
    stage: Stage
    category: str
    title: str
    registered_at: datetime
    merged_into: str | None  # the number of the ticket a merged one is handled in


def tickets_of_phone(phone: str, now: datetime | None = None) -> list[Listed]:
    """Every ticket registered with this (proven, E.164) phone, newest first.

    Not the discarded ones (the recycle bin: registered by mistake), nor those past the end of
    their code's lifetime (PUBLIC_TRACK_DAYS_AFTER_CLOSE). A merged one names its target.
    """
    now = now or timezone.now()
    rows = (
        Ticket.objects.filter(caller__phone=phone)
        .exclude(status=S.DISCARDED)
        .select_related("category")
        .order_by("-created_at", "-pk")
    )
    listed = []
    for ticket in rows:
        if _expired(ticket, now):
            continue
        target = _merge_target(ticket)
        listed.append(
            Listed(
                number=ticket.number,
                stage=STAGES[ticket.status],
                category=ticket.category.name,
                title=ticket.title,
                registered_at=ticket.created_at,
                merged_into=target.number if target is not None else None,
            )
        )
    return listed


def find_for_phone(number: str | None, phone: str, now: datetime | None = None) -> Ticket | None:
    """The ticket if it was registered with this (proven) phone and may be shown; else None."""
    if number is None:
        return None
    ticket = (
        Ticket.objects.filter(number=number, caller__phone=phone)
        .exclude(status=S.DISCARDED)
        .only("pk", "closed_at", "status")
        .first()
    )
    if ticket is None or _expired(ticket, now or timezone.now()):
        return None
    return ticket


def _merge_target(ticket: Ticket) -> Ticket | None:
    if ticket.status != S.MERGED or ticket.merged_into_id is None:
        return None
    target = Ticket.objects.only("pk", "number", "status", "merged_into").get(pk=ticket.merged_into_id)
    for _ in range(MERGE_HOPS):
        if target.status != S.MERGED or target.merged_into_id is None:
            break
        target = Ticket.objects.only("pk", "number", "status", "merged_into").get(pk=target.merged_into_id)
    return target
