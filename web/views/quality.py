"""工单质检: the checkers' list and scoring form, everyone's own results, the results' workbook.

``/quality/`` shows each role its part: a quality checker the checks to do (not their own work)
and those they scored; an agent the checks of their own registrations; a unit handler those of its
unit's replies (and the units below it); the center's reviewers every result. Scoring is one
service call (``metrics.quality.score_check``: one transaction, audited). The dashboard's section
is built by ``dashboard_section``. docs/quality.md.
"""

from __future__ import annotations

from io import BytesIO
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hotline import audit
from hotline.access import caller_view, is_center_reviewer, is_quality_checker
from hotline.errors import DomainError, NotAllowed
from hotline.models import AuditAction, Role, Unit, User
from hotline.models.network import REVIEWING_ROLES
from metrics import quality
from metrics.models import CheckReason, CheckScore, CheckStatus, CheckTarget, QualityCheck
from metrics.periods import Period
from web.views import dashboard as dash  # the module, not its names: the dashboard imports this one too
from web.views import forbidden, role_required

viewers = role_required([Role.QUALITY, Role.AGENT, Role.UNIT_HANDLER, *REVIEWING_ROLES])
checkers = role_required([Role.QUALITY])
exporters = role_required([Role.QUALITY, *REVIEWING_ROLES])
PAGE_SIZE = 50


def to_do(user: User) -> QuerySet[QualityCheck]:
    """Checks waiting for a score, oldest round first, without the checker's own work."""
    rows = QualityCheck.objects.filter(status=CheckStatus.PENDING).exclude(agent_id=user.pk)
    rows = rows.exclude(assignment__replied_by_id=user.pk)
    if user.unit_id:
        rows = rows.exclude(unit_id=user.unit_id)
    return rows.select_related("ticket", "agent", "unit", "round").order_by("round__first", "pk")


def own_checks(user: User) -> QuerySet[QualityCheck]:
    """Scored checks a non-checker may read: an agent's registrations, a unit's (subtree's) replies; reviewers all."""
    done = QualityCheck.objects.filter(status=CheckStatus.DONE)
    if is_center_reviewer(user):
        return done
    if user.role == Role.AGENT:
        return done.filter(target=CheckTarget.REGISTRATION, agent_id=user.pk)
    if user.role == Role.UNIT_HANDLER and user.unit_id:
        return done.filter(target=CheckTarget.REPLY, unit_id__in=user.unit.subtree_ids())
    return done.none()


def may_read(user: User, check: QualityCheck) -> bool:
    if is_quality_checker(user):
        return True
    return own_checks(user).filter(pk=check.pk).exists()


def _page(request: HttpRequest, rows: QuerySet) -> Any:
    return Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))


@viewers
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    period = dash.read_period(request)
    context: dict[str, Any] = {
        "period": period,
        "checker": is_quality_checker(user),
        "kinds": list(dash.PICKER_KINDS.items()),
        "period_query": urlencode(dash.period_params(period)),
        "random_label": str(CheckReason.RANDOM.label),
    }
    if context["checker"]:
        context["todo"] = _page(request, to_do(user))
        context["mine"] = (
            QualityCheck.objects.filter(status=CheckStatus.DONE, checker=user)
            .select_related("ticket", "agent", "unit")
            .order_by("-checked_at")[:20]
        )
    else:
        context["done"] = _page(
            request,
            own_checks(user)
            .filter(**period.range("checked_at"))
            .select_related("ticket", "agent", "unit", "checker")
            .order_by("-checked_at", "-pk"),
        )
    context["section"] = section(user, period, None)
    context["excel_url"] = excel_url(period) if (context["checker"] or is_center_reviewer(user)) else ""
    return render(request, "web/quality/home.html", context)


def _values(request: HttpRequest, items) -> tuple[dict[int, int | None], dict[int, str], list[str]]:
    """The form's scores (blank: not scored) and notes; a score that is not a whole number is an error."""
    scores: dict[int, int | None] = {}
    notes: dict[int, str] = {}
    errors = []
    for item in items:
        raw = request.POST.get(f"score_{item.pk}", "").strip()
        notes[item.pk] = request.POST.get(f"note_{item.pk}", "")
        if not raw:
            scores[item.pk] = None
        elif raw.lstrip("-").isdigit():
            scores[item.pk] = int(raw)
        else:
            errors.append(_("%(item)s: the score must be a whole number") % {"item": item.name})
    return scores, notes, errors


