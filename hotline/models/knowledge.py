"""知识库: the authoritative answers agents give on the call (国办发〔2020〕53号)."""

from __future__ import annotations

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
