"""The calling hours of settings.CALLBACK_HOURS, in the hotline's time zone (the other settings are read directly)."""

from __future__ import annotations

from django.conf import settings

from callback.hours import CallingHours


def calling_hours() -> CallingHours:
    return CallingHours.parse(settings.CALLBACK_HOURS, settings.TIME_ZONE)
