"""Pure translator: AMI events in, call-lifecycle events out. No I/O, no clock, no Django.

One call = one ``Linkedid`` (the Uniqueid of the call's first channel, shared by the
caller, agent and 110 legs). What the real Asterisk 22 traces taught us, and this
module relies on:

* ``QueueCallerLeave`` comes *before* ``AgentConnect``; ``AgentComplete`` before the
  caller's own ``Hangup``.
* An abandon and a queue timeout both send ``QueueCallerAbandon`` + ``QueueCallerLeave``.
  In a timeout the caller is still alive and ``VarSet QUEUESTATUS=TIMEOUT`` follows;
  in an abandon the caller's ``Hangup`` follows. So the abandon is decided later, once.
* ``AgentComplete`` may carry no Channel/Uniqueid/Linkedid at all (after a Redirect,
  or when the caller was hung up by the AMI ``Hangup`` action): correlate on the
  member ``Interface`` (and ``HoldTime``).
* A Redirect leaves no event of its own: the caller channel shows up in the 110
  context (``Newexten``). ``BlindTransfer`` names its target. The first ``Newexten`` after a
  Redirect (or a dialplan Goto) names the new place with the *old* application, and it is
  sent even when the extension does not exist (telephony/traces/transfer_lost.ami: the
  caller is hung up at once): only a later priority there proves the caller reached it.
* A three-way call (docs/asterisk/extensions.conf ``[threeway]``) puts the caller and the
  agent in a ConfBridge room and the agent's channel dials 110, so the 110 leg carries the
  call's Linkedid. Its ``ConfbridgeJoin`` says 110 is in the room; ``VarSet
  HOTLINE_THREEWAY=<DIALSTATUS>`` says it never came (telephony/traces/threeway*.ami).
* Uniqueid numbering restarts with the PBX, so the caller stamps every call with a
  ``pbx_epoch`` (the PBX boot time) and calls :meth:`CallTracker.new_pbx_epoch`.
"""

from __future__ import annotations

import re
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from telephony.lifecycle import (
    ABANDONED,
    ANSWERED,
    CALLBACK,
    IVR_110,
    OVERFLOW_VARIABLE,
    PURPOSE_REVISIT_IVR,
    PURPOSE_VARIABLE,
    REFERENCE_VARIABLE,
    REFUSED,
    TIMEOUT,
    TRANSFERRED,
    TRANSFERRED_110,
    UNKNOWN,
    AgentReleased,
    AgentRinging,
    AgentRingStopped,
    CallAbandoned,
    CallAnswered,
    CallbackOriginated,
    CallEnded,
    CallLifecycle,
    CallOffered,
    CallOverflowed,
    CallRefused,
    CallTimedOut,
    CallTransferred,
    IvrChoiceMade,
    RecordingStarted,
    RecordingStopped,
    SurveyAnswered,
)
from telephony.queue_log import LoggedCall

if TYPE_CHECKING:
    from telephony.reconcile import LiveCaller

# QUEUESTATUS values (app_queue.c): the caller waited too long, or the queue turned the caller away,
# at the door (FULL, JOINEMPTY, JOINUNAVAIL: no QueueCallerJoin at all) or while waiting (LEAVE*).
_TIMED_OUT = "TIMEOUT"
_REFUSED = frozenset({"FULL", "JOINEMPTY", "JOINUNAVAIL", "LEAVEEMPTY", "LEAVEUNAVAIL"})
_NO_VALUE = frozenset({"", "<unknown>"})
# app_mixmonitor.c sets this on the recorded channel (the absolute path it writes) just before MixMonitorStart.
RECORDING_VARIABLE = "MIXMONITOR_FILENAME"


@dataclass(frozen=True)
class TrackerConfig:
    # Queues we follow; empty = every queue.
    queues: frozenset[str] = frozenset()
    # (context, exten) pairs that mean "the police (110)".
    targets_110: frozenset[tuple[str, str]] = frozenset({("emergency", "110")})
    callback_context: str = "callback"
    # Originates into this context are IVR surveys: the citizen's leg only, no agent.
    survey_context: str = "survey"
    # The survey dialplan sets this to the digit the citizen pressed (see docs/asterisk/extensions.conf).
    survey_variable: str = "HOTLINE_SURVEY_RESULT"
    # The dialplan sets this when the caller picks an IVR option (see docs/asterisk/extensions.conf).
    ivr_variable: str = "HOTLINE_IVR_CHOICE"
    ivr_110_choices: frozenset[str] = frozenset({"110"})
    # The three-way dialplan sets this to the DIALSTATUS of the called party (110, a unit's duty phone).
    threeway_variable: str = "HOTLINE_THREEWAY"
    # The context consult and blind transfers dial through (docs/asterisk/extensions.conf [hotline-transfer]).
    transfer_context: str = "hotline-transfer"
    # Ended calls remembered so duplicates and late events are recognised.
    max_recent: int = 20_000
    # Originates (by ActionID) and Linkedids whose HOTLINE_* variables we keep until the call shows up.
    max_pending: int = 4_096


# --- per-call state -----------------------------------------------------------------


