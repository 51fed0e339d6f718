"""API keys of integrating systems (Open311 systems, 110 platforms): one check, one revoke."""

from __future__ import annotations

import hmac

from django.utils import timezone
from django.utils.translation import gettext as _

from hotline.errors import NotAllowed
from hotline.models.open311 import KEY_PREFIX_LENGTH, ApiKeyHolder, hash_key

MAX_KEY = 128


def authenticate(model: type[ApiKeyHolder], raw: str | None, field: str = "api_key") -> ApiKeyHolder:
    """The active system of ``model`` a key belongs to. Missing, unknown and revoked keys: NotAllowed."""
    raw = (raw or "").strip()
    if not raw:
        raise NotAllowed(_("api_key was not provided"), field=field, reason="missing")
    if len(raw) > MAX_KEY or not raw.isprintable():
        raise NotAllowed(_("api_key provided is invalid"), field=field, reason="invalid")
    digest = hash_key(raw)
    holder = model.objects.filter(key_prefix=raw[:KEY_PREFIX_LENGTH], key_hash=digest).first()
    # compare_digest on the hash: the lookup by prefix narrows, the secret decides.
    if holder is None or not hmac.compare_digest(holder.key_hash, digest):
        raise NotAllowed(_("api_key provided is invalid"), field=field, reason="invalid")
    if not holder.is_active:
        raise NotAllowed(_("api_key provided has been revoked"), field=field, reason="revoked")
    return holder


def revoke(holder: ApiKeyHolder, by) -> bool:
    """Revoke a system's key: its calls are refused from now on, what it sent stays. False if already revoked."""
    return bool(
        type(holder)
        .objects.filter(pk=holder.pk, revoked_at__isnull=True)
        .update(revoked_at=timezone.now(), revoked_by=by)
    )


def touch(holder: ApiKeyHolder) -> None:
    type(holder).objects.filter(pk=holder.pk).update(last_used_at=timezone.now())
