"""Writes for call records. Every function is idempotent: applying the same lifecycle event twice changes nothing.

The bridge calls :func:`apply_lifecycle` for each event the translator emits, inside
one small transaction, and real-time messages go out only after commit.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from hotline.errors import IllegalTransition, InvalidInput
from hotline.events import agent_group, publish_on_commit
from hotline.models import User
from hotline.services import timeline
from hotline.services.tickets import find_or_create_caller
from telephony import lifecycle as lc
from telephony import pbx as pbxs
from telephony import recordings
from telephony.models import Call, CallEvent
from telephony.queue_log import LoggedCall

log = logging.getLogger(__name__)

WALLBOARD_GROUP = "wallboard"
# The call events that change the wallboard's figures of today (offered, answered, lost, overflowed,
# moved on, ended): only these go to the wallboard group. Ringing and releasing an agent change none of
# them (the live agent states come in the bridge's wallboard.queues picture), and at 20 calls a second
# each copy is one more message for every web process holding a wallboard to take off Redis.
WALLBOARD_KINDS = frozenset(
    {"offered", "answered", "abandoned", "timeout", "refused", "overflowed", "transferred", "callback", "ended"}
)
# Raw events stored per call at most: a call stuck in a loop must not fill the disk.
MAX_EVENTS_PER_CALL = 400
_NOTIFY_ONLY = (lc.AgentRinging, lc.AgentRingStopped, lc.AgentReleased, lc.CallTransferred)
_STICKY_OUTCOMES = frozenset({lc.TRANSFERRED_110, lc.IVR_110})
_EXTENSION = re.compile(r"^[A-Za-z]+/(\d+)")


def _when(at: float | None) -> datetime:
    return datetime.fromtimestamp(at, tz=UTC) if at is not None else timezone.now()


def agent_for_interface(interface: str, pbx: str | None = None) -> User | None:
    """``Local/1001@agents`` or ``PJSIP/1001`` -> the user whose agent_extension is 1001 (on ``pbx``).

    Extensions are each PBX's own: with a ``pbx``, only an agent whose phone is on that PBX
    (``AgentState.pbx``; blank = the first configured PBX) is the one.
    """
    match = _EXTENSION.match(interface or "")
    if not match:
        return None
    users = User.objects.filter(agent_extension=match.group(1), is_active=True)
    if pbx is not None:
        on_pbx = Q(agent_state__pbx=pbx)
        if pbx == pbxs.default_name():
            on_pbx |= Q(agent_state__isnull=True) | Q(agent_state__pbx="")
        users = users.filter(on_pbx)
    return users.order_by("pk").first()


def _caller_for(number: str, name: str) -> Any:
    if not number:
        return None
    try:
        return find_or_create_caller(number, name)
    except InvalidInput:
        # Anonymous, internal or foreign numbers: keep the raw number on the call, link no Caller.
        log.info("call from a number we cannot normalise: %r", number)
        return None


def _get_call(linkedid: str, pbx_epoch: int, pbx: str, *, lock: bool = True) -> tuple[Call, bool]:
    qs = Call.objects.select_for_update() if lock else Call.objects
    try:
        return qs.get(pbx=pbx, pbx_epoch=pbx_epoch, linkedid=linkedid), False
    except Call.DoesNotExist:
        pass
    try:
        with transaction.atomic():
            return Call.objects.create(pbx=pbx, pbx_epoch=pbx_epoch, linkedid=linkedid), True
    except IntegrityError:  # a second bridge (standby taking over) created it first
        return qs.get(pbx=pbx, pbx_epoch=pbx_epoch, linkedid=linkedid), False


def _save(call: Call, changes: dict[str, Any]) -> list[str]:
    changed = [name for name, value in changes.items() if getattr(call, name) != value]
    for name in changed:
        setattr(call, name, changes[name])
    if changed:
        call.save(update_fields=changed)
    return changed


def apply_lifecycle(
    event: lc.CallLifecycle, raw: Iterable[Mapping[str, Any]] = (), *, pbx: str | None = None
) -> Call | None:
    """Record one lifecycle event (and the raw AMI events behind it) and publish it after commit."""
    pbx = pbx or pbxs.default_name()
    apply_batch([Step(event=event, raw=list(raw))], pbx=pbx)
    if not event.linkedid:
        return None
    return Call.objects.filter(pbx=pbx, pbx_epoch=event.pbx_epoch, linkedid=event.linkedid).first()


@dataclass
class Step:
    """One unit of bridge work: a lifecycle event, or only raw events for a call's audit trail."""

    event: lc.CallLifecycle | None = None
    raw: list[Mapping[str, Any]] = field(default_factory=list)
    linkedid: str = ""  # for raw-only steps
    pbx_epoch: int = 0


