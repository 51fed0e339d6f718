"""The one place that asks the telephony bridge to dial: an agent's call (callbacks, phone revisits)
or an IVR survey (``telephony.control.originate`` / ``originate_survey``).

Errors are mapped into our own two: :class:`DialUnavailable` (nobody placed a
call: the bridge is down or not answering, try again later) and
:class:`DialRefused` (Asterisk refused the Originate, or its call did not connect).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings

from hotline.lib.phones import national_digits
from telephony import control

log = logging.getLogger(__name__)
# The PBX refused, or the agent's leg was not answered: the item is due again after a minute.
REFUSED_RETRY_SECONDS = 60


class DialError(Exception):
    pass


class DialUnavailable(DialError):
    """No bridge answered: no call was placed."""


class DialRefused(DialError):
    """The PBX refused the call."""


def _originate(send: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Send one Originate and map its failures. Returns the bridge's answer (``linkedid`` ...)."""
    try:
        result = send()
    except control.BridgeUnavailable as exc:
        raise DialUnavailable(str(exc) or "the telephony bridge did not answer") from exc
    except control.CommandFailed as exc:
        raise DialRefused(str(exc) or "the PBX refused the call") from exc
    if not result.get("success", False):  # the Originate ran, but its first leg was not answered
        raise DialRefused(f"the call did not connect: {result.get('reason') or 'no reason given'}")
    return result


@dataclass(frozen=True)
class Dialled:
    """How one dial went, for the caller to record: ``linkedid`` when the call was placed, else ``error``."""

    linkedid: str = ""
    error: str = ""
    # When the item may be dialled again after an error: longer if no bridge answered at all.
    retry_after: timedelta | None = None

    @property
    def placed(self) -> bool:
        return not self.error


def _try(reference: str, send: Callable[[], dict[str, Any]]) -> Dialled:
    try:
        result = _originate(send)
    except DialError as exc:
        unavailable = isinstance(exc, DialUnavailable)
        retry = settings.CALLBACK_BRIDGE_RETRY_SECONDS if unavailable else REFUSED_RETRY_SECONDS
        log.warning("%s not dialled: %s", reference, exc)
        return Dialled(error=str(exc)[:300] or type(exc).__name__, retry_after=timedelta(seconds=retry))
    return Dialled(linkedid=str(result.get("linkedid", ""))[:64])


def try_dial(*, agent_extension: str, number: str, purpose: str, reference: str) -> Dialled:
    """Ring the agent first, then the citizen, for callbacks and revisits alike.

    Never raises a dial error: says what to record. ``number`` is E.164 (+86…); the bridge dials
    national digits.
    """
    return _try(
        reference,
        lambda: control.originate(
            agent_extension=agent_extension,
            number=national_digits(number),
            purpose=purpose,
            reference=reference,
            timeout=float(settings.CALLBACK_ORIGINATE_TIMEOUT),
        ),
    )


def try_dial_survey(*, number: str, reference: str) -> Dialled:
    """Dial the citizen straight into the IVR survey (no agent); the key press comes back with ``reference``."""
    return _try(reference, lambda: control.originate_survey(number=national_digits(number), reference=reference))
