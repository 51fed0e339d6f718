"""The default backend: nothing leaves the building. Messages stay in the database (admin: SMS messages)."""

from __future__ import annotations

import secrets

from callback.sms.base import SendResult


class OutboxBackend:
    name = "outbox"

    def send(self, to: str, body: str) -> SendResult:
        return SendResult(provider_id=f"OUTBOX{secrets.token_hex(8)}", status="delivered")
