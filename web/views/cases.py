"""办件公开 and 典型案例: the center publishes a closed ticket; citizens read and search the cases.

The center's side (``publish``, ``withdraw``) is for reviewers: the page shows the ticket's texts
with what the machine hides marked, and the texts to publish for editing; the service
(``hotline.services.disclosure``) refuses a ticket without consent, an open one, and an edit
that brings personal data back, and the page then shows the refusal with the edited texts kept.

The public side (``case_list``, ``case_page``) needs no login and reads only
``hotline.public_cases``: published texts, no caller, no number, no address. docs/disclosure.md.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from hotline.errors import DomainError, InvalidInput, NotAllowed
from hotline.models import PublishedCase, Ticket
from hotline.models.network import REVIEWING_ROLES
from hotline.public_cases import published_case, published_cases
from hotline.services import disclosure
from web.forms import CaseSearchForm, PublishForm
from web.views import form_errors, role_required
from web.views.public import _page

reviewers = role_required(REVIEWING_ROLES)
STATUS = {InvalidInput: 400, NotAllowed: 403}
PER_PAGE = 10


@reviewers
@require_http_methods(["GET", "POST"])
def publish(request: HttpRequest, pk: int) -> HttpResponse:
    """The publish step: the automatic redaction highlighted, the texts to edit, then publish."""
    ticket = get_object_or_404(Ticket.objects.select_related("caller", "category", "topic", "area"), pk=pk)
    draft = disclosure.draft(ticket)
    error, status = "", 200
    if request.method == "POST":
        form = PublishForm(request.POST)
        if not form.is_valid():
            error, status = form_errors(form), 400
        else:
            try:
                case = disclosure.publish_case(ticket, request.user, **form.cleaned_data)
            except DomainError as exc:  # the page again, the reviewer's texts kept, the refusal on top
                error, status = exc.message, STATUS.get(type(exc), 409)
            else:
                messages.success(request, _("%(number)s published as a case.") % {"number": ticket.number})
                return redirect("web:case", pk=case.pk)
    else:
        form = PublishForm(initial={p.field: p.redacted.text for p in draft.parts})
    live = PublishedCase.objects.filter(ticket=ticket, withdrawn_at__isnull=True).first()
    hidden = [(disclosure.KIND_NAMES[kind], n) for kind, n in draft.hidden.items()]
    ctx = {"ticket": ticket, "draft": draft, "hidden": hidden, "form": form, "error": error, "live": live}
    return render(request, "web/ticket/publish.html", ctx, status=status)


@reviewers
def pending(request: HttpRequest) -> HttpResponse:
    """待公开: closed tickets whose callers agreed, not published yet; each opens the publish step."""
    page = Paginator(disclosure.awaiting_publication(), 20).get_page(request.GET.get("page"))
    live = published_cases()[:10]
    return render(request, "web/ticket/publish_pending.html", {"page": page, "live": live})


@reviewers
@require_POST
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    """撤回 a published case: it leaves the public pages; the row stays."""
    case = get_object_or_404(PublishedCase, pk=pk)
    try:
        disclosure.withdraw_case(case, request.user, request.POST.get("reason", ""))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The case was withdrawn from the public pages."))
    return redirect("web:ticket-publish", pk=case.ticket_id)


def case_list(request: HttpRequest) -> HttpResponse:
    """公开办件: search the published cases by words, topic and area; ten to a page."""
    form = CaseSearchForm(request.GET or None)
    errors: list[str] = []
    criteria: dict = {}
    if form.is_bound:
        if form.is_valid():
            criteria = {k: v for k, v in form.cleaned_data.items() if v}
        else:
            # An unknown topic or area (an old link): say so, and search with what is left.
            errors.append(_("Some of the search could not be used: %(errors)s") % {"errors": form_errors(form)})
            criteria = {k: form.cleaned_data[k] for k in form.cleaned_data if form.cleaned_data[k]}
    filters = {
        "topic": criteria.get("topic"),
        "area": criteria.get("area"),
        "typical": True if criteria.get("typical") else None,
    }
    try:
        qs = published_cases(criteria.get("q", ""), **filters)
    except InvalidInput as exc:  # only emoji, only punctuation: the message, and the rest of the search
        errors.append(exc.message)
        criteria.pop("q", None)
        qs = published_cases(**filters)
    paginator = Paginator(qs, PER_PAGE)
    asked = request.GET.get("page", "1")
    page = paginator.get_page(asked)
    if asked != str(page.number) and request.GET.get("page"):
        errors.append(
            _("There is no page %(asked)s; here is page %(page)s.") % {"asked": asked[:10], "page": page.number}
        )
    keep = request.GET.copy()
    keep.pop("page", None)
    ctx = {
        "form": form,
        "page": page,
        "errors": errors,
        "searched": bool(criteria),
        "query_string": keep.urlencode(),
    }
    return _page(request, "web/public/cases.html", ctx)


def case_page(request: HttpRequest, pk: int) -> HttpResponse:
    case = published_case(pk)
    if case is None:
        raise Http404(_("No such published case."))
    return _page(request, "web/public/case.html", {"case": case})