Outbox = list[tuple[list[str], dict[str, Any]]]


def apply_batch(steps: Iterable[Step], outbox: Outbox | None = None, *, pbx: str | None = None) -> int:
    """Apply a run of bridge steps of one PBX in ONE transaction, in order; returns the number of calls touched.

    The bridge drains what the socket delivered since its last write and applies it
    here, so a busy hour costs one commit per batch instead of one per AMI event.
    Messages go to ``outbox`` (the bridge sends them itself once this returns) or,
    without one, out through ``publish_on_commit``. ``pbx``: the PBX the events came from
    (None: the first configured one).
    """
    pbx = pbx or pbxs.default_name()
    calls: dict[tuple[int, str], Call] = {}
    raw_by_call: dict[int, list[Mapping[str, Any]]] = {}
    steps = list(steps)
    with transaction.atomic():
        # The rows of the calls whose raw events (only) the batch holds, in one query rather than one each.
        wanted = {(step.pbx_epoch, step.linkedid) for step in steps if step.event is None}
        stored = Call.objects.filter(pbx=pbx, linkedid__in={linkedid for _, linkedid in wanted}) if wanted else ()
        known = {key: call for call in stored if (key := (call.pbx_epoch, call.linkedid)) in wanted}
        for step in steps:
            event = step.event
            if event is None:
                key = (step.pbx_epoch, step.linkedid)
                call = calls.get(key) or known.get(key)
                if call is not None:
                    calls[key] = call
                    raw_by_call.setdefault(call.pk, []).extend(step.raw)
                continue
            if not event.linkedid:
                # A failed callback Originate created no channel: nothing to record, the requester got the error.
                _publish(None, event, outbox, pbx=pbx)
                continue
            key = (event.pbx_epoch, event.linkedid)
            created = False
            if key in calls:
                call = calls[key]
            else:
                call, created = _get_call(event.linkedid, event.pbx_epoch, pbx)
                calls[key] = call
            changed = _apply(call, event, created)
            raw_by_call.setdefault(call.pk, []).extend(step.raw)
            # Ringing, ring-stopped, released and transferred change no column but are news for the consoles;
            # the tracker already drops duplicates of those.
            if created or changed or isinstance(event, _NOTIFY_ONLY):
                _publish(call, event, outbox, pbx=pbx)
        by_pk = {call.pk: call for call in calls.values()}
        store_raw_events_of_calls({by_pk[pk]: raw for pk, raw in raw_by_call.items()})
    return len(calls)


