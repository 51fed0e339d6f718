"""Registering tickets and the center's own actions on them."""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hotline import geo
from hotline.errors import Conflict, IllegalTransition, InvalidInput
from hotline.lib.geo import InvalidCoordinates, parse_coordinate
from hotline.lib.phones import InvalidPhone, normalize_phone
from hotline.models import (
    Area,
    Assignment,
    AssignmentRole,
    AssignmentStatus,
    Caller,
    Category,
    Channel,
    IdempotencyKey,
    Referral,
    Ticket,
    TicketCounter,
    TicketStatus,
    Topic,
    Unit,
    Urgency,
    User,
)
from hotline.models.tickets import ACTIVE_ASSIGNMENT_STATUSES, OPEN_STATUSES
from hotline.services import repeats, search, timeline
from hotline.services.assignments import current_lead, new_assignment, withdraw_active
from hotline.services.common import check_version, clean_text, lock_ticket, move, notify
from hotline.workflow import check_transition

S = TicketStatus


def find_caller(phone: str) -> Caller | None:
    """The caller for a phone number if we know them; None for a new, anonymous or foreign number. Reads only.

    The center's flag comes with the caller (one join): the screen pop shows it."""
    try:
        return Caller.objects.filter(phone=normalize_phone(phone)).select_related("flag").first()
    except InvalidPhone:
        return None


PHONE_ERRORS = {
    "empty": gettext_lazy("Enter the caller's phone number."),
    "too_long": gettext_lazy("The phone number is too long."),
    "unparsable": gettext_lazy("“%(value)s” is not a phone number."),
    "foreign": gettext_lazy("Only Chinese (+86) numbers are accepted: “%(value)s”."),
    "invalid": gettext_lazy("“%(value)s” is not a valid Chinese phone number."),
}


def phone_error(exc: InvalidPhone, raw: str) -> InvalidInput:
    """The refusal of a phone number, in the user's language."""
    message = PHONE_ERRORS.get(exc.reason, PHONE_ERRORS["invalid"])
    return InvalidInput(str(message) % {"value": (raw or "").strip()[:32]}, field="phone")


def find_or_create_caller(phone: str, name: str = "") -> Caller:
    """The caller for a phone number (normalised to E.164); a new name fills a blank one."""
    try:
        e164 = normalize_phone(phone)
    except InvalidPhone as exc:
        raise phone_error(exc, phone) from None
    name = (name or "").strip()[:50]
    try:
        with transaction.atomic():
            caller, created = Caller.objects.get_or_create(phone=e164, defaults={"name": name})
    except IntegrityError:  # created by a concurrent request between get and create
        caller, created = Caller.objects.get(phone=e164), False
    if not created and name and not caller.name:
        caller.name = name
        caller.save(update_fields=["name"])
    return caller


def next_ticket_number(day: date) -> str:
    """YYYYMMDD + a five-digit daily sequence. Call inside a transaction.

    The day's counter row is locked, so concurrent registrations queue on it and
    never share a number (the unique constraint on Ticket.number is the backstop).
    """
    TicketCounter.objects.get_or_create(day=day)
    counter = TicketCounter.objects.select_for_update().get(day=day)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"{day:%Y%m%d}{counter.last:05d}"


