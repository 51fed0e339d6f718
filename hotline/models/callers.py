"""恶意来电 / 缠访: agents' reports of abusive callers and the center's flags on callers.

An agent *reports* (a call or a ticket where the caller was abusive); only the center
(a supervisor or an administrator) *flags* a caller, with a kind, a reason and an expiry,
after looking at the caller's history. A flag changes nothing about how the caller's demands
are handled: the screen pop shows it to the agent, and the repeat figures count the flagged
callers' repeats on a line of their own. Rows are never deleted: a flag ends by expiring or by
being lifted (who, when, why), a report by the center's decision.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hotline.models.tickets import Caller, DecidedRequest, Ticket


class FlagKind(models.TextChoices):
    HARASSMENT = "harassment", _("malicious harassment")  # 恶意骚扰
    PERSISTENT = "persistent", _("persistent unreasonable demands")  # 缠访 (无理缠访)
    ABUSE = "abuse", _("abusive language")  # 辱骂、威胁话务员
    NUISANCE = "nuisance", _("nuisance calls")  # 无效来电、恶作剧


class CallerFlag(models.Model):
    """The center's mark on a caller: why, until when, set by whom. In force while not lifted and
    not expired; expiry is decided when the flag is read, so no job has to run for it to end."""

    caller = models.ForeignKey(Caller, verbose_name=_("caller"), on_delete=models.PROTECT, related_name="flags")
    kind = models.CharField(_("kind"), max_length=12, choices=FlagKind.choices)
    reason = models.TextField(_("reason"))
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("set by"), on_delete=models.PROTECT, related_name="+"
    )
    set_at = models.DateTimeField(_("set at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("lifted by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    lifted_at = models.DateTimeField(_("lifted at"), null=True, blank=True)
    lift_reason = models.TextField(_("why lifted"), blank=True)

    class Meta:
        verbose_name = _("caller flag")
        verbose_name_plural = _("caller flags")
        ordering = ["-set_at", "-pk"]
        indexes = [models.Index(fields=["caller", "set_at"])]

    def __str__(self) -> str:
        return f"{self.caller} {self.get_kind_display()} → {self.expires_at:%Y-%m-%d}"

    def in_force(self, now=None) -> bool:
        return self.lifted_at is None and (now or timezone.now()) < self.expires_at

    @property
    def ended_at(self):
        """When it stopped (or will stop) being in force."""
        return min(self.lifted_at, self.expires_at) if self.lifted_at else self.expires_at


class ReportStatus(models.TextChoices):
    PENDING = "pending", _("waiting for review")
    FLAGGED = "flagged", _("led to a flag")
    DECLINED = "declined", _("declined")


class CallerReport(DecidedRequest):
    """An agent's report that a caller was abusive on a call or a ticket: evidence for the
    center's review, not a flag. ``reason`` is what the agent noted (may be empty)."""

    caller = models.ForeignKey(Caller, verbose_name=_("caller"), on_delete=models.PROTECT, related_name="reports")
    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    call_linkedid = models.CharField(_("call id"), max_length=64, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("reported by"), on_delete=models.PROTECT, related_name="+"
    )
    reported_at = models.DateTimeField(_("reported at"), default=timezone.now)
    status = models.CharField(
        _("status"), max_length=10, choices=ReportStatus.choices, default=ReportStatus.PENDING, db_index=True
    )
    flag = models.ForeignKey(
        CallerFlag, verbose_name=_("flag"), null=True, blank=True, on_delete=models.PROTECT, related_name="reports"
    )

    class Meta:
        verbose_name = _("abusive caller report")
        verbose_name_plural = _("abusive caller reports")
        ordering = ["-reported_at", "-pk"]
        indexes = [models.Index(fields=["caller", "reported_at"])]

    def __str__(self) -> str:
        return f"{self.caller} {self.reported_at:%Y-%m-%d %H:%M}"
