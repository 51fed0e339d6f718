"""承办工作台: the unit handler's inbox and ticket page."""

from __future__ import annotations

from datetime import datetime, time

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hotline.access import caller_view, check_can_view, check_own_unit
from hotline.errors import DomainError, NotAllowed
from hotline.models import Assignment, AssignmentStatus, DisputeStatus, Role, Ticket
from hotline.services import attachments, dispatch, disputes, extensions
from web.forms import ExtensionForm, ReasonForm, ReplyForm, SubDispatchForm
from web.timeline_text import describe, timeline_entries
from web.views import forbidden, form_errors, role_required
from web.views import snapshots as snap

unit_only = role_required([Role.UNIT_HANDLER])


@unit_only
def workbench(request: HttpRequest) -> HttpResponse:
    return render(request, "web/unit/workbench.html", snap.unit_inbox(request.user.unit))


def end_of_day(day) -> datetime:
    """A deadline picked as a date ends at 23:59:59 local time of that day."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=timezone.get_current_timezone())


@unit_only
def ticket_detail(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = get_object_or_404(Ticket, pk=pk)
    try:
        check_can_view(request.user, ticket)
    except NotAllowed:
        return forbidden(request, _("This ticket is not assigned to your unit."))
    return _ticket_page(request, ticket)


def _ticket_page(request: HttpRequest, ticket: Ticket, **bound) -> HttpResponse:
    """The unit's ticket page; ``bound`` forms (after a refusal) keep what the handler typed."""
    ticket = Ticket.objects.select_related("caller", "category", "topic", "area").get(pk=ticket.pk)
    unit = request.user.unit
    mine = (
        Assignment.objects.filter(ticket=ticket, unit=unit)
        .exclude(status=AssignmentStatus.WITHDRAWN)
        .select_related("parent__unit")
        .order_by("-pk")
        .first()
    )
    ctx = {
        "ticket": ticket,
        "caller": caller_view(request.user, ticket),
        "mine": mine,
        "assignments": ticket.assignments.select_related("unit").order_by("pk"),
        "lines": describe(timeline_entries(ticket)),
        "attachments": ticket.attachments.order_by("pk"),
        "return_form": ReasonForm(),
        "sub_form": SubDispatchForm(unit=unit) if unit.level == 2 else None,
        "reply_form": ReplyForm(),
        "extension_form": ExtensionForm(),
        # 派单异议: a unit the center dispatched to (not a street a level-2 unit sub-dispatched to)
        # may dispute while it holds the assignment; one dispute waits at a time.
        "may_dispute": bool(
            mine and mine.parent_id is None and mine.status in (AssignmentStatus.PENDING, AssignmentStatus.ACCEPTED)
        ),
        "pending_dispute": mine.disputes.filter(status=DisputeStatus.PENDING).first() if mine else None,
        "dispute_form": ReasonForm(),
    } | bound
    return render(request, "web/unit/ticket.html", ctx)


def _assignment(request: HttpRequest, pk: int) -> Assignment:
    """The handler's own unit's part, or NotAllowed: another unit's is the 403 page, as on the API.

    (The service refused it anyway, but the answer was a redirect to a ticket page the handler
    may not see, with the refusal as a message: tests/security/test_authz_matrix.py.)
    """
    assignment = get_object_or_404(Assignment.objects.select_related("ticket", "unit"), pk=pk)
    check_own_unit(request.user, assignment)
    return assignment


def _done(request: HttpRequest, assignment: Assignment, ok: str) -> HttpResponse:
    messages.success(request, ok)
    return redirect("web:unit-ticket", pk=assignment.ticket_id)


def _failed(request: HttpRequest, assignment: Assignment, error: str, **bound) -> HttpResponse:
    """A refusal: the message, and with a form that holds typing (a reply, a reason) the page
    again with that form filled in, so nothing the handler wrote is lost."""
    messages.error(request, error)
    if bound:
        return _ticket_page(request, assignment.ticket, **bound)
    return redirect("web:unit-ticket", pk=assignment.ticket_id)


@unit_only
@require_POST
def accept(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = _assignment(request, pk)
    try:
        dispatch.accept_assignment(assignment, request.user)
    except DomainError as exc:
        return _failed(request, assignment, exc.message)
    return _done(request, assignment, _("Accepted."))


@unit_only
@require_POST
def return_(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = _assignment(request, pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        return _failed(request, assignment, form_errors(form), return_form=form)
    try:
        dispatch.return_assignment(assignment, request.user, form.cleaned_data["reason"])
    except DomainError as exc:
        return _failed(request, assignment, exc.message, return_form=form)
    messages.success(request, _("Returned to the dispatcher."))
    return redirect("web:workbench")


@unit_only
@require_POST
def sub_dispatch(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = _assignment(request, pk)
    form = SubDispatchForm(request.POST, unit=request.user.unit)
    if not form.is_valid():
        return _failed(request, assignment, form_errors(form), sub_form=form)
    data = form.cleaned_data
    try:
        dispatch.sub_dispatch(
            assignment,
            request.user,
            data["to_unit"],
            reply_by=end_of_day(data["reply_by"]),
            instructions=data["instructions"],
        )
    except DomainError as exc:
        return _failed(request, assignment, exc.message, sub_form=form)
    return _done(request, assignment, _("Sub-dispatched to %(unit)s.") % {"unit": data["to_unit"].name})


@unit_only
@require_POST
def reply(request: HttpRequest, pk: int) -> HttpResponse:
    """答复, with an optional image: both or neither are saved."""
    assignment = _assignment(request, pk)
    form = ReplyForm(request.POST, request.FILES)
    if not form.is_valid():
        return _failed(request, assignment, form_errors(form), reply_form=form)
    try:
        with transaction.atomic():
            if form.cleaned_data["file"]:
                attachments.add_attachment(
                    assignment.ticket, request.user, form.cleaned_data["file"], assignment=assignment
                )
            dispatch.reply_assignment(
                assignment,
                request.user,
                form.cleaned_data["text"],
                contacted_caller=form.cleaned_data["contacted_caller"],
            )
    except DomainError as exc:
        return _failed(request, assignment, exc.message, reply_form=form)
    return _done(request, assignment, _("Reply sent."))


@unit_only
@require_POST
def request_extension(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = _assignment(request, pk)
    form = ExtensionForm(request.POST)
    if not form.is_valid():
        return _failed(request, assignment, form_errors(form), extension_form=form)
    try:
        extensions.request_extension(
            assignment, request.user, end_of_day(form.cleaned_data["until"]), form.cleaned_data["reason"]
        )
    except DomainError as exc:
        return _failed(request, assignment, exc.message, extension_form=form)
    return _done(request, assignment, _("Extension requested."))


@unit_only
@require_POST
def dispute(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = _assignment(request, pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        return _failed(request, assignment, form_errors(form), dispute_form=form)
    try:
        disputes.raise_dispute(assignment, request.user, form.cleaned_data["reason"])
    except DomainError as exc:
        return _failed(request, assignment, exc.message, dispute_form=form)
    return _done(request, assignment, _("Dispute raised: the center will decide."))
