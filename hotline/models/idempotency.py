"""Idempotency keys: a registration sent twice (a retry, a double click) makes one ticket."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class IdempotencyKey(models.Model):
    """A client's key for one registration: unique per user, so a repeat gets the first's ticket.

    The row is inserted before the ticket, in the same transaction: a concurrent repeat waits on
    the unique index until the first commits (or rolls back), then reads its ticket.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    key = models.CharField(_("idempotency key"), max_length=64)
    # A digest of the registration's content: the same key sent with other content is refused.
    fingerprint = models.CharField(max_length=64)
    ticket = models.ForeignKey("hotline.Ticket", on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique_per_user")]

    def __str__(self) -> str:
        return self.key
