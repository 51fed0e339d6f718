"""12345↔110 referrals per month and matter, both ways, for the center (docs/referrals-110.md)."""

from __future__ import annotations

from io import BytesIO

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from openpyxl import Workbook

from hotline.models import InboundReferral, Role
from metrics import referrals110
from web.views import role_required

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _year(raw: str | None) -> int:
    this = timezone.localdate().year
    return int(raw) if raw and raw.isdigit() and 2000 <= int(raw) <= this + 1 else this


@role_required([Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN])
def monthly(request: HttpRequest) -> HttpResponse:
    year = _year(request.GET.get("year"))
    if request.GET.get("format") == "xlsx":
        wb = Workbook()
        ws = wb.active
        ws.title = f"110互转{year}"
        referrals110.write_sheet(ws, year)
        out = BytesIO()
        wb.save(out)
        response = HttpResponse(out.getvalue(), content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="referrals-110-{year}.xlsx"'
        return response
    lines, total = referrals110.monthly(year)
    recent = InboundReferral.objects.select_related("system", "matter", "ticket").order_by("-received_at")[:20]
    ctx = {
        "year": year,
        "years": [year - 1, year + 1] if year < timezone.localdate().year else [year - 1],
        "lines": lines,
        "total": total,
        "months": list(referrals110.MONTHS),
        "recent": recent,
    }
    return render(request, "web/center/referrals110.html", ctx)