def _apply(call: Call, event: lc.CallLifecycle, created: bool) -> list[str]:
    at = _when(event.at)
    changes: dict[str, Any] = {}
    if isinstance(event, lc.CallOffered | lc.IvrChoiceMade | lc.CallbackOriginated):
        number = event.number if isinstance(event, lc.CallbackOriginated) else event.caller_number
        name = getattr(event, "caller_name", "")
        if call.offered_at is None:
            changes["offered_at"] = at
        if number and not call.caller_number:
            changes["caller_number"] = number[:32]
            changes["caller"] = _caller_for(number, name)
        if name and not call.caller_name:
            changes["caller_name"] = name[:50]
    if isinstance(event, lc.CallOffered):
        changes["queue"] = call.queue or event.queue
        changes["desk"] = call.desk or event.queue
        if event.caller_uniqueid and not call.caller_uniqueid:
            changes["caller_uniqueid"] = event.caller_uniqueid[:64]
    elif isinstance(event, lc.CallOverflowed):
        # The desk had nobody in time: the call goes on in the general queue, the desk stays on record.
        changes["desk"] = call.desk or event.desk
        changes["queue"] = event.queue
    elif isinstance(event, lc.IvrChoiceMade):
        changes["ivr_choice"] = event.choice[:16]
    elif isinstance(event, lc.CallbackOriginated):
        changes["outcome"] = lc.CALLBACK
        if event.purpose and not call.purpose:
            changes["purpose"] = event.purpose[:16]
        if event.interface:
            changes.update(_agent_fields(call, event.interface, ""))
    elif isinstance(event, lc.CallAnswered):
        if call.answered_at is None:
            changes["answered_at"] = at
        changes["wait_seconds"] = event.wait_seconds
        changes.update(_agent_fields(call, event.interface, event.member_name))
    elif isinstance(event, lc.CallAbandoned | lc.CallTimedOut | lc.CallRefused):
        if event.wait_seconds is not None or not isinstance(event, lc.CallRefused):
            changes["wait_seconds"] = event.wait_seconds
        if not call.answered_at:
            changes["outcome"] = event.kind
    elif isinstance(event, lc.RecordingStarted | lc.RecordingStopped):
        # The recording's own row; nothing of the call changes, so nothing is published.
        recordings.apply(call, event, at)
    elif isinstance(event, lc.CallEnded):
        changes.update(
            # A transfer to 110 recorded by the console outranks what the PBX summary can tell.
            outcome=call.outcome if call.outcome in _STICKY_OUTCOMES else event.outcome,
            ended_at=call.ended_at or at,
            wait_seconds=event.wait_seconds,
            talk_seconds=event.talk_seconds,
            queue=call.queue or event.queue,
            ivr_choice=call.ivr_choice or event.ivr_choice[:16],
            # The controls end with the call: a caller still held when the PBX ended the hold (the agent's
            # phone dropped, the maximum hold time, docs/asterisk/extensions.conf [hotline-hold-end]).
            on_hold=False,
            muted=False,
            consulting="",
        )
        if event.offered_at is not None and call.offered_at is None:
            changes["offered_at"] = _when(event.offered_at)
        if event.answered_at is not None and call.answered_at is None:
            changes["answered_at"] = _when(event.answered_at)
        if event.caller_number and not call.caller_number:
            changes["caller_number"] = event.caller_number[:32]
            changes["caller"] = _caller_for(event.caller_number, event.caller_name)
        if event.interface:
            changes.update(_agent_fields(call, event.interface, event.member_name))
    return _save(call, changes)


def _agent_fields(call: Call, interface: str, member_name: str) -> dict[str, Any]:
    if call.agent_interface == interface and (call.agent_name or not member_name):
        return {}
    return {
        "agent_interface": interface[:128],
        "agent_name": (member_name or call.agent_name)[:64],
        "agent": agent_for_interface(interface, call.pbx),
    }


def store_raw_events(call: Call, raw: Iterable[Mapping[str, Any]]) -> int:
    """Keep raw AMI events for audit; a repeat of the same event is stored once."""
    return store_raw_events_of_calls({call: raw})


def store_raw_events_of_calls(raw_by_call: Mapping[Call, Iterable[Mapping[str, Any]]]) -> int:
    """:func:`store_raw_events` for the calls of a batch at once: one count and one insert for them all
    (a busy batch touches a hundred calls; a count and an insert per call were half of its write)."""
    rows_by_call: dict[Call, list[CallEvent]] = {}
    for call, raw in raw_by_call.items():
        rows = rows_by_call.setdefault(call, [])
        for event in raw:
            payload = dict(event)
            blob = json.dumps(payload, sort_keys=True, ensure_ascii=False)
            rows.append(
                CallEvent(
                    call=call,
                    name=str(payload.get("Event", ""))[:64],
                    fingerprint=hashlib.sha1(blob.encode()).hexdigest(),
                    payload=payload,
                )
            )
    rows_by_call = {call: rows for call, rows in rows_by_call.items() if rows}
    if not rows_by_call:
        return 0
    stored = dict(
        CallEvent.objects.filter(call__in=[call.pk for call in rows_by_call])
        .order_by()
        .values("call")
        .annotate(n=Count("pk"))
        .values_list("call", "n")
    )
    kept: list[CallEvent] = []
    for call, rows in rows_by_call.items():
        room = MAX_EVENTS_PER_CALL - stored.get(call.pk, 0)
        if room > 0:
            kept.extend(rows[:room])
    if kept:
        CallEvent.objects.bulk_create(kept, ignore_conflicts=True)
    return len(kept)


PRUNE_BATCH = 5000


