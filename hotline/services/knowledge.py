"""The knowledge base: searched the way callers speak, and kept to standard (GB/T 44191).

Search. Chinese has no spaces: a query is matched by containment both ways (an article's keyword
in what the agent typed, the typed words in the title or answer) and by the overlap of its
character bigrams with the article's — the tokens of the ticket search, ``hotline.lib.textsearch``
— so "居住证怎么办" meets "办理居住证" though neither contains the other. Among relevant articles,
those agents used and found useful rank higher. The base is hundreds to a few thousand
articles, so scoring them in Python is milliseconds.

Life cycle. draft → reviewed → published → expired (and back to draft to revise). Only a published
article inside its validity is offered. Every change of words or state is one transaction that
writes the article and a ``KnowledgeVersion``; units propose, the center decides.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from hotline.errors import IllegalTransition, InvalidInput, NotAllowed
from hotline.lib.textsearch import document
from hotline.models import (
    KnowledgeArticle,
    KnowledgeFeedback,
    KnowledgeProposal,
    KnowledgeState,
    KnowledgeVersion,
    ProposalStatus,
    Topic,
    Unit,
    User,
)
from hotline.models.knowledge import CONTENT_FIELDS
from hotline.services.common import clean_text

S = KnowledgeState

_SPLIT = re.compile(r"[\s，。、？！,.?!；;：:]+")


@dataclass
class Hit:
    article: KnowledgeArticle
    score: int
    matched: list[str]


def offered(today: date | None = None):
    """Articles an agent may read out: published, and valid today."""
    today = today or timezone.localdate()
    return KnowledgeArticle.objects.filter(state=S.PUBLISHED, valid_from__lte=today).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=today)
    )


def _bigrams(text: str) -> set[str]:
    return {t for t in document(text).split() if len(t) == 2 or t.isascii()}


def _use_bonus(article: KnowledgeArticle) -> int:
    """Up to 3 points for an article agents use and find useful; a disliked one loses them."""
    liked = article.use_count + 2 * article.useful_count - 3 * article.not_useful_count
    return max(-3, min(3, int(math.log2(liked + 1)) if liked > 0 else -min(3, -liked)))


def search(query: str, *, topic: Topic | None = None, limit: int = 8) -> list[Hit]:
    text = (query or "").strip()[:200]
    if not text:
        return []
    pieces = [p for p in _SPLIT.split(text) if len(p) >= 2]
    wanted = _bigrams(text)
    hits = []
    for article in offered().select_related("topic", "source_unit"):
        matched = [k for k in article.keyword_list if k in text]
        score = 3 * len(matched)
        for piece in pieces:
            if piece in article.title:
                score += 5
                matched.append(piece)
            elif piece in article.body:
                score += 2
                matched.append(piece)
        if wanted:
            shared = wanted & _bigrams(f"{article.title} {article.keywords}")
            # Half or more of the query's bigrams in the title or keywords: the same matter in other words.
            if len(shared) * 2 >= len(wanted) or len(shared) >= 3:
                score += 2 + len(shared)
        if score and topic is not None and article.topic_id in (topic.pk, topic.parent_id):
            score += 2
        if score:
            hits.append(Hit(article, score + _use_bonus(article), list(dict.fromkeys(matched))))
    hits.sort(key=lambda h: (-h.score, h.article.title))
    return hits[:limit]


# --- keeping it: every change is a version ---

# state → the states an article may move to, and what each move needs.
MOVES = {
    S.DRAFT: {S.REVIEWED},
    S.REVIEWED: {S.PUBLISHED, S.DRAFT},
    S.PUBLISHED: {S.EXPIRED, S.DRAFT},
    S.EXPIRED: {S.DRAFT},
}


def _check_dates(valid_from: date | None, valid_until: date | None) -> None:
    if valid_from is None:
        raise InvalidInput(_("say from when the answer is valid"), field="valid_from")
    if valid_until is not None and valid_until < valid_from:
        raise InvalidInput(_("the end of validity cannot be before its start"), field="valid_until")


def _record(article: KnowledgeArticle, by: User | None, note: str) -> KnowledgeVersion:
    return KnowledgeVersion.objects.create(
        article=article,
        version=article.version,
        state=article.state,
        changed_by=by,
        note=note[:300],
        **{f: getattr(article, f) for f in CONTENT_FIELDS},
    )


def save_article(article: KnowledgeArticle, by: User | None, note: str = "") -> KnowledgeArticle:
    """Save new words (or a new article) as the next version. A published article that is
    edited stays offered with the new words: the center edits under its own review."""
    article.title = clean_text(article.title, "title", max_chars=120)
    article.body = clean_text(article.body, "answer", max_chars=5000)
    _check_dates(article.valid_from, article.valid_until)
    with transaction.atomic():
        if article.pk:
            article.version = KnowledgeArticle.objects.select_for_update().get(pk=article.pk).version + 1
        article.save()
        _record(article, by, note or (_("created") if article.version == 1 else _("edited")))
    return article


def move(article: KnowledgeArticle, state: str, by: User | None, note: str = "") -> KnowledgeArticle:
    """Review, publish, expire or send back to draft; refused when the life cycle does not allow it."""
    with transaction.atomic():
        article = KnowledgeArticle.objects.select_for_update().get(pk=article.pk)
        if state not in MOVES.get(article.state, set()):
            raise IllegalTransition(
                _("a %(from)s article cannot become %(to)s") % {"from": S(article.state).label, "to": S(state).label}
            )
        if state == S.PUBLISHED:
            if not article.source.strip():
                raise InvalidInput(_("an article is published only with its source"), field="source")
            if article.valid_until and article.valid_until < timezone.localdate():
                raise InvalidInput(_("its validity has already ended"), field="valid_until")
        if state == S.REVIEWED:
            article.reviewed_at = timezone.localdate()
        article.state = state
        article.version += 1
        article.save()
        _record(article, by, note or S(state).label)
    return article


def expire_due(today: date | None = None) -> int:
    """Job step: published articles whose validity ended become expired (a version each)."""
    today = today or timezone.localdate()
    done = 0
    for article in KnowledgeArticle.objects.filter(state=S.PUBLISHED, valid_until__lt=today):
        move(article, S.EXPIRED, None, _("validity ended"))
        done += 1
    return done


# --- agents' use and feedback ---


def note_use(article: KnowledgeArticle) -> None:
    KnowledgeArticle.objects.filter(pk=article.pk).update(use_count=F("use_count") + 1)


def give_feedback(article: KnowledgeArticle, user: User, useful: bool) -> KnowledgeArticle:
    """One vote per agent; changing it moves the count from one side to the other."""
    with transaction.atomic():
        previous = KnowledgeFeedback.objects.select_for_update().filter(article=article, user=user).first()
        counts = {}
        if previous is None:
            KnowledgeFeedback.objects.create(article=article, user=user, useful=useful)
            counts = {"useful_count" if useful else "not_useful_count": 1}
        elif previous.useful != useful:
            previous.useful, previous.at = useful, timezone.now()
            previous.save(update_fields=["useful", "at"])
            counts = {"useful_count": 1 if useful else -1, "not_useful_count": -1 if useful else 1}
        if counts:
            KnowledgeArticle.objects.filter(pk=article.pk).update(**{k: F(k) + v for k, v in counts.items()})
    article.refresh_from_db()
    return article


# --- units propose, the center decides ---


def propose(
    unit: Unit, by: User, fields: dict, *, article: KnowledgeArticle | None = None, reason: str
) -> KnowledgeProposal:
    """A unit proposes new words for one of its own articles, or a new article it will own."""
    if article is not None and article.source_unit_id != unit.pk:
        raise NotAllowed(_("a unit proposes changes to its own articles only"))
    _check_dates(fields.get("valid_from"), fields.get("valid_until"))
    if not (fields.get("source") or "").strip():
        raise InvalidInput(_("say where the answer comes from"), field="source")
    proposal = KnowledgeProposal(
        article=article,
        unit=unit,
        proposed_by=by,
        reason=clean_text(reason, "reason", max_chars=2000),
        **{f: fields.get(f) for f in CONTENT_FIELDS if f in fields},
    )
    proposal.title = clean_text(proposal.title, "title", max_chars=120)
    proposal.body = clean_text(proposal.body, "answer", max_chars=5000)
    proposal.save()
    return proposal


def decide(proposal: KnowledgeProposal, by: User, *, accept: bool, publish: bool = False, note: str = ""):
    """Accept (the words become the article's next version, reviewed — or published at once) or
    reject with a note. Decided once."""
    note = clean_text(note, "note", max_chars=2000, required=not accept)
    with transaction.atomic():
        proposal = KnowledgeProposal.objects.select_for_update().get(pk=proposal.pk)
        if proposal.status != ProposalStatus.PENDING:
            raise IllegalTransition(_("this proposal was already decided"))
        proposal.decide(ProposalStatus.ACCEPTED if accept else ProposalStatus.REJECTED, by, note)
        proposal.save(update_fields=KnowledgeProposal.DECISION_FIELDS)
        if not accept:
            return proposal
        article = proposal.article or KnowledgeArticle(source_unit=proposal.unit, state=S.DRAFT)
        for f in CONTENT_FIELDS:
            setattr(article, f, getattr(proposal, f))
        # A published answer takes the reviewed words at once; any other goes through review.
        save_article(article, by, _("proposed by %(unit)s") % {"unit": proposal.unit.name})
        if article.state == S.EXPIRED:
            article = move(article, S.DRAFT, by, note)
        if article.state == S.DRAFT:
            article = move(article, S.REVIEWED, by, note)
        if publish and article.state == S.REVIEWED:
            article = move(article, S.PUBLISHED, by, note)
        if proposal.article_id is None:
            proposal.article = article
            proposal.save(update_fields=["article"])
    return proposal
