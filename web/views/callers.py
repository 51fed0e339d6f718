"""恶意来电 / 缠访: the center's review of callers and each caller's record.

Supervisors and administrators only (``hotline.access.may_flag_callers``; the services refuse
anybody else as well): agents report from their console, the center decides here. The list
shows the callers waiting for a decision (reported), those whose history shows many repeats,
and those flagged; a caller's page shows the history analysis, every report, every flag and
every decision, and takes the three acts (flag, lift, decline). Each act is one service call.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from hotline import audit
from hotline.lib.phones import InvalidPhone, normalize_phone
from hotline.models import Caller, CallerFlag, CallerReport, Role, Ticket
from hotline.services import callers as service
from metrics import callers as analysis
from web import caller_forms as cf
from web.supervision_forms import end_of_day
from web.views import posted, role_required

center_deciders = role_required([Role.SUPERVISOR, Role.ADMIN])
PAGE_SIZE = 50
RECORD = "reviewing an abusive or persistent caller"
VIEW_LABELS = {
    "review": gettext_lazy("Reported, waiting for review"),
    "frequent": gettext_lazy("Many repeats"),
    "flagged": gettext_lazy("Flagged now"),
    "all": gettext_lazy("All"),
}


@center_deciders
def caller_list(request: HttpRequest) -> HttpResponse:
    phone = request.GET.get("phone", "").strip()
    if phone:  # find a caller by number: straight to the record
        try:
            caller = Caller.objects.filter(phone=normalize_phone(phone)).first()
        except InvalidPhone:
            caller = None
        if caller is None:
            messages.error(request, _("No caller with this number."))
            return redirect("web:callers")
        return redirect("web:caller", pk=caller.pk)
    view = request.GET.get("view", "review")
    if view not in analysis.VIEWS:
        view = "review"
    now = timezone.now()
    page = Paginator(analysis.review_list(view, now), PAGE_SIZE).get_page(request.GET.get("page"))
    for caller in page.object_list:
        audit.note_read(
            request.user, fields=["phone", "name" if caller.name else ""], phone=caller.phone, reason=RECORD
        )
    ctx = {
        "page": page,
        "callers": page.object_list,
        "view": view,
        "views": [(key, str(VIEW_LABELS[key])) for key in analysis.VIEWS],
        "days": analysis.REVIEW_DAYS,
        "frequent": analysis.FREQUENT_REPEATS,
        "now": now,
    }
    return render(request, "web/callers/list.html", ctx)


@center_deciders
def caller_page(request: HttpRequest, pk: int) -> HttpResponse:
    caller = get_object_or_404(Caller.objects.select_related("flag"), pk=pk)
    now = timezone.now()
    audit.note_read(request.user, fields=["phone", "name" if caller.name else ""], phone=caller.phone, reason=RECORD)
    ctx = {
        "caller": caller,
        "flag": caller.flag_in_force(now),
        "history": analysis.caller_history(caller, now),
        "flags": CallerFlag.objects.filter(caller=caller).select_related("set_by", "lifted_by"),
        "reports": CallerReport.objects.filter(caller=caller).select_related("ticket", "reported_by", "decided_by"),
        "tickets": Ticket.objects.filter(caller=caller)
        .select_related("category", "repeat_of")
        .order_by("-created_at")[:20],
        "flag_form": cf.FlagForm(),
        "lift_form": cf.LiftForm(),
        "decline_form": cf.DeclineForm(),
        "max_days": service.MAX_FLAG_DAYS,
        "now": now,
    }
    return render(request, "web/callers/caller.html", ctx)


def _act(request: HttpRequest, pk: int, form, do, ok: str) -> HttpResponse:
    caller = get_object_or_404(Caller, pk=pk)
    return posted(request, form, lambda data: do(caller, data), ok, reverse("web:caller", args=[pk]))


def _flag(caller: Caller, by, data: dict) -> None:
    service.set_flag(caller, by, data["kind"], data["reason"], end_of_day(data["expires_on"]))


@center_deciders
@require_POST
def flag(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request, pk, cf.FlagForm(request.POST), lambda c, d: _flag(c, request.user, d), _("The caller is flagged.")
    )


@center_deciders
@require_POST
def lift(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        cf.LiftForm(request.POST),
        lambda c, d: service.lift_flag(c, request.user, d["reason"]),
        _("The flag is lifted."),
    )


@center_deciders
@require_POST
def decline(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        cf.DeclineForm(request.POST),
        lambda c, d: service.decline_reports(c, request.user, d["note"]),
        _("The reports are declined; the caller is not flagged."),
    )
