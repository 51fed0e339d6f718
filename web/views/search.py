"""工单查询: one search for the center (every ticket) and the units (their subtree), with an Excel export.

The form parses the GET parameters; ``hotline.search.search_tickets`` decides what matches and
who may search by what. A bad parameter is shown next to its field, the input kept.
"""

from __future__ import annotations

from io import BytesIO

from django import forms
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook

from hotline.access import caller_view, is_center_staff, may_search_by_phone, sees_caller_name
from hotline.errors import DomainError
from hotline.models import (
    Area,
    Assignment,
    AssignmentStatus,
    Category,
    Channel,
    Role,
    Ticket,
    TicketStatus,
    Topic,
    Unit,
)
from hotline.models.network import CENTER_ROLES
from hotline.search import DEFAULT_ORDER, Criteria, paginate, planner_guard, search_tickets
from metrics.reports import put
from web.forms import TopicChoiceField
from web.views import role_required

PAGE_SIZE = 25
# Counting every match of a common word over a million tickets costs more than the page; past this
# the page says "more than 1000" and the pager stops there (40 pages). The export takes up to EXPORT_CAP.
COUNT_CAP = 1_000
EXPORT_CAP = 10_000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

searchers = role_required([*CENTER_ROLES, Role.UNIT_HANDLER])

ORDER_CHOICES = [
    ("newest", gettext_lazy("Newest first")),
    ("oldest", gettext_lazy("Oldest first")),
    ("updated", gettext_lazy("Recently changed")),
    ("number", gettext_lazy("Ticket number")),
    ("-number", gettext_lazy("Ticket number, descending")),
]


class SearchForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("Words, ticket number or query code"), required=False)
    phone = forms.CharField(label=gettext_lazy("Caller's phone"), required=False)
    name = forms.CharField(label=gettext_lazy("Caller's name"), required=False)
    category = forms.ModelChoiceField(label=gettext_lazy("Category"), queryset=Category.objects.all(), required=False)
    topic = TopicChoiceField(
        label=gettext_lazy("Topic"), queryset=Topic.objects.select_related("parent").order_by("code"), required=False
    )
    area = forms.ModelChoiceField(
        label=gettext_lazy("Area"), queryset=Area.objects.select_related("parent").order_by("code"), required=False
    )
    unit = forms.ModelChoiceField(label=gettext_lazy("Unit"), queryset=Unit.objects.none(), required=False)
    status = forms.MultipleChoiceField(
        label=gettext_lazy("Status"), choices=TicketStatus.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    channel = forms.ChoiceField(label=gettext_lazy("Channel"), choices=[("", "—"), *Channel.choices], required=False)
    created_from = forms.DateField(
        label=gettext_lazy("Registered from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    created_to = forms.DateField(
        label=gettext_lazy("Registered until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    overdue = forms.BooleanField(label=gettext_lazy("Overdue"), required=False)
    repeat = forms.BooleanField(label=gettext_lazy("Repeat"), required=False)
    supervised = forms.BooleanField(label=gettext_lazy("Supervised (open case)"), required=False)
    order = forms.ChoiceField(label=gettext_lazy("Sort"), choices=ORDER_CHOICES, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if is_center_staff(user):
            self.fields["unit"].queryset = Unit.objects.filter(level__gt=1, is_active=True).order_by("level", "code")
        else:
            # A unit filters within its own subtree; the phone and name of callers are not its to search.
            self.fields["unit"].queryset = Unit.objects.filter(pk__in=user.unit.subtree_ids()).order_by("level", "code")
        if not may_search_by_phone(user):
            del self.fields["phone"]
        if not sees_caller_name(user):
            del self.fields["name"]

    def criteria(self) -> Criteria:
        d = self.cleaned_data
        return Criteria(
            q=d.get("q", ""),
            # A unit's form has no phone or name field; one sent anyway is refused by the search, not ignored.
            phone=d.get("phone", self.data.get("phone", "")),
            name=d.get("name", self.data.get("name", "")),
            category=d.get("category"),
            topic=d.get("topic"),
            area=d.get("area"),
            unit=d.get("unit"),
            statuses=d.get("status") or [],
            channel=d.get("channel", ""),
            created_from=d.get("created_from"),
            created_to=d.get("created_to"),
            overdue=d.get("overdue", False),
            repeat=d.get("repeat", False),
            supervised=d.get("supervised", False),
            order=d.get("order") or DEFAULT_ORDER,
        )


def _run(request: HttpRequest) -> tuple[SearchForm, QuerySet[Ticket] | None, str]:
    """The bound form, the matching tickets (None when the input is bad) and the error to show."""
    form = SearchForm(request.GET, user=request.user)
    if not form.is_valid():
        return form, None, ""
    try:
        return form, search_tickets(request.user, form.criteria()), ""
    except DomainError as exc:
        field = exc.details.get("field")
        if field in form.fields:
            form.add_error(field, exc.message)
            return form, None, ""
        return form, None, exc.message


def _query_without(request: HttpRequest, *names: str) -> str:
    params = request.GET.copy()
    for name in names:
        params.pop(name, None)
    return params.urlencode()


def _page(request: HttpRequest, results: QuerySet[Ticket]):
    page = paginate(results, request.GET.get("page"), PAGE_SIZE, COUNT_CAP)
    tickets = (
        Ticket.objects.filter(pk__in=page.object_list)
        .select_related("category", "topic__parent", "area__parent", "caller")
        .prefetch_related(
            Prefetch(
                "assignments",
                Assignment.objects.filter(parent__isnull=True)
                .exclude(status=AssignmentStatus.WITHDRAWN)
                .select_related("unit")
                .order_by("pk"),
                to_attr="top_assignments",
            )
        )
    )
    by_id = {t.pk: t for t in tickets}
    page.rows = [by_id[pk] for pk in page.object_list]
    for t in page.rows:
        t.shown_caller = caller_view(request.user, t)
    return page


@searchers
def search(request: HttpRequest) -> HttpResponse:
    form, results, error = _run(request)
    page = None
    if results is not None:
        with planner_guard():
            page = _page(request, results)
    ctx = {
        "form": form,
        "page": page,
        "error": error,
        "center": is_center_staff(request.user),
        "query": _query_without(request, "page"),
        "sort_query": _query_without(request, "page", "order"),
        "count_cap": COUNT_CAP,
    }
    return render(request, "web/search/search.html", ctx)


EXPORT_COLUMNS = [
    ("number", gettext_lazy("Ticket number")),
    ("created", gettext_lazy("Registered at")),
    ("status", gettext_lazy("Status")),
    ("channel", gettext_lazy("Channel")),
    ("category", gettext_lazy("Category")),
    ("topic", gettext_lazy("Topic")),
    ("area", gettext_lazy("Area")),
    ("address", gettext_lazy("Address")),
    ("title", gettext_lazy("Title")),
    ("content", gettext_lazy("Content")),
    ("phone", gettext_lazy("Caller's phone")),
    ("name", gettext_lazy("Caller's name")),
    ("units", gettext_lazy("Units")),
    ("repeat", gettext_lazy("Repeat")),
]


@searchers
def export(request: HttpRequest) -> HttpResponse:
    """The same search as an Excel workbook, at most EXPORT_CAP rows (the sheet says when it stopped).

    Every text cell is written as text (``metrics.reports.put``): a title "=HYPERLINK(…)" stays text.
    """
    form, results, error = _run(request)
    if results is None:
        message = error or "；".join(
            f"{form.fields[k].label if k in form.fields else k}：{' '.join(v)}" for k, v in form.errors.items()
        )
        return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
    columns = [(key, title) for key, title in EXPORT_COLUMNS if key != "name" or sees_caller_name(request.user)]
    wb = Workbook()
    ws = wb.active
    ws.title = _("Tickets")[:31]
    for col, (_key, title) in enumerate(columns, start=1):
        put(ws, 1, col, str(title))
    ws.freeze_panes = "A2"
    rows = results.select_related("category", "topic__parent", "area__parent", "caller").prefetch_related(
        Prefetch(
            "assignments",
            Assignment.objects.filter(parent__isnull=True)
            .exclude(status=AssignmentStatus.WITHDRAWN)
            .select_related("unit"),
            to_attr="top_assignments",
        )
    )[: EXPORT_CAP + 1]
    with planner_guard():
        _fill(ws, request, columns, rows)
    buffer = BytesIO()
    wb.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="tickets-{stamp}.xlsx"'
    return response


def _export_row(request: HttpRequest, t: Ticket) -> dict:
    caller = caller_view(request.user, t)
    return {
        "number": t.number,
        "created": t.created_at,
        "status": t.get_status_display(),
        "channel": t.get_channel_display(),
        "category": str(t.category),
        "topic": str(t.topic) if t.topic_id else "",
        "area": str(t.area) if t.area_id else "",
        "address": t.address,
        "title": t.title,
        "content": t.content,
        "phone": caller["phone"],
        "name": caller["name"],
        "units": "、".join(a.unit.name for a in t.top_assignments),
        "repeat": _("yes") if t.repeat_of_id else "",
    }


def _fill(ws, request: HttpRequest, columns, rows) -> None:
    for n, t in enumerate(rows, start=1):
        if n > EXPORT_CAP:
            put(ws, n + 1, 1, _("More tickets match: only the first %(n)s are exported.") % {"n": EXPORT_CAP})
            break
        values = _export_row(request, t)
        for col, (key, _title) in enumerate(columns, start=1):
            put(ws, n + 1, col, values[key])
