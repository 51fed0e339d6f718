"""The domain's exception tree. The API maps each to one HTTP status."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a service raises on purpose."""

    code = "domain_error"

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidInput(DomainError):
    """The request itself is wrong (HTTP 400)."""

    code = "invalid"


class NotAllowed(DomainError):
    """The actor may not do this to this ticket (HTTP 403)."""

    code = "forbidden"


class IllegalTransition(DomainError):
    """The ticket or assignment is not in a state that allows this (HTTP 409)."""

    code = "illegal_transition"


class Conflict(DomainError):
    """Somebody else changed the ticket first (HTTP 409); reload and retry."""

    code = "conflict"
