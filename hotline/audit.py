"""The audit of personal data and of access (等保 2.0 level 3, PIPL; docs/security.md §9).

Two ways in:

- ``note_read``/``note_ticket``: the places that reveal a citizen's full phone, name or address
  call it (``hotline.access.caller_view`` for every ticket shown, the API's phone search, the
  call and revisit lists, the dashboard's drill-down). Inside a request (``scope``, opened by
  ``web.audit.AuditMiddleware``) the reads are collected and written when the response is done:
  one entry per request and action, with one subject row per ticket or citizen, so a list of
  fifty tickets is one entry, not fifty. Outside a request (a command, a socket) each read is
  written at once.
- ``record``: one act written at once (a login, a role change, an export, a correction).

Phones are stored as keyed tokens (``phone_token``), the same tokens the retention job puts in
place of an anonymised number, so the log is searchable by a number before and after.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import DatabaseError

from hotline.lib.phones import InvalidPhone, normalize_phone
from hotline.lib.tokens import phone_token as _phone_token
from hotline.models.audit import AuditAction, AuditEntry, AuditSubject

log = logging.getLogger(__name__)

PERSONAL_FIELDS = ("phone", "name", "address")
SEARCH = AuditAction.PHONE_SEARCH
# Why a screen showed a ticket's caller, unless its call site says otherwise.
HANDLING = "handling the ticket"


def token_key() -> bytes:
    configured = settings.PERSONAL_DATA_TOKEN_KEY
    if configured:
        return configured.encode()
    # Derived, not SECRET_KEY itself: a token must never help anyone recover the signing key.
    return hmac.new(settings.SECRET_KEY.encode(), b"lianxin.phone-token", hashlib.sha256).digest()


def phone_token(phone: str) -> str:
    """The phone's one-way token ("" for no phone); a token stays itself. The number is normalised
    first, so the PBX's 13800138000 and the caller's +8613800138000 are one citizen."""
    if not phone:
        return ""
    try:
        phone = normalize_phone(phone)
    except InvalidPhone:
        pass  # a withheld or foreign number: its token is of the text as it came
    return _phone_token(phone, token_key())


@dataclass
class _Pending:
    fields: set[str] = field(default_factory=set)
    subjects: dict[tuple[int | None, str], None] = field(default_factory=dict)  # ordered set
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Scope:
    """One request (or command): who acts, from where, on which screen, and what it was shown."""

    request: Any = None
    user: Any = None
    ip: str | None = None
    screen: str = ""
    path: str = ""
    pending: dict[tuple[str, str], _Pending] = field(default_factory=dict)

    def actor(self) -> Any:
        user = getattr(self.request, "user", None) if self.request is not None else self.user
        return user if getattr(user, "is_authenticated", False) else None


_current: ContextVar[Scope | None] = ContextVar("hotline_audit_scope", default=None)


def current() -> Scope | None:
    return _current.get()


@contextmanager
def scope(**kwargs: Any) -> Iterator[Scope]:
    """Collect the reads made inside; write them when it ends (also when it ends by an error,
    since what was computed may have been shown). Inside another scope (a request) the reads
    join that one: one entry per request."""
    outer = current()
    if outer is not None:
        yield outer
        return
    opened = Scope(**kwargs)
    token = _current.set(opened)
    try:
        yield opened
    except BaseException:
        _current.reset(token)
        try:
            flush(opened)
        except DatabaseError:  # the view's own error is the one to report; this one is logged
            log.exception("audit entries of a failed request could not be written")
        raise
    _current.reset(token)
    flush(opened)


def note_read(
    user: Any,
    *,
    fields: Iterable[str],
    ticket: Any = None,
    phone: str = "",
    reason: str = HANDLING,
    action: str = AuditAction.PERSONAL_DATA_READ,
    data: dict[str, Any] | None = None,
) -> None:
    """``user`` was shown ``fields`` of the citizen with ``phone`` (and of ``ticket``)."""
    shown = {f for f in fields if f}
    if not shown or user is None or not getattr(user, "is_authenticated", False):
        return
    subject = (getattr(ticket, "pk", ticket), phone_token(phone))
    opened = current()
    if opened is None:
        record(action, user=user, reason=reason, fields=shown, subjects=[subject], data=data)
        return
    pending = opened.pending.setdefault((action, reason), _Pending())
    pending.fields |= shown
    pending.subjects[subject] = None
    if data:
        pending.data.update(data)


def note_ticket(user: Any, ticket: Any, *, full_phone: bool, name: bool, reason: str = HANDLING) -> None:
    """A screen showed ``ticket`` with its caller: the full phone and/or name if so, and the address."""
    caller = ticket.caller
    shown = [
        "phone" if full_phone else "",
        "name" if name and caller.name else "",
        "address" if ticket.address else "",
    ]
    note_read(user, fields=shown, ticket=ticket, phone=caller.phone, reason=reason)


def record(
    action: str,
    *,
    user: Any = None,
    username: str = "",
    reason: str = "",
    fields: Iterable[str] = (),
    subjects: Iterable[tuple[Any, str]] = (),
    data: dict[str, Any] | None = None,
    screen: str = "",
) -> AuditEntry:
    """Write one entry now. ``subjects`` are (ticket or ticket id or None, phone token)."""
    opened = current()
    if user is None and opened is not None:
        user = opened.actor()
    entry = AuditEntry.objects.create(
        user=user if getattr(user, "pk", None) else None,
        username=(username or getattr(user, "username", "") or "")[:150],
        action=action,
        screen=(screen or _screen(opened))[:100],
        path=(opened.path if opened else "")[:300],
        reason=reason[:300],
        fields=",".join(f for f in PERSONAL_FIELDS if f in set(fields)),
        ip=opened.ip if opened else None,
        data=data or {},
    )
    rows = [
        AuditSubject(entry=entry, ticket_id=getattr(ticket, "pk", ticket), phone_token=token)
        for ticket, token in subjects
        if ticket is not None or token
    ]
    AuditSubject.objects.bulk_create(rows)
    return entry


def _screen(opened: Scope | None) -> str:
    if opened is None:
        return ""
    match = getattr(opened.request, "resolver_match", None)
    return opened.screen or (match.view_name if match is not None else "")


def flush(opened: Scope) -> None:
    """Write what a scope collected: one entry per (action, reason)."""
    actor = opened.actor()
    for (action, reason), pending in opened.pending.items():
        entry = AuditEntry.objects.create(
            user=actor,
            username=getattr(actor, "username", "") or "",
            action=action,
            screen=opened.screen[:100],
            path=opened.path[:300],
            reason=reason[:300],
            fields=",".join(f for f in PERSONAL_FIELDS if f in pending.fields),
            ip=opened.ip,
            data={**pending.data, "subjects": len(pending.subjects)},
        )
        AuditSubject.objects.bulk_create(
            AuditSubject(entry=entry, ticket_id=ticket_id, phone_token=token) for ticket_id, token in pending.subjects
        )
    opened.pending.clear()
