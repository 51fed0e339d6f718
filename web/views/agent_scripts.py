"""话术 on the agent console: the scripts for the matter the agent has chosen."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from hotline import scripts
from hotline.models import Category, Role, Topic
from web.views import role_required


def _pick(model, raw: str):
    return model.objects.filter(pk=int(raw)).first() if raw.isdigit() else None


@role_required([Role.AGENT])
def matter(request: HttpRequest) -> HttpResponse:
    """The category's and the topic's scripts; an unknown or empty choice shows none."""
    category = _pick(Category, request.GET.get("category", ""))
    topic = _pick(Topic, request.GET.get("topic", ""))
    return render(request, "web/agent/_script_matter.html", {"lines": scripts.for_matter(category, topic)})