def new_query_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def register_ticket(
    *,
    by: User | None,
    phone: str,
    content: str,
    category: Category,
    caller_name: str = "",
    topic: Topic | None = None,
    title: str = "",
    address: str = "",
    area: Area | None = None,
    urgency: str = Urgency.NORMAL,
    channel: str = Channel.PHONE,
    call_linkedid: str = "",
    created_at=None,
    resolve_with: str | None = None,
    no_messages: bool = False,
    lat=None,
    lng=None,
    source: dict | None = None,
    consent_public: bool = False,
) -> Ticket:
    """受理登记: record a citizen's demand as a new ticket.

    With ``resolve_with`` (the answer the agent gave) it is also 直接办结 in the same transaction:
    if the resolve part fails, no ticket is left behind. ``no_messages``: the caller asked for no
    SMS notifications (``Caller.no_messages``; only set here, lifted in the admin). ``lat``/``lng``:
    a WGS-84 point, both or neither; without an ``area`` the point's area is looked up
    (``hotline.geo``; none when the point is outside the city). ``source``: who sent it, for the
    registration's timeline entry (an Open311 system).
    ``consent_public``: 同意公开, the caller agrees that the closed ticket may be published with
    personal data hidden (``hotline.services.disclosure``).
    """
    content = clean_text(content, "content", max_chars=settings.HOTLINE_MAX_CONTENT_CHARS)
    if resolve_with is not None:
        resolve_with = clean_text(resolve_with, "resolution", max_chars=settings.HOTLINE_MAX_CONTENT_CHARS)
    title = clean_text(title, "title", max_chars=100, required=False)
    address = clean_text(address, "address", max_chars=200, required=False)
    if urgency not in Urgency.values:
        raise InvalidInput(_("unknown urgency %(value)s") % {"value": repr(urgency)}, field="urgency")
    if channel not in Channel.values:
        raise InvalidInput(_("unknown channel %(value)s") % {"value": repr(channel)}, field="channel")
    if channel == Channel.OPEN311 and not (source or {}).get("system"):
        raise InvalidInput(_("the channel open311 is only for reports posted through the Open311 API"), field="channel")
    if channel == Channel.POLICE_110 and not (source or {}).get("incident_110"):
        # A 110 ticket always names its incident (hotline.services.referrals110 registers it).
        raise InvalidInput(
            _("the channel 110 is only for referrals from 110 with their incident number"), field="channel"
        )
    lat, lng = _point(lat, lng)
    if area is None and lat is not None:
        area = geo.area_for(lat, lng)
    created_at = created_at or timezone.now()
    with transaction.atomic():
        caller = find_or_create_caller(phone, caller_name)
        if no_messages and not caller.no_messages:
            caller.no_messages = True
            caller.save(update_fields=["no_messages"])
        repeat_of = repeats.earlier_match(
            caller_id=caller.pk, topic_id=topic.pk if topic else None, address=address, created_at=created_at
        )
        ticket = Ticket.objects.create(
            number=next_ticket_number(timezone.localdate(created_at)),
            query_code=new_query_code(),
            channel=channel,
            category=category,
            topic=topic,
            caller=caller,
            title=title or content[:30],
            content=content,
            address=address,
            area=area,
            lat=lat,
            lng=lng,
            urgency=urgency,
            call_linkedid=call_linkedid,
            repeat_of=repeat_of,
            consent_public=bool(consent_public),
            created_by=by,
            created_at=created_at,
        )
        data = {"channel": channel, **({"repeat_of": repeat_of.number} if repeat_of else {}), **(source or {})}
        if no_messages:
            data["no_messages"] = True
        if consent_public:
            data["consent_public"] = True
        timeline.record(ticket, "ticket.registered", by, to_status=S.REGISTERED, data=data)
        search.index_ticket(ticket, new=True)
        notify(ticket, "registered")
        if resolve_with is not None:
            _resolve_locked(ticket, by, resolve_with)
    return ticket


def _point(lat, lng) -> tuple[Decimal | None, Decimal | None]:
    """Both coordinates checked (WGS-84 degrees), or neither given."""
    if lat in (None, "") and lng in (None, ""):
        return None, None
    if lat in (None, "") or lng in (None, ""):
        missing = "lng" if lat not in (None, "") else "lat"
        raise InvalidInput(_("give both latitude and longitude, or neither"), field=missing)
    try:
        return parse_coordinate(lat, "lat"), parse_coordinate(lng, "long")
    except InvalidCoordinates as exc:
        field = "lat" if exc.field == "lat" else "lng"
        if exc.reason == "range":
            message = _("%(field)s is outside -%(limit)s…%(limit)s degrees") % {
                "field": exc.field,
                "limit": 90 if field == "lat" else 180,
            }
        else:
            message = _("%(field)s is not a number of degrees") % {"field": exc.field}
        raise InvalidInput(message, field=field) from None


IDEMPOTENCY_KEY_MAX = 64


