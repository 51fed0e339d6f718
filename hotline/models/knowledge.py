"""知识库: the authoritative answers agents give on the call (国办发〔2020〕53号)."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hotline.models.network import Unit
from hotline.models.tickets import DecidedRequest, Topic


class KnowledgeState(models.TextChoices):
    DRAFT = "draft", _("draft")
    REVIEWED = "reviewed", _("reviewed")
    PUBLISHED = "published", _("published")
    EXPIRED = "expired", _("expired")


class KnowledgeArticle(models.Model):
    """An answer agents read to callers: owned by a unit, sourced, dated, reviewed (GB/T 44191).

    Only a published article inside its validity is offered on the console; every change of its
    words or state is a new ``KnowledgeVersion`` (``hotline.services.knowledge`` writes both).
    """

    title = models.CharField(_("title"), max_length=120)
    body = models.TextField(_("answer"))
    topic = models.ForeignKey(Topic, verbose_name=_("topic"), null=True, blank=True, on_delete=models.PROTECT)
    classification = models.CharField(
        _("classification code"),
        max_length=20,
        blank=True,
        help_text=_("The GB/T 39666 classification code of the matter, where one fits."),
    )
    keywords = models.CharField(
        _("keywords"), max_length=300, blank=True, help_text=_("Words callers use, separated by spaces or commas.")
    )
    source_unit = models.ForeignKey(
        Unit, verbose_name=_("owner unit"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    source = models.CharField(
        _("source"), max_length=200, blank=True, help_text=_("Where the answer comes from: a notice, a guide, a reply.")
    )
    legal_basis = models.TextField(_("legal basis"), blank=True)
    valid_from = models.DateField(_("valid from"), default=timezone.localdate)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=KnowledgeState.choices, default=KnowledgeState.DRAFT)
    version = models.PositiveIntegerField(_("version"), default=1)
    reviewed_at = models.DateField(_("last reviewed"), default=timezone.localdate)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    use_count = models.PositiveIntegerField(_("times used"), default=0)
    useful_count = models.PositiveIntegerField(_("useful"), default=0)
    not_useful_count = models.PositiveIntegerField(_("not useful"), default=0)

    class Meta:
        verbose_name = _("knowledge article")
        verbose_name_plural = _("knowledge base")
        ordering = ["title"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_until__isnull=True) | models.Q(valid_until__gte=models.F("valid_from")),
                name="knowledge_valid_until_after_valid_from",
            )
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if self.valid_until and self.valid_from and self.valid_until < self.valid_from:
            raise ValidationError({"valid_until": _("The end of validity cannot be before its start.")})

    @property
    def keyword_list(self) -> list[str]:
        return [k for k in self.keywords.replace("，", ",").replace(",", " ").split() if k]


# The fields a version records and a unit may propose.
CONTENT_FIELDS = [
    "title",
    "body",
    "topic",
    "classification",
    "keywords",
    "source",
    "legal_basis",
    "valid_from",
    "valid_until",
]


class KnowledgeVersion(models.Model):
    """An article as it stood after one change: its words, its state, who changed it and why."""

    article = models.ForeignKey(KnowledgeArticle, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField(_("version"))
    title = models.CharField(_("title"), max_length=120)
    body = models.TextField(_("answer"))
    topic = models.ForeignKey(
        Topic, verbose_name=_("topic"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    classification = models.CharField(_("classification code"), max_length=20, blank=True)
    keywords = models.CharField(_("keywords"), max_length=300, blank=True)
    source = models.CharField(_("source"), max_length=200, blank=True)
    legal_basis = models.TextField(_("legal basis"), blank=True)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=KnowledgeState.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("changed by"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("knowledge article version")
        verbose_name_plural = _("knowledge article versions")
        ordering = ["article", "-version"]
        constraints = [models.UniqueConstraint(fields=["article", "version"], name="knowledge_version_once")]

    def __str__(self) -> str:
        return f"{self.title} v{self.version}"


class KnowledgeFeedback(models.Model):
    """An agent's "useful / not useful" on an article: one per agent, changeable."""

    article = models.ForeignKey(KnowledgeArticle, on_delete=models.PROTECT, related_name="feedback")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("agent"), on_delete=models.PROTECT)
    useful = models.BooleanField(_("useful"))
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("knowledge feedback")
        verbose_name_plural = _("knowledge feedback")
        constraints = [models.UniqueConstraint(fields=["article", "user"], name="knowledge_feedback_once")]

    def __str__(self) -> str:
        return f"{self.article_id} {'+' if self.useful else '-'}"


class ProposalStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    ACCEPTED = "accepted", _("accepted")
    REJECTED = "rejected", _("rejected")


class KnowledgeProposal(DecidedRequest):
    """A unit's proposed change to one of its articles, or a new article; the center decides."""

    article = models.ForeignKey(
        KnowledgeArticle,
        verbose_name=_("article"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="proposals",
    )
    unit = models.ForeignKey(Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("proposed by"), on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField(_("proposed at"), default=timezone.now)
    status = models.CharField(
        _("status"), max_length=10, choices=ProposalStatus.choices, default=ProposalStatus.PENDING
    )
    title = models.CharField(_("title"), max_length=120)
    body = models.TextField(_("answer"))
    topic = models.ForeignKey(
        Topic, verbose_name=_("topic"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    classification = models.CharField(_("classification code"), max_length=20, blank=True)
    keywords = models.CharField(_("keywords"), max_length=300, blank=True)
    source = models.CharField(_("source"), max_length=200)
    legal_basis = models.TextField(_("legal basis"), blank=True)
    valid_from = models.DateField(_("valid from"), default=timezone.localdate)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)

    class Meta:
        verbose_name = _("knowledge proposal")
        verbose_name_plural = _("knowledge proposals")
        ordering = ["-proposed_at"]


class ScriptKind(models.TextChoices):
    OPENING = "opening", _("opening line")
    CLOSING = "closing", _("closing line")
    MATTER = "matter", _("for a category or topic")
    REVISIT = "revisit", _("revisit")
    CALLBACK = "callback", _("callback of a missed call")


# The values each kind of script may name in braces, and what they mean (shown in the admin).
PLACEHOLDERS: dict[str, dict[str, str]] = {
    ScriptKind.OPENING: {"agent_no": _("the agent's number (工号)")},
    ScriptKind.CLOSING: {
        "number": _("ticket number"),
        "query_code": _("query code"),
        "reply_by": _("date the answer is due"),
        "agent_no": _("the agent's number (工号)"),
    },
    ScriptKind.MATTER: {},
    ScriptKind.REVISIT: {
        "title": _("ticket title"),
        "date": _("date the caller reported it"),
        "unit": _("the unit that replied"),
        "reply": _("the unit's reply"),
    },
    ScriptKind.CALLBACK: {"missed_at": _("when the caller rang")},
}
PLACEHOLDER = re.compile(r"\{(\w+)\}")


class Script(models.Model):
    """话术: the words an agent reads on the call, kept by the center in one place.

    The body may name values in braces (``{number}``); ``hotline.scripts`` lists which each kind
    may use and fills them in. A matter script belongs to a category, a topic, or both.
    """

    kind = models.CharField(_("kind"), max_length=10, choices=ScriptKind.choices)
    category = models.ForeignKey(
        "hotline.Category", verbose_name=_("category"), null=True, blank=True, on_delete=models.PROTECT
    )
    topic = models.ForeignKey(Topic, verbose_name=_("topic"), null=True, blank=True, on_delete=models.PROTECT)
    title = models.CharField(_("title"), max_length=80)
    body = models.TextField(_("script"))
    is_active = models.BooleanField(_("in use"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("script")
        verbose_name_plural = _("scripts")
        ordering = ["kind", "category__order", "topic__code", "title"]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        errors = {}
        allowed = PLACEHOLDERS.get(self.kind, {})
        unknown = sorted({name for name in PLACEHOLDER.findall(self.body or "") if name not in allowed})
        if unknown:
            errors["body"] = _("Unknown values %(names)s; this kind of script may use: %(allowed)s.") % {
                "names": "、".join(f"{{{n}}}" for n in unknown),
                "allowed": "、".join(f"{{{n}}}" for n in allowed) or _("none"),
            }
        if self.kind == ScriptKind.MATTER and not (self.category_id or self.topic_id):
            errors["topic"] = _("A script for a matter names its category, its topic, or both.")
        if self.kind != ScriptKind.MATTER and (self.category_id or self.topic_id):
            errors["kind"] = _("Only a script for a matter has a category or topic.")
        if errors:
            raise ValidationError(errors)
