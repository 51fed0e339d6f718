"""Searching the knowledge base the way callers speak.

Chinese has no spaces, so a query is matched by containment both ways: an article's
keyword found in what the agent typed, or the typed words found in the article's title
or answer. The score favours keywords and titles; the caller's topic breaks ties. The
base is hundreds to a few thousand articles, so scoring them in Python is milliseconds;
PostgreSQL full-text search with a Chinese parser is the step up when it grows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hotline.models import KnowledgeArticle, Topic

_SPLIT = re.compile(r"[\s，。、？！,.?!；;：:]+")


@dataclass
class Hit:
    article: KnowledgeArticle
    score: int
    matched: list[str]


def search(query: str, *, topic: Topic | None = None, limit: int = 8) -> list[Hit]:
    text = (query or "").strip()[:200]
    if not text:
        return []
    pieces = [p for p in _SPLIT.split(text) if len(p) >= 2]
    hits = []
    for article in KnowledgeArticle.objects.filter(is_published=True).select_related("topic"):
        matched = [k for k in article.keyword_list if k in text]
        score = 3 * len(matched)
        for piece in pieces:
            if piece in article.title:
                score += 5
                matched.append(piece)
            elif piece in article.body:
                score += 2
                matched.append(piece)
        if score and topic is not None and article.topic_id in (topic.pk, topic.parent_id):
            score += 2
        if score:
            hits.append(Hit(article, score, list(dict.fromkeys(matched))))
    hits.sort(key=lambda h: (-h.score, h.article.title))
    return hits[:limit]
