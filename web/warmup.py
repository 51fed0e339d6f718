"""Load at start what the first requests would load lazily, so it is frozen with the rest (hotline.heap)."""

from __future__ import annotations

from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.template.loader import get_template
from django.urls import get_resolver
from django.utils import translation

# Project apps only: their templates are the ones every console and page renders.
TEMPLATE_APPS = ("hotline", "web")
TEMPLATE_SUFFIXES = (".html", ".txt")


def warm_up() -> int:
    """Import every view, load every language's catalog, compile the project's templates; returns how many."""
    get_resolver().url_patterns  # noqa: B018  (the property imports the URLconf and its views)
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            translation.gettext("Lianxin")
    compiled = 0
    for label in TEMPLATE_APPS:
        root = Path(apps.get_app_config(label).path) / "templates"
        for path in sorted(root.rglob("*")):
            if path.suffix in TEMPLATE_SUFFIXES:
                get_template(path.relative_to(root).as_posix())  # the cached loader keeps it
                compiled += 1
    return compiled
