"""What the Open311 GeoReport v2 API shows (docs/open311.md): services from topics, requests from tickets.

One read model for every format; ``web/open311/`` renders it as JSON or XML.

Services are the leaf topics (``service_code`` = the topic's code, ``group`` = its parent's name);
a topic with extra fields has ``metadata`` true and its fields as the service's attributes.

Requests: which tickets the API shows is :func:`visible`: those that came in through Open311,
and those a registered :class:`Publisher` has made public (the disclosure of closed cases adds
itself with :func:`register_publisher`). What it shows of them is :class:`RequestView`: the
status open/closed, the approved reply as ``status_notes``, the lead unit as
``agency_responsible``, the text with phone numbers and the caller's name masked, the area
(never the street address), and the point rounded to about 100 m. Never shown: the caller's
phone, name, e-mail, device or account id, internal notes, other units' parts.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal

from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from hotline.models import Assignment, AssignmentStatus, Channel, PublishedCase, Ticket, TicketStatus, Topic
from hotline.public import _approved_reply, _reply_by  # the citizen's own rules for the reply and its deadline

S = TicketStatus

# Open311 knows two statuses. A ticket is open until it is closed, handed to 110, merged or
# withdrawn; a replied one waiting for its revisit is still open (the citizen may yet say no).
CLOSED_STATUSES = frozenset({S.CLOSED, S.TRANSFERRED_110, S.MERGED, S.DISCARDED})
# Shown points are rounded to this many decimals of a degree (about 100 m): enough to see the
# street, not the door.
SHOWN_PLACES = Decimal("0.001")


def open311_status(status: str) -> str:
    return "closed" if status in CLOSED_STATUSES else "open"


def statuses_for(open311: str) -> list[str]:
    """Our statuses behind an Open311 status ("open" or "closed")."""
    if open311 == "closed":
        return sorted(CLOSED_STATUSES)
    return sorted(set(S.values) - CLOSED_STATUSES)


# --- services -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Service:
    code: str
    name: str
    description: str
    group: str
    attributes: list[dict] = field(default_factory=list)

    @property
    def metadata(self) -> bool:
        return bool(self.attributes)


def _service(topic: Topic) -> Service:
    group = topic.parent.name if topic.parent_id else ""
    return Service(
        code=topic.code,
        name=topic.name,
        description=f"{group} › {topic.name}" if group else topic.name,
        group=group,
        attributes=list(topic.extra_fields or []),
    )


def services() -> list[Service]:
    """Every topic one can report under: the leaves of the taxonomy."""
    topics = Topic.objects.filter(parent__isnull=False).select_related("parent").order_by("code")
    return [_service(t) for t in topics]


def find_service(code: str) -> tuple[Topic, Service] | None:
    topic = Topic.objects.filter(parent__isnull=False, code=code).select_related("parent").first()
    return (topic, _service(topic)) if topic else None


# --- which tickets are shown ----------------------------------------------------------------


@dataclass(frozen=True)
class Publisher:
    """Another way a ticket becomes public (e.g. the disclosure of closed cases).

    ``published`` says which tickets (a filter on ``Ticket``); ``redact`` is applied to every text
    the API shows of any ticket, after the API's own masking.
    """

    name: str
    published: Callable[[], Q]
    redact: Callable[[str], str] = lambda text: text


_publishers: dict[str, Publisher] = {}


def register_publisher(publisher: Publisher) -> None:
    """Called from the publishing app's ``AppConfig.ready()``; registering a name again replaces it."""
    _publishers[publisher.name] = publisher


def _live_cases() -> QuerySet[PublishedCase]:
    return PublishedCase.objects.filter(withdrawn_at__isnull=True)


def visible() -> QuerySet[Ticket]:
    """The tickets GET requests may show: those posted through Open311, and every ticket the center
    published (办件公开, ``hotline.services.disclosure``) while its case is live."""
    shown = Q(channel=Channel.OPEN311) | Q(pk__in=_live_cases().values("ticket_id"))
    for publisher in _publishers.values():
        shown |= publisher.published()
    return Ticket.objects.filter(shown)


# --- what is shown of a ticket --------------------------------------------------------------

# Runs of 7 or more digits (with spaces or dashes inside): phone numbers, ID card numbers.
_DIGITS = re.compile(r"(?<![0-9])(?:\+?86[ -]?)?[0-9](?:[ -]?[0-9]){6,}[0-9Xx]?")


