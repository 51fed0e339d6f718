"""What telephony holds of a citizen's number — the calls' caller number and name — for the
retention job and a citizen's request (``hotline.retention``; docs/security.md §10)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Q

from hotline.retention import Citizen, Holder, number_forms
from telephony.models import Call


def _calls(caller_id: int | None, numbers: list[str]):
    by_caller = Q(caller_id=caller_id) if caller_id is not None else Q(pk__in=[])
    return Call.objects.filter(by_caller | Q(caller_number__in=numbers))


def anonymise(citizens: list[Citizen]) -> int:
    # A queryset update: no figure reads the number, and a call's times and outcome stay as they were.
    return sum(_calls(c.caller_id, c.numbers).update(caller_number=c.token, caller_name="") for c in citizens)


def in_use(phones: list[str], since: datetime) -> set[str]:
    """Numbers that called (or were called) since ``since``: their callers are still being served."""
    used = set()
    for phone in phones:
        if (
            _calls(None, number_forms(phone)).filter(created_at__gte=since).exists()
            or Call.objects.filter(caller__phone=phone, created_at__gte=since).exists()
        ):
            used.add(phone)
    return used


def export(phone: str) -> dict[str, list[dict[str, Any]]]:
    rows = _calls(None, number_forms(phone)) | Call.objects.filter(caller__phone=phone)
    return {
        "calls": [
            {
                "linkedid": call.linkedid,
                "caller_number": call.caller_number,
                "caller_name": call.caller_name,
                "offered_at": call.offered_at,
                "answered_at": call.answered_at,
                "ended_at": call.ended_at,
                "outcome": call.outcome,
                "purpose": call.purpose,
                "wait_seconds": call.wait_seconds,
                "talk_seconds": call.talk_seconds,
                "ticket": call.ticket.number if call.ticket_id else "",
                # The voice is personal data too: which recording holds it, and whether its file still exists.
                "recording": _recording(call),
            }
            for call in rows.distinct().select_related("ticket", "recording").order_by("offered_at", "pk")
        ]
    }


def _recording(call: Call) -> str:
    recording = getattr(call, "recording", None)
    if recording is None:
        return ""
    return f"{recording.name} (deleted {recording.purged_at:%Y-%m-%d})" if recording.purged_at else recording.name


HOLDER = Holder(anonymise=anonymise, in_use=in_use, export=export)
