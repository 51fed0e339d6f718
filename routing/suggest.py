"""Ranked dispatch suggestions from the dispatch catalogue, each with its reasons."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from hotline.models import Area, Ticket, Topic, Unit
from routing.models import DispatchRule

# What a matching condition is worth. A specific topic beats its parent topic,
# an exact area beats the county around it, and words in the text break ties.
TOPIC_EXACT, TOPIC_PARENT = 40, 25
AREA_EXACT, AREA_PARENT = 30, 20
KEYWORD = 10


@dataclass
class Suggestion:
    unit: Unit
    score: int
    reasons: list[str] = field(default_factory=list)


def active_rules() -> list[DispatchRule]:
    """The rules that can suggest a unit: active, pointing at an active level-2 unit."""
    return list(
        DispatchRule.objects.filter(is_active=True, unit__is_active=True, unit__level=2).select_related(
            "unit", "topic", "area"
        )
    )


def suggest_units(*, topic: Topic | None, area: Area | None, text: str, limit: int = 5) -> list[Suggestion]:
    """Evaluate every active rule against the demand; best unit first."""
    return rank(active_rules(), topic=topic, area=area, text=text, limit=limit)


def rank(
    rules: list[DispatchRule], *, topic: Topic | None, area: Area | None, text: str, limit: int = 5
) -> list[Suggestion]:
    """Score ``rules`` against one demand; best unit first (no query: the rules come loaded)."""
    best: dict[int, Suggestion] = {}
    for rule in rules:
        score, reasons = rule.priority // 10, []
        if rule.topic_id:
            if topic is None:
                continue
            if rule.topic_id == topic.pk:
                score += TOPIC_EXACT
                reasons.append(_("topic %(topic)s") % {"topic": rule.topic.name})
            elif rule.topic_id == topic.parent_id:
                score += TOPIC_PARENT
                reasons.append(_("topic group %(topic)s") % {"topic": rule.topic.name})
            else:
                continue
        if rule.area_id:
            if area is None:
                continue
            if rule.area_id == area.pk:
                score += AREA_EXACT
                reasons.append(_("area %(area)s") % {"area": rule.area.name})
            elif rule.area_id == area.parent_id:
                score += AREA_PARENT
                reasons.append(_("area %(area)s") % {"area": rule.area.name})
            else:
                continue
        words = [w for w in rule.keyword_list if w in text]
        if rule.keyword_list and not words and not (rule.topic_id or rule.area_id):
            continue  # a keyword-only rule needs a keyword
        if words:
            score += KEYWORD * len(words)
            reasons.append(_("keywords %(words)s") % {"words": "、".join(words)})
        if rule.basis:
            reasons.append(_("per %(basis)s") % {"basis": rule.basis})
        current = best.get(rule.unit_id)
        if current is None or score > current.score:
            best[rule.unit_id] = Suggestion(rule.unit, score, reasons)
    return sorted(best.values(), key=lambda s: (-s.score, s.unit.code))[:limit]


def suggest_for_ticket(ticket: Ticket, limit: int = 5) -> list[Suggestion]:
    return rank(active_rules(), topic=ticket.topic, area=ticket.area, text=_demand_text(ticket), limit=limit)


def suggest_for_tickets(tickets: list[Ticket], limit: int = 5) -> dict[int, list[Suggestion]]:
    """Suggestions for a page of tickets, by ticket id, from one read of the rules."""
    rules = active_rules()
    return {t.pk: rank(rules, topic=t.topic, area=t.area, text=_demand_text(t), limit=limit) for t in tickets}


def _demand_text(ticket: Ticket) -> str:
    return f"{ticket.title} {ticket.content} {ticket.address}"