@dataclass
class CallState:
    linkedid: str
    pbx_epoch: int
    is_callback: bool = False
    purpose: str = ""  # HOTLINE_PURPOSE of a call we originated
    reference: str = ""  # its HOTLINE_REFERENCE
    survey_digit: str = ""  # the IVR survey's answer, once given
    queue: str = ""
    # The desk (专席) the caller was first queued at; after an overflow ``queue`` is the general one.
    desk: str = ""
    overflowed: bool = False
    desk_wait: int = 0  # seconds waited at the desk before the overflow (added to the general queue's wait)
    caller_number: str = ""
    caller_name: str = ""
    caller_uniqueid: str = ""  # the caller channel in the queue (or the IVR channel)
    caller_channel: str = ""  # its name, e.g. Local/13800138000@callers-0000001;2 (the Redirect target)
    agent_channel: str = ""  # the agent leg once answered (BlindTransfer target)
    offered_at: float | None = None
    ringing: set[str] = field(default_factory=set)
    answered: bool = False
    answered_at: float | None = None
    interface: str = ""
    member_name: str = ""
    agent_uniqueid: str = ""
    wait_seconds: int | None = None
    talk_seconds: int | None = None
    released: bool = False
    abandon_pending: bool = False
    abandoned: bool = False
    timed_out: bool = False
    refused: str = ""  # the QUEUESTATUS that turned the caller away
    reached_110: bool = False
    transferred: bool = False
    # Three-way room: channels of the call in it now (Uniqueid -> channel), the called party that
    # joined (its channel), and the DIALSTATUS of a called party that did not answer.
    in_room: dict[str, str] = field(default_factory=dict)
    threeway_joined: str = ""
    threeway_failed: str = ""
    ivr_choice: str = ""
    ended: bool = False
    ended_at: float | None = None
    outcome: str = ""
    # MixMonitor: the channel it records (StopMixMonitor's target), the file, and what was reported.
    recording_channel: str = ""
    recording_file: str = ""
    recording_started: bool = False
    recording_stopped: bool = False
    # Call controls (telephony/call_controls.py): the caller hears music on hold now; the bridge each of
    # the caller's and the agent's channels is in (Uniqueid -> BridgeUniqueid); the consulted party of
    # an attended transfer (its channel and DIALSTATUS, from its DialEnd).
    hearing_music: bool = False
    bridge_of: dict[str, str] = field(default_factory=dict)
    consult_channel: str = ""
    consult_status: str = ""
    # What the bridge's own commands confirmed: the caller held, the agent muted, the number consulted.
    held: bool = False
    muted: bool = False
    consulting: str = ""

    def caller_with_agent(self) -> bool:
        """The caller and the agent are in one bridge and the caller hears no music."""
        bridge = self.bridge_of.get(self.caller_uniqueid)
        return bool(bridge) and bridge == self.bridge_of.get(self.agent_uniqueid) and not self.hearing_music


def _int(value: str) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _first(event: Mapping[str, Any], key: str) -> str:
    value = event.get(key, "")
    return value[0] if isinstance(value, list) else value


def member_interface(channel: str) -> str:
    """``Local/1001@agents-00000009;1`` -> ``Local/1001@agents``; ``PJSIP/1001-0000002a`` -> ``PJSIP/1001``."""
    base = channel.split(";", 1)[0]
    head, sep, tail = base.rpartition("-")
    if sep and len(tail) == 8 and all(c in "0123456789abcdef" for c in tail):
        return head
    return base


