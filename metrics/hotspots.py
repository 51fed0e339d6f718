"""热点预警: hot spots — many tickets about one problem in one district, more than usual — and 专题督办 from one.

The scan (job step ``hotspots.scan``, every ``HOTSPOT_SCAN_MINUTES``):

1. takes the tickets registered in the last ``HOTSPOT_WINDOW_HOURS`` that have an area (discarded
   and 110-transferred ones left out; merged repeat calls count: they are the loudest signal);
2. groups them by district (the area's county/district) and clusters each district's tickets by
   topic and words (``metrics.lib.clusters``: bigram Jaccard, the search's tokens);
3. calls a cluster a hot spot when it holds at least ``HOTSPOT_MIN_TICKETS`` tickets and at least
   ``HOTSPOT_RATIO`` times the usual number: the tickets of the same district and topic per window
   over the ``HOTSPOT_BASELINE_DAYS`` days before the window (the rolling baseline);
4. writes a ``HotSpot`` row (or adds the new tickets to the one already open for that cluster),
   ends the active ones whose latest ticket left the window, and tells the center's consoles
   (``hotspot.changed``) after commit. The wallboard and the dashboard read the rows.

``supervise`` turns a hot spot into a 专题督办 case on its tickets in one step, through
``hotline.services.supervision.open_case``. docs/hotspots.md has the method and its measured quality.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from hotline.access import is_center_reviewer
from hotline.errors import IllegalTransition, InvalidInput, NotAllowed
from hotline.events import CENTER_GROUP, publish_on_commit
from hotline.models import (
    Area,
    Assignment,
    AssignmentRole,
    AssignmentStatus,
    SupervisionCase,
    SupervisionForm,
    Ticket,
    TicketStatus,
    Unit,
    User,
)
from hotline.services import supervision
from metrics.lib import clusters
from metrics.models import HotSpot, HotSpotScan, HotSpotStatus
from routing.suggest import suggest_for_ticket

# Not calls about a city problem: invalid calls and police matters.
LEFT_OUT = (TicketStatus.DISCARDED, TicketStatus.TRANSFERRED_110)
OPEN_SPOTS = (HotSpotStatus.ACTIVE, HotSpotStatus.SUPERVISED)


def window() -> timedelta:
    return timedelta(hours=settings.HOTSPOT_WINDOW_HOURS)


# --- the scan ----------------------------------------------------------------------------------


def scan_step(now: datetime) -> int:
    """Job step: scan at most once per ``HOTSPOT_SCAN_MINUTES`` across all workers (a claimed row)."""
    every = timedelta(minutes=settings.HOTSPOT_SCAN_MINUTES)
    HotSpotScan.objects.get_or_create(pk=1, defaults={"last_at": now - every - timedelta(seconds=1)})
    if not HotSpotScan.objects.filter(pk=1, last_at__lte=now - every).update(last_at=now):
        return 0
    return scan(now)


def scan(now: datetime | None = None) -> int:
    """Find the hot spots of the window ending at ``now``; returns how many rows were made, grown or ended."""
    now = now or timezone.now()
    start = now - window()
    rows = (
        Ticket.objects.filter(created_at__gt=start, created_at__lte=now, area__isnull=False)
        .exclude(status__in=LEFT_OUT)
        .order_by("created_at", "pk")
        .values_list("pk", "title", "content", "address", "topic_id", "area_id", "area__parent_id")
    )
    by_district: dict[int, list[clusters.Item]] = {}
    for pk, title, content, address, topic, area, parent in rows:
        by_district.setdefault(parent or area, []).append(clusters.item(pk, topic, f"{title} {content}", address))
    usual = _baseline(start)
    changed = 0
    with transaction.atomic():
        kept: set[int] = set()
        for district, items in sorted(by_district.items()):
            for group in clusters.cluster(items):
                if len(group) < settings.HOTSPOT_MIN_TICKETS:
                    break  # largest first
                topic = Counter(it.topic for it in group).most_common(1)[0][0]
                baseline = usual.get((district, topic), 0.0)
                if len(group) < settings.HOTSPOT_RATIO * baseline:
                    continue
                spot, grew = _record(district, topic, group, baseline, now)
                kept.add(spot.pk)
                changed += grew
        changed += (
            HotSpot.objects.filter(status=HotSpotStatus.ACTIVE, last_at__lte=start)
            .exclude(pk__in=kept)
            .update(status=HotSpotStatus.ENDED, updated_at=now)
        )
        if changed:
            publish_on_commit([CENTER_GROUP], {"type": "hotspot.changed", "at": now.isoformat()})
    return changed


def _baseline(start: datetime) -> dict[tuple[int, int | None], float]:
    """Tickets per window of each (district, topic) over the baseline days before ``start``."""
    days = settings.HOTSPOT_BASELINE_DAYS
    windows = max(days * 24 / settings.HOTSPOT_WINDOW_HOURS, 1.0)
    counts: Counter = Counter()
    rows = (
        Ticket.objects.filter(created_at__gte=start - timedelta(days=days), created_at__lte=start, area__isnull=False)
        .exclude(status__in=LEFT_OUT)
        .values_list("area__parent_id", "area_id", "topic_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for parent, area, topic, n in rows:
        counts[(parent or area, topic)] += n
    return {key: n / windows for key, n in counts.items()}


def _record(
    district: int, topic: int | None, group: list[clusters.Item], baseline: float, now: datetime
) -> tuple[HotSpot, bool]:
    """The open hot spot sharing a ticket with ``group`` (grown by the new ones), or a new one."""
    ids = [it.key for it in group]
    found = (
        HotSpot.objects.filter(district_id=district, topic_id=topic, status__in=OPEN_SPOTS, tickets__in=ids)
        .order_by("-last_at", "-pk")
        .values_list("pk", flat=True)
        .first()
    )
    stamps = list(Ticket.objects.filter(pk__in=ids).order_by("created_at").values_list("created_at", flat=True))
    first_at, last_at = stamps[0], stamps[-1]
    if found is not None:
        spot = HotSpot.objects.select_for_update().get(pk=found)
        new = set(ids) - set(spot.tickets.values_list("pk", flat=True))
        if new:
            spot.tickets.add(*new)
        spot.ticket_count = spot.tickets.count()
        spot.baseline, spot.last_at, spot.updated_at = baseline, max(last_at, spot.last_at), now
        spot.keywords = " ".join(clusters.keywords(group))
        spot.save(update_fields=["ticket_count", "baseline", "last_at", "updated_at", "keywords"])
        return spot, bool(new)
    example = Ticket.objects.get(pk=clusters.medoid(group).key)
    spot = HotSpot.objects.create(
        district_id=district,
        topic_id=topic,
        title=(example.title or example.content)[:60],
        keywords=" ".join(clusters.keywords(group)),
        ticket_count=len(ids),
        baseline=baseline,
        window_hours=settings.HOTSPOT_WINDOW_HOURS,
        first_at=first_at,
        last_at=last_at,
        detected_at=now,
        updated_at=now,
        unit=_responsible(ids, example),
    )
    spot.tickets.set(ids)
    return spot, True


def _responsible(ids: list[int], example: Ticket) -> Unit | None:
    """The unit most of the tickets were dispatched to as lead, else the rules' first suggestion."""
    lead = (
        Assignment.objects.filter(ticket_id__in=ids, parent__isnull=True, role=AssignmentRole.LEAD)
        .exclude(status=AssignmentStatus.WITHDRAWN)
        .values_list("unit_id")
        .annotate(n=Count("pk"))
        .order_by("-n", "unit_id")
        .first()
    )
    if lead is not None:
        return Unit.objects.get(pk=lead[0])
    suggestions = suggest_for_ticket(example, limit=1)
    return suggestions[0].unit if suggestions else None


