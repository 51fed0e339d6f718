"""The published cases as the public, the agents and the Open311 API read them (办件公开, 典型案例).

Only live cases (not withdrawn) are read, and only their published texts: a ``PublishedCase``
holds no caller, number or address, so nothing here can show personal data. Words are matched
as the ticket search matches them (``hotline.lib.textsearch``: bigram phrases over the case's
token string); the library is small (hundreds to a few thousand cases), so a substring scan of
the tokens is quick on SQLite and PostgreSQL alike. docs/disclosure.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from hotline.errors import InvalidInput
from hotline.lib import textsearch
from hotline.models import Area, PublishedCase, Topic

MAX_QUERY_CHARS = 100


def live_cases() -> QuerySet[PublishedCase]:
    return PublishedCase.objects.filter(withdrawn_at__isnull=True).select_related(
        "topic__parent", "area", "unit", "category"
    )


def word_patterns(query: str) -> list[str]:
    """The token substrings every one of which a matching case holds. InvalidInput on a query with
    nothing to look for (only emoji or punctuation) or longer than MAX_QUERY_CHARS."""
    query = (query or "").strip()
    if len(query) > MAX_QUERY_CHARS:
        raise InvalidInput(_("the search text is longer than %(max)s characters") % {"max": MAX_QUERY_CHARS}, field="q")
    phrases = textsearch.query_terms(query)
    if not phrases:
        raise InvalidInput(_("the search text has no letters or digits to look for"), field="q")
    return textsearch.like_patterns(phrases)


def published_cases(
    q: str = "",
    *,
    topic: Topic | None = None,
    area: Area | None = None,
    typical: bool | None = None,
    since: datetime | None = None,
) -> QuerySet[PublishedCase]:
    """Live cases, newest first: containing every word of ``q``, of ``topic`` (or a topic under
    it), in ``area`` (or an area inside it), typical or not, published since ``since``."""
    qs = live_cases()
    if q.strip():
        for pattern in word_patterns(q):
            qs = qs.filter(tokens__contains=pattern)
    if topic is not None:
        qs = qs.filter(Q(topic=topic) | Q(topic__parent=topic))
    if area is not None:
        qs = qs.filter(Q(area=area) | Q(area__parent=area))
    if typical is not None:
        qs = qs.filter(typical=typical)
    if since is not None:
        qs = qs.filter(published_at__gte=since)
    return qs.order_by("-typical", "-published_at", "-pk")


def published_case(pk: int) -> PublishedCase | None:
    return live_cases().filter(pk=pk).first()


@dataclass(frozen=True)
class Match:
    case: PublishedCase
    score: int


def matching_cases(query: str, topic: Topic | None = None, limit: int = 3) -> list[Match]:
    """Cases like what a caller asks, for the agent beside the knowledge base.

    A caller's sentence is longer than any case's phrase, so unlike the public search each term
    counts on its own: a case holding more of the query's terms ranks higher, one of the same
    topic (or its parent's) higher still, typical cases first among equals.
    """
    query = (query or "").strip()[:MAX_QUERY_CHARS]  # the start of a long question is enough to go on
    try:
        patterns = word_patterns(query)
    except InvalidInput:
        return []
    # Bigrams of a long run: "广场舞太吵了" is found by the cases that hold 广场 or 场舞 or 太吵.
    terms: list[str] = []
    for phrase in textsearch.query_terms(query):
        if len(phrase) == 1:
            terms.append(" " + phrase[0].text)
        else:
            terms += [" " + t.text + " " for t in phrase if len(t.text) >= 2 or t.text.isascii()]
    terms = list(dict.fromkeys(terms or patterns))
    any_term = Q()
    for term in terms:
        any_term |= Q(tokens__contains=term)
    rows = list(live_cases().filter(any_term)[:200])
    related = {topic.pk, topic.parent_id} - {None} if topic is not None else set()
    scored = []
    for case in rows:
        score = sum(1 for term in terms if term in case.tokens)
        # Two bigrams at least, or the whole of a short query: one shared bigram is chance.
        if score < min(2, len(terms)):
            continue
        if related and (case.topic_id in related or (case.topic and case.topic.parent_id in related)):
            score += 2
        scored.append(Match(case, score))
    scored.sort(key=lambda m: (-m.score, not m.case.typical, -m.case.published_at.timestamp()))
    return scored[:limit]


def public_view(case: PublishedCase) -> dict:
    """One case as the public API shows it (the Open311 GET of closed requests reads this)."""
    return {
        "id": case.pk,
        "title": case.title,
        "content": case.content,
        "reply": case.reply,
        "category": case.category.name,
        "topic": str(case.topic) if case.topic else "",
        "topic_code": case.topic.code if case.topic else "",
        "area": case.area.name if case.area else "",
        "area_code": case.area.code if case.area else "",
        "unit": case.unit.name if case.unit else "",
        "typical": case.typical,
        "registered_on": case.registered_on.isoformat(),
        "closed_on": case.closed_on.isoformat(),
        "published_at": case.published_at.isoformat(),
    }