def prune_call_events(now: datetime | None = None, batch: int = PRUNE_BATCH) -> int:
    """Job step: delete raw events older than TELEPHONY_EVENT_RETENTION_DAYS. Returns the count.

    At most ``batch`` rows a round, oldest first, so a first run over a year's backlog never holds
    one long delete on the table the bridge is writing to; the next rounds take the rest.
    """
    cutoff = (now or timezone.now()) - timedelta(days=settings.TELEPHONY_EVENT_RETENTION_DAYS)
    oldest = list(
        CallEvent.objects.filter(received_at__lt=cutoff).order_by("received_at", "pk").values_list("pk")[:batch]
    )
    if not oldest:
        return 0
    deleted, _ = CallEvent.objects.filter(pk__in=[pk for (pk,) in oldest]).delete()
    return deleted


def open_calls(pbx_epoch: int, live_linkedids: Iterable[str], *, pbx: str | None = None) -> list[Call]:
    """Calls of this PBX boot still open in the database and still live on the PBX."""
    pbx = pbx or pbxs.default_name()
    live = set(live_linkedids)
    return list(Call.objects.filter(pbx=pbx, pbx_epoch=pbx_epoch, ended_at__isnull=True, linkedid__in=live))


def last_offered_at(*, pbx: str | None = None) -> float | None:
    """When the newest call we know of this PBX was offered (where a fresh bridge starts reading queue_log)."""
    calls = Call.objects.filter(pbx=pbx or pbxs.default_name(), offered_at__isnull=False)
    first = calls.order_by("-offered_at").values_list("offered_at", flat=True).first()
    return first.timestamp() if first else None


def previous_pbx_epoch(pbx_epoch: int, *, pbx: str | None = None) -> int | None:
    """The PBX boot before this one that has calls (queue_log lines before a QUEUESTART belong to it)."""
    calls = Call.objects.filter(pbx=pbx or pbxs.default_name(), pbx_epoch__lt=pbx_epoch)
    return calls.aggregate(m=Max("pbx_epoch"))["m"]


_MISSED = frozenset({lc.ABANDONED, lc.TIMEOUT, lc.REFUSED})


def recover_logged_calls(
    pbx_epoch: int,
    records: Iterable[LoggedCall],
    interfaces: Mapping[str, str] | None = None,
    *,
    pbx: str | None = None,
) -> list[Call]:
    """Calls that ended while the bridge was away, as the PBX's queue_log says (one transaction each).

    A call is matched by its caller channel's Uniqueid (``Call.caller_uniqueid``, or the Linkedid,
    which is the same channel on a SIP trunk). Unknown: a new row keyed by that Uniqueid (the
    Linkedid of a call nobody saw cannot be known). Known and open, ``unknown`` or missed while
    the PBX says an agent answered: corrected. Otherwise left alone, so reading a line twice
    changes nothing. ``interfaces`` maps member names (``agent1001``) to member interfaces.
    """
    interfaces = interfaces or {}
    pbx = pbx or pbxs.default_name()
    done: list[Call] = []
    for record in records:
        if not record.outcome:
            continue
        with transaction.atomic():
            call = (
                Call.objects.select_for_update()
                .filter(pbx=pbx, pbx_epoch=pbx_epoch)
                .filter(Q(caller_uniqueid=record.callid) | Q(linkedid=record.callid))
                .order_by("pk")
                .first()
            )
            if call is None and record.caller_number and record.entered_at is not None:
                # A row written without the caller's Uniqueid (an older bridge): same number, same second.
                entered = _when(record.entered_at)
                call = (
                    Call.objects.select_for_update()
                    .filter(pbx=pbx, pbx_epoch=pbx_epoch, caller_uniqueid="", caller_number=record.caller_number)
                    .filter(offered_at__range=(entered - timedelta(seconds=2), entered + timedelta(seconds=2)))
                    .order_by("pk")
                    .first()
                )
            if call is not None and call.ended_at is not None:
                corrects = call.outcome in ("", lc.UNKNOWN) or (
                    record.outcome == lc.ANSWERED and call.outcome in _MISSED
                )
                if not corrects:
                    continue
            linkedid = call.linkedid if call is not None else record.callid
            interface = interfaces.get(record.member_name, "")
            steps = [
                Step(
                    event=lc.CallOffered(
                        linkedid=linkedid,
                        pbx_epoch=pbx_epoch,
                        at=record.entered_at,
                        queue=record.desk or record.queue,
                        caller_number=record.caller_number,
                        caller_uniqueid=record.callid,
                    )
                )
            ]
            if record.desk:
                overflowed = lc.CallOverflowed(
                    linkedid=linkedid,
                    pbx_epoch=pbx_epoch,
                    at=record.entered_at,
                    desk=record.desk,
                    queue=record.queue,
                    reason="queue_log",
                    wait_seconds=record.desk_wait,
                )
                steps.append(Step(event=overflowed))
            answered = record.outcome == lc.ANSWERED
            if answered:
                steps.append(
                    Step(
                        event=lc.CallAnswered(
                            linkedid=linkedid,
                            pbx_epoch=pbx_epoch,
                            at=record.connected_at,
                            queue=record.queue,
                            interface=interface,
                            member_name=record.member_name,
                            caller_number=record.caller_number,
                            wait_seconds=record.wait_seconds,
                            ring_seconds=None,
                        )
                    )
                )
            steps.append(
                Step(
                    event=lc.CallEnded(
                        linkedid=linkedid,
                        pbx_epoch=pbx_epoch,
                        at=record.ended_at,
                        outcome=record.outcome,
                        queue=record.queue,
                        caller_number=record.caller_number,
                        caller_name="",
                        interface=interface,
                        member_name=record.member_name,
                        offered_at=record.entered_at,
                        answered_at=record.connected_at if answered else None,
                        wait_seconds=record.wait_seconds,
                        talk_seconds=record.talk_seconds,
                        ivr_choice="",
                    )
                )
            )
            apply_batch(steps, pbx=pbx)
        done.append(Call.objects.get(pbx=pbx, pbx_epoch=pbx_epoch, linkedid=linkedid))
    return done