class CallTracker:
    """Follows calls of the hotline queues. ``feed(event)`` returns lifecycle events.

    Idempotent: feeding the same event twice yields nothing the second time.
    """

    def __init__(self, config: TrackerConfig | None = None, *, pbx_epoch: int = 0) -> None:
        self.config = config or TrackerConfig()
        self.pbx_epoch = pbx_epoch
        self.calls: dict[str, CallState] = {}
        self._recent: OrderedDict[str, CallState] = OrderedDict()
        # Answered calls per member interface whose AgentComplete has not arrived yet, oldest first.
        self._awaiting_complete: dict[str, deque[str]] = {}
        # Originates the bridge sent, by ActionID: (purpose, reference, number), until their OriginateResponse.
        self._expected: OrderedDict[str, tuple[str, str, str]] = OrderedDict()
        # HOTLINE_PURPOSE / HOTLINE_REFERENCE seen in VarSet, by Linkedid (Asterisk sets an Originate's
        # variables on its first channel, before the OriginateResponse).
        self._tags: OrderedDict[str, dict[str, str]] = OrderedDict()
        # The queue a channel is entering (Newexten of Queue()), by Linkedid: a refused caller gets
        # no QueueCallerJoin, so this is the only place its queue shows (when Newexten is not filtered).
        self._entering: OrderedDict[str, str] = OrderedDict()
        # MixMonitor runs before Queue() (and as a callback's agent leg enters the dialplan), so its
        # VarSet MIXMONITOR_FILENAME and MixMonitorStart come before the call is known: kept by Linkedid.
        self._recordings: OrderedDict[str, dict[str, Any]] = OrderedDict()
        # HOTLINE_OVERFLOW by Linkedid: the queue a caller waiting at a desk goes on to (telephony.desks).
        self._overflow: OrderedDict[str, str] = OrderedDict()
        self._handlers: dict[str, Callable[[Mapping[str, Any], float | None], list[CallLifecycle]]] = {
            "QueueCallerJoin": self._on_join,
            "AgentCalled": self._on_agent_called,
            "AgentRingNoAnswer": self._on_ring_no_answer,
            "AgentConnect": self._on_agent_connect,
            "AgentComplete": self._on_agent_complete,
            "QueueCallerAbandon": self._on_abandon,
            "VarSet": self._on_varset,
            "Newexten": self._on_newexten,
            "BlindTransfer": self._on_blind_transfer,
            "AttendedTransfer": self._on_attended_transfer,
            "OriginateResponse": self._on_originate_response,
            "Hangup": self._on_hangup,
            "MixMonitorStart": self._on_mixmonitor_start,
            "MixMonitorStop": self._on_mixmonitor_stop,
            "ConfbridgeJoin": self._on_room,
            "ConfbridgeLeave": self._on_room,
            "MusicOnHoldStart": self._on_control,
            "MusicOnHoldStop": self._on_control,
            "BridgeEnter": self._on_control,
            "BridgeLeave": self._on_control,
            "DialEnd": self._on_control,
        }

    # --- public API ---------------------------------------------------------------

    def feed(self, event: Mapping[str, Any], at: float | None = None) -> list[CallLifecycle]:
        # Called for every AMI event of the PBX: the plain-string case without a helper call.
        name = event.get("Event", "")
        handler = self._handlers.get(name if name.__class__ is str else _first(event, "Event"))
        if handler is None:
            return []
        stamp = event.get("Timestamp")
        if stamp:
            at = _float(stamp if stamp.__class__ is str else _first(event, "Timestamp"), at)
        return handler(event, at)

    def expect_originate(self, action_id: str, *, purpose: str, reference: str = "", number: str = "") -> None:
        """The bridge is about to send an Originate with this ActionID: remember why, for its OriginateResponse."""
        self._expected[action_id] = (purpose, reference, number)
        while len(self._expected) > self.config.max_pending:
            self._expected.popitem(last=False)

    def call(self, linkedid: str) -> CallState | None:
        return self.calls.get(linkedid) or self._recent.get(linkedid)

    def interested_in(self, event: Mapping[str, Any]) -> bool:
        """Cheap check the bridge uses to decide whether to keep an event for the audit log."""
        linkedid = _first(event, "Linkedid") or _first(event, "TransfereeLinkedid")
        return bool(linkedid) and (linkedid in self.calls or linkedid in self._recent)

    def new_pbx_epoch(self, pbx_epoch: int) -> None:
        """The PBX restarted: Uniqueids may repeat, so forget ended calls (live ones go through resync)."""
        if pbx_epoch != self.pbx_epoch:
            self.pbx_epoch = pbx_epoch
            self._recent.clear()

    def resync(
        self,
        live_linkedids: Iterable[str],
        at: float | None = None,
        logged: Mapping[tuple[int, str], LoggedCall] | None = None,
    ) -> list[CallLifecycle]:
        """Close tracked calls that no longer exist on the PBX (after a reconnect).

        A vanished call ends as the PBX's queue_log says (``logged``, by PBX boot and the caller
        channel's Uniqueid): answered, abandoned, timeout or refused. Without a line there it ends as
        ``unknown``: we did not see how it ended. An answered one keeps its answer time, which
        is what the answer rate counts.
        """
        live = set(live_linkedids)
        logged = logged or {}
        out: list[CallLifecycle] = []
        # A call of an earlier PBX boot is gone whatever the channels say (Uniqueids start over).
        gone = [lid for lid, st in self.calls.items() if lid not in live or st.pbx_epoch != self.pbx_epoch]
        for linkedid in gone:
            state = self.calls[linkedid]
            record = logged.get((state.pbx_epoch, state.caller_uniqueid)) if state.caller_uniqueid else None
            if record is not None and record.outcome and not state.is_callback:
                out.extend(self.finish_from_log(state, record))
                continue
            outcome = self._outcome(state)
            if outcome in (ABANDONED, TIMEOUT) and not (state.abandoned or state.timed_out):
                outcome = UNKNOWN
            if outcome == ANSWERED:
                outcome = UNKNOWN
            out.extend(self._end(state, at, outcome=outcome))
        return out

    def adopt(
        self,
        linkedid: str,
        *,
        pbx_epoch: int,
        queue: str = "",
        caller_number: str = "",
        answered: bool = False,
        interface: str = "",
        offered_at: float | None = None,
        caller_uniqueid: str = "",
    ) -> None:
        """Resume following a call known from the database (the bridge restarted mid-call)."""
        if linkedid in self.calls:
            return
        state = CallState(linkedid=linkedid, pbx_epoch=pbx_epoch, queue=queue, caller_number=caller_number)
        state.caller_uniqueid = caller_uniqueid
        state.answered, state.interface, state.offered_at = answered, interface, offered_at
        if answered and interface:
            self._awaiting_complete.setdefault(interface, deque(maxlen=8)).append(linkedid)
        self.calls[linkedid] = state

    def adopt_live(self, live: LiveCaller, at: float | None = None) -> list[CallLifecycle]:
        """A caller the PBX shows after a reconnect (``telephony.reconcile``): follow it from here.

        Unknown here (it joined while we were away): a new call, offered at its queue_log
        ENTERQUEUE time (or now - its wait), answered if it is bridged with an agent. Known: what
        we missed meanwhile (the answer, the Redirect to 110) is caught up.
        """
        if live.linkedid in self._recent:
            return []
        state = self.calls.get(live.linkedid)
        out: list[CallLifecycle] = []
        if state is None:
            state = self.calls[live.linkedid] = CallState(linkedid=live.linkedid, pbx_epoch=self.pbx_epoch)
        if not state.queue and live.queue:
            state.queue = live.queue
            state.caller_uniqueid = state.caller_uniqueid or live.caller_uniqueid
            state.caller_channel = state.caller_channel or live.caller_channel
            state.caller_number = state.caller_number or live.caller_number
            state.caller_name = state.caller_name or live.caller_name
            state.offered_at = state.offered_at or live.offered_at
            out.append(_offered(state, state.offered_at))
        state.caller_uniqueid = state.caller_uniqueid or live.caller_uniqueid
        # A call resumed from the database has no channels: the commands (hang up, transfers, the
        # call controls) need them, and a caller held while we were away must be taken back.
        state.caller_channel = state.caller_channel or live.caller_channel
        if live.agent_channel:
            state.agent_channel = state.agent_channel or live.agent_channel
            state.agent_uniqueid = state.agent_uniqueid or live.agent_uniqueid
        if live.held:
            state.held = state.hearing_music = True
        # Where the caller and the agent are bridged now: unhold and cancel wait for both in one bridge.
        for uniqueid, bridge in ((live.caller_uniqueid, live.caller_bridge), (live.agent_uniqueid, live.agent_bridge)):
            if uniqueid and bridge:
                state.bridge_of[uniqueid] = bridge
        if live.consulting and not state.consulting:
            # A consult transfer the bridge's own Atxfer began before a restart (or a standby's takeover):
            # the caller waits with music; the consulted party answered, or rings (its DialEnd then comes).
            state.consulting, state.consult_channel = live.consulting, live.consult_channel
            state.consult_status = "ANSWER" if live.consult_answered else ""
            state.hearing_music = True
        if live.answered and not state.answered:
            state.answered = True
            state.answered_at = live.answered_at
            state.abandon_pending = False
            state.interface = state.interface or live.interface
            state.member_name = state.member_name or live.member_name
            if live.wait_seconds is not None:
                state.wait_seconds = live.wait_seconds
            state.ringing.clear()
            if state.interface:
                self._awaiting_complete.setdefault(state.interface, deque(maxlen=8)).append(state.linkedid)
            out.append(_answered(state))
        if live.at_110 and not state.reached_110:
            out.extend(self._mark_110(state, live.at_110, "redirect" if state.answered else "ivr", at))
        return out

    def finish_from_log(self, state: CallState, record: LoggedCall) -> list[CallLifecycle]:
        """End a call that ended while we were away, as the PBX's queue_log says."""
        out: list[CallLifecycle] = []
        at = float(record.ended_at) if record.ended_at is not None else None
        if record.outcome == ANSWERED:
            if not state.answered:
                state.answered = True
                state.answered_at = float(record.connected_at) if record.connected_at is not None else at
                state.member_name = state.member_name or record.member_name
            state.talk_seconds = record.talk_seconds if record.talk_seconds is not None else state.talk_seconds
            pending = self._awaiting_complete.get(state.interface)
            if pending and state.linkedid in pending:
                pending.remove(state.linkedid)
        elif not state.answered:
            if record.outcome == TIMEOUT:
                state.timed_out = True
            elif record.outcome == REFUSED:
                state.refused = state.refused or "LEAVEEMPTY"
        if record.wait_seconds is not None:
            state.wait_seconds = record.wait_seconds
        if state.answered and not state.released:
            state.released = True
            out.append(
                AgentReleased(
                    linkedid=state.linkedid,
                    pbx_epoch=state.pbx_epoch,
                    at=at,
                    interface=state.interface,
                    talk_seconds=state.talk_seconds,
                    reason="queue_log",
                )
            )
        out.extend(self._end(state, at))
        return out

    def live_call_of(self, interface: str) -> CallState | None:
        """The answered, still live call of an agent's member interface (for transfers and hangups)."""
        for state in self.calls.values():
            if state.answered and not state.ended and not state.released and state.interface == interface:
                return state
        return None

    def live_by_queue(self) -> dict[str, list[CallState]]:
        """Callers still waiting in each queue (offered, not answered, not left)."""
        out: dict[str, list[CallState]] = {}
        for state in self.calls.values():
            waiting = not (state.answered or state.abandon_pending or state.timed_out or state.refused)
            if state.queue and waiting:
                out.setdefault(state.queue, []).append(state)
        return out

    # --- handlers -----------------------------------------------------------------

    def _before_queue(self, linkedid: str, event: Mapping[str, Any], at: float | None) -> CallState:
        """The call's state, begun from this event when the caller has not reached a queue yet."""
        state = self.calls.get(linkedid)
        if state is None:
            state = self.calls[linkedid] = CallState(linkedid=linkedid, pbx_epoch=self.pbx_epoch)
            state.caller_uniqueid = _first(event, "Uniqueid")
            number = _first(event, "CallerIDNum")
            state.caller_number = "" if number in _NO_VALUE else number
            state.offered_at = at
        return state

    def _live(self, event: Mapping[str, Any]) -> CallState | None:
        return self.calls.get(_first(event, "Linkedid"))

    def _on_join(self, event: Mapping[str, Any], at: float | None) -> list[CallLifecycle]:
        queue = _first(event, "Queue")
        if self.config.queues and queue not in self.config.queues:
            return []
        linkedid = _first(event, "Linkedid")
        if not linkedid or linkedid in self._recent:
            return []
        state = self.calls.get(linkedid)
        if state is None:
            state = self.calls[linkedid] = CallState(linkedid=linkedid, pbx_epoch=self.pbx_epoch)
        elif state.queue:
            return []  # duplicate, or a second queue for the same call: the first one counts
        state.queue = queue
        state.desk = state.desk or queue
        state.caller_uniqueid = _first(event, "Uniqueid")
        state.caller_channel = _first(event, "Channel")
        number = _first(event, "CallerIDNum")
        name = _first(event, "CallerIDName")
        if number not in _NO_VALUE:
            state.caller_number = number
        if name not in _NO_VALUE and name != number:
            state.caller_name = name
        if state.overflowed:
            # On from a desk: the same call, offered when it reached the desk; the row learns its new queue.
            return []
        state.offered_at = at
        return [_offered(state, at), *self._recording_news(state)]

    def _on_agent_called(self, event: Mapping[str, Any], at: float | None) -> list[CallLifecycle]:
        state = self._live(event)
        interface = _first(event, "Interface")
        if state is None or state.answered or interface in state.ringing:
            return []
        state.ringing.add(interface)
        return [
            AgentRinging(
                linkedid=state.linkedid,
                pbx_epoch=state.pbx_epoch,
                at=at,
                queue=state.queue,
                interface=interface,
                member_name=_first(event, "MemberName"),
                caller_number=state.caller_number,
            )
        ]

    def _on_ring_no_answer(self, event: Mapping[str, Any], at: float | None) -> list[CallLifecycle]:
        state = self._live(event)
        interface = _first(event, "Interface")
        if state is None or interface not in state.ringing:
            return []
        state.ringing.discard(interface)
        return [self._ring_stopped(state, interface, "no_answer", at)]

    def _ring_stopped(self, state: CallState, interface: str, reason: str, at: float | None) -> AgentRingStopped:
        return AgentRingStopped(
            linkedid=state.linkedid, pbx_epoch=state.pbx_epoch, at=at, interface=interface, reason=reason
        )

    def _on_agent_connect(self, event: Mapping[str, Any], at: float | None) -> list[CallLifecycle]:
        linkedid = _first(event, "Linkedid")
        state = self.calls.get(linkedid) or self._recent.get(linkedid)
        if state is None or state.answered:
            return []
        interface = _first(event, "Interface")
        state.answered = True
        state.answered_at = at
        state.abandon_pending = False
        state.interface = interface
        state.member_name = _first(event, "MemberName")
        state.agent_uniqueid = _first(event, "DestUniqueid")
        state.agent_channel = _first(event, "DestChannel")
        state.wait_seconds = _with_desk_wait(state, _int(_first(event, "HoldTime")))
        self._awaiting_complete.setdefault(interface, deque(maxlen=8)).append(linkedid)
        out: list[CallLifecycle] = [
            self._ring_stopped(state, other, "answered_elsewhere", at) for other in sorted(state.ringing - {interface})
        ]
        state.ringing.clear()
        out.append(_answered(state, ring_seconds=_int(_first(event, "RingTime"))))
        if state.ended:
            # Out of order: the caller's Hangup overtook AgentConnect. The answer is the truth.
            out.append(self._summary(state, self._outcome(state)))
        return out

    def _on_agent_complete(self, event: Mapping[str, Any], at: float | None) -> list[CallLifecycle]:
        interface = _first(event, "Interface")
        linkedid = _first(event, "Linkedid") or self._correlate_complete(interface, _first(event, "HoldTime"))
        state = self.calls.get(linkedid) or self._recent.get(linkedid)
        if state is None:
            return []
        out: list[CallLifecycle] = []
        if not state.answered and not state.is_callback:
            # We missed its AgentConnect (it fell in an outage, or the call was adopted on reconnect):
            # an agent completed the call, so it was answered; a callback must never follow.
            out.extend(self._answered_late(state, event, at))
        pending = self._awaiting_complete.get(interface)
        if pending and linkedid in pending:
            pending.remove(linkedid)
        talk = _int(_first(event, "TalkTime"))
        reason = _first(event, "Reason")
        changed = state.talk_seconds is None and talk is not None
        if changed:
            state.talk_seconds = talk
        if reason == "transfer" and not state.reached_110:
            state.transferred = True
        if not state.released:
            state.released = True
            out.append(
                AgentReleased(
                    linkedid=linkedid,
                    pbx_epoch=state.pbx_epoch,
                    at=at,
                    interface=interface,
                    talk_seconds=talk,
                    reason=reason,
                )
            )
        if state.ended and (changed or (out and isinstance(out[0], CallAnswered))):
            out.append(self._summary(state, self._outcome(state)))
        return out

    def _answered_late(self, state: CallState, event: Mapping[str, Any], at: float | None) -> list[CallLifecycle]:
        """An AgentComplete for a call we never saw answered: answered ``TalkTime`` seconds before."""
        talk = _int(_first(event, "TalkTime"))
        hold = _int(_first(event, "HoldTime"))
        state.answered = True
        state.answered_at = at - talk if at is not None and talk is not None else at
        state.abandon_pending = state.abandoned = state.timed_out = False
        state.refused = ""
        state.interface = state.interface or _first(event, "Interface")
        state.member_name = state.member_name or _first(event, "MemberName")
        if hold is not None:
            state.wait_seconds = hold
        state.ringing.clear()
        return [_answered(state)]

    def _correlate_complete(self, interface: str, hold: str) -> str:
        pending = self._awaiting_complete.get(interface)
        if not pending:
            return ""
        hold_time = _int(hold)
        for linkedid in pending:
            state = self.call(linkedid)
            if state is not None and state.wait_seconds == hold_time:
                return linkedid
        return pending[0]

    def _on_abandon(self, event: Mapping[str, Any], at: float | None) -> list[CallLifecycle]:
        state = self._live(event)
        if state is None or state.answered or state.abandon_pending or state.abandoned or state.timed_out:
            return []
        # Abandon or timeout? Decided by what follows: QUEUESTATUS=TIMEOUT or the caller's Hangup.
        state.abandon_pending = True
        state.wait_seconds = _with_desk_wait(state, _int(_first(event, "HoldTime")))
        return [self._ring_stopped(state, i, "caller_left", at) for i in sorted(state.ringing)]

    def _on_varset(self, event: Mapping[str, Any], at: float | None) -> list[CallLifecycle]:
        variable = _first(event, "Variable")
        if variable in (PURPOSE_VARIABLE, REFERENCE_VARIABLE):
            self._tag(event, variable)
            return []
        if variable == self.config.survey_variable:
            return self._on_survey_result(event, at)
        if variable == RECORDING_VARIABLE:
            linkedid, filename = _first(event, "Linkedid"), _first(event, "Value")
            if linkedid and filename:
                self._recording_of(linkedid)["filename"] = filename
            return []
        if variable == OVERFLOW_VARIABLE:
            self._mark_overflow(event)
            return []
        if variable == self.config.threeway_variable:
            state = self._live(event)
            value = _first(event, "Value")
            if state is not None and value not in _NO_VALUE and value != "ANSWER":
                state.threeway_failed = value
            return []
        if variable == "QUEUESTATUS":
            value = _first(event, "Value")
            target = self._overflow.get(_first(event, "Linkedid"))
            if target and (value == _TIMED_OUT or value in _REFUSED):
                overflowed = self._on_desk_left(event, value, target, at)
                if overflowed is not None:
                    return overflowed
            if value in _REFUSED:
                return self._on_refused(event, value, at)
            state = self._live(event)
            if state is None or not state.queue or state.answered or state.timed_out or state.refused:
                return []
            if value != _TIMED_OUT:
                return []
            state.timed_out = True
            state.abandon_pending = False
            state.ringing.clear()
            return [
                CallTimedOut(
                    linkedid=state.linkedid,
                    pbx_epoch=state.pbx_epoch,
                    at=at,
                    queue=state.queue,
                    wait_seconds=state.wait_seconds,
                )
            ]
        if variable == self.config.ivr_variable:
            linkedid = _first(event, "Linkedid")
            choice = _first(event, "Value")
            if not linkedid or not choice or linkedid in self._recent:
                return []
            state = self._before_queue(linkedid, event, at)
            if state.ivr_choice == choice:
                return []
            state.ivr_choice = choice
            return [
                IvrChoiceMade(
                    linkedid=linkedid,
                    pbx_epoch=state.pbx_epoch,
                    at=at,
                    choice=choice,
                    caller_number=state.caller_number,
                )
            ]
        return []

    def _mark_overflow(self, event: Mapping[str, Any]) -> None:
        linkedid = _first(event, "Linkedid")
        value = _first(event, "Value").strip()
        if not linkedid:
            return
        if value in _NO_VALUE:
            self._overflow.pop(linkedid, None)
            return
        self._overflow[linkedid] = value
        self._overflow.move_to_end(linkedid)
        while len(self._overflow) > self.config.max_pending:
            self._overflow.popitem(last=False)

    def _on_desk_left(
        self, event: Mapping[str, Any], value: str, target: str, at: float | None
    ) -> list[CallLifecycle] | None:
        """A caller leaves a desk's queue with no agent (timeout, or nobody there): on to ``target``.

        None when this is no desk overflow (the caller is in ``target`` itself, or the queue is
        unknown): the QUEUESTATUS is then read as usual.
        """
        linkedid = _first(event, "Linkedid")
        if linkedid in self._recent:
            return []
        state = self.calls.get(linkedid)
        out: list[CallLifecycle] = []
        if state is None or not state.queue:
            # Turned away at the door (JOINEMPTY: nobody logged in at the desk): never joined, so new here.
            queue = self._entering.get(linkedid, "")
            if not queue or queue == target or (self.config.queues and queue not in self.config.queues):
                return None
            self._entering.pop(linkedid, None)
            state = self._before_queue(linkedid, event, at)
            state.queue = state.desk = queue
            state.caller_channel = state.caller_channel or _first(event, "Channel")
            name = _first(event, "CallerIDName")
            if name not in _NO_VALUE and name != state.caller_number:
                state.caller_name = name
            state.offered_at = at
            out.append(_offered(state, at))
        if state.queue == target:
            return None
        if state.answered or state.overflowed:
            return out
        desk = state.queue
        out.extend(self._ring_stopped(state, i, "caller_left", at) for i in sorted(state.ringing))
        state.ringing.clear()
        state.desk_wait = state.wait_seconds or 0
        state.queue, state.overflowed = "", True
        state.abandon_pending = state.timed_out = False
        state.refused = ""
        self._overflow.pop(linkedid, None)
        out.append(
            CallOverflowed(
                linkedid=linkedid,
                pbx_epoch=state.pbx_epoch,
                at=at,
                desk=desk,
                queue=target,
                reason=value,
                wait_seconds=state.wait_seconds,
            )
        )
        return out

    def _on_refused(self, event: Mapping[str, Any], value: str, at: float | None) -> list[CallLifecycle]:
        """The queue turned the caller away: at the door (no join, so the call is new here) or while waiting."""
        linkedid = _first(event, "Linkedid")
        if not linkedid or linkedid in self._recent:
            return []
        out: list[CallLifecycle] = []
        state = self.calls.get(linkedid)
        if state is None or not state.queue:
            queue = self._entering.pop(linkedid, "")
            if queue and self.config.queues and queue not in self.config.queues:
                return []
            if state is None:
                state = self.calls[linkedid] = CallState(linkedid=linkedid, pbx_epoch=self.pbx_epoch)
            state.queue = queue
            state.caller_uniqueid = _first(event, "Uniqueid")
            state.caller_channel = _first(event, "Channel")
            number, name = _first(event, "CallerIDNum"), _first(event, "CallerIDName")
            state.caller_number = state.caller_number or ("" if number in _NO_VALUE else number)
            if name not in _NO_VALUE and name != number:
                state.caller_name = name
            state.offered_at = state.offered_at or at
            out.append(_offered(state, at))
        if state.answered or state.timed_out or state.refused:
            return out
        state.refused = value
        state.abandon_pending = False
        out.extend(self._ring_stopped(state, i, "caller_left", at) for i in sorted(state.ringing))
        state.ringing.clear()
        out.append(
            CallRefused(
                linkedid=linkedid,
                pbx_epoch=state.pbx_epoch,
                at=at,
                queue=state.queue,
                reason=value,
                wait_seconds=state.wait_seconds,
            )
        )
        return out

    def _tag(self, event: Mapping[str, Any], variable: str) -> None:
        linkedid = _first(event, "Linkedid")
        value = _first(event, "Value")
        if not linkedid or not value:
            return
        state = self.calls.get(linkedid)
        if state is not None and state.is_callback:
            # The call is known already (VarSet after OriginateResponse): what the ActionID said wins.
            if variable == PURPOSE_VARIABLE and not state.purpose:
                state.purpose = value
            elif variable == REFERENCE_VARIABLE and not state.reference:
                state.reference = value
            return
        tags = self._tags.setdefault(linkedid, {})
        tags.setdefault(variable, value)
        self._tags.move_to_end(linkedid)
        while len(self._tags) > self.config.max_pending:
            self._tags.popitem(last=False)

    def _on_survey_result(self, event: Mapping[str, Any], at: float | None) -> list[CallLifecycle]:
        """``VarSet HOTLINE_SURVEY_RESULT`` on a call we originated -> :class:`SurveyAnswered`.

        The value is the digit; a value ``<reference>:<digit>`` (a dialplan that prefixes the
        reference itself) is accepted too. Without a known reference the answer is dropped: we
        cannot tell whose it is.
        """
        linkedid = _first(event, "Linkedid")
        value = _first(event, "Value").strip()
        if not linkedid or value in _NO_VALUE:
            return []
        state = self.call(linkedid)
        tags = self._tags.get(linkedid, {})
        if state is not None and not state.is_callback:
            return []  # a caller's call, not one of our surveys
        reference = (state.reference if state is not None else "") or tags.get(REFERENCE_VARIABLE, "")
        prefix, sep, digit = value.rpartition(":")
        if sep:
            reference = reference or prefix
        else:
            digit = value
        if not reference or not digit:
            return []
        if state is not None:
            if state.survey_digit:
                return []  # a repeat: the first answer counts
            state.survey_digit = digit
        else:
            if tags.get(self.config.survey_variable):
                return []
            tags[self.config.survey_variable] = digit
        return [
            SurveyAnswered(
                linkedid=linkedid,
                pbx_epoch=state.pbx_epoch if state is not None else self.pbx_epoch,
                at=at,
                reference=reference,
                digit=digit,
            )
        ]

    def _on_newexten(self, event: Mapping[str, Any], at: float | None) -> list[CallLifecycle]:
        if _first(event, "Application") == "Queue":
            linkedid = _first(event, "Linkedid")
            if linkedid and (linkedid not in self.calls or not self.calls[linkedid].queue):
                self._entering[linkedid] = _first(event, "AppData").split(",", 1)[0]
                while len(self._entering) > self.config.max_pending:
                    self._entering.popitem(last=False)
            return []
        target = (_first(event, "Context"), _first(event, "Exten") or _first(event, "Extension"))
        if target not in self.config.targets_110:
            return []
        linkedid = _first(event, "Linkedid")
        if not linkedid or linkedid in self._recent:
            return []
        if _first(event, "Priority") == "1":
            # Sent on the jump itself, with the previous application, even to an extension that does
            # not exist: not yet proof. The 110 context's next priority is (extensions.conf: NoOp, Dial).
            return []
        known = self.calls.get(linkedid)
        if known is not None and known.caller_uniqueid and _first(event, "Uniqueid") != known.caller_uniqueid:
            # Another leg of the call in the 110 context: the 110 leg a three-way call dials. The
            # caller has not left; its ConfbridgeJoin says when 110 is with them (_on_room).
            return []
        # Sent to 110 before reaching a queue, by an IVR that set no variable: a call of its own.
        state = self._before_queue(linkedid, event, at)
        if state.reached_110:
            return []
        return self._mark_110(state, target, "redirect" if state.answered else "ivr", at)

    def _mark_110(self, state: CallState, target: tuple[str, str], mode: str, at: float | None) -> list[CallLifecycle]:
        state.reached_110 = True
        return [
            CallTransferred(
                linkedid=state.linkedid,
                pbx_epoch=state.pbx_epoch,
                at=at,
                target=f"{target[1]}@{target[0]}",
                to_110=True,
                mode=mode,
                interface=state.interface,
            )
        ]

    def _on_blind_transfer(self, event: Mapping[str, Any], at: float | None) -> list[CallLifecycle]:
        if _first(event, "Result") != "Success":
            return []
        state = self.calls.get(_first(event, "TransfereeLinkedid"))
        if state is None:
            return []
        target = (_first(event, "Context"), _first(event, "Extension"))
        if target in self.config.targets_110:
            return [] if state.reached_110 else self._mark_110(state, target, "blind", at)
        if state.transferred:
            return []
        state.transferred = True
        return [
            CallTransferred(
                linkedid=state.linkedid,
                pbx_epoch=state.pbx_epoch,
                at=at,
                target=f"{target[1]}@{target[0]}",
                to_110=False,
                mode="blind",
                interface=state.interface,
            )
        ]

    def _on_attended_transfer(self, event: Mapping[str, Any], at: float | None) -> list[CallLifecycle]:
        if _first(event, "Result") != "Success":
            return []
        state = self.calls.get(_first(event, "OrigTransfererLinkedid")) or self.calls.get(
            _first(event, "TransfereeLinkedid")
        )
        if state is None or state.transferred or state.reached_110:
            return []
        state.transferred = True
        target = _first(event, "SecondTransfererExten") or _first(event, "DestApp") or "attended"
        return [
            CallTransferred(
                linkedid=state.linkedid,
                pbx_epoch=state.pbx_epoch,
                at=at,
                target=target,
                to_110=False,
                mode="attended",
                interface=state.interface,
            )
        ]

    def _on_originate_response(self, event: Mapping[str, Any], at: float | None) -> list[CallLifecycle]:
        context = _first(event, "Context")
        survey = context == self.config.survey_context
        if context != self.config.callback_context and not survey:
            return []
        action_id = _first(event, "ActionID")
        purpose, reference, number = self._expected.pop(action_id, ("", "", "")) if action_id else ("", "", "")
        success = _first(event, "Response") == "Success"
        linkedid = _first(event, "Uniqueid") if success else ""
        if linkedid in _NO_VALUE:
            linkedid = ""
        if linkedid and (linkedid in self.calls or linkedid in self._recent):
            return []
        tags = self._tags.pop(linkedid, {}) if linkedid else {}
        purpose = purpose or tags.get(PURPOSE_VARIABLE, "") or (PURPOSE_REVISIT_IVR if survey else "")
        reference = reference or tags.get(REFERENCE_VARIABLE, "")
        if survey:
            # The citizen's own channel was dialled (Exten is "s"): no agent; the number is in the channel name.
            interface = ""
            number = number or _dialled_number(_first(event, "Channel"))
        else:
            interface = member_interface(_first(event, "Channel"))
            number = _first(event, "Exten")
        if linkedid:
            state = self.calls[linkedid] = CallState(linkedid=linkedid, pbx_epoch=self.pbx_epoch, is_callback=True)
            state.caller_number, state.interface, state.offered_at = number, interface, at
            state.caller_uniqueid = linkedid
            state.purpose, state.reference = purpose, reference
            if tags.get(self.config.survey_variable):  # answered before we saw the OriginateResponse
                state.survey_digit = tags[self.config.survey_variable]
        news = self._recording_news(self.calls[linkedid]) if linkedid else []
        return [
            CallbackOriginated(
                linkedid=linkedid,
                pbx_epoch=self.pbx_epoch,
                at=at,
                number=number,
                interface=interface,
                success=success,
                reason=_first(event, "Reason"),
                action_id=action_id,
                purpose=purpose,
                reference=reference,
            ),
            *news,
        ]

    def _recording_of(self, linkedid: str) -> dict[str, Any]:
        rec = self._recordings.setdefault(linkedid, {})
        self._recordings.move_to_end(linkedid)
        while len(self._recordings) > self.config.max_pending:
            self._recordings.popitem(last=False)
        return rec

    def _on_mixmonitor_start(self, event: Mapping[str, Any], at: float | None) -> list[CallLifecycle]:
        return self._on_mixmonitor(event, at, "started")

    def _on_mixmonitor_stop(self, event: Mapping[str, Any], at: float | None) -> list[CallLifecycle]:
        return self._on_mixmonitor(event, at, "stopped")

    def _on_mixmonitor(self, event: Mapping[str, Any], at: float | None, moment: str) -> list[CallLifecycle]:
        """MixMonitorStart/Stop: the first time of each is kept by Linkedid, news once the call is known."""
        linkedid = _first(event, "Linkedid")
        if not linkedid:
            return []
        rec = self._recording_of(linkedid)
        rec.setdefault(moment, at)
        rec.setdefault("channel", _first(event, "Channel"))
        state = self.calls.get(linkedid)
        return self._recording_news(state) if state is not None else []

    def _recording_news(self, state: CallState) -> list[CallLifecycle]:
        """What MixMonitor reported of this call and was not told yet: its start, then its stop."""
        rec = self._recordings.get(state.linkedid)
        if not rec:
            return []
        out: list[CallLifecycle] = []
        state.recording_file = rec.get("filename", state.recording_file)
        state.recording_channel = state.recording_channel or rec.get("channel", "")
        if "started" in rec and not state.recording_started:
            state.recording_started = True
            out.append(
                RecordingStarted(
                    linkedid=state.linkedid,
                    pbx_epoch=state.pbx_epoch,
                    at=rec["started"],
                    filename=state.recording_file,
                    channel=state.recording_channel,
                )
            )
        if "stopped" in rec and state.recording_started and not state.recording_stopped:
            state.recording_stopped = True
            out.append(
                RecordingStopped(
                    linkedid=state.linkedid,
                    pbx_epoch=state.pbx_epoch,
                    at=rec["stopped"],
                    channel=state.recording_channel,
                )
            )
        return out

    def _on_room(self, event: Mapping[str, Any], at: float | None) -> list[CallLifecycle]:
        """``ConfbridgeJoin``/``ConfbridgeLeave`` of a channel of a call we follow: who is in its room.

        A channel that is neither the caller's nor the agent's is the called party of a
        three-way call (110 or a unit's duty phone), dialled from the agent's channel.
        """
        state = self._live(event)
        if state is None:
            return []
        uniqueid, channel = _first(event, "Uniqueid"), _first(event, "Channel")
        if _first(event, "Event") == "ConfbridgeLeave":
            state.in_room.pop(uniqueid, None)
            return []
        state.in_room[uniqueid] = channel
        if uniqueid not in (state.caller_uniqueid, state.agent_uniqueid, state.linkedid):
            state.threeway_joined = channel
        return []

    def _on_control(self, event: Mapping[str, Any], at: float | None) -> list[CallLifecycle]:
        """What the call controls wait for: music on hold, bridges, the consulted party's DialEnd.

        An answered call only; nothing of the call's lifecycle changes (a hold or a consultation is
        no new call: the consulted leg has the call's Linkedid and is no caller of its own).
        """
        name = _first(event, "Event")
        if name == "DialEnd":
            # Atxfer dials with no calling channel: the DialEnd has Dest* fields only.
            if _first(event, "Channel") or _first(event, "DestContext") != self.config.transfer_context:
                return []
            state = self.calls.get(_first(event, "DestLinkedid"))
            if state is not None and state.answered:
                state.consult_channel = _first(event, "DestChannel")
                state.consult_status = _first(event, "DialStatus")
            return []
        state = self._live(event)
        if state is None or not state.answered:
            return []
        uniqueid = _first(event, "Uniqueid")
        if uniqueid not in (state.caller_uniqueid, state.agent_uniqueid):
            return []
        if name == "BridgeEnter":
            state.bridge_of[uniqueid] = _first(event, "BridgeUniqueid")
        elif name == "BridgeLeave":
            if state.bridge_of.get(uniqueid) == _first(event, "BridgeUniqueid"):
                state.bridge_of.pop(uniqueid, None)
        elif uniqueid == state.caller_uniqueid:
            state.hearing_music = name == "MusicOnHoldStart"
        return []

    def _on_hangup(self, event: Mapping[str, Any], at: float | None) -> list[CallLifecycle]:
        state = self._live(event)
        if state is None:
            return []
        uniqueid = _first(event, "Uniqueid")
        out: list[CallLifecycle] = []
        if uniqueid and uniqueid == state.agent_uniqueid and not state.released:
            # The agent leg is gone (e.g. after a Redirect) but AgentComplete may come much later.
            state.released = True
            out.append(
                AgentReleased(
                    linkedid=state.linkedid,
                    pbx_epoch=state.pbx_epoch,
                    at=at,
                    interface=state.interface,
                    talk_seconds=None,
                    reason="agent_leg_hangup",
                )
            )
        if uniqueid in (state.linkedid, state.caller_uniqueid):
            out.extend(self._end(state, at))
        return out

    # --- ending -------------------------------------------------------------------

    def _outcome(self, state: CallState) -> str:
        if state.is_callback:
            return CALLBACK
        if state.reached_110:
            return TRANSFERRED_110 if state.answered else IVR_110
        if state.transferred:
            return TRANSFERRED
        if state.answered:
            return ANSWERED
        if state.refused:
            return REFUSED
        if state.timed_out:
            return TIMEOUT
        if state.queue or state.overflowed:
            return ABANDONED
        if state.ivr_choice and state.ivr_choice in self.config.ivr_110_choices:
            return IVR_110
        return UNKNOWN

    def _end(self, state: CallState, at: float | None, outcome: str | None = None) -> list[CallLifecycle]:
        out: list[CallLifecycle] = []
        if state.ended:
            return out
        state.ended = True
        state.ended_at = at
        outcome = outcome or self._outcome(state)
        if outcome == ABANDONED:
            state.abandoned = True
            if state.wait_seconds is None and at is not None and state.offered_at is not None:
                state.wait_seconds = int(at - state.offered_at)
            out.extend(self._ring_stopped(state, i, "caller_left", at) for i in sorted(state.ringing))
            out.append(
                CallAbandoned(
                    linkedid=state.linkedid,
                    pbx_epoch=state.pbx_epoch,
                    at=at,
                    queue=state.queue,
                    wait_seconds=state.wait_seconds,
                )
            )
        state.ringing.clear()
        state.abandon_pending = False
        if state.answered and state.talk_seconds is None and at is not None and state.answered_at is not None:
            state.talk_seconds = int(at - state.answered_at)
        out.append(self._summary(state, outcome))
        del self.calls[state.linkedid]
        self._tags.pop(state.linkedid, None)
        self._entering.pop(state.linkedid, None)
        self._recordings.pop(state.linkedid, None)
        self._overflow.pop(state.linkedid, None)
        self._recent[state.linkedid] = state
        while len(self._recent) > self.config.max_recent:
            self._recent.popitem(last=False)
        return out

    def _summary(self, state: CallState, outcome: str) -> CallEnded:
        state.outcome = outcome
        return CallEnded(
            linkedid=state.linkedid,
            pbx_epoch=state.pbx_epoch,
            at=state.ended_at,
            outcome=outcome,
            queue=state.queue,
            caller_number=state.caller_number,
            caller_name=state.caller_name,
            interface=state.interface,
            member_name=state.member_name,
            offered_at=state.offered_at,
            answered_at=state.answered_at,
            wait_seconds=state.wait_seconds,
            talk_seconds=state.talk_seconds,
            ivr_choice=state.ivr_choice,
        )


