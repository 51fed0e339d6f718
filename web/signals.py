"""Close a user's open consoles when they log out, are disabled, change their password,
or move to another unit or role; revoke their API tokens when they log out of the console,
change their password or are disabled; write logins, failed logins, logouts, access changes and
two-factor enrolments to the audit log (docs/security.md).

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
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.dispatch import receiver
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken

from hotline import audit
from hotline.models import AuditAction

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


# --- the audit log (docs/security.md §9): logins, failures, logouts, access changes, 2FA ------

# A change to any of these is an access change: who the person is allowed to be.
AUDITED_FIELDS = ("role", "unit_id", "is_active", "is_staff", "is_superuser")


@receiver(user_logged_in, dispatch_uid="web.audit_login")
def audit_login(sender, request, user, **kwargs) -> None:
    audit.record(AuditAction.LOGIN, user=user, data={"via": "api" if _is_api(request) else "console"})


@receiver(user_login_failed, dispatch_uid="web.audit_login_failed")
def audit_login_failed(sender, credentials, request=None, **kwargs) -> None:
    # The username as typed (no user: it may not exist); never the password.
    username = str((credentials or {}).get("username", ""))
    audit.record(AuditAction.LOGIN_FAILED, username=username, data={"via": "api" if _is_api(request) else "console"})


@receiver(user_logged_out, dispatch_uid="web.audit_logout")
def audit_logout(sender, request, user, **kwargs) -> None:
    if user is not None:
        audit.record(AuditAction.LOGOUT, user=user)


def _is_api(request) -> bool:
    return str(getattr(request, "path", "")).startswith("/api/")


@receiver(pre_save, sender=get_user_model(), dispatch_uid="web.audit_remember_user")
def audit_remember_user(sender, instance, **kwargs) -> None:
    if instance.pk is not None:
        instance._audit_old = sender.objects.filter(pk=instance.pk).values(*AUDITED_FIELDS, "password").first()


@receiver(post_save, sender=get_user_model(), dispatch_uid="web.audit_user_saved")
def audit_user_saved(sender, instance, created, **kwargs) -> None:
    target = {"target_user": instance.pk, "target_username": instance.username}
    if created:
        values = {field: _plain(getattr(instance, field)) for field in AUDITED_FIELDS}
        audit.record(AuditAction.USER_CREATED, reason="user created", data={**target, "values": values})
        return
    old = getattr(instance, "_audit_old", None)
    if old is None:
        return
    changes = {
        field: [_plain(old[field]), _plain(getattr(instance, field))]
        for field in AUDITED_FIELDS
        if old[field] != getattr(instance, field)
    }
    if changes:
        audit.record(AuditAction.USER_CHANGED, reason="role, unit or status", data={**target, "changes": changes})
    if old["password"] != instance.password:
        audit.record(AuditAction.PASSWORD_CHANGED, data=target)


@receiver(m2m_changed, sender=get_user_model().groups.through, dispatch_uid="web.audit_groups")
@receiver(m2m_changed, sender=get_user_model().user_permissions.through, dispatch_uid="web.audit_permissions")
def audit_permissions(sender, instance, action, pk_set, model, **kwargs) -> None:
    if action not in ("post_add", "post_remove", "post_clear") or not isinstance(instance, get_user_model()):
        return
    what = "groups" if model is Group else "permissions"
    names = sorted(str(obj) for obj in model.objects.filter(pk__in=pk_set or ()))
    audit.record(
        AuditAction.USER_CHANGED,
        reason=f"{what} {action.removeprefix('post_')}",
        data={"target_user": instance.pk, "target_username": instance.username, what: names},
    )


@receiver(pre_save, sender=TOTPDevice, dispatch_uid="web.audit_remember_device")
def audit_remember_device(sender, instance, **kwargs) -> None:
    instance._audit_was_confirmed = (
        instance.pk is not None and sender.objects.filter(pk=instance.pk, confirmed=True).exists()
    )


@receiver(post_save, sender=TOTPDevice, dispatch_uid="web.audit_device_confirmed")
def audit_device_confirmed(sender, instance, **kwargs) -> None:
    if instance.confirmed and not getattr(instance, "_audit_was_confirmed", False):
        owner = instance.user
        audit.record(
            AuditAction.OTP_ENROLLED,
            data={"target_user": owner.pk, "target_username": owner.username, "device": instance.name},
        )


@receiver(post_delete, sender=TOTPDevice, dispatch_uid="web.audit_device_removed")
def audit_device_removed(sender, instance, **kwargs) -> None:
    owner = instance.user
    audit.record(
        AuditAction.OTP_REMOVED,
        data={"target_user": owner.pk, "target_username": owner.username, "device": instance.name},
    )


def _plain(value):
    return value if value is None or isinstance(value, (bool, int, str)) else str(value)
