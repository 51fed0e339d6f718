"""办件公开 and 典型案例: a closed ticket published, its personal data hidden.

A ``PublishedCase`` holds the texts as the public reads them: the automatic redaction
(``hotline.lib.redact``) and the reviewer's edits on top of it. The ticket itself is never
changed by publishing; its original text stays where it was. A case is withdrawn, never
deleted: who withdrew it, when and why stay on the row, and the public pages stop showing it.
A ticket has at most one live case (a withdrawn one may be followed by a new one).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hotline.models.network import Area, Unit
from hotline.models.tickets import Category, Ticket, Topic


class PublishedCase(models.Model):
    ticket = models.ForeignKey(Ticket, verbose_name=_("ticket"), on_delete=models.PROTECT, related_name="published")
    # What the public sees: no number, no caller, no address; the day, not the time.
    title = models.CharField(_("title"), max_length=100)
    content = models.TextField(_("content"))
    reply = models.TextField(_("reply"))
    category = models.ForeignKey(Category, verbose_name=_("category"), on_delete=models.PROTECT, related_name="+")
    topic = models.ForeignKey(
        Topic, verbose_name=_("topic"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    area = models.ForeignKey(
        Area, verbose_name=_("area"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    unit = models.ForeignKey(
        Unit, verbose_name=_("handled by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    registered_on = models.DateField(_("registered on"))
    closed_on = models.DateField(_("closed on"))
    typical = models.BooleanField(_("typical case"), default=False, db_index=True)
    # The automatic redaction as the reviewer was shown it; beside the texts above, it is the
    # reviewer's edits. ``hidden``: how many pieces of each kind the machine hid.
    auto_title = models.CharField(max_length=100, blank=True)
    auto_content = models.TextField(blank=True)
    auto_reply = models.TextField(blank=True)
    hidden = models.JSONField(default=dict, blank=True)
    # The search's tokens of title, content and reply (hotline.lib.textsearch.document).
    tokens = models.TextField(default=" ", editable=False)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("published by"), on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField(_("published at"), default=timezone.now, db_index=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("withdrawn by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdraw_reason = models.TextField(_("reason for withdrawal"), blank=True)

    class Meta:
        verbose_name = _("published case")
        verbose_name_plural = _("published cases")
        ordering = ["-published_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket"], condition=Q(withdrawn_at__isnull=True), name="published_case_one_live_per_ticket"
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_live(self) -> bool:
        return self.withdrawn_at is None
