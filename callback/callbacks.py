"""Missed-call callbacks (回拨, 国办函〔2025〕66号: call back every missed call).

Concurrency rules (STYLE §6):
- a task moves due → offered → dialing → done/due/failed, each move a conditional
  UPDATE on the status it expects; a move that updates 0 rows lost a race and stops;
- an agent gets one offer at a time: its AgentState row (telephony.presence) is locked while an offer is made;
- offers and dials carry a lease; :func:`expire_leases` puts abandoned ones back to due;
- dialing (slow I/O over the channel layer) happens after the claim has committed.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext

from callback import conf
from callback.dialer import try_dial
from callback.models import (
    OPEN_CALLBACK_STATUSES,
    CallbackAttempt,
    CallbackOutcome,
    CallbackStatus,
    CallbackTask,
    DoNotCall,
)
from hotline.access import is_center_staff
from hotline.errors import IllegalTransition, InvalidInput, NotAllowed
from hotline.events import agent_group, publish_on_commit
from hotline.lib.phones import InvalidPhone, normalize_phone
from hotline.models import User
from telephony.models import AgentState, AgentStatus, Call, Outcome

log = logging.getLogger(__name__)
# Missed calls, each called back (国办函〔2025〕66号: every missed call): the caller asked for an agent
# and got none, whether they gave up, the queue timed out or the queue turned them away.
MISSED = (Outcome.ABANDONED, Outcome.TIMEOUT, Outcome.REFUSED)
S = CallbackStatus


# --- agents ------------------------------------------------------------------------


def ready_agents() -> list[User]:
    """Agents who are ready, have an extension and hold no open callback, longest-ready first."""
    busy = CallbackTask.objects.filter(agent=OuterRef("user"), status__in=[S.OFFERED, S.DIALING])
    states = (
        AgentState.objects.filter(status=AgentStatus.READY, user__is_active=True)
        .exclude(user__agent_extension="")
        .exclude(Exists(busy))
        .select_related("user")
        .order_by("changed_at")
    )
    return [state.user for state in states]


# --- missed calls → tasks -------------------------------------------------------------


def _got_through_same_day(caller_id: int | None, number: str, missed_at: datetime) -> bool:
    """Did this caller reach an agent after ``missed_at``, the same local day?"""
    local = timezone.localtime(missed_at)
    day_end = local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    answered = Call.objects.filter(answered_at__isnull=False, offered_at__gt=missed_at, offered_at__lt=day_end)
    who = Q(caller_number=number)
    if caller_id:
        who |= Q(caller_id=caller_id)
    return answered.filter(who).exists()


def _on_do_not_call(number: str) -> bool:
    return DoNotCall.objects.filter(phone=number).exists()


def task_for_call(call: Call) -> CallbackTask | None:
    """The callback task of a missed call, created once however often this runs."""
    if call.outcome not in MISSED:
        return None
    existing = CallbackTask.objects.filter(call=call).first()
    if existing is not None:
        return existing
    missed_at = call.offered_at or call.created_at
    try:
        number = call.caller.phone if call.caller_id else normalize_phone(call.caller_number)
    except InvalidPhone:
        number = ""
    status, note = S.DUE, ""
    if not number:
        status, note = S.CANCELLED, "号码无法回拨"
    elif _got_through_same_day(call.caller_id, call.caller_number, missed_at):
        status, note = S.CANCELLED, "来电人当天已接通"
    elif _on_do_not_call(number):
        status, note = S.CANCELLED, "免打扰号码"
    try:
        with transaction.atomic():
            return CallbackTask.objects.create(
                call=call,
                caller_id=call.caller_id,
                number=number or call.caller_number[:32],
                missed_at=missed_at,
                status=status,
                note=note,
                next_attempt_at=conf.calling_hours().next_allowed(missed_at),
                completed_at=timezone.now() if status == S.CANCELLED else None,
            )
    except IntegrityError:  # another worker made it first
        return CallbackTask.objects.get(call=call)


def ingest_missed_calls(limit: int = 500) -> int:
    """Job step: turn ended abandoned/timed-out calls into callback tasks. Returns how many were made."""
    calls = (
        Call.objects.filter(outcome__in=MISSED, ended_at__isnull=False, callback_task__isnull=True)
        .select_related("caller")
        .order_by("pk")[:limit]
    )
    return sum(1 for call in calls if task_for_call(call) is not None)


def cancel_got_through(now: datetime | None = None, limit: int = 500) -> int:
    """Job step: a caller who got through later the same day needs no callback any more."""
    now = now or timezone.now()
    answered_later = Call.objects.filter(
        answered_at__isnull=False, offered_at__gt=OuterRef("missed_at"), caller_id=OuterRef("caller_id")
    )
    candidates = CallbackTask.objects.filter(status=S.DUE, caller__isnull=False).filter(Exists(answered_later))
    cancelled = 0
    for task in candidates[:limit]:
        if _got_through_same_day(task.caller_id, task.number, task.missed_at):
            cancelled += CallbackTask.objects.filter(pk=task.pk, status=S.DUE).update(
                status=S.CANCELLED, note="来电人当天已接通", completed_at=now
            )
    return cancelled


# --- offering ---------------------------------------------------------------------------


def callback_cutoff(now: datetime) -> datetime | None:
    """Missed before this, a call is no longer called back (CALLBACK_EXPIRE_HOURS; 0: never expires)."""
    hours = settings.CALLBACK_EXPIRE_HOURS
    return now - timedelta(hours=hours) if hours else None


def due_callbacks(now: datetime | None = None):
    now = now or timezone.now()
    due = CallbackTask.objects.filter(status=S.DUE, next_attempt_at__lte=now)
    if (cutoff := callback_cutoff(now)) is not None:
        due = due.filter(missed_at__gte=cutoff)  # what can still be called back, before the step closes the rest
    return due.order_by("missed_at", "pk")


def expire_old(now: datetime | None = None) -> int:
    """Job step: a missed call older than CALLBACK_EXPIRE_HOURS that nobody called back is closed
    (cancelled, "超过回拨时限"): calling a citizen back days later helps nobody, and the list of
    missed calls stays what agents can still act on. The task row stays as the record."""
    now = now or timezone.now()
    cutoff = callback_cutoff(now)
    if cutoff is None:
        return 0
    return CallbackTask.objects.filter(status=S.DUE, missed_at__lt=cutoff).update(
        status=S.CANCELLED, note="超过回拨时限", completed_at=now
    )


def offer_next_callback(agent: User, now: datetime | None = None) -> CallbackTask | None:
    """Offer the oldest due callback to ``agent`` (who must be ready), or None.

    Two workers (or the job and the console's "next" button) may run this at once:
    each candidate is claimed with a conditional UPDATE, so a task goes to one agent only.
    """
    now = now or timezone.now()
    if not conf.calling_hours().allows(now):
        return None
    lease = now + timedelta(seconds=settings.CALLBACK_OFFER_SECONDS)
    with transaction.atomic():
        # The agent's row is locked so two workers cannot both hand this agent an offer.
        state = AgentState.objects.select_for_update().filter(user=agent, status=AgentStatus.READY).first()
        if state is None or CallbackTask.objects.filter(agent=agent, status__in=[S.OFFERED, S.DIALING]).exists():
            return None
        for _ in range(5):
            # SKIP LOCKED (PostgreSQL) lets concurrent offers pick different rows instead of queueing on one;
            # the conditional UPDATE below is what guarantees a task is offered once.
            pk = (
                due_callbacks(now)
                .exclude(Exists(DoNotCall.objects.filter(phone=OuterRef("number"))))
                .select_for_update(skip_locked=True, of=("self",))
                .values_list("pk", flat=True)
                .first()
            )
            if pk is None:
                return None
            claimed = CallbackTask.objects.filter(pk=pk, status=S.DUE).update(
                status=S.OFFERED, agent=agent, offered_at=now, lease_until=lease
            )
            if claimed == 1:
                task = CallbackTask.objects.get(pk=pk)
                publish_on_commit([agent_group(agent.pk)], _event("callback.offered", task))
                return task
    return None


def cancel_do_not_call(now: datetime | None = None) -> int:
    """Job step: due callbacks to a number put on the do-not-call list are cancelled."""
    now = now or timezone.now()
    listed = DoNotCall.objects.filter(phone=OuterRef("number"))
    return (
        CallbackTask.objects.filter(status=S.DUE)
        .filter(Exists(listed))
        .update(status=S.CANCELLED, note="免打扰号码", completed_at=now)
    )


def offer_callbacks(now: datetime | None = None) -> int:
    """Job step: one offer to each idle ready agent, oldest missed call first."""
    now = now or timezone.now()
    if not conf.calling_hours().allows(now):
        return 0
    offered = 0
    for agent in ready_agents():
        if offer_next_callback(agent, now) is None:
            break  # nothing (left) to offer
        offered += 1
    return offered


def expire_leases(now: datetime | None = None) -> int:
    """Job step: offers nobody accepted and dials nobody finished go back to due."""
    now = now or timezone.now()
    expired = CallbackTask.objects.filter(status__in=[S.OFFERED, S.DIALING], lease_until__lt=now)
    return expired.update(status=S.DUE, agent=None, lease_until=None, offered_at=None, next_attempt_at=now)


# --- agent actions ------------------------------------------------------------------------


def _event(kind: str, task: CallbackTask) -> dict:
    return {
        "type": kind,
        "task_id": task.pk,
        "number": task.number,
        "missed_at": task.missed_at.isoformat(),
        "attempts": task.attempts,
        "status": task.status,
    }


def _check_agent(agent: User) -> None:
    if not is_center_staff(agent):
        raise NotAllowed(gettext("only center staff call citizens back"))
    if not agent.agent_extension:
        raise InvalidInput(gettext("this user has no phone extension to ring first"), field="agent_extension")


def accept_callback(task: CallbackTask, agent: User, now: datetime | None = None) -> CallbackTask:
    """The agent accepts an offer: the bridge rings the agent first, then the citizen.

    If the bridge is down the task stays due and is offered again later; nothing is lost.
    """
    _check_agent(agent)
    now = now or timezone.now()
    if not conf.calling_hours().allows(now):
        raise IllegalTransition(gettext("outside calling hours (%(hours)s)") % {"hours": settings.CALLBACK_HOURS})
    if _on_do_not_call(task.number):
        CallbackTask.objects.filter(pk=task.pk, status__in=OPEN_CALLBACK_STATUSES).update(
            status=S.CANCELLED, note="免打扰号码", completed_at=now, agent=None
        )
        raise IllegalTransition(gettext("this number is on the do-not-call list"))
    lease = now + timedelta(minutes=settings.CALLBACK_DIAL_MINUTES)
    claimed = CallbackTask.objects.filter(pk=task.pk, status=S.OFFERED, agent=agent, lease_until__gte=now).update(
        status=S.DIALING, lease_until=lease
    )
    if claimed != 1:
        raise IllegalTransition(gettext("this callback is no longer offered to you"))
    return _dial(task.pk, agent, now)


def _dial(pk: int, agent: User, now: datetime) -> CallbackTask:
    task = CallbackTask.objects.get(pk=pk)
    dialled = try_dial(
        agent_extension=agent.agent_extension, number=task.number, purpose="callback", reference=f"callback:{task.pk}"
    )
    with transaction.atomic():
        CallbackAttempt.objects.create(
            task=task, agent=agent, started_at=now, linkedid=dialled.linkedid, error=dialled.error
        )
        if dialled.placed:
            CallbackTask.objects.filter(pk=pk, status=S.DIALING).update(
                attempts=F("attempts") + 1, linkedid=dialled.linkedid, last_error=""
            )
        else:  # nobody was called: due again later, no attempt counted
            CallbackTask.objects.filter(pk=pk, status=S.DIALING, agent=agent).update(
                status=S.DUE,
                agent=None,
                lease_until=None,
                offered_at=None,
                last_error=dialled.error,
                next_attempt_at=now + dialled.retry_after,
            )
    task.refresh_from_db()
    return task


def complete_callback(task: CallbackTask, agent: User, outcome: str, note: str = "") -> CallbackTask:
    """Record how the callback went. No answer or busy: retried later (with backoff) up to a limit."""
    if outcome not in CallbackOutcome.values:
        raise InvalidInput(gettext("unknown outcome %(value)s") % {"value": repr(outcome)}, field="outcome")
    now = timezone.now()
    with transaction.atomic():
        task = CallbackTask.objects.select_for_update().get(pk=task.pk)
        if task.status != S.DIALING or task.agent_id != agent.pk:
            raise IllegalTransition(gettext("this callback is not being dialled by you"))
        task.outcome = outcome
        task.note = (note or "")[:500] or task.note
        if outcome in (CallbackOutcome.REACHED, CallbackOutcome.WRONG_NUMBER):
            task.status, task.completed_at = S.DONE, now
        elif task.attempts >= settings.CALLBACK_MAX_ATTEMPTS:
            task.status, task.completed_at = S.FAILED, now
        else:
            wait = timedelta(minutes=settings.CALLBACK_RETRY_MINUTES * 2 ** max(task.attempts - 1, 0))
            task.status = S.DUE
            task.next_attempt_at = conf.calling_hours().next_allowed(now + wait)
        task.agent = agent if task.status != S.DUE else None
        task.lease_until = None
        task.save(
            update_fields=["outcome", "note", "status", "completed_at", "next_attempt_at", "agent", "lease_until"]
        )
        CallbackAttempt.objects.filter(task=task, agent=agent, outcome="", error="").update(outcome=outcome)
    return task


def decline_callback(task: CallbackTask, agent: User) -> CallbackTask:
    """The agent passes on an offer; it goes back to the queue at once."""
    CallbackTask.objects.filter(pk=task.pk, status=S.OFFERED, agent=agent).update(
        status=S.DUE, agent=None, lease_until=None, offered_at=None
    )
    task.refresh_from_db()
    return task


def manual_dial(agent: User, *, task: CallbackTask | None = None, number: str = "") -> CallbackTask:
    """Dial from the missed-call list: an open task, or a number typed in (a new manual task)."""
    _check_agent(agent)
    now = timezone.now()
    if task is None:
        try:
            e164 = normalize_phone(number)
        except InvalidPhone as exc:
            raise InvalidInput(str(exc), field="number") from None
        task = CallbackTask.objects.create(number=e164, missed_at=now, next_attempt_at=now, manual=True)
    claimed = (
        CallbackTask.objects.filter(pk=task.pk)
        .filter(Q(status=S.DUE) | Q(status=S.OFFERED, agent=agent) | Q(status=S.OFFERED, lease_until__lt=now))
        .update(status=S.OFFERED, agent=agent, offered_at=now, lease_until=now + timedelta(minutes=1))
    )
    if claimed != 1:
        raise IllegalTransition(gettext("this callback is already being handled"))
    return accept_callback(task, agent, now)


def callbacks_for_agent(agent: User, now: datetime | None = None):
    """The agent's console list: what is offered to or dialled by them, then the due queue."""
    now = now or timezone.now()
    mine = CallbackTask.objects.filter(agent=agent, status__in=[S.OFFERED, S.DIALING])
    return mine, due_callbacks(now)
