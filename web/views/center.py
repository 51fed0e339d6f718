"""派单 (dispatch queue) and 监控大屏 (supervisor wallboard)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hotline.errors import DomainError
from hotline.models import Dispute, Extension, Role, Ticket, Unit
from hotline.services import dispatch, disputes, extensions, tickets
from web.forms import DecisionForm
from web.views import role_required
from web.views import snapshots as snap

dispatchers = role_required([Role.DISPATCHER, Role.SUPERVISOR])
supervisors = role_required([Role.SUPERVISOR])


@dispatchers
def dispatch_queue(request: HttpRequest) -> HttpResponse:
    return render(request, "web/center/dispatch.html", snap.dispatch_queue(request.GET))


def _back(request: HttpRequest, ok: str = "", error: str = "") -> HttpResponse:
    if error:
        messages.error(request, error)
    else:
        messages.success(request, ok)
    # Back to the list the dispatcher was looking at: only the filter's own parameters are kept.
    query = snap.dispatch_query(QueryDict(request.POST.get("back", "")), keep_page=True)
    return redirect(reverse("web:dispatch") + (f"?{query}" if query else ""))


@dispatchers
@require_POST
def dispatch_ticket(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = get_object_or_404(Ticket, pk=pk)
    unit = get_object_or_404(Unit, pk=request.POST.get("unit") or 0)
    try:
        dispatch.dispatch_ticket(ticket, request.user, unit)
    except DomainError as exc:
        return _back(request, error=f"{ticket.number}: {exc.message}")
    return _back(request, _("%(number)s dispatched to %(unit)s.") % {"number": ticket.number, "unit": unit.name})


@dispatchers
@require_POST
def decide_extension(request: HttpRequest, pk: int) -> HttpResponse:
    extension = get_object_or_404(Extension, pk=pk)
    form = DecisionForm(request.POST)
    form.is_valid()
    approve = form.cleaned_data.get("approve", False)
    try:
        extensions.decide_extension(extension, request.user, approve=approve, note=form.cleaned_data.get("note", ""))
    except DomainError as exc:
        return _back(request, error=exc.message)
    return _back(request, _("Extension approved.") if approve else _("Extension rejected."))


@dispatchers
@require_POST
def decide_dispute(request: HttpRequest, pk: int) -> HttpResponse:
    """派单异议: the dispatch stands (no unit chosen) or the ticket goes to the chosen level-2 unit."""
    dispute = get_object_or_404(Dispute.objects.select_related("assignment__ticket"), pk=pk)
    number = dispute.assignment.ticket.number
    unit_id = request.POST.get("reassign_to") or ""
    reassign_to = get_object_or_404(Unit, pk=unit_id) if unit_id.isdigit() else None
    try:
        disputes.decide_dispute(dispute, request.user, reassign_to=reassign_to, note=request.POST.get("note", ""))
    except DomainError as exc:
        return _back(request, error=f"{number}: {exc.message}")
    if reassign_to is None:
        return _back(request, _("%(number)s: the dispatch stands.") % {"number": number})
    return _back(request, _("%(number)s reassigned to %(unit)s.") % {"number": number, "unit": reassign_to.name})


@dispatchers
@require_POST
def review(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = get_object_or_404(Ticket, pk=pk)
    form = DecisionForm(request.POST)
    form.is_valid()
    approve = form.cleaned_data.get("approve", False)
    try:
        tickets.review_reply(
            ticket,
            request.user,
            approve=approve,
            note=form.cleaned_data.get("note", ""),
            confirm_outstanding=form.cleaned_data.get("confirm_outstanding", False),
        )
    except DomainError as exc:
        return _back(request, error=f"{ticket.number}: {exc.message}")
    if approve:
        return _back(request, _("%(number)s: reply approved.") % {"number": ticket.number})
    return _back(request, _("%(number)s: sent back to be redone.") % {"number": ticket.number})


@supervisors
def wallboard(request: HttpRequest) -> HttpResponse:
    return render(request, "web/center/wallboard.html", snap.wallboard())
