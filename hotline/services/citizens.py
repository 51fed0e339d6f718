"""A citizen's rights over their personal data (PIPL arts. 45–46; docs/security.md §10): what
is held about a phone number, and correcting the name or a ticket's address. Both are audited.

``manage.py citizen_data`` is the path an authorised member of staff takes on a written request.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from hotline import audit
from hotline.errors import InvalidInput, NotAllowed
from hotline.models import AuditAction, Caller, Role, Ticket, User
from hotline.retention import find_callers, holders
from hotline.services import callers as callers_service
from hotline.services import timeline
from hotline.services.common import clean_text, lock_ticket

CORRECTED = "caller.corrected"


def _callers(phone: str) -> list[Caller]:
    callers = find_callers(phone)
    if not callers:
        raise InvalidInput(_("no caller with this number"), field="phone")
    return callers


def _check_staff(by: User) -> None:
    if not (by.is_active and (by.is_superuser or by.role in (Role.SUPERVISOR, Role.ADMIN))):
        raise NotAllowed(_("only a supervisor or an administrator answers a citizen's request"))


def export_citizen(phone: str, *, by: User, reason: str) -> dict[str, Any]:
    """Everything held about ``phone``: the caller, their tickets with timelines, the center's flags
    and the agents' reports on them, and what every other app holds (calls, callbacks, SMS, revisits)."""
    _check_staff(by)
    callers = _callers(phone)
    caller = callers[0]
    tickets = list(
        Ticket.objects.filter(caller__in=callers).select_related("category", "topic", "area").order_by("created_at")
    )
    held: dict[str, Any] = {
        "caller": {
            "phone": caller.phone,
            "name": caller.name,
            "no_revisit": caller.no_revisit,
            "created_at": caller.created_at,
        },
        "tickets": [
            {
                "number": t.number,
                "created_at": t.created_at,
                "channel": t.channel,
                "category": t.category.name,
                "topic": str(t.topic or ""),
                "area": str(t.area or ""),
                "title": t.title,
                "content": t.content,
                "address": t.address,
                "status": t.status,
                "resolution": t.resolution,
                "closed_at": t.closed_at,
                "timeline": [{"at": e.at, "action": e.action, "note": e.note} for e in t.timeline.order_by("at", "pk")],
            }
            for t in tickets
        ],
    }
    # The center's flags on the caller and the agents' reports of abuse (恶意来电, docs/supervision.md).
    held |= callers_service.export_rows(callers)
    if len(callers) > 1:  # the same citizen before anonymisation, under the number's token
        held["anonymised_caller"] = {"phone": callers[1].phone, "created_at": callers[1].created_at}
    for holder in holders().values():
        for one in callers:
            for section, rows in holder.export(one.phone).items():
                held.setdefault(section, []).extend(rows)
    audit.record(
        AuditAction.CITIZEN_EXPORT,
        user=by,
        reason=reason,
        fields=["phone", "name", "address"],
        subjects=[(t.pk, audit.phone_token(caller.phone)) for t in tickets]
        or [(None, audit.phone_token(caller.phone))],
        screen="manage.py citizen_data export",
    )
    return held


def correct_citizen(
    phone: str,
    *,
    by: User,
    reason: str,
    name: str | None = None,
    address: str | None = None,
    ticket_number: str = "",
) -> list[str]:
    """Correct the caller's name (on every ticket's timeline) and/or one ticket's address.

    The timeline says what was corrected, when, by whom and why, but not the old or new value:
    the timeline outlives the retention of personal data. Returns the fields changed."""
    _check_staff(by)
    reason = clean_text(reason, "reason", max_chars=300)
    caller = _callers(phone)[0]
    if address is not None and not ticket_number:
        raise InvalidInput(_("an address belongs to one ticket: name the ticket"), field="ticket")
    if name is None and address is None:
        raise InvalidInput(_("nothing to correct: give a name or an address"), field="name")
    changed: list[str] = []
    with transaction.atomic():
        ids = list(Ticket.objects.filter(caller=caller).order_by("pk").values_list("pk", flat=True))
        # Lock order: tickets (by id), then the caller row.
        locked = {pk: lock_ticket(pk) for pk in ids}
        caller = Caller.objects.select_for_update().get(pk=caller.pk)
        if name is not None:
            new_name = clean_text(name, "caller_name", max_chars=50, required=False)
            if new_name != caller.name:
                caller.name = new_name
                caller.save(update_fields=["name"])
                changed.append("name")
                for ticket in locked.values():
                    timeline.record(ticket, CORRECTED, by, note=reason, data={"fields": ["name"]})
        target = None
        if address is not None:
            target = next((t for t in locked.values() if t.number == ticket_number), None)
            if target is None:
                raise InvalidInput(_("this ticket is not the caller's"), field="ticket")
            new_address = clean_text(address, "address", max_chars=200, required=False)
            if new_address != target.address:
                Ticket.objects.filter(pk=target.pk).update(address=new_address)
                changed.append("address")
                timeline.record(target, CORRECTED, by, note=reason, data={"fields": ["address"]})
        if changed:
            token = audit.phone_token(caller.phone)
            subjects = [(target.pk, token)] if target is not None and changed == ["address"] else []
            subjects = subjects or [(pk, token) for pk in ids] or [(None, token)]
            audit.record(
                AuditAction.CITIZEN_CORRECTED,
                user=by,
                reason=reason,
                fields=changed,
                subjects=subjects,
                screen="manage.py citizen_data correct",
            )
    return changed
