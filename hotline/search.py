"""Finding tickets: one search for the center's pages, the units' pages and the REST API.

Who sees what stays in ``hotline.access``: the search starts from ``visible_tickets(user)``, and
searching by the caller's phone or name is the center's alone (a unit sees neither, so it must
not learn by guessing either). Words are matched through the token rows that
``hotline.services.search`` keeps (``hotline.lib.textsearch``): a tsvector phrase query on a GIN
index on PostgreSQL, a substring over the same tokens on SQLite. docs/search.md.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.core.paginator import Page, Paginator
from django.db import connection, transaction
from django.db.models import BooleanField, Exists, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from hotline import audit
from hotline.access import is_center_staff, may_search_by_phone, sees_caller_name, visible_tickets
from hotline.errors import InvalidInput, NotAllowed
from hotline.lib import textsearch
from hotline.lib.phones import InvalidPhone, normalize_phone
from hotline.models import Area, Assignment, AssignmentStatus, Category, Ticket, TicketSearch, Topic, Unit, User
from hotline.models.tickets import ACTIVE_ASSIGNMENT_STATUSES
from hotline.services.supervision import supervised_filter

# Longer than any ticket number, phone or phrase anyone types; a pasted page gets a clear error.
MAX_QUERY_CHARS = 100
MAX_NAME_CHARS = 50

# Sort keys offered to the pages and the API: name → ORDER BY (the pk breaks ties, so pages never overlap).
ORDERS = {
    "newest": ("-created_at", "-pk"),
    "oldest": ("created_at", "pk"),
    "updated": ("-updated_at", "-pk"),
    "number": ("number",),
    "-number": ("-number",),
}
DEFAULT_ORDER = "newest"


@dataclass
class Criteria:
    """What was asked for; every part is optional and the parts are ANDed."""

    q: str = ""  # words of title/content/address/resolution/replies, or a ticket number or query code
    phone: str = ""  # the caller's number in any format (center only)
    name: str = ""  # part of the caller's name (center only)
    category: Category | None = None
    topic: Topic | None = None  # the topic or any topic under it
    area: Area | None = None  # the area or any area inside it
    unit: Unit | None = None  # assigned (not withdrawn) to the unit or a unit under it
    statuses: list[str] = field(default_factory=list)
    channel: str = ""
    urgency: str = ""
    created_from: date | None = None
    created_to: date | None = None  # inclusive
    overdue: bool = False  # a unit's part is still open past its reply-by
    repeat: bool = False  # marked as repeating an earlier ticket
    supervised: bool = False  # held by an open supervision case (督办件)
    order: str = DEFAULT_ORDER


def search_tickets(user: User, c: Criteria, now: datetime | None = None) -> QuerySet[Ticket]:
    """The tickets ``user`` may see that match ``c``, sorted. Raises InvalidInput / NotAllowed on bad input."""
    qs = visible_tickets(user)
    many_words = False
    if c.q.strip():
        qs, many_words = match_words_paged(qs, c.q)
    if c.phone.strip():
        qs = match_phone(user, qs, c.phone)
    if c.name.strip():
        qs = match_name(user, qs, c.name)
    if c.category:
        qs = qs.filter(category=c.category)
    if c.topic:
        qs = qs.filter(Q(topic=c.topic) | Q(topic__parent=c.topic))
    if c.area:
        qs = qs.filter(Q(area=c.area) | Q(area__parent=c.area))
    if c.unit:
        qs = qs.filter(assigned_to_subtree(c.unit))
    if c.statuses:
        qs = qs.filter(status__in=c.statuses)
    if c.channel:
        qs = qs.filter(channel=c.channel)
    if c.urgency:
        qs = qs.filter(urgency=c.urgency)
    if c.created_from and c.created_to and c.created_from > c.created_to:
        raise InvalidInput(_("the start date is after the end date"), field="created_from")
    if c.created_from:
        qs = qs.filter(created_at__gte=local_midnight(c.created_from))
    if c.created_to:
        qs = qs.filter(created_at__lt=local_midnight(c.created_to + timedelta(days=1)))
    if c.overdue:
        qs = qs.filter(overdue(now or timezone.now()))
    if c.repeat:
        qs = qs.filter(repeat_of__isnull=False)
    if c.supervised:
        qs = qs.filter(supervised_filter())
    qs = qs.order_by(*ORDERS.get(c.order, ORDERS[DEFAULT_ORDER]))
    # The words alone match more than CANDIDATES, and nothing else narrows them: counting is known.
    narrowed = not is_center_staff(user) or any(
        getattr(c, name)
        for name in (
            "phone",
            "name",
            "category",
            "topic",
            "area",
            "unit",
            "statuses",
            "channel",
            "urgency",
            "created_from",
            "created_to",
            "overdue",
            "repeat",
            "supervised",
        )
    )
    qs.more_than_candidates = many_words and not narrowed
    return qs


def paginate(qs: QuerySet[Ticket], number: str | int | None, per_page: int, cap: int) -> Page:
    """The page ``number`` of ``qs`` (from ``search_tickets``) as ticket ids, counting no further than ``cap``.

    ``page.capped``: more than ``cap`` match, and the pager walks the first ``cap``. One walk
    gives both the count and the page: the ids of the first ``cap`` + 1 matches in order (a word
    with filters is tested row by row only once). When the words alone match more than CANDIDATES
    and nothing narrows them, the count is known, and only the page's ids are read.
    """
    ids = qs.values_list("pk", flat=True)
    if cap <= CANDIDATES and getattr(qs, "more_than_candidates", False):
        paginator = Paginator(ids, per_page)
        paginator.count, capped = cap, True
    else:
        first = list(ids[: cap + 1])
        capped = len(first) > cap
        paginator = Paginator(first[:cap], per_page)
    page = paginator.get_page(number)  # past the end: the last page; not a number: the first
    page.object_list, page.capped = list(page.object_list), capped
    return page


@contextmanager
def planner_guard():
    """Run a search's queries with PostgreSQL's JIT off: the row-by-row plan (``ROW_MATCH``) has a high
    estimated cost, so the JIT would spend 300 ms compiling a query that runs in 10 ms."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute("SET LOCAL jit = off")
        yield


