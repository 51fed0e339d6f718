"""Twilio Programmable Messaging through the official ``twilio`` client.

Credentials come from settings (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER),
which read them from the environment; they are never logged. TWILIO_API_BASE_URL
points the client elsewhere (a regional edge, or the local fake server in tests).
"""

from __future__ import annotations

import logging

from django.conf import settings
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from callback.sms.base import SendResult, SmsError

# The client logs each request's parameters (the citizen's number and text) at INFO.
logging.getLogger("twilio.http_client").setLevel(logging.WARNING)

# Errors that will not go away by sending again (invalid number, unsubscribed, ...): see Twilio's error list.
PERMANENT_STATUSES = {400, 401, 403, 404}


class TwilioBackend:
    name = "twilio"

    def __init__(self) -> None:
        sid, token = settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN
        self.from_number = settings.TWILIO_FROM_NUMBER
        if not (sid and token and self.from_number):
            raise SmsError("Twilio is not configured (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER)")
        self.client = Client(sid, token, http_client=TwilioHttpClient(timeout=float(settings.TWILIO_TIMEOUT)))
        base_url = settings.TWILIO_API_BASE_URL
        if base_url:
            self.client.api.base_url = base_url.rstrip("/")
        self.status_callback = settings.TWILIO_STATUS_CALLBACK_URL or None

    def send(self, to: str, body: str) -> SendResult:
        kwargs = {"to": to, "from_": self.from_number, "body": body}
        if self.status_callback:
            kwargs["status_callback"] = self.status_callback
        try:
            message = self.client.messages.create(**kwargs)
        except TwilioRestException as exc:
            retry = exc.status == 429 or exc.status >= 500 or exc.status not in PERMANENT_STATUSES
            code = str(exc.code or exc.status)
            raise SmsError(f"Twilio {exc.status}: {exc.msg}"[:300], code=code, retry=retry) from None
        except TwilioException as exc:  # connection refused, timeout, unreadable answer
            raise SmsError(f"Twilio unreachable: {type(exc).__name__}", code="network", retry=True) from None
        except OSError as exc:
            raise SmsError(f"Twilio unreachable: {type(exc).__name__}", code="network", retry=True) from None
        status = "delivered" if message.status == "delivered" else "sent"
        return SendResult(provider_id=message.sid, status=status)