# --- reads ----------------------------------------------------------------------------------------


def shown(now: datetime | None = None) -> QuerySet[HotSpot]:
    """What the wallboard and the dashboard show: the active hot spots, and the supervised ones of the window."""
    now = now or timezone.now()
    return (
        HotSpot.objects.filter(
            Q(status=HotSpotStatus.ACTIVE) | Q(status=HotSpotStatus.SUPERVISED, last_at__gt=now - window())
        )
        .select_related("district", "topic", "unit", "case")
        .prefetch_related(
            Prefetch("tickets", queryset=Ticket.objects.select_related("area").order_by("created_at", "pk"))
        )
        .order_by("status", "-ticket_count", "-last_at", "pk")
    )


def map_data(spots: list[HotSpot]) -> dict:
    """The dashboard's hot-spot map: every area's centroid (the grey background) and each active hot spot.

    A hot spot sits at the mean of its tickets' points (WGS-84, ``Ticket.lat/lng``), or at its
    district's centroid when none of its tickets has one; ``spots`` come from ``shown()``, whose
    prefetch already holds the tickets, so this costs one query (the areas) whatever their number.
    No base map: plain longitude/latitude axes, nothing loaded from the internet.
    """
    areas = [
        {"name": name, "lng": float(lng), "lat": float(lat), "district": parent is None}
        for name, lat, lng, parent in Area.objects.filter(lat__isnull=False, lng__isnull=False)
        .order_by("code")
        .values_list("name", "lat", "lng", "parent_id")
    ]
    points = []
    for spot in spots:
        if spot.status != HotSpotStatus.ACTIVE:
            continue
        located = [(t.lat, t.lng) for t in spot.tickets.all() if t.lat is not None and t.lng is not None]
        if located:
            lat = sum(float(a) for a, _b in located) / len(located)
            lng = sum(float(b) for _a, b in located) / len(located)
        elif spot.district.lat is not None and spot.district.lng is not None:
            lat, lng = float(spot.district.lat), float(spot.district.lng)
        else:
            continue  # nowhere to put it: the panel below still lists it
        points.append(
            {
                "id": spot.pk,
                "title": spot.title,
                "district": spot.district.name,
                "count": spot.ticket_count,
                "lat": round(lat, 6),
                "lng": round(lng, 6),
            }
        )
    return {"areas": areas, "spots": points, "count_label": _("tickets"), "district_label": _("district")}