def mark_transferred_110(linkedid: str, pbx_epoch: int, *, pbx: str | None = None) -> Call | None:
    """The console moved this call to 110; the outcome sticks whatever the PBX reports later."""
    pbx = pbx or pbxs.default_name()
    with transaction.atomic():
        call = Call.objects.select_for_update().filter(pbx=pbx, linkedid=linkedid, pbx_epoch=pbx_epoch).first()
        if call is None:
            return None
        if _save(call, {"outcome": lc.TRANSFERRED_110}):
            publish_on_commit([WALLBOARD_GROUP], {"type": "call.transferred", **_call_summary(call)})
    return call


def set_call_controls(
    linkedid: str,
    pbx_epoch: int,
    *,
    pbx: str | None = None,
    by: User | None = None,
    mode: str = "",
    **changes: Any,
) -> Call | None:
    """What the PBX confirmed of the agent's call controls (on_hold, muted, consulting, transferred_to).

    A transfer (``transferred_to``) is also written on the timeline of the call's ticket, where a
    transfer to 110 leaves its referral: one transaction, the call's row first, then the ticket.
    """
    allowed = {"on_hold", "muted", "consulting", "transferred_to"}
    if not set(changes) <= allowed:
        raise ValueError(f"not a call control: {sorted(set(changes) - allowed)}")
    pbx = pbx or pbxs.default_name()
    with transaction.atomic():
        call = Call.objects.select_for_update().filter(pbx=pbx, linkedid=linkedid, pbx_epoch=pbx_epoch).first()
        if call is None:
            return None
        changed = _save(call, changes)
        if "transferred_to" in changed and call.ticket_id and call.transferred_to:
            timeline.record(
                call.ticket,
                "ticket.call_transferred",
                by,
                data={"to": call.transferred_to, "mode": mode, "call": linkedid},
            )
    return call


def close_vanished_calls(
    pbx_epoch: int, live_linkedids: Iterable[str], at: float | None = None, *, pbx: str | None = None
) -> list[Call]:
    """After a reconnect: open calls of this PBX it no longer has are closed as ``unknown``.

    Covers calls the bridge lost track of itself (it restarted mid-call). Other PBXs' calls are theirs.
    """
    live = set(live_linkedids)
    closed = []
    open_here = Call.objects.filter(pbx=pbx or pbxs.default_name(), ended_at__isnull=True)
    for call in open_here.exclude(linkedid__in=live, pbx_epoch=pbx_epoch):
        with transaction.atomic():
            locked = Call.objects.select_for_update().get(pk=call.pk)
            if locked.ended_at is not None:
                continue
            # We did not see how it ended; answered_at (kept) is what the answer rate counts.
            outcome = locked.outcome if locked.outcome and locked.outcome != lc.ANSWERED else lc.UNKNOWN
            _save(locked, {"ended_at": _when(at), "outcome": outcome})
            publish_on_commit([WALLBOARD_GROUP], {"type": "call.ended", **_call_summary(locked)})
            closed.append(locked)
    return closed


