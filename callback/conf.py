"""This app's settings, with the defaults that hold when config/settings.py does not name them."""

from __future__ import annotations

from django.conf import settings

from callback.hours import CallingHours

DEFAULTS: dict[str, object] = {
    "CALLBACK_HOURS": "08:30-21:00",
    "CALLBACK_MAX_ATTEMPTS": 3,
    # Wait before the next try after no answer / busy: this many minutes, doubled each time.
    "CALLBACK_RETRY_MINUTES": 30,
    "CALLBACK_OFFER_SECONDS": 60,
    "CALLBACK_DIAL_MINUTES": 30,
    "CALLBACK_BRIDGE_RETRY_SECONDS": 120,
    # The bridge waits up to 45 s for OriginateResponse (ringing the agent): wait a little longer.
    "CALLBACK_ORIGINATE_TIMEOUT": 60.0,
    "REVISIT_CHANNEL": "phone",
    "REVISIT_MAX_ATTEMPTS": 3,
    "REVISIT_CLAIM_MINUTES": 30,
    "REVISIT_SMS_WAIT_HOURS": 24,
    # An IVR survey call not answered with a key press within this is counted as an attempt.
    "REVISIT_IVR_WAIT_MINUTES": 10,
    "SMS_BACKEND": "callback.sms.outbox.OutboxBackend",
    "SMS_MAX_ATTEMPTS": 5,
    "SMS_RETRY_SECONDS": 60,
    "SMS_LEASE_SECONDS": 120,
    "SMS_SURVEY_URL": "",
    # The registered / reply-available SMS are sent for tickets this recent (a worker that was down catches up).
    "SMS_NOTIFY_WITHIN_HOURS": 48,
    # Channels whose citizens get the registered SMS; the web, WeChat and app forms show the number on screen.
    "SMS_REGISTERED_CHANNELS": ("phone",),
    "SMS_INBOUND_TOKEN": "",
    "TWILIO_ACCOUNT_SID": "",
    "TWILIO_AUTH_TOKEN": "",
    "TWILIO_FROM_NUMBER": "",
    "TWILIO_API_BASE_URL": "",
    "TWILIO_STATUS_CALLBACK_URL": "",
    "TWILIO_TIMEOUT": 10.0,
    "JOBS_INTERVAL_SECONDS": 5.0,
}


def get(name: str):
    return getattr(settings, name, DEFAULTS[name])


def calling_hours() -> CallingHours:
    return CallingHours.parse(get("CALLBACK_HOURS"), settings.TIME_ZONE)
