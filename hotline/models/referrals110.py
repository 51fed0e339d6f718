"""110 ↔ 12345: the matters the two lines hand each other, the 110 platforms that refer to 12345,
and each referral they made (docs/referrals-110.md). The other direction, 12345 → 110, is
``hotline.models.tickets.Referral``."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hotline.models.open311 import ApiKeyHolder
from hotline.models.tickets import Ticket


class MatterDirection(models.TextChoices):
    FROM_110 = "from_110", _("110 → 12345")
    TO_110 = "to_110", _("12345 → 110")
    BOTH = "both", _("both ways")


class Matter110(models.Model):
    """A matter of the 12345↔110 list (非警务警情 such as 挪车, 开锁, 噪音扰民): which way it goes."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("matter"), max_length=50)
    direction = models.CharField(
        _("direction"), max_length=8, choices=MatterDirection.choices, default=MatterDirection.BOTH
    )
    active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("110 matter")
        verbose_name_plural = _("110 matters")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.name

    @property
    def accepted_from_110(self) -> bool:
        return self.active and self.direction in (MatterDirection.FROM_110, MatterDirection.BOTH)


class System110(ApiKeyHolder):
    """A 110 platform (a city's or a district's 110 指挥中心) with its own API key and outcome webhook."""

    name = models.CharField(_("system"), max_length=100, unique=True, help_text=_("e.g. 湘潭市公安局110指挥中心"))
    code = models.SlugField(
        _("code"), max_length=32, unique=True, help_text=_("Short name in incident references, e.g. xt110.")
    )
    operator = models.CharField(_("operated by"), max_length=100, help_text=_("Who runs it, and whom to call."))
    rate_limit_per_hour = models.PositiveIntegerField(
        _("referrals per hour"), default=120, help_text=_("Posts beyond this in a clock hour get 429.")
    )
    callback_url = models.URLField(
        _("outcome webhook"), max_length=300, blank=True, help_text=_("Where outcomes are POSTed; blank: pull only.")
    )
    # The 110 side's credential for its webhook, sent as a bearer token; not ours, so kept as given.
    callback_token = models.CharField(_("webhook token"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("110 system")
        verbose_name_plural = _("110 systems")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class InboundReferral(models.Model):
    """110转12345: one incident a 110 platform handed over, and the ticket it became."""

    class Via(models.TextChoices):
        API = "api", _("API")
        PHONE = "phone", _("phone transfer")

    system = models.ForeignKey(
        System110, verbose_name=_("110 system"), on_delete=models.PROTECT, related_name="referrals"
    )
    incident_number = models.CharField(_("110 incident number"), max_length=40)
    matter = models.ForeignKey(Matter110, verbose_name=_("matter"), on_delete=models.PROTECT, related_name="+")
    ticket = models.OneToOneField(
        Ticket, verbose_name=_("ticket"), on_delete=models.PROTECT, related_name="referral_from_110"
    )
    via = models.CharField(_("received by"), max_length=8, choices=Via.choices, default=Via.API)
    reported_at = models.DateTimeField(_("reported to 110 at"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), default=timezone.now, db_index=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("referral from 110")
        verbose_name_plural = _("referrals from 110")
        ordering = ["-received_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["system", "incident_number"], name="referral110_incident_once"),
        ]

    def __str__(self) -> str:
        return f"{self.system.code}:{self.incident_number} → {self.ticket}"
