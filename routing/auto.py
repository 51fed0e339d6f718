"""Automatic dispatch of photo reports (芜湖's auto-routing): a rule marked ``auto_dispatch`` that
names both a topic and an area sends a citizen's 随手拍 of that topic in that area straight to its
unit. The dispatch is the system's (no user), and its timeline entry names the rule."""

from __future__ import annotations

import logging

from hotline.errors import Conflict, IllegalTransition, InvalidInput
from hotline.models import Channel, Ticket, TicketStatus
from hotline.services.dispatch import dispatch_ticket
from routing.models import DispatchRule

log = logging.getLogger(__name__)


def rule_for(ticket: Ticket) -> DispatchRule | None:
    """The auto-dispatch rule for a photo report: exact topic and area beat their parents, then priority.

    A photo report is channel ``photo``, or a report with the citizen's photos sent from WeChat or the
    city's app (/report/ names those channels by the browser)."""
    if ticket.topic is None or ticket.area is None:
        return None
    if ticket.channel != Channel.PHOTO:
        by_photo = ticket.channel in (Channel.WECHAT, Channel.APP)
        if not by_photo or not ticket.attachments.filter(uploaded_by=None, assignment=None).exists():
            return None
    topics = {ticket.topic.pk: 2, **({ticket.topic.parent_id: 1} if ticket.topic.parent_id else {})}
    areas = {ticket.area.pk: 2, **({ticket.area.parent_id: 1} if ticket.area.parent_id else {})}
    rules = DispatchRule.objects.filter(
        is_active=True,
        auto_dispatch=True,
        unit__is_active=True,
        unit__level=2,
        topic_id__in=list(topics),
        area_id__in=list(areas),
    ).select_related("unit")
    ranked = sorted(rules, key=lambda r: (-topics[r.topic_id], -areas[r.area_id], -r.priority, r.pk))
    return ranked[0] if ranked else None


def auto_dispatch(ticket: Ticket) -> DispatchRule | None:
    """Dispatch a newly registered photo report if a rule says so; the rule that did it, or None.

    A ticket the center has already taken up (not registered any more) is left alone."""
    rule = rule_for(ticket)
    if rule is None or ticket.status != TicketStatus.REGISTERED:
        return None
    try:
        dispatch_ticket(ticket, None, rule.unit, source={"rule": rule.name, "rule_id": rule.pk})
    except (Conflict, IllegalTransition, InvalidInput) as exc:  # moved meanwhile: it stays in the queue
        log.info("auto-dispatch of %s by rule %s skipped: %s", ticket.number, rule.pk, exc)
        return None
    return rule
