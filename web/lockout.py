"""Login lockout: a valid login forgets only its own username's failures from its own address.

django-axes counts failures per username and per address (settings AXES_LOCKOUT_PARAMETERS).
Its own reset on success (AXES_RESET_ON_SUCCESS) deletes every failure matching either, so
one valid account would wipe the failures counted against any other username from the same
address; it is off, and this receiver resets the (username, address) pair alone.
"""

from __future__ import annotations

from axes.helpers import get_client_ip_address
from axes.utils import reset
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver


@receiver(user_logged_in, dispatch_uid="web.forget_own_login_failures")
def forget_own_login_failures(sender, request, user, **kwargs) -> None:
    address = get_client_ip_address(request) if request is not None else None
    if address:
        reset(ip=address, username=user.get_username())