def register_ticket_once(*, idempotency_key: str, by: User | None, **fields) -> tuple[Ticket, bool]:
    """受理登记 that a repeat with the same key does not repeat: a retry, a double click, three sent at once.

    Returns the ticket and whether it was made now. A repeat of a key (per user) gets the first's
    ticket; the same key with other content is a conflict. Without a key (or a user) it is
    ``register_ticket``. The key's row is inserted first, under a unique constraint: a concurrent
    repeat waits on it until the first commits, then reads the first's ticket.
    """
    key = (idempotency_key or "").strip()
    if not key or by is None:
        return register_ticket(by=by, **fields), True
    if len(key) > IDEMPOTENCY_KEY_MAX or not key.isprintable():
        raise InvalidInput(
            _("the idempotency key must be 1 to %(max)s printable characters") % {"max": IDEMPOTENCY_KEY_MAX},
            field="idempotency_key",
        )
    fingerprint = _fingerprint(fields)
    with transaction.atomic():
        try:
            with transaction.atomic():
                claim = IdempotencyKey.objects.create(user=by, key=key, fingerprint=fingerprint)
        except IntegrityError:
            earlier = IdempotencyKey.objects.select_related("ticket").get(user=by, key=key)
            if earlier.fingerprint != fingerprint:
                raise Conflict(
                    _("this idempotency key was used for another registration (ticket %(number)s)")
                    % {"number": earlier.ticket.number},
                    ticket=earlier.ticket.number,
                ) from None
            return earlier.ticket, False
        ticket = register_ticket(by=by, **fields)
        claim.ticket = ticket
        claim.save(update_fields=["ticket"])
    return ticket, True


def _fingerprint(fields: dict) -> str:
    """A digest of what a registration says, as the service will read it."""
    plain = {}
    for name, value in sorted(fields.items()):
        if name == "phone":
            try:
                value = normalize_phone(value)
            except InvalidPhone:
                pass
        plain[name] = value.pk if hasattr(value, "pk") else value.strip() if isinstance(value, str) else value
    return hashlib.sha256(json.dumps(plain, default=str, ensure_ascii=False).encode()).hexdigest()


def _revisit_or_close(ticket: Ticket) -> str:
    if ticket.category.requires_revisit and not ticket.caller.no_revisit:
        return S.REVISIT_PENDING
    return S.CLOSED


def resolve_on_call(
    ticket: Ticket,
    by: User,
    resolution: str,
    expected_version: int | None = None,
    *,
    unit: Unit | None = None,
    call_linkedid: str = "",
) -> Ticket:
    """直接办结: the agent answered the demand during the call.

    With ``unit`` the answer is that unit's, given on the call (专家在线: the agent conferenced the
    unit's duty phone): the unit's answer joins the timeline first, then the ticket is resolved,
    in one transaction.
    """
    resolution = clean_text(resolution, "resolution", max_chars=settings.HOTLINE_MAX_CONTENT_CHARS)
    if unit is not None and not unit.is_active:
        raise InvalidInput(_("%(unit)s is not an active unit") % {"unit": unit.name}, field="unit")
    with transaction.atomic():
        ticket = lock_ticket(ticket, expected_version)
        if unit is not None:
            check_transition("resolve", ticket.status, by)
            timeline.record(
                ticket,
                "ticket.unit_answered_on_call",
                by,
                note=resolution,
                data={"unit": unit.name, "unit_id": unit.pk, "call_linkedid": call_linkedid or ticket.call_linkedid},
            )
        _resolve_locked(ticket, by, resolution)
    return ticket


def _resolve_locked(ticket: Ticket, by: User | None, resolution: str) -> None:
    """Resolve a ticket the caller holds: locked, or created in the same transaction (no one else sees it)."""
    check_transition("resolve", ticket.status, by)
    to = _revisit_or_close(ticket)
    extra = {"closed_at": timezone.now()} if to == S.CLOSED else {}
    old = move(ticket, "resolve", to, resolved_on_call=True, resolution=resolution, **extra)
    search.index_ticket(ticket)
    timeline.record(ticket, "ticket.resolved_on_call", by, from_status=old, to_status=to, note=resolution)
    notify(ticket, "resolved")


