"""SMS: one backend interface, several backends (docs/callbacks.md, "Adding an SMS backend").

A backend is a class with ``name`` and ``send(to, body) -> SendResult`` that raises
:class:`SmsError` (``retry=True`` for a temporary failure). ``settings.SMS_BACKEND``
names the one in use; :mod:`callback.sms.services` stores every message and its
status and calls the backend from the job worker, never inside a transaction.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

from callback.sms.base import SendResult, SmsBackend, SmsError


def get_backend() -> SmsBackend:
    return import_string(settings.SMS_BACKEND)()


__all__ = ["SendResult", "SmsBackend", "SmsError", "get_backend"]
