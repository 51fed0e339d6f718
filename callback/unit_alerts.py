"""SMS to the people of a unit: each reminder (催办) to its liaison, each escalation to its leader.

The reminders are timeline entries written by whoever decided them — routing's deadline step
(``routing.warnings``), the center's manual 催办 and a supervision case opened on the unit
(``hotline.services.supervision``). An entry that should reach a phone carries
``data["notify"]`` ("liaison" or "leader") and ``data["unit_id"]``. This step turns each such
entry of the last ``SMS_NOTIFY_WITHIN_HOURS`` into one SMS under the unique dedup key
``unit_alert:<entry id>``: a rerun, a second worker or a step killed half-way stores it once, and
``sms.send`` sends it once. A unit without that phone gets no SMS (the workbench push and the
timeline still carry the reminder). Staff messages are not held to the citizens' calling hours.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import CharField, Exists, OuterRef, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from callback.models import SmsMessage, SmsPurpose
from callback.sms import services as sms
from hotline.models import TimelineEntry, Unit

# Timeline actions that may carry a phone notice (the entry's data says to whom).
ALERT_ACTIONS = (
    "assignment.accept_soon",
    "assignment.accept_overdue",
    "assignment.deadline_yellow",
    "assignment.deadline_red",
    "assignment.escalated",
    "ticket.reminder",
    "supervision.opened",
)
PURPOSES = {"liaison": SmsPurpose.UNIT_REMINDER, "leader": SmsPurpose.LEADER_NOTICE}


def alert_key(entry_id: int) -> str:
    return f"unit_alert:{entry_id}"


def entries_to_send(now: datetime):
    """Recent alert entries without their SMS yet."""
    key = Concat(Value("unit_alert:"), Cast(OuterRef("pk"), CharField()))
    since = now - timedelta(hours=settings.SMS_NOTIFY_WITHIN_HOURS)
    return (
        TimelineEntry.objects.filter(action__in=ALERT_ACTIONS, at__gte=since, at__lte=now)
        .exclude(Exists(SmsMessage.objects.filter(dedup_key=key)))
        .select_related("ticket")
        .order_by("at", "pk")
    )


def alert_text(entry: TimelineEntry, unit: Unit) -> str:
    data = entry.data or {}
    number = entry.ticket.number
    if data.get("notify") != "leader":
        return f"【12345】{unit.name}：工单{number}{entry.note or '请及时办理'}。"
    greeting = f"【12345】{unit.leader_name or '领导'}您好："
    if entry.action == "supervision.opened":
        form = data.get("form_label") or "督办件"
        return f"{greeting}工单{number}已列为{form}，责任单位{unit.name}。{entry.note}"
    return f"{greeting}{unit.name}承办的工单{number}已超期未办结，请督促办理。"


def notify_units(now: datetime | None = None, limit: int = 500) -> int:
    """Job step: queue the SMS of each recent reminder to its unit's liaison or leader. Returns how many."""
    now = now or timezone.now()
    entries = [e for e in entries_to_send(now)[:limit] if (e.data or {}).get("notify") in PURPOSES]
    units = Unit.objects.in_bulk({e.data.get("unit_id") for e in entries if e.data.get("unit_id")})
    stored = 0
    for entry in entries:
        unit = units.get(entry.data.get("unit_id"))
        if unit is None:
            continue
        to = unit.leader_phone if entry.data["notify"] == "leader" else unit.liaison_phone
        if not to:
            continue
        _, created = sms.queue_sms_once(
            to,
            alert_text(entry, unit),
            PURPOSES[entry.data["notify"]],
            ticket=entry.ticket,
            dedup_key=alert_key(entry.pk),
        )
        stored += created
    return stored