def transfer_to_110(
    ticket: Ticket,
    by: User,
    reason: str,
    *,
    mode: str = "transfer",
    call_linkedid: str = "",
    expected_version: int | None = None,
    matter=None,
) -> Referral:
    """移交110: the case belongs to the police (国办发〔2022〕12号). ``matter``: its item of the
    12345↔110 list (a ``Matter110``), when the agent chose one."""
    reason = clean_text(reason, "reason", max_chars=1000)
    if mode not in ("transfer", "three_way"):
        raise InvalidInput(_("unknown referral mode %(value)s") % {"value": repr(mode)}, field="mode")
    with transaction.atomic():
        ticket = lock_ticket(ticket, expected_version)
        check_transition("transfer_110", ticket.status, by)
        referral = Referral.objects.create(
            ticket=ticket,
            mode=mode,
            reason=reason,
            referred_by=by,
            call_linkedid=call_linkedid or ticket.call_linkedid,
            matter=matter,
        )
        old = move(ticket, "transfer_110", S.TRANSFERRED_110, closed_at=timezone.now())
        timeline.record(
            ticket,
            "ticket.transferred_110",
            by,
            from_status=old,
            to_status=S.TRANSFERRED_110,
            note=reason,
            data={"mode": mode, "referral": referral.pk},
        )
        notify(ticket, "transferred_110")
    return referral


def record_call_referral(by: User, reason: str, *, call_linkedid: str, mode: str = "transfer", matter=None) -> Referral:
    """A call handed to 110 before any ticket was registered (the ticket-side path is transfer_to_110)."""
    reason = clean_text(reason, "reason", max_chars=1000)
    if mode not in ("transfer", "three_way"):
        raise InvalidInput(_("unknown referral mode %(value)s") % {"value": repr(mode)}, field="mode")
    return Referral.objects.create(call_linkedid=call_linkedid, mode=mode, reason=reason, referred_by=by, matter=matter)


def merge_ticket(ticket: Ticket, into: Ticket, by: User, note: str = "", expected_version: int | None = None) -> Ticket:
    """并单: a repeat demand is folded into an earlier ticket and stays countable."""
    note = clean_text(note, "note", max_chars=1000, required=False)
    if ticket.pk == into.pk:
        raise InvalidInput(_("a ticket cannot be merged into itself"), field="into")
    with transaction.atomic():
        # Lock in primary-key order so two opposite merges cannot deadlock.
        first, second = sorted([ticket.pk, into.pk])
        locked = {first: lock_ticket(first), second: lock_ticket(second)}
        ticket, into = locked[ticket.pk], locked[into.pk]
        check_version(ticket, expected_version)
        check_transition("merge", ticket.status, by)
        if into.status not in OPEN_STATUSES and into.status != S.CLOSED:
            raise IllegalTransition(
                _("cannot merge into a ticket that is %(status)s") % {"status": into.get_status_display()}
            )
        units = withdraw_active(ticket, by, "工单已并入 " + into.number)
        old = move(ticket, "merge", S.MERGED, merged_into=into)
        timeline.record(
            ticket, "ticket.merged", by, from_status=old, to_status=S.MERGED, note=note, data={"into": into.number}
        )
        timeline.record(into, "ticket.merge_received", by, note=note, data={"merged": ticket.number})
        notify(ticket, "merged", extra_units=tuple(units))
        notify(into, "merge_received")
    return ticket


def discard_ticket(ticket: Ticket, by: User, reason: str, expected_version: int | None = None) -> Ticket:
    """Move a ticket to the recycle bin (回收站). Nothing is deleted."""
    reason = clean_text(reason, "reason", max_chars=1000)
    with transaction.atomic():
        ticket = lock_ticket(ticket, expected_version)
        check_transition("discard", ticket.status, by)
        old = move(ticket, "discard", S.DISCARDED, status_before_discard=ticket.status)
        timeline.record(ticket, "ticket.discarded", by, from_status=old, to_status=S.DISCARDED, note=reason)
        repeats.remark_around(ticket)
        notify(ticket, "discarded")
    return ticket


def restore_ticket(ticket: Ticket, by: User, note: str = "", expected_version: int | None = None) -> Ticket:
    """Bring a ticket back from the recycle bin to where it was; its timeline is kept."""
    note = clean_text(note, "note", max_chars=1000, required=False)
    with transaction.atomic():
        ticket = lock_ticket(ticket, expected_version)
        check_transition("restore", ticket.status, by)
        to = ticket.status_before_discard or S.REGISTERED
        old = move(ticket, "restore", to, status_before_discard="")
        timeline.record(ticket, "ticket.restored", by, from_status=old, to_status=to, note=note)
        repeats.remark_around(ticket)
        notify(ticket, "restored")
    return ticket


