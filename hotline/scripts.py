"""话术: which script an agent reads, with the call's values filled in.

Scripts are data the center edits in the admin (``hotline.models.Script``); this module picks the
ones that apply and fills the braces. A value the moment does not have (no due date before the
category is known, say) reads as "—" rather than as a stray brace.
"""

from __future__ import annotations

from dataclasses import dataclass

from hotline.models import Category, Script, ScriptKind, Topic
from hotline.models.knowledge import PLACEHOLDER


@dataclass(frozen=True)
class Line:
    title: str
    text: str


def fill(body: str, values: dict[str, object]) -> str:
    def value(match) -> str:
        name = match.group(1)
        if name not in values:
            return match.group(0)
        return str(values[name]) if values[name] not in (None, "") else "—"

    return PLACEHOLDER.sub(value, body)


def in_use(kind: str) -> Script | None:
    """The one script of ``kind`` in use: the most recently edited if several are."""
    return Script.objects.filter(kind=kind, is_active=True).order_by("-updated_at", "-pk").first()


def line(kind: str, script: Script | None = None, **values: object) -> Line | None:
    """The script of ``kind`` in use (or ``script``, already read), filled in."""
    script = script or in_use(kind)
    return Line(script.title, fill(script.body, values)) if script else None


def for_matter(category: Category | None, topic: Topic | None) -> list[Line]:
    """The scripts for what the caller is talking about: the category's first, then the topic's
    (a topic's own script, or else its parent's), most specific last, where the agent's eye ends."""
    if category is None and topic is None:
        return []
    scripts = list(Script.objects.filter(kind=ScriptKind.MATTER, is_active=True).select_related("category", "topic"))
    chosen: list[Script] = []
    if category is not None:
        chosen += [s for s in scripts if s.category_id == category.pk and s.topic_id is None]
    if topic is not None:
        own = [s for s in scripts if s.topic_id == topic.pk and s.category_id in (None, getattr(category, "pk", None))]
        parent = [s for s in scripts if topic.parent_id and s.topic_id == topic.parent_id and s.category_id is None]
        chosen += own or parent
    return [Line(s.title, s.body) for s in chosen]
