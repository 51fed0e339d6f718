"""督办: the supervisors' list of supervision cases, one case's page, and the report workbook.

Dispatchers, supervisors and admins work here (the services refuse anybody else as well). A case
on one ticket is opened from the ticket's page; a case on a set of tickets (a hot problem) from
this list, by their numbers. Every act is one service call: one transaction, a timeline entry on
each ticket of the case.
"""

from __future__ import annotations

from io import BytesIO

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from openpyxl import Workbook
from openpyxl.styles import Font

from hotline.errors import DomainError, InvalidInput
from hotline.models import SupervisionCase, Ticket
from hotline.models.network import REVIEWING_ROLES
from hotline.services import supervision
from metrics.reports import put
from web import supervision_forms as sf
from web.views import form_errors, posted, role_required
from web.views.dashboard import XLSX

supervisors = role_required(REVIEWING_ROLES)
PAGE_SIZE = 50


def filtered_cases(params) -> tuple[sf.CaseFilterForm, object]:
    form = sf.CaseFilterForm(params or None)
    data = form.cleaned_data if form.is_valid() else {}
    rows = SupervisionCase.objects.select_related("unit", "opened_by").annotate(ticket_count=Count("tickets"))
    status = data.get("status") or "open"
    if status != "all":
        rows = rows.filter(status=status)
    if data.get("form"):
        rows = rows.filter(form=data["form"])
    if data.get("late"):
        rows = rows.filter(status="open", due_by__lt=timezone.now())
    return form, rows.order_by("due_by", "pk") if status == "open" else rows.order_by("-opened_at", "-pk")


@supervisors
def case_list(request: HttpRequest) -> HttpResponse:
    form, rows = filtered_cases(request.GET)
    rows = rows.prefetch_related(Prefetch("tickets", queryset=Ticket.objects.only("pk", "number").order_by("pk")))
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    ctx = {
        "filter": form,
        "page": page,
        "cases": page.object_list,
        "query": query.urlencode(),
        "now": timezone.now(),
        "open_form": sf.CaseOnTicketsForm(),
    }
    return render(request, "web/supervision/list.html", ctx)


@supervisors
@require_POST
def open_on_tickets(request: HttpRequest) -> HttpResponse:
    """A case on a set of tickets named by number; every number must exist."""
    form = sf.CaseOnTicketsForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors(form))
        return redirect("web:supervision")
    data = form.cleaned_data
    found = {t.number: t for t in Ticket.objects.filter(number__in=data["numbers"])}
    missing = [n for n in data["numbers"] if n not in found]
    try:
        if missing:
            raise InvalidInput(_("no ticket has the number %(number)s") % {"number": "、".join(missing)})
        case = _open(request, list(found.values()), data)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("web:supervision")
    messages.success(request, _("Supervision case #%(id)s opened.") % {"id": case.pk})
    return redirect("web:supervision-case", pk=case.pk)


def _open(request: HttpRequest, tickets: list[Ticket], data: dict) -> SupervisionCase:
    return supervision.open_case(
        request.user,
        tickets,
        data["form"],
        data["reason"],
        sf.end_of_day(data["due_by"]),
        title=data["title"],
        unit=data["unit"],
        leader_name=data["leader_name"],
    )


@supervisors
def case_page(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_object_or_404(SupervisionCase.objects.select_related("unit", "opened_by", "closed_by"), pk=pk)
    ctx = {
        "case": case,
        "tickets": case.tickets.select_related("category", "topic", "area").order_by("pk"),
        "notes": case.notes.select_related("author"),
        "late": case.is_late(),
        "note_form": sf.CaseNoteForm(),
        "close_form": sf.CloseCaseForm(),
    }
    return render(request, "web/supervision/case.html", ctx)


def _case_act(request: HttpRequest, pk: int, form_class, do, ok: str) -> HttpResponse:
    case = get_object_or_404(SupervisionCase, pk=pk)
    back = reverse("web:supervision-case", args=[pk])
    return posted(request, form_class(request.POST), lambda data: do(case, data), ok % {"id": case.pk}, back)


@supervisors
@require_POST
def add_note(request: HttpRequest, pk: int) -> HttpResponse:
    return _case_act(
        request,
        pk,
        sf.CaseNoteForm,
        lambda case, d: supervision.add_note(case, request.user, d["text"]),
        _("Follow-up added to case #%(id)s."),
    )


@supervisors
@require_POST
def close_case(request: HttpRequest, pk: int) -> HttpResponse:
    return _case_act(
        request,
        pk,
        sf.CloseCaseForm,
        lambda case, d: supervision.close_case(case, request.user, d["outcome"], d["result"]),
        _("Case #%(id)s closed."),
    )


# --- the report ---------------------------------------------------------------------------------


def build_report(cases) -> Workbook:
    """One row per case (the list's filter), and one row per ticket of each case."""
    book = Workbook()
    sheet = book.active
    sheet.title = _("Supervision cases")[:31]
    titles = [
        _("Case"), _("Form"), _("Title"), _("Reason"), _("Responsible unit"), _("Responsible leader"),
        _("Opened at"), _("Opened by"), _("Demanded deadline"), _("Status"), _("Late"), _("Tickets"),
        _("Follow-ups"), _("Closed at"), _("Outcome"), _("Result"),
    ]  # fmt: skip
    for column, title in enumerate(titles, start=1):
        put(sheet, 1, column, title).font = Font(bold=True)
    sheet.freeze_panes = "A2"
    per_ticket = book.create_sheet(_("Tickets")[:31])
    for column, title in enumerate([_("Case"), _("Ticket"), _("Status"), _("Title")], start=1):
        put(per_ticket, 1, column, title).font = Font(bold=True)
    now, ticket_row = timezone.now(), 2
    cases = cases.annotate(note_count=Count("notes", distinct=True)).prefetch_related(
        Prefetch("tickets", queryset=Ticket.objects.order_by("pk"))
    )
    for row, case in enumerate(cases, start=2):
        tickets = list(case.tickets.all())
        values = [
            case.pk, case.get_form_display(), case.title, case.reason, case.unit.name if case.unit_id else "",
            case.leader_name, case.opened_at, case.opened_by.get_full_name() or case.opened_by.username,
            case.due_by, case.get_status_display(), _("yes") if case.is_late(now) else "", len(tickets),
            case.note_count, case.closed_at, case.get_outcome_display() if case.outcome else "", case.result,
        ]  # fmt: skip
        for column, value in enumerate(values, start=1):
            put(sheet, row, column, value)
        for ticket in tickets:
            for column, value in enumerate(
                [case.pk, ticket.number, str(ticket.get_status_display()), ticket.title], start=1
            ):
                put(per_ticket, ticket_row, column, value)
            ticket_row += 1
    return book


@supervisors
def excel(request: HttpRequest) -> HttpResponse:
    _form, rows = filtered_cases(request.GET)
    buffer = BytesIO()
    build_report(rows.select_related("opened_by")).save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    stamp = timezone.localtime().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="supervision-{stamp}.xlsx"'
    return response