# --- 专题督办 from a hot spot ---------------------------------------------------------------------------


def default_due(now: datetime | None = None) -> datetime:
    """The end of the day ``HOTSPOT_CASE_DAYS`` days from now (local time)."""
    day = timezone.localdate(now or timezone.now()) + timedelta(days=settings.HOTSPOT_CASE_DAYS)
    return datetime.combine(day, time(23, 59, 59), tzinfo=timezone.get_current_timezone())


def default_reason(spot: HotSpot) -> str:
    return _(
        "Hot spot: %(n)s tickets about %(topic)s in %(district)s within %(hours)s hours (usually %(usual)s);"
        " words: %(words)s"
    ) % {
        "n": spot.ticket_count,
        "topic": spot.topic.name if spot.topic_id else _("no topic"),
        "district": spot.district.name,
        "hours": spot.window_hours,
        "usual": f"{spot.baseline:.1f}",
        "words": spot.keywords or "—",
    }


def supervise(
    spot: HotSpot | int,
    by: User,
    *,
    due_by: datetime | None = None,
    reason: str = "",
    unit: Unit | None = None,
) -> SupervisionCase:
    """专题督办 on the hot spot's tickets (those the hotline still handles), in one transaction.

    Locks the hot spot first, then ``open_case`` locks its tickets; refuses a hot spot that already
    has a case. The responsible unit defaults to the hot spot's.
    """
    if not is_center_reviewer(by):
        raise NotAllowed(_("only the center's dispatchers and supervisors may do this"))
    pk = spot if isinstance(spot, int) else spot.pk
    with transaction.atomic():
        spot = HotSpot.objects.select_for_update(of=("self",)).select_related("district", "topic", "unit").get(pk=pk)
        if spot.case_id:
            raise IllegalTransition(_("this hot spot is already supervised in case #%(id)s") % {"id": spot.case_id})
        tickets = list(spot.tickets.exclude(status__in=supervision.NOT_SUPERVISABLE))
        if not tickets:
            raise InvalidInput(_("none of this hot spot's tickets is still handled by the hotline"))
        case = supervision.open_case(
            by,
            tickets,
            SupervisionForm.SPECIAL_TOPIC,
            reason.strip() or default_reason(spot),
            due_by or default_due(),
            title=f"{spot.district.name} {spot.title}"[:200],
            unit=unit or spot.unit,
        )
        spot.case, spot.status, spot.updated_at = case, HotSpotStatus.SUPERVISED, timezone.now()
        spot.save(update_fields=["case", "status", "updated_at"])
        publish_on_commit([CENTER_GROUP], {"type": "hotspot.changed", "at": spot.updated_at.isoformat()})
    return case