def _with_desk_wait(state: CallState, hold: int | None) -> int | None:
    """The caller's whole wait: a queue's HoldTime counts from joining it, so add the time at the desk."""
    return hold + state.desk_wait if hold is not None and state.overflowed else hold


def _offered(state: CallState, at: float | None) -> CallOffered:
    """The caller as the state now knows them, offered to its queue at ``at``."""
    return CallOffered(
        linkedid=state.linkedid,
        pbx_epoch=state.pbx_epoch,
        at=at,
        queue=state.queue,
        caller_number=state.caller_number,
        caller_name=state.caller_name,
        caller_uniqueid=state.caller_uniqueid,
    )


def _answered(state: CallState, ring_seconds: int | None = None) -> CallAnswered:
    """The answer as the state now holds it (agent, time, wait), however it was learnt."""
    return CallAnswered(
        linkedid=state.linkedid,
        pbx_epoch=state.pbx_epoch,
        at=state.answered_at,
        queue=state.queue,
        interface=state.interface,
        member_name=state.member_name,
        caller_number=state.caller_number,
        wait_seconds=state.wait_seconds,
        ring_seconds=ring_seconds,
    )


def _dialled_number(channel: str) -> str:
    """``Local/13800138000@pstn-0000000a;1`` or ``PJSIP/13800138000@pstn-trunk-00000002`` -> ``13800138000``."""
    match = re.search(r"/(\d{3,20})(?:@|-[0-9a-f]{8}|$)", channel)
    return match.group(1) if match else ""


def _float(raw: str, default: float | None) -> float | None:
    try:
        return float(raw)
    except ValueError:
        return default
