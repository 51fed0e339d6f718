"""审计日志: the auditor's page over the audit log, with filters, pages and a CSV/Excel export.

Only the auditor role reads it (``hotline.access.is_auditor``; not administrators, not
superusers). Reading and exporting the log are audited themselves.
"""

from __future__ import annotations

import csv
import json
from datetime import date, datetime, time, timedelta
from io import BytesIO, StringIO

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook

from hotline import audit
from hotline.access import is_auditor
from hotline.models import AuditAction, AuditEntry
from metrics.reports import put
from web.views import forbidden

PAGE_SIZE = 50
EXPORT_LIMIT = 100_000  # rows in one file; narrow the filters for more
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class AuditFilter(forms.Form):
    user = forms.CharField(label=gettext_lazy("User"), required=False, max_length=150)
    phone = forms.CharField(label=gettext_lazy("Citizen's phone"), required=False, max_length=32)
    ticket = forms.CharField(label=gettext_lazy("Ticket number"), required=False, max_length=16)
    action = forms.ChoiceField(
        label=gettext_lazy("Action taken"), required=False, choices=[("", "—"), *AuditAction.choices]
    )
    date_from = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        for name in ("date_from", "date_to"):
            day = data.get(name)
            if day is not None and not date(1970, 1, 1) <= day <= date(2999, 12, 31):
                self.add_error(name, _("dates must be between 1970-01-01 and 2999-12-31"))
        return data


def filtered(data: dict) -> QuerySet[AuditEntry]:
    qs = AuditEntry.objects.all()
    if data.get("user"):
        qs = qs.filter(username=data["user"])
    if data.get("action"):
        qs = qs.filter(action=data["action"])
    subject = Q()
    if data.get("phone"):
        subject &= Q(subjects__phone_token=audit.phone_token(data["phone"].strip()))
    if data.get("ticket"):
        subject &= Q(subjects__ticket__number=data["ticket"].strip())
    if subject:
        qs = qs.filter(pk__in=AuditEntry.objects.filter(subject).values("pk"))
    zone = timezone.get_current_timezone()
    if data.get("date_from"):
        qs = qs.filter(at__gte=datetime.combine(data["date_from"], time.min, tzinfo=zone))
    if data.get("date_to"):
        qs = qs.filter(at__lt=datetime.combine(data["date_to"] + timedelta(days=1), time.min, tzinfo=zone))
    return qs.order_by("-at", "-pk")


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    if not is_auditor(request.user):
        return forbidden(request, _("Only the auditor reads the audit log."))
    form = AuditFilter(request.GET or None)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    qs = AuditEntry.objects.none() if form.is_bound and not form.is_valid() else filtered(data)
    fmt = request.GET.get("format", "")
    criteria = {k: str(v) for k, v in data.items() if v and k != "phone"}
    if data.get("phone"):
        criteria["phone_token"] = audit.phone_token(data["phone"].strip())
    if fmt in ("csv", "xlsx"):
        audit.record(AuditAction.EXPORT, reason="audit log", data={"format": fmt, "filters": criteria})
        return export(qs, fmt)
    page = Paginator(qs.prefetch_related("subjects__ticket"), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    return render(
        request,
        "web/audit/log.html",
        {"form": form, "page": page, "query": query.urlencode()},
        status=400 if form.errors else 200,
    )


COLUMNS = ["at", "username", "action", "screen", "path", "reason", "fields", "ip", "tickets", "phone_tokens", "data"]


def rows(qs: QuerySet[AuditEntry]):
    zone = timezone.get_current_timezone()
    for entry in qs.prefetch_related("subjects__ticket")[:EXPORT_LIMIT]:
        subjects = list(entry.subjects.all())
        yield [
            entry.at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"),
            entry.username,
            entry.action,
            entry.screen,
            entry.path,
            entry.reason,
            entry.fields,
            entry.ip or "",
            " ".join(s.ticket.number for s in subjects if s.ticket is not None),
            " ".join(sorted({s.phone_token for s in subjects if s.phone_token})),
            json.dumps(entry.data, ensure_ascii=False, sort_keys=True),
        ]


def export(qs: QuerySet[AuditEntry], fmt: str) -> HttpResponse:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    if fmt == "csv":
        buffer = StringIO()
        writer = csv.writer(buffer)
        writer.writerow(COLUMNS)
        for row in rows(qs):
            # A cell opening with = + - @ would be a formula in a spreadsheet: quote it as text.
            writer.writerow([_csv_safe(str(value)) for value in row])
        response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
        return response
    book = Workbook()
    sheet = book.active
    sheet.title = "audit"
    for column, title in enumerate(COLUMNS, start=1):
        put(sheet, 1, column, title)
    for r, row in enumerate(rows(qs), start=2):
        for column, value in enumerate(row, start=1):
            put(sheet, r, column, str(value))
    out = BytesIO()
    book.save(out)
    response = HttpResponse(out.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.xlsx"'
    return response


def _csv_safe(text: str) -> str:
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