# How many tickets a word may match before the page stops listing them by id (see match_words).
CANDIDATES = 1000


def _phrases(query: str) -> list[list[textsearch.Token]]:
    query = query.strip()
    if len(query) > MAX_QUERY_CHARS:
        raise InvalidInput(_("the search text is longer than %(max)s characters") % {"max": MAX_QUERY_CHARS}, field="q")
    phrases = textsearch.query_terms(query)
    if not phrases:
        raise InvalidInput(_("the search text has no letters or digits to look for"), field="q")
    return phrases


GIN_MATCH = "SELECT ticket_id FROM hotline_ticketsearch WHERE tsv @@ to_tsquery('simple'::regconfig, %s)"
# The same test for one ticket at a time, which the GIN index cannot serve: the planner then walks the
# sort order (created_at) and stops at the page's end instead of sorting every match.
# COALESCE makes it an expression the planner rates as matching half the rows (it rated the bare test
# as matching one, and chose to sort the whole table).
ROW_MATCH = (
    "COALESCE((SELECT s.tsv FROM hotline_ticketsearch s WHERE s.ticket_id = hotline_ticket.id)"
    " @@ to_tsquery('simple'::regconfig, %s), false)"
)


def match_words(qs: QuerySet[Ticket], query: str) -> QuerySet[Ticket]:
    """Tickets whose number, query code or texts contain every term of ``query`` (see textsearch).

    PostgreSQL: a semi-join on the GIN index (the API's list, which counts every match).
    """
    phrases = _phrases(query)
    if connection.vendor == "postgresql":
        # A parameter, never SQL text; the tokens hold only letters and digits, so no tsquery syntax either.
        return qs.filter(pk__in=RawSQL(GIN_MATCH, [textsearch.tsquery(phrases)]))
    rows = TicketSearch.objects.filter(ticket=OuterRef("pk"))
    for pattern in textsearch.like_patterns(phrases):
        rows = rows.filter(tokens__contains=pattern)
    return qs.filter(Exists(rows))


def match_words_paged(qs: QuerySet[Ticket], query: str) -> tuple[QuerySet[Ticket], bool]:
    """``match_words`` for a page of results, and whether the words alone match more than CANDIDATES.

    The planner cannot estimate a phrase (it multiplies the bigrams' frequencies: 路灯不亮 looks
    a thousand times rarer than it is), so it picks the plan by the count it would get wrong: up
    to CANDIDATES matches, their ids go in as a list (sorting them is cheap); past that, each ticket
    is tested in sort order until the page is full (``ROW_MATCH``). benchmarks/ticket_search.py.
    """
    phrases = _phrases(query)
    if connection.vendor != "postgresql":
        return match_words(qs, query), False
    tsquery = textsearch.tsquery(phrases)
    with connection.cursor() as cur:
        cur.execute(f"{GIN_MATCH} LIMIT %s", [tsquery, CANDIDATES + 1])
        ids = [row[0] for row in cur.fetchall()]
    if len(ids) <= CANDIDATES:
        return qs.filter(pk__in=ids), False
    return qs.filter(RawSQL(ROW_MATCH, [tsquery], output_field=BooleanField())), True


def match_phone(user: User, qs: QuerySet[Ticket], raw: str) -> QuerySet[Ticket]:
    # A masked viewer must not learn whether a guessed full number is the caller's (issue 11, hole 4).
    if not may_search_by_phone(user):
        raise NotAllowed(_("only the center may search tickets by the caller's phone number"), field="phone")
    try:
        phone = normalize_phone(raw)
    except InvalidPhone:
        raise InvalidInput(
            _("%(value)s is not a valid phone number") % {"value": raw.strip()[:32]}, field="phone"
        ) from None
    audit.note_read(user, fields=["phone"], phone=phone, reason="search by phone", action=audit.SEARCH)
    return qs.filter(caller__phone=phone)


def match_name(user: User, qs: QuerySet[Ticket], name: str) -> QuerySet[Ticket]:
    if not sees_caller_name(user):
        raise NotAllowed(_("only the center may search tickets by the caller's name"), field="name")
    name = name.strip()
    if not name.isprintable():  # a NUL byte is refused by PostgreSQL with a server error
        raise InvalidInput(_("the name has characters that are not printable"), field="name")
    if len(name) > MAX_NAME_CHARS:
        raise InvalidInput(_("the name is longer than %(max)s characters") % {"max": MAX_NAME_CHARS}, field="name")
    audit.note_read(user, fields=["name"], reason="search by name", action=audit.SEARCH)
    # contains, not icontains: names are Chinese, and upper() on every caller's name doubled the scan.
    return qs.filter(caller__name__contains=name)


def assigned_to_subtree(unit: Unit) -> Exists:
    return Exists(
        Assignment.objects.filter(ticket=OuterRef("pk"), unit_id__in=unit.subtree_ids()).exclude(
            status=AssignmentStatus.WITHDRAWN
        )
    )


def overdue(now: datetime) -> Exists:
    """A unit's part still open past its reply-by: the red of ``hotline.deadlines.warning_level``."""
    return Exists(
        Assignment.objects.filter(ticket=OuterRef("pk"), status__in=list(ACTIVE_ASSIGNMENT_STATUSES), reply_by__lt=now)
    )


def local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time()))