def mask_text(text: str, names: tuple[str, ...] = ()) -> str:
    """The text with digit runs (phones, ID numbers) and the given names masked."""
    text = _DIGITS.sub(lambda m: "*" * len(m.group(0)), text or "")
    for name in names:
        if name and len(name) >= 2:
            text = text.replace(name, name[0] + "*" * (len(name) - 1))
    for publisher in _publishers.values():
        text = publisher.redact(text)
    return text


@dataclass(frozen=True)
class RequestView:
    service_request_id: str
    status: str
    status_notes: str
    service_name: str
    service_code: str
    description: str
    agency_responsible: str
    service_notice: str
    requested_datetime: datetime
    updated_datetime: datetime
    expected_datetime: datetime | None
    address: str
    address_id: str
    zipcode: str
    lat: Decimal | None
    long: Decimal | None
    media_url: str


def _parts_prefetch() -> Prefetch:
    # The same parts the citizen's page counts: a returned or withdrawn assignment carried nothing.
    parts = (
        Assignment.objects.exclude(status__in=[AssignmentStatus.RETURNED, AssignmentStatus.WITHDRAWN])
        .select_related("unit")
        .only("pk", "ticket_id", "role", "status", "parent_id", "reply_by", "replied_at", "reply_text", "unit__name")
        .order_by("pk")
    )
    return Prefetch("assignments", queryset=parts, to_attr="shown_parts")


def with_details(tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """The tickets with what :func:`request_view` reads, in four queries whatever their number."""
    return tickets.select_related("caller", "topic", "area__parent", "merged_into", "open311").prefetch_related(
        _parts_prefetch(), Prefetch("published", queryset=_live_cases(), to_attr="live_cases")
    )


def _lead(parts: list[Assignment]) -> Assignment | None:
    leads = [p for p in parts if p.parent_id is None and p.role == "lead"]
    return leads[-1] if leads else None


def _notes(ticket: Ticket, parts: list[Assignment]) -> str:
    reply, _at = _approved_reply(ticket, parts)
    if reply:
        return reply
    if ticket.status == S.TRANSFERRED_110:
        return _("This matter belongs to the police and was handed to 110.")
    if ticket.status == S.MERGED and ticket.merged_into_id:
        return _("The same matter is handled in service request %(number)s.") % {"number": ticket.merged_into.number}
    if ticket.status == S.DISCARDED:
        return _("Withdrawn by the hotline.")
    return ""


def _address(ticket: Ticket) -> str:
    """The area, from the most specific unit to the most general (the spec's order): "城正街街道, 雨湖区"."""
    names, area = [], ticket.area
    while area is not None and len(names) < 3:
        names.append(area.name)
        area = area.parent
    return ", ".join(names)


def _shown(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(SHOWN_PLACES, rounding=ROUND_HALF_EVEN)


def request_view(ticket: Ticket) -> RequestView:
    """The ticket as the API shows it (from :func:`with_details`)."""
    parts = getattr(ticket, "shown_parts", None)
    if parts is None:
        parts = list(_parts_prefetch().queryset.filter(ticket=ticket))
    names = (ticket.caller.name,)
    extra = getattr(ticket, "open311", None) if ticket.channel == Channel.OPEN311 else None
    lead = _lead(parts)
    status = open311_status(ticket.status)
    cases = getattr(ticket, "live_cases", None)
    if cases is None:
        cases = list(_live_cases().filter(ticket=ticket))
    # A published ticket speaks in its case's words: redacted by the machine and checked by a
    # reviewer, better than the API's own masking. Its point is not shown: the caller agreed to
    # the words being published, not to where they were.
    case = cases[0] if cases else None
    located = extra is not None or case is None
    return RequestView(
        service_request_id=ticket.number,
        status=status,
        status_notes=mask_text(case.reply if case else _notes(ticket, parts), names),
        service_name=ticket.topic.name if ticket.topic_id else "",
        service_code=ticket.topic.code if ticket.topic_id else "",
        description=mask_text(case.content if case else ticket.content, names),
        agency_responsible=lead.unit.name if lead else "",
        service_notice="",
        requested_datetime=ticket.created_at,
        # The spec: for a closed request, the time it was closed.
        updated_datetime=(ticket.closed_at or ticket.updated_at) if status == "closed" else ticket.updated_at,
        expected_datetime=_reply_by(ticket, parts),
        address=_address(ticket),
        address_id="",
        zipcode="",
        lat=_shown(ticket.lat) if located else None,
        long=_shown(ticket.lng) if located else None,
        media_url=extra.media_url if extra else "",
    )
