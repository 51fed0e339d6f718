"""12345↔110 referrals counted per month and matter, both ways (docs/referrals-110.md):
110 → 12345 from ``InboundReferral``, 12345 → 110 from ``Referral`` (an outbound referral the
agent gave no matter is counted on a line of its own)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count
from django.db.models.functions import TruncMonth
from django.utils import timezone

from hotline.models import InboundReferral, Matter110, Referral
from metrics.reports import header, put

MONTHS = range(1, 13)


@dataclass
class Line:
    code: str
    name: str
    from_110: list[int] = field(default_factory=lambda: [0] * 12)
    to_110: list[int] = field(default_factory=lambda: [0] * 12)

    @property
    def total_from_110(self) -> int:
        return sum(self.from_110)

    @property
    def total_to_110(self) -> int:
        return sum(self.to_110)


def _bounds(year: int) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    return datetime(year, 1, 1, tzinfo=tz), datetime(year + 1, 1, 1, tzinfo=tz)


def monthly(year: int) -> tuple[list[Line], Line]:
    """One line per matter (every active matter, and any other that was used), and the totals."""
    start, end = _bounds(year)
    lines = {m.pk: Line(m.code, m.name) for m in Matter110.objects.filter(active=True)}
    unspecified = Line("", "")
    inbound = (
        InboundReferral.objects.filter(received_at__gte=start, received_at__lt=end)
        .annotate(month=TruncMonth("received_at"))
        .values("matter", "month")
        .annotate(n=Count("pk"))
    )
    outbound = (
        Referral.objects.filter(referred_at__gte=start, referred_at__lt=end)
        .annotate(month=TruncMonth("referred_at"))
        .values("matter", "month")
        .annotate(n=Count("pk"))
    )
    used = {row["matter"] for row in [*inbound, *outbound] if row["matter"] and row["matter"] not in lines}
    for matter in Matter110.objects.filter(pk__in=used):
        lines[matter.pk] = Line(matter.code, matter.name)
    for rows, side in ((inbound, "from_110"), (outbound, "to_110")):
        for row in rows:
            line = lines[row["matter"]] if row["matter"] else unspecified
            month = timezone.localtime(row["month"]).month if timezone.is_aware(row["month"]) else row["month"].month
            getattr(line, side)[month - 1] += row["n"]
    order = {m.pk: (m.order, m.code) for m in Matter110.objects.filter(pk__in=lines)}
    ordered = [lines[pk] for pk in sorted(lines, key=lambda pk: order[pk])]
    if unspecified.total_to_110 or unspecified.total_from_110:
        ordered.append(unspecified)
    total = Line("", "")
    for line in ordered:
        for i in range(12):
            total.from_110[i] += line.from_110[i]
            total.to_110[i] += line.to_110[i]
    return ordered, total


def write_sheet(ws, year: int) -> None:
    """The year's table on a worksheet: a matter per row, 110→12345 then 12345→110 per month."""
    lines, total = monthly(year)
    header(ws, ["事项", "方向", *[f"{m}月" for m in MONTHS], "合计"])
    row = 2
    for line in [*lines, total]:
        name = line.name or ("合计" if line is total else "未注明事项")
        for label, counts in (("110→12345", line.from_110), ("12345→110", line.to_110)):
            for column, value in enumerate([name, label, *counts, sum(counts)], start=1):
                put(ws, row, column, value)
            row += 1
