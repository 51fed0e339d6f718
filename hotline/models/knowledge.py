"""知识库: the authoritative answers agents give on the call (国办发〔2020〕53号)."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hotline.models.network import Unit
from hotline.models.tickets import Topic


class KnowledgeArticle(models.Model):
    title = models.CharField(_("title"), max_length=120)
    body = models.TextField(_("answer"))
    topic = models.ForeignKey(Topic, verbose_name=_("topic"), null=True, blank=True, on_delete=models.PROTECT)
    keywords = models.CharField(
        _("keywords"), max_length=300, blank=True, help_text=_("Words callers use, separated by spaces or commas.")
    )
    source_unit = models.ForeignKey(
        Unit, verbose_name=_("responsible unit"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    is_published = models.BooleanField(_("published"), default=True)
    reviewed_at = models.DateField(_("last reviewed"), default=timezone.localdate)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("knowledge article")
        verbose_name_plural = _("knowledge base")
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

    @property
    def keyword_list(self) -> list[str]:
        return [k for k in self.keywords.replace("，", ",").replace(",", " ").split() if k]


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
