"""What callback holds of a citizen's number — missed-call callbacks, SMS sent and received — and
the revisits of their tickets, for the retention job and a citizen's request (docs/security.md §10).

The do-not-call list is kept as it is: it is the citizen's own request not to be called, and
honouring it is its purpose for as long as the number exists.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Q

from callback.models import CallbackTask, Revisit, SmsMessage
from hotline.retention import Citizen, Holder, number_forms


def anonymise(citizens: list[Citizen]) -> int:
    changed = 0
    for c in citizens:
        changed += CallbackTask.objects.filter(Q(caller_id=c.caller_id) | Q(number__in=c.numbers)).update(
            number=c.token
        )
        changed += SmsMessage.objects.filter(to__in=c.numbers).update(to=c.token)
        changed += SmsMessage.objects.filter(sender__in=c.numbers).update(sender=c.token)
    return changed


def in_use(phones: list[str], since: datetime) -> set[str]:
    used = set()
    for phone in phones:
        numbers = number_forms(phone)
        if (
            CallbackTask.objects.filter(number__in=numbers, created_at__gte=since).exists()
            or SmsMessage.objects.filter(Q(to__in=numbers) | Q(sender__in=numbers), created_at__gte=since).exists()
        ):
            used.add(phone)
    return used


def export(phone: str) -> dict[str, list[dict[str, Any]]]:
    numbers = number_forms(phone)
    callbacks = CallbackTask.objects.filter(Q(number__in=numbers) | Q(caller__phone=phone)).order_by("missed_at")
    sms = SmsMessage.objects.filter(Q(to__in=numbers) | Q(sender__in=numbers)).order_by("created_at", "pk")
    revisits = Revisit.objects.filter(ticket__caller__phone=phone).select_related("ticket", "unit").order_by("pk")
    return {
        "callbacks": [
            {
                "number": t.number,
                "missed_at": t.missed_at,
                "status": t.status,
                "outcome": t.outcome,
                "attempts": t.attempts,
                "completed_at": t.completed_at,
            }
            for t in callbacks.distinct()
        ],
        "sms": [
            {
                "direction": m.direction,
                "to": m.to,
                "from": m.sender,
                "text": m.body,
                "purpose": m.purpose,
                "status": m.status,
                "created_at": m.created_at,
                "sent_at": m.sent_at,
                "ticket": m.ticket.number if m.ticket_id else "",
            }
            for m in sms.select_related("ticket")
        ],
        "revisits": [
            {
                "ticket": r.ticket.number,
                "unit": r.unit.name if r.unit_id else "",
                "channel": r.channel,
                "status": r.status,
                "rating": r.rating,
                "solved": r.solved,
                "comment": r.comment,
                "completed_at": r.completed_at,
            }
            for r in revisits
        ],
    }


HOLDER = Holder(anonymise=anonymise, in_use=in_use, export=export)