def review_reply(
    ticket: Ticket,
    by: User,
    *,
    approve: bool,
    note: str = "",
    expected_version: int | None = None,
    confirm_outstanding: bool = False,
) -> Ticket:
    """审核: the center approves the lead unit's reply, or sends it back to be redone.

    Assisting units may reply until this review. Approving while some have not replied ends
    their parts unreplied (withdrawn; late if past their deadline), so it must be confirmed
    with ``confirm_outstanding``.
    """
    note = clean_text(note, "note", max_chars=2000, required=not approve)
    with transaction.atomic():
        ticket = lock_ticket(ticket, expected_version)
        check_transition("review", ticket.status, by)
        if approve:
            outstanding = list(
                Assignment.objects.filter(ticket=ticket, status__in=ACTIVE_ASSIGNMENT_STATUSES)
                .order_by("pk")
                .values_list("unit__name", flat=True)
            )
            if outstanding and not confirm_outstanding:
                raise Conflict(
                    _("%(units)s have not replied yet; confirm to approve and end their part unreplied")
                    % {"units": "、".join(outstanding)},
                    outstanding="、".join(outstanding),
                )
            units = withdraw_active(ticket, by, "审核通过，协办单位未答复，协办结束")
            to = _revisit_or_close(ticket)
            extra = {"closed_at": timezone.now()} if to == S.CLOSED else {}
            old = move(ticket, "review", to, **extra)
            data = {"outstanding": outstanding} if outstanding else {}
            timeline.record(ticket, "ticket.reply_approved", by, from_status=old, to_status=to, note=note, data=data)
            notify(ticket, "reply_approved", extra_units=tuple(units))
        else:
            _redo(ticket, by, note, "review", entry="ticket.sent_back")
    return ticket


def close_ticket(ticket: Ticket, by: User | None, note: str = "", expected_version: int | None = None) -> Ticket:
    """归档: close after the revisit (satisfied, or the caller could not be reached)."""
    note = clean_text(note, "note", max_chars=2000, required=False)
    with transaction.atomic():
        ticket = lock_ticket(ticket, expected_version)
        check_transition("close", ticket.status, by)
        old = move(ticket, "close", S.CLOSED, closed_at=timezone.now())
        timeline.record(ticket, "ticket.closed", by, from_status=old, to_status=S.CLOSED, note=note)
        notify(ticket, "closed")
    return ticket


def reopen_ticket(
    ticket: Ticket,
    by: User | None,
    reason: str,
    expected_version: int | None = None,
    *,
    on_revisit: bool = False,
) -> Assignment:
    """发回重办: the caller is not satisfied; the same lead unit redoes it with a new deadline.

    ``on_revisit`` is the revisit's own reopen (the recorder of an unsatisfied answer, an agent
    included, is the actor); otherwise only reviewers reopen.
    """
    reason = clean_text(reason, "reason", max_chars=2000)
    action = "reopen_on_revisit" if on_revisit else "reopen"
    with transaction.atomic():
        ticket = lock_ticket(ticket, expected_version)
        check_transition(action, ticket.status, by)
        return _redo(ticket, by, reason, action, entry="ticket.reopened")


def _redo(ticket: Ticket, by: User | None, reason: str, action: str, *, entry: str) -> Assignment:
    previous = current_lead(ticket)
    if previous is None:
        raise IllegalTransition(_("this ticket was never handled by a unit, so there is nothing to redo"))
    redo = new_assignment(ticket, previous.unit, AssignmentRole.LEAD, by, instructions=reason, reopen_of=previous)
    redo.status = AssignmentStatus.ACCEPTED
    redo.accepted_at = redo.dispatched_at
    redo.save(update_fields=["status", "accepted_at"])
    old = move(ticket, action, S.IN_PROGRESS, reopen_count=ticket.reopen_count + 1, closed_at=None)
    timeline.record(
        ticket,
        entry,
        by,
        from_status=old,
        to_status=S.IN_PROGRESS,
        assignment=redo,
        note=reason,
        data={"unit": previous.unit.name, "reply_by": redo.reply_by.isoformat()},
    )
    notify(ticket, entry.split(".")[1])
    return redo
