"""The one place that asks the telephony bridge to dial (``telephony.control.originate``).

Errors are mapped into our own two: :class:`DialUnavailable` (nobody placed a
call: the bridge is down or not answering, try again later) and
:class:`DialRefused` (Asterisk refused the Originate).
"""

from __future__ import annotations

import logging

from callback import conf

log = logging.getLogger(__name__)


class DialError(Exception):
    pass


class DialUnavailable(DialError):
    """No bridge answered: no call was placed."""


class DialRefused(DialError):
    """The PBX refused the call."""


def dial(*, agent_extension: str, number: str, purpose: str, reference: str) -> dict:
    """Ring the agent first, then the citizen. Returns the bridge's answer (``linkedid`` ...)."""
    try:
        from telephony import control
    except ImportError:  # the bridge's command channel is not installed: same as a bridge that is down
        raise DialUnavailable("the telephony bridge cannot take commands") from None
    try:
        result = control.originate(
            agent_extension=agent_extension,
            number=number,
            purpose=purpose,
            reference=reference,
            timeout=float(conf.get("CALLBACK_ORIGINATE_TIMEOUT")),
        )
    except control.BridgeUnavailable as exc:
        raise DialUnavailable(str(exc) or "the telephony bridge did not answer") from exc
    except control.CommandFailed as exc:
        raise DialRefused(str(exc) or "the PBX refused the call") from exc
    if not result.get("success", False):  # the Originate ran, but the agent's leg was not answered
        raise DialRefused(f"the call did not connect: {result.get('reason') or 'no reason given'}")
    return result
