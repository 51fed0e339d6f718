"""Our own AMI exception tree: callers catch these, never socket or asyncio errors."""

from __future__ import annotations


class AMIError(Exception):
    """Base of every error raised by telephony.ami."""


class ProtocolError(AMIError):
    """Bytes that are not valid AMI (a frame was skipped; the stream goes on)."""


class FrameTooLarge(ProtocolError):
    """A frame grew past the size limit; it was discarded up to its terminator."""


class FrameDecodeError(ProtocolError):
    """A frame was not UTF-8 or had no ``Key: Value`` lines."""


class InvalidAction(AMIError):
    """An action we were asked to send cannot be encoded safely (e.g. CR/LF in a value)."""


class ConnectionLost(AMIError):
    """The TCP connection closed or failed."""


class NotConnected(ConnectionLost):
    """An action was sent while no logged-in connection exists."""


class LoginRefused(AMIError):
    """Asterisk refused the credentials (wrong username or secret, or ACL)."""


class ActionFailed(AMIError):
    """Asterisk answered ``Response: Error`` (or ``Failure``) to an action."""

    def __init__(self, message: str, response: object | None = None) -> None:
        super().__init__(message)
        self.response = response


class ActionTimeout(AMIError):
    """No response (or no end of the event list) arrived in time."""


class ActionAborted(ConnectionLost):
    """The connection dropped before the action was answered.

    Not re-sent on reconnect: Asterisk may already have executed it, and dialling a
    citizen twice (Originate) or moving a call twice (Redirect) is worse than asking
    the agent to retry.
    """


class PongTimeout(ConnectionLost):
    """A keep-alive Ping went unanswered; the connection is considered dead."""
