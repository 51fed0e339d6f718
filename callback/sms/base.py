"""The interface every SMS backend implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class SendResult:
    provider_id: str
    # "sent" when the provider accepted it, "delivered" when the backend knows it arrived.
    status: str = "sent"


class SmsError(Exception):
    """The message was not accepted. ``retry`` says whether trying again later may work."""

    def __init__(self, message: str, *, code: str = "", retry: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.retry = retry


class SmsBackend(Protocol):
    name: str

    def send(self, to: str, body: str) -> SendResult: ...
