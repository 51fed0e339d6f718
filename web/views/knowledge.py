"""知识库 kept to standard: agents' use and feedback, units' proposals, the center's review.

Agents read articles on the console (``web.views.agent.knowledge``) and say here which helped.
A unit proposes changes to the articles it owns, or new ones, at ``/unit/knowledge/``; the
center's reviewers decide them and move articles through their life cycle at ``/knowledge/``.
Every write is one call of ``hotline.services.knowledge``.
"""

from __future__ import annotations

from datetime import timedelta
from functools import wraps

from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hotline.errors import DomainError
from hotline.models import KnowledgeArticle, KnowledgeProposal, KnowledgeState, ProposalStatus, Role
from hotline.models.knowledge import CONTENT_FIELDS
from hotline.models.network import REVIEWING_ROLES
from hotline.services import knowledge
from web import knowledge_forms as kf
from web.views import forbidden, form_errors, posted, role_required

agent_only = role_required([Role.AGENT])
_unit_role = role_required([Role.UNIT_HANDLER])


def unit_only(view):
    """A unit's handlers only: a superuser belongs to no unit and has no articles to propose for."""

    @_unit_role
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.unit_id:
            return forbidden(request, _("Your account belongs to no unit."))
        return view(request, *args, **kwargs)

    return wrapped


reviewers = role_required(REVIEWING_ROLES)


def _offered_or_404(pk: int) -> KnowledgeArticle:
    return get_object_or_404(knowledge.offered(), pk=pk)


@agent_only
@require_POST
def used(request: HttpRequest, pk: int) -> HttpResponse:
    """The agent read this answer to a caller (the console copies it; this counts it)."""
    knowledge.note_use(_offered_or_404(pk))
    return HttpResponse(status=204)


@agent_only
@require_POST
def feedback(request: HttpRequest, pk: int) -> HttpResponse:
    value = request.POST.get("useful")
    if value not in ("1", "0"):
        return HttpResponse(_("Say useful or not useful."), status=400)
    article = knowledge.give_feedback(_offered_or_404(pk), request.user, value == "1")
    return render(request, "web/agent/_knowledge_feedback.html", {"article": article, "thanked": True})


# --- units ---


@unit_only
def unit_page(request: HttpRequest) -> HttpResponse:
    unit = request.user.unit
    article = None
    if raw := request.GET.get("article", ""):
        article = get_object_or_404(KnowledgeArticle, pk=raw, source_unit=unit) if raw.isdigit() else None
    initial = {f: getattr(article, f) for f in CONTENT_FIELDS} if article else {}
    return _unit_page(request, kf.ProposalForm(initial=initial), article)


def _unit_page(request: HttpRequest, form, article: KnowledgeArticle | None, status: int = 200) -> HttpResponse:
    unit = request.user.unit
    ctx = {
        "articles": KnowledgeArticle.objects.filter(source_unit=unit)
        .select_related("topic")
        .order_by("state", "title"),
        "proposals": KnowledgeProposal.objects.filter(unit=unit).select_related("article")[:50],
        "form": form,
        "article": article,
    }
    return render(request, "web/knowledge/unit.html", ctx, status=status)


@unit_only
@require_POST
def propose(request: HttpRequest) -> HttpResponse:
    unit = request.user.unit
    article = None
    if raw := request.POST.get("article", ""):
        article = get_object_or_404(KnowledgeArticle, pk=raw, source_unit=unit) if raw.isdigit() else None
    form = kf.ProposalForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors(form))
        return _unit_page(request, form, article, status=400)  # what was typed stays in the form
    data = form.cleaned_data
    try:
        knowledge.propose(unit, request.user, data, article=article, reason=data["reason"])
    except DomainError as exc:
        messages.error(request, exc.message)
        return _unit_page(request, form, article, status=400)
    messages.success(request, _("Proposal sent to the center for review."))
    return redirect("web:unit-knowledge")


# --- the center ---


@reviewers
def center_page(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    state = request.GET.get("state", "")
    articles = KnowledgeArticle.objects.select_related("topic", "source_unit").order_by("title")
    if state in KnowledgeState.values:
        articles = articles.filter(state=state)
    ctx = {
        "pending": KnowledgeProposal.objects.filter(status=ProposalStatus.PENDING)
        .select_related("unit", "article", "topic", "proposed_by")
        .order_by("proposed_at"),
        "expiring": knowledge.offered(today)
        .filter(valid_until__lte=today + timedelta(days=30))
        .order_by("valid_until"),
        "articles": articles[:200],
        "state": state,
        "states": KnowledgeState.choices,
        "counts": {s: KnowledgeArticle.objects.filter(state=s).count() for s in KnowledgeState.values},
        "disliked": KnowledgeArticle.objects.filter(Q(not_useful_count__gt=0), state=KnowledgeState.PUBLISHED).order_by(
            "-not_useful_count"
        )[:10],
        "fields": CONTENT_FIELDS,
    }
    return render(request, "web/knowledge/center.html", ctx)


@reviewers
@require_POST
def decide(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = get_object_or_404(KnowledgeProposal, pk=pk)

    def act(data: dict) -> None:
        knowledge.decide(
            proposal,
            request.user,
            accept=data["decision"] != "reject",
            publish=data["decision"] == "publish",
            note=data["note"],
        )

    return posted(request, kf.DecisionForm(request.POST), act, _("Proposal decided."), reverse("web:knowledge"))


@reviewers
@require_POST
def move(request: HttpRequest, pk: int) -> HttpResponse:
    article = get_object_or_404(KnowledgeArticle, pk=pk)
    return posted(
        request,
        kf.MoveForm(request.POST),
        lambda data: knowledge.move(article, data["state"], request.user, data["note"]),
        _("%(title)s: done.") % {"title": article.title},
        reverse("web:knowledge"),
        prefix=f"{article.title}：",
    )
