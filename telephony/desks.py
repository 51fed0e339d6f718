"""Desks (专席, 国办函〔2025〕66号): the general desk, the business desk (涉企服务专席) and the dialect desk.

A desk is an Asterisk queue (docs/asterisk/queues.conf). ``AMI_QUEUES`` lists them, the general
desk first; ``AMI_DESK_BUSINESS`` and ``AMI_DESK_DIALECT`` say which of them serve businesses and
dialect speakers (blank: no such desk). An agent's skills (``AgentSkill``) decide which desks
their phone joins on Ready, with a penalty each; every agent also joins the general desk, so an
agent with no skill (or only skills naming desks that are not configured) still takes calls.

A caller reaches a desk by the IVR key (docs/asterisk/extensions.conf) or by their history
(:func:`desk_for_caller`, asked over FastAGI by ``telephony/agi/desk.py``): a caller marked for a desk
(``CallerDesk``), else one whose last ticket was a business matter (``AMI_DESK_BUSINESS_TOPICS``). A
desk with nobody in time (``AMI_DESK_WAIT_SECONDS``), or nobody logged in, overflows to the general desk.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from hotline.lib.phones import InvalidPhone, normalize_phone
from hotline.models import Ticket, Topic, User
from telephony.models import AgentSkill, CallerDesk

log = logging.getLogger(__name__)

GENERAL, BUSINESS, DIALECT = "general", "business", "dialect"
LABELS = {GENERAL: _("General desk"), BUSINESS: _("Business desk"), DIALECT: _("Dialect desk")}


@dataclass(frozen=True)
class Desk:
    queue: str
    kind: str  # general | business | dialect | "" (another configured queue)

    @property
    def label(self) -> str:
        return str(LABELS[self.kind]) if self.kind else self.queue


def queues() -> list[str]:
    return list(settings.AMI_QUEUES)


def general() -> str:
    return queues()[0]


def kind_of(queue: str) -> str:
    if queue == general():
        return GENERAL
    if queue and queue == settings.AMI_DESK_BUSINESS:
        return BUSINESS
    if queue and queue == settings.AMI_DESK_DIALECT:
        return DIALECT
    return ""


def configured() -> list[Desk]:
    return [Desk(queue, kind_of(queue)) for queue in queues()]


def label(queue: str) -> str:
    """A queue's name for people: 综合/涉企/方言 desk, or the queue's own name."""
    return Desk(queue, kind_of(queue)).label if queue else ""


def choices() -> list[tuple[str, str]]:
    return [(desk.queue, f"{desk.label} ({desk.queue})") for desk in configured()]


def agent_queues(agent: User) -> list[dict[str, object]]:
    """The queues the agent's phone joins on Ready, with penalties: the general desk, then their skills.

    A skill naming a queue that is not (or no longer) in AMI_QUEUES is skipped and logged: the
    agent still joins the rest, and the general desk whatever happens.
    """
    known = queues()
    penalties = {general(): 0}
    for skill in AgentSkill.objects.filter(user=agent).order_by("queue"):
        if skill.queue not in known:
            log.warning("agent %s has a skill for %r, which is no desk in AMI_QUEUES; skipped", agent.pk, skill.queue)
            continue
        penalties[skill.queue] = skill.penalty
    return [{"queue": queue, "penalty": penalty} for queue, penalty in penalties.items()]


def desk_for_caller(number: str) -> str:
    """The desk a caller's history sends them to, or "" for the general one.

    A ``CallerDesk`` mark wins; else a caller whose newest ticket's topic is a business matter
    (its code, or a parent's, in AMI_DESK_BUSINESS_TOPICS) goes to the business desk.
    """
    try:
        phone = normalize_phone(number)
    except InvalidPhone:
        return ""  # withheld or foreign: no history to go by
    known = queues()
    mark = CallerDesk.objects.filter(caller__phone=phone).values_list("queue", flat=True).first()
    if mark and mark in known and mark != general():
        return mark
    business = settings.AMI_DESK_BUSINESS
    topics = [code for code in settings.AMI_DESK_BUSINESS_TOPICS if code]
    if not business or business not in known or not topics:
        return ""
    newest = Ticket.objects.filter(caller__phone=phone).order_by("-created_at", "-pk").first()
    if newest is None or newest.topic_id is None:
        return ""
    is_business = Q()
    for code in topics:
        is_business |= Q(code=code) | Q(parent__code=code)
    return business if Topic.objects.filter(is_business, pk=newest.topic_id).exists() else ""
