"""Two-factor authentication (TOTP, django-otp): who needs it, and whether a session passed it.

Admins, supervisors and superusers must use it (settings OTP_REQUIRED_ROLES); anybody may enrol a
device. A user with a confirmed device, or of a required role, is logged in only after the code
(web.views.auth); this module is the one rule the login, the gate (web.middleware), the console
sockets and the API token endpoint share.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django_otp import DEVICE_ID_SESSION_KEY, devices_for_user, user_has_device
from django_otp.models import Device
from django_otp.plugins.otp_totp.models import TOTPDevice

from hotline.models import Role


def otp_required(user) -> bool:
    """The account's role must use a second factor (superusers count as admins)."""
    if not getattr(user, "is_authenticated", False):
        return False
    roles = set(settings.OTP_REQUIRED_ROLES)
    return user.role in roles or (user.is_superuser and Role.ADMIN in roles)


def has_device(user) -> bool:
    return user_has_device(user, confirmed=True)


def needs_second_factor(user) -> bool:
    """The password alone does not log this user in."""
    return otp_required(user) or has_device(user)


def session_is_verified(user, session) -> bool:
    """The session was opened with a code from one of the user's confirmed devices."""
    persistent_id = session.get(DEVICE_ID_SESSION_KEY) if session is not None else None
    if not persistent_id:
        return False
    device = Device.from_persistent_id(persistent_id)
    return device is not None and device.user_id == user.pk and device.confirmed


def session_passes(user, session) -> bool:
    """What the gate and the sockets ask: may this session act as ``user``?"""
    return not needs_second_factor(user) or session_is_verified(user, session)


def _clean(code: str) -> str | None:
    code = "".join((code or "").split())
    return code if code.isascii() and code.isdigit() and len(code) <= 8 else None


def verify(user, code: str) -> Device | None:
    """The confirmed device that accepts ``code`` (throttled per device by django-otp), or None."""
    code = _clean(code)
    if code is None:
        return None
    with transaction.atomic():
        for device in devices_for_user(user, confirmed=True, for_verify=True):
            allowed, _ = device.verify_is_allowed()
            if allowed and device.verify_token(code):
                return device
    return None


def pending_device(user) -> TOTPDevice:
    """The unconfirmed TOTP device being enrolled (a fresh secret on the first visit)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="TOTP", confirmed=False)
    return device


def verify_pending(device: TOTPDevice, code: str) -> bool:
    """Confirm the device being enrolled with a first code from the app."""
    code = _clean(code)
    if code is None:
        return False
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        if not device.verify_token(code):
            return False
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        return True
