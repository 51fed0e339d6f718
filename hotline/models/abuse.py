"""Public submissions held for the center's review (spam/abuse), and the phones blocked from filing.

A report that looks like abuse (docs/citizens.md, "Abuse control") is registered as any other —
the citizen gets the number and the query code — but held: not dispatched, not auto-dispatched,
out of the dispatch queue, until the center releases it (the normal flow) or marks it spam/abuse
(the ticket goes to the recycle bin, which the KPIs do not count). Rows are never deleted.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hotline.models.tickets import Caller, Ticket


class HoldReason(models.TextChoices):
    VOLUME = "volume", _("many submissions from this network or phone")
    FLAGGED = "flagged", _("the caller is flagged as abusive")
    DUPLICATE = "duplicate", _("the same text from this phone again")
    LINKS = "links", _("links in the text")


class HoldStatus(models.TextChoices):
    HELD = "held", _("waiting for review")
    RELEASED = "released", _("released to dispatch")
    SPAM = "spam", _("marked as spam or abuse")


class HeldReport(models.Model):
    """One held ticket: why (``reasons``, codes of :class:`HoldReason`), and the center's decision.

    ``blocked_until`` (set with a spam decision) keeps the phone from filing on the public pages until then."""

    ticket = models.OneToOneField(Ticket, verbose_name=_("ticket"), on_delete=models.PROTECT, related_name="held")
    caller = models.ForeignKey(Caller, verbose_name=_("caller"), on_delete=models.PROTECT, related_name="+")
    reasons = models.JSONField(_("reasons"), default=list)
    held_at = models.DateTimeField(_("held at"), default=timezone.now)
    status = models.CharField(
        _("status"), max_length=10, choices=HoldStatus.choices, default=HoldStatus.HELD, db_index=True
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    blocked_until = models.DateTimeField(_("phone blocked until"), null=True, blank=True)

    class Meta:
        verbose_name = _("held report")
        verbose_name_plural = _("held reports")
        ordering = ["held_at", "pk"]
        indexes = [models.Index(fields=["caller", "blocked_until"])]

    def __str__(self) -> str:
        return f"{self.ticket.number} {self.get_status_display()}"

    def reason_labels(self) -> list[str]:
        labels = dict(HoldReason.choices)
        return [str(labels.get(code, code)) for code in self.reasons]