def resolve_pbx_epoch(estimate: int, tolerance: int = 5, *, pbx: str | None = None) -> int:
    """The PBX boot time, stable across bridge restarts: reuse the last one seen if it is within tolerance.

    ``estimate`` is now - Uptime (FullyBooted), which jitters by a second or two per login.
    """
    last = (
        Call.objects.filter(pbx=pbx or pbxs.default_name()).order_by("-id").values_list("pbx_epoch", flat=True).first()
    )
    if last is not None and abs(last - estimate) <= tolerance:
        return last
    return estimate


# --- IVR survey ---------------------------------------------------------------------------

# Who takes the answers: registered at start by the app that originates the surveys
# (callback registers ``revisits.record_ivr_result`` in its AppConfig.ready()).
_survey_handler: Callable[[str], object] | None = None


def register_survey_handler(handler: Callable[[str], object]) -> None:
    """Name the function that takes IVR survey answers, as ``"<reference>:<digit>"``. The last one wins."""
    global _survey_handler
    _survey_handler = handler


def hand_over_survey_answer(event: lc.SurveyAnswered) -> bool:
    """Give an IVR survey answer to the registered survey handler as ``"<reference>:<digit>"``.

    Telephony does not know what a revisit is: the handler decides. An answer it refuses
    (``InvalidInput``: unknown reference or digit; ``IllegalTransition``: answered already), or one
    nobody registered to take, is logged and dropped; returns whether it was taken.
    """
    value = f"{event.reference}:{event.digit}"
    if _survey_handler is None:
        log.warning("IVR survey answer %r of call %s dropped: no survey handler is registered", value, event.linkedid)
        return False
    try:
        _survey_handler(value)
    except (InvalidInput, IllegalTransition) as exc:
        log.warning("IVR survey answer %r of call %s dropped: %s", value, event.linkedid, exc)
        return False
    return True


# --- real-time messages ----------------------------------------------------------------


def _call_summary(call: Call) -> dict[str, Any]:
    return {
        "call_id": call.pk,
        "pbx": call.pbx,
        "linkedid": call.linkedid,
        "caller_number": call.caller_number,
        "queue": call.queue,
        "desk": call.desk,
        "agent_id": call.agent_id,
        "agent_interface": call.agent_interface,
        "outcome": call.outcome,
        "offered_at": call.offered_at.isoformat() if call.offered_at else None,
        "answered_at": call.answered_at.isoformat() if call.answered_at else None,
        "ended_at": call.ended_at.isoformat() if call.ended_at else None,
        "wait_seconds": call.wait_seconds,
        "talk_seconds": call.talk_seconds,
    }


def _publish(call: Call | None, event: lc.CallLifecycle, outbox: Outbox | None = None, *, pbx: str = "") -> None:
    message: dict[str, Any] = {"type": f"call.{event.kind}", "event": event.as_dict()}
    if call is not None:
        message.update(_call_summary(call))
    groups = [WALLBOARD_GROUP] if event.kind in WALLBOARD_KINDS else []
    if isinstance(event, lc.AgentRinging):
        user = None  # the ringing agent's console gets the bridge's call.screen_pop (Bridge.pop), not this
    else:
        interface = getattr(event, "interface", "") or (call.agent_interface if call else "")
        user = (call.agent if call is not None and call.agent_id else None) or (
            agent_for_interface(interface, pbx or (call.pbx if call else None)) if interface else None
        )
    if user is not None:
        groups.append(agent_group(user.pk))
    if groups:
        _post(groups, message, outbox)


def _post(groups: list[str], message: dict[str, Any], outbox: Outbox | None) -> None:
    if outbox is None:
        publish_on_commit(groups, message)
    else:
        outbox.append((groups, json.loads(json.dumps(message))))
