"""Close a user's open consoles when they log out, are disabled, change their password,
or move to another unit or role; revoke their API tokens when they log out of the console,
change their password or are disabled (docs/security.md).

Each console socket joins ``user.<id>`` and ``session.<digest>``, and groups chosen by the
user's unit and role when it connected; these receivers send ``session.revoked`` there after
commit, and the consumer closes with code 4001 (the page reloads into the console of the
user's current unit and role, or the login screen).
"""

from __future__ import annotations

import hashlib

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_out
from django.db import transaction
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver
from knox.models import AuthToken

REVOKED = {"type": "session.revoked"}
# A change to any of these ends the user's sockets: the credentials, and what chose the groups
# a socket joined (a handler moved to another unit must stop receiving the old unit's pushes).
WATCHED_FIELDS = ("password", "is_active", "unit_id", "role", "is_superuser")
# A change to any of these also revokes the user's API tokens (a token is as good as the password).
CREDENTIAL_FIELDS = ("password", "is_active")


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def session_group(session_key: str) -> str:
    # The session key itself never travels to the channel layer (Redis), only a digest of it.
    return "session." + hashlib.sha256(session_key.encode()).hexdigest()[:40]


def revoke(group: str) -> None:
    layer = get_channel_layer()
    if layer is not None:
        transaction.on_commit(lambda: async_to_sync(layer.group_send)(group, REVOKED))


def revoke_tokens(user_id: int) -> None:
    AuthToken.objects.filter(user_id=user_id).delete()


@receiver(user_logged_out, dispatch_uid="web.close_sockets_on_logout")
def close_sockets_on_logout(sender, request, user, **kwargs) -> None:
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if session_key:
        revoke(session_group(session_key))
    # Logging out of the console ends the person's API access too. The API's own logout (knox) has
    # already deleted the one token it was called with (request.auth) and must leave the others.
    if user is not None and not isinstance(getattr(request, "auth", None), AuthToken):
        revoke_tokens(user.pk)


@receiver(pre_save, sender=get_user_model(), dispatch_uid="web.remember_access")
def remember_access(sender, instance, **kwargs) -> None:
    if instance.pk is None:
        return
    old = sender.objects.filter(pk=instance.pk).values(*WATCHED_FIELDS).first()
    instance._web_old_access = old


@receiver(post_save, sender=get_user_model(), dispatch_uid="web.close_sockets_on_access_change")
def close_sockets_on_access_change(sender, instance, created, **kwargs) -> None:
    old = getattr(instance, "_web_old_access", None)
    if created or old is None:
        return
    if any(old[field] != getattr(instance, field) for field in WATCHED_FIELDS):
        revoke(user_group(instance.pk))
    if any(old[field] != getattr(instance, field) for field in CREDENTIAL_FIELDS):
        revoke_tokens(instance.pk)
