"""Open311 GeoReport v2: the systems that may post reports, and what each report came with."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hotline.models.tickets import Ticket

# The key as the system sends it: a short prefix (shown in the admin, so two keys can be told
# apart) and a secret. Only the SHA-256 of the whole key is stored.
KEY_PREFIX_LENGTH = 8


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


class ApiKeyHolder(models.Model):
    """A system with its own API key (Open311 systems, the 110 platforms): the key's prefix and hash,
    who made it, when it was revoked and last used. Only the SHA-256 of the key is stored."""

    key_prefix = models.CharField(_("key starts with"), max_length=KEY_PREFIX_LENGTH, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True, editable=False)

    class Meta:
        abstract = True

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def new_key(self) -> str:
        """Give the system a new key and return it: the only time it is seen (the caller saves)."""
        raw = secrets.token_urlsafe(32)
        self.key_prefix = raw[:KEY_PREFIX_LENGTH]
        self.key_hash = hash_key(raw)
        return raw


class Open311Client(ApiKeyHolder):
    """An integrating system with its own API key: who runs it, the label its reports carry, its limit."""

    name = models.CharField(_("system"), max_length=100, unique=True, help_text=_("e.g. 湘潭城管通 app"))
    operator = models.CharField(_("operated by"), max_length=100, help_text=_("Who runs it, and whom to call."))
    channel_label = models.CharField(
        _("channel label"),
        max_length=32,
        help_text=_("How its reports are labelled on the timeline, e.g. 城管通."),
    )
    rate_limit_per_hour = models.PositiveIntegerField(
        _("reports per hour"), default=60, help_text=_("Posts beyond this in a clock hour get 429.")
    )

    class Meta:
        verbose_name = _("Open311 system")
        verbose_name_plural = _("Open311 systems")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Open311Request(models.Model):
    """What an Open311 post brought besides the ticket: the system, its token, the media link, attributes."""

    ticket = models.OneToOneField(Ticket, verbose_name=_("ticket"), on_delete=models.PROTECT, related_name="open311")
    client = models.ForeignKey(
        Open311Client, verbose_name=_("system"), on_delete=models.PROTECT, related_name="requests"
    )
    # GeoReport's token: GET tokens/{token} answers with the service_request_id.
    token = models.CharField(_("token"), max_length=43, unique=True, editable=False)
    service_code = models.CharField(_("service code"), max_length=16)
    # Stored as given and shown as a link; the server never fetches it (it may point anywhere).
    media_url = models.URLField(_("media URL"), max_length=500, blank=True)
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    # Told by the system; kept for the center, never shown by the API.
    email = models.CharField(max_length=254, blank=True)
    device_id = models.CharField(max_length=100, blank=True)
    account_id = models.CharField(max_length=100, blank=True)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)

    class Meta:
        verbose_name = _("Open311 report")
        verbose_name_plural = _("Open311 reports")

    def __str__(self) -> str:
        return f"{self.client} → {self.ticket}"
