"""The call-lifecycle vocabulary: the events the tracker emits, and the outcomes and purposes they name.

One call = one ``Linkedid`` (the Uniqueid of the call's first channel, shared by the
caller, agent and 110 legs), stamped with the ``pbx_epoch`` it belongs to. The
translator that produces these events is :mod:`telephony.tracker`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar

ANSWERED = "answered"
ABANDONED = "abandoned"
TIMEOUT = "timeout"
# The queue turned the caller away: full (maxlen), no agent to join (JOINEMPTY) or none left
# while waiting (LEAVEEMPTY/LEAVEUNAVAIL). The caller asked for an agent: the answer rate counts it.
REFUSED = "refused"
TRANSFERRED_110 = "transferred_110"
IVR_110 = "ivr_110"
TRANSFERRED = "transferred"
CALLBACK = "callback"
UNKNOWN = "unknown"

# Why we placed an outbound call (the HOTLINE_PURPOSE channel variable of our Originate).
PURPOSE_CALLBACK = "callback"
PURPOSE_REVISIT = "revisit"
PURPOSE_REVISIT_IVR = "revisit_ivr"
PURPOSE_VARIABLE = "HOTLINE_PURPOSE"
REFERENCE_VARIABLE = "HOTLINE_REFERENCE"
# Desks (专席, telephony.desks): the dialplan sets this to the general queue just before it queues a caller
# at a desk, and clears it after. A timeout or refusal at the desk is then no end: the caller goes on there.
OVERFLOW_VARIABLE = "HOTLINE_OVERFLOW"


@dataclass(frozen=True, kw_only=True)
class CallLifecycle:
    kind: ClassVar[str] = "call"
    linkedid: str
    pbx_epoch: int = 0
    at: float | None = None

    def as_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["kind"] = self.kind
        return data


@dataclass(frozen=True, kw_only=True)
class CallOffered(CallLifecycle):
    kind: ClassVar[str] = "offered"
    queue: str
    caller_number: str
    caller_name: str = ""
    caller_uniqueid: str = ""  # the caller's channel in the queue: the callid of Asterisk's queue_log


@dataclass(frozen=True, kw_only=True)
class IvrChoiceMade(CallLifecycle):
    kind: ClassVar[str] = "ivr_choice"
    choice: str
    caller_number: str = ""


@dataclass(frozen=True, kw_only=True)
class AgentRinging(CallLifecycle):
    kind: ClassVar[str] = "ringing"
    queue: str
    interface: str
    member_name: str
    caller_number: str


@dataclass(frozen=True, kw_only=True)
class AgentRingStopped(CallLifecycle):
    kind: ClassVar[str] = "ring_stopped"
    interface: str
    reason: str  # no_answer | answered_elsewhere | caller_left


@dataclass(frozen=True, kw_only=True)
class CallAnswered(CallLifecycle):
    kind: ClassVar[str] = "answered"
    queue: str
    interface: str
    member_name: str
    caller_number: str
    wait_seconds: int | None
    ring_seconds: int | None


@dataclass(frozen=True, kw_only=True)
class AgentReleased(CallLifecycle):
    """The agent's part is over (the caller may still be talking to 110)."""

    kind: ClassVar[str] = "agent_released"
    interface: str
    talk_seconds: int | None
    reason: str


@dataclass(frozen=True, kw_only=True)
class CallAbandoned(CallLifecycle):
    kind: ClassVar[str] = "abandoned"
    queue: str
    wait_seconds: int | None


@dataclass(frozen=True, kw_only=True)
class CallTimedOut(CallLifecycle):
    kind: ClassVar[str] = "timeout"
    queue: str
    wait_seconds: int | None


@dataclass(frozen=True, kw_only=True)
class CallRefused(CallLifecycle):
    """The queue turned the caller away (QUEUESTATUS FULL, JOINEMPTY, LEAVEEMPTY or LEAVEUNAVAIL)."""

    kind: ClassVar[str] = "refused"
    queue: str
    reason: str  # the QUEUESTATUS value
    wait_seconds: int | None = None


@dataclass(frozen=True, kw_only=True)
class CallOverflowed(CallLifecycle):
    """The desk (专席) the caller was routed to had nobody in time, or nobody at all: on to ``queue``."""

    kind: ClassVar[str] = "overflowed"
    desk: str
    queue: str
    reason: str  # the desk's QUEUESTATUS: TIMEOUT, JOINEMPTY, LEAVEEMPTY …
    wait_seconds: int | None = None


@dataclass(frozen=True, kw_only=True)
class CallTransferred(CallLifecycle):
    kind: ClassVar[str] = "transferred"
    target: str  # "exten@context"
    to_110: bool
    mode: str  # redirect | blind | attended | ivr
    interface: str = ""


@dataclass(frozen=True, kw_only=True)
class CallbackOriginated(CallLifecycle):
    """An outbound call we originated (callback, revisit or IVR survey).

    ``linkedid`` is empty when the Originate failed (no channel was created). ``purpose``
    and ``reference`` are the call's HOTLINE_PURPOSE / HOTLINE_REFERENCE ("" when unknown);
    ``interface`` is the agent's member interface ("" for a survey: no agent leg).
    """

    kind: ClassVar[str] = "callback"
    number: str
    interface: str
    success: bool
    reason: str
    action_id: str
    purpose: str = ""
    reference: str = ""


@dataclass(frozen=True, kw_only=True)
class SurveyAnswered(CallLifecycle):
    """The citizen pressed ``digit`` in the IVR survey of the call originated with ``reference``."""

    kind: ClassVar[str] = "survey_answered"
    reference: str
    digit: str


@dataclass(frozen=True, kw_only=True)
class RecordingStarted(CallLifecycle):
    """MixMonitor began recording the call (``MixMonitorStart``) into ``filename``, as the PBX names it
    (``MIXMONITOR_FILENAME``; "" when that VarSet was not seen). ``channel``: the channel it records."""

    kind: ClassVar[str] = "recording_started"
    filename: str
    channel: str


@dataclass(frozen=True, kw_only=True)
class RecordingStopped(CallLifecycle):
    """StopMixMonitor ran on the call's recorded channel (``MixMonitorStop``): the rest is not recorded."""

    kind: ClassVar[str] = "recording_stopped"
    channel: str


@dataclass(frozen=True, kw_only=True)
class CallEnded(CallLifecycle):
    """Final summary. Sent again (same linkedid) if a late event changes it."""

    kind: ClassVar[str] = "ended"
    outcome: str
    queue: str
    caller_number: str
    caller_name: str
    interface: str
    member_name: str
    offered_at: float | None
    answered_at: float | None
    wait_seconds: int | None
    talk_seconds: int | None
    ivr_choice: str
