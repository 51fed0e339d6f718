"""Helpers shared by the ticket services: locking, status moves, notifications."""

from __future__ import annotations

import unicodedata

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hotline.errors import Conflict, InvalidInput
from hotline.events import CENTER_GROUP, publish_on_commit, unit_group
from hotline.models import Assignment, Ticket
from hotline.models.tickets import ACTIVE_ASSIGNMENT_STATUSES
from hotline.workflow import check_move


def lock_ticket(ticket: Ticket | int, expected_version: int | None = None) -> Ticket:
    """Re-read the ticket under a row lock (call inside ``transaction.atomic``).

    Locks are always taken ticket first, then its assignments, so two services
    can never wait on each other. ``expected_version`` is the version the client
    last saw; if somebody acted since, the client gets a conflict instead of
    overwriting their work.
    """
    pk = ticket if isinstance(ticket, int) else ticket.pk
    locked = Ticket.objects.select_for_update(of=("self",)).select_related("category", "caller", "topic").get(pk=pk)
    check_version(locked, expected_version)
    return locked


def check_version(ticket: Ticket, expected_version: int | None) -> None:
    """Raise a conflict if the client last saw another version of this (locked) ticket."""
    if expected_version is not None and ticket.version != expected_version:
        raise Conflict(
            _(
                "ticket %(number)s was changed by someone else "
                "(now version %(version)s, you had %(expected)s); reload and try again"
            )
            % {"number": ticket.number, "version": ticket.version, "expected": expected_version},
            current_version=ticket.version,
        )


def lock_assignment(assignment: Assignment | int, expected_version: int | None = None) -> tuple[Ticket, Assignment]:
    pk = assignment if isinstance(assignment, int) else assignment.pk
    ticket_id = Assignment.objects.values_list("ticket_id", flat=True).get(pk=pk)
    ticket = lock_ticket(ticket_id, expected_version)
    locked = Assignment.objects.select_for_update(of=("self",)).select_related("unit", "parent").get(pk=pk)
    return ticket, locked


def move(ticket: Ticket, action: str, to_status: str, **fields: object) -> str:
    """Take ``action`` to ``to_status`` (checked against the workflow table), set the fields, bump the version.

    Returns the old status.
    """
    old = ticket.status
    check_move(action, old, to_status)
    ticket.status = to_status
    for key, value in fields.items():
        setattr(ticket, key, value)
    ticket.version = F("version") + 1
    ticket.save(update_fields=["status", "version", "updated_at", *fields])
    ticket.refresh_from_db(fields=["version"])
    return old


def touch(ticket: Ticket) -> None:
    """Bump the version for an action that does not change the ticket's status."""
    ticket.version = F("version") + 1
    ticket.save(update_fields=["version", "updated_at"])
    ticket.refresh_from_db(fields=["version"])


# The text fields' names as messages show them (the English name is the field itself).
FIELD_NAMES = {
    "address": gettext_lazy("address"),
    "comment": gettext_lazy("comment"),
    "content": gettext_lazy("content"),
    "instructions": gettext_lazy("instructions"),
    "note": gettext_lazy("note"),
    "reason": gettext_lazy("reason"),
    "reply": gettext_lazy("reply"),
    "resolution": gettext_lazy("resolution"),
    "title": gettext_lazy("title"),
}


# Characters that show nothing on their own: spaces of every kind (U+3000, no-break), line and
# paragraph separators, controls, format characters (zero-width space and joiners, U+2060, BOM,
# U+180E) and the Hangul and Braille blanks that fonts draw empty.
_BLANK_CATEGORIES = {"Zs", "Zl", "Zp", "Cc", "Cf"}
_BLANK_LETTERS = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800"}


def is_invisible(char: str) -> bool:
    return char.isspace() or char in _BLANK_LETTERS or unicodedata.category(char) in _BLANK_CATEGORIES


def strip_invisible(value: str) -> str:
    """The text without invisible characters at either end (inside, they stay: joiners, spaces)."""
    start, end = 0, len(value)
    while start < end and is_invisible(value[start]):
        start += 1
    while end > start and is_invisible(value[end - 1]):
        end -= 1
    return value[start:end]


def clean_text(value: str, field: str, *, max_chars: int, required: bool = True) -> str:
    """A citizen's or a handler's text, trimmed; text made only of invisible characters counts as empty."""
    text = strip_invisible(value or "")
    name = FIELD_NAMES.get(field, field)
    if required and not text:
        raise InvalidInput(_("%(field)s must not be empty") % {"field": name}, field=field)
    if len(text) > max_chars:
        raise InvalidInput(
            _("%(field)s is too long (%(count)s characters, at most %(max)s)")
            % {"field": name, "count": len(text), "max": max_chars},
            field=field,
        )
    return text


def notify(ticket: Ticket, action: str, extra_units: tuple[int, ...] = ()) -> None:
    """Tell the center and every unit involved that the ticket changed."""
    unit_ids = set(
        Assignment.objects.filter(ticket=ticket, status__in=ACTIVE_ASSIGNMENT_STATUSES).values_list(
            "unit_id", flat=True
        )
    )
    unit_ids.update(extra_units)
    groups = [CENTER_GROUP, *(unit_group(u) for u in sorted(unit_ids))]
    publish_on_commit(
        groups,
        {
            "type": "ticket.updated",
            "ticket_id": ticket.pk,
            "number": ticket.number,
            "status": ticket.status,
            "action": action,
            "at": timezone.now().isoformat(),
        },
    )