def _check_context(request: HttpRequest, check: QualityCheck) -> dict[str, Any]:
    ticket = check.ticket
    return {
        "random_label": str(CheckReason.RANDOM.label),
        "check": check,
        "ticket": ticket,
        "caller": caller_view(request.user, ticket, reason="quality check"),
        "reply": check.assignment,
        "scores": CheckScore.objects.filter(quality_check=check).select_related("item"),
        "own_work": is_quality_checker(request.user) and quality.is_own_work(check, request.user),
    }


def _form_rows(items, scores: dict[int, Any], notes: dict[int, str]) -> list[dict[str, Any]]:
    return [{"item": item, "score": scores.get(item.pk), "note": notes.get(item.pk, "")} for item in items]


@viewers
def check_page(request: HttpRequest, pk: int) -> HttpResponse:
    check = get_object_or_404(QualityCheck.objects.select_related("ticket", "assignment", "agent", "unit"), pk=pk)
    if not may_read(request.user, check):
        return forbidden(request, _("This check is not about your work."))
    context = _check_context(request, check)
    if check.status == CheckStatus.PENDING and is_quality_checker(request.user):
        context["rows"] = _form_rows(quality.checklist(check.target), {}, {})
    return render(request, "web/quality/check.html", context)


@require_POST
@checkers
def score(request: HttpRequest, pk: int) -> HttpResponse:
    """Score a check; a refusal shows the form again with what was entered, and nothing is saved."""
    check = get_object_or_404(QualityCheck.objects.select_related("ticket", "assignment", "agent", "unit"), pk=pk)
    items = quality.checklist(check.target)
    scores, notes, errors = _values(request, items)
    comment = request.POST.get("comment", "")
    refused = False
    if not errors:
        try:
            quality.score_check(check.pk, request.user, scores, notes=notes, comment=comment)
        except DomainError as exc:
            errors.append(exc.message)
            refused = isinstance(exc, NotAllowed)
    if not errors:
        messages.success(request, _("Check scored."))
        return redirect("web:quality")
    check.refresh_from_db()
    context = _check_context(request, check)
    context["errors"] = errors
    context["comment"] = comment
    if check.status == CheckStatus.PENDING:
        context["rows"] = _form_rows(items, scores, notes)
    status = 403 if refused else (409 if check.status == CheckStatus.DONE else 400)
    return render(request, "web/quality/check.html", context, status=status)


# --- results: the dashboard's section, the quality page's, and the workbook -----------------------------


def section(user: User, period: Period, scope: Unit | None) -> dict[str, Any] | None:
    """Per agent and per unit, as ``user`` may see them: the center (reviewers, checkers) every agent and
    the units of ``scope`` (None: all); a unit handler its subtree's units; an agent themself."""
    if is_center_reviewer(user) or is_quality_checker(user):
        units = None if scope is None else scope.subtree_ids()
        agents = quality.results(period, CheckTarget.REGISTRATION) if scope is None else None
    elif user.role == Role.UNIT_HANDLER and user.unit_id:
        units = (scope or user.unit).subtree_ids()
        agents = None
    elif user.role == Role.AGENT:
        return {"agents": quality.results(period, CheckTarget.REGISTRATION, agent=user.pk), "units": None}
    else:
        return None
    return {"agents": agents, "units": quality.results(period, CheckTarget.REPLY, units=units)}


def excel_url(period: Period) -> str:
    return f"{reverse('web:quality-excel')}?{urlencode(dash.period_params(period))}"


@exporters
def excel(request: HttpRequest) -> HttpResponse:
    """Every agent's and unit's results of the period and each check: the center's (reviewers, checkers)."""
    period = dash.read_period(request)
    buffer = BytesIO()
    quality.build_workbook(period).save(buffer)
    audit.record(AuditAction.EXPORT, reason="quality check workbook", data={"period": str(period)})
    response = HttpResponse(buffer.getvalue(), content_type=dash.XLSX)
    response["Content-Disposition"] = f'attachment; filename="{quality.workbook_name(period)}"'
    return response
