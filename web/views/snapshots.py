"""What each console shows, read from the database (the source of truth).

Pages render these on load; consumers render the same ones as the snapshot sent on
connect and after a hint arrives, so a console that lost its socket catches up.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Count, Min, Q
from django.http import QueryDict
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from callback.callbacks import callbacks_for_agent
from callback.revisits import revisits_for_agent
from hotline import audit
from hotline.deadlines import RED, WAITING_FOR_DISPATCH, YELLOW, dispatch_by, warning_level
from hotline.models import (
    Assignment,
    AssignmentStatus,
    Dispute,
    DisputeStatus,
    Extension,
    ExtensionStatus,
    FlagKind,
    Ticket,
    TicketStatus,
    Unit,
    Urgency,
    User,
)
from hotline.models.tickets import ACTIVE_ASSIGNMENT_STATUSES, OPEN_STATUSES
from hotline.services.calendar import load_calendar
from metrics import hotspots
from metrics.callcenter import call_stats, desk_stats, wrapup_stats
from metrics.kpis import FIVE, definitions
from metrics.periods import Period
from routing.suggest import suggest_for_tickets
from telephony import desks, wrapup
from telephony.models import AgentState, AgentStatus, Call
from telephony.pop import call_pop
from web import dispatch_filter

# A call older than this is no longer shown as the agent's current one.
CURRENT_CALL_WINDOW = timedelta(hours=1)
# Same address and topic within this many days counts as a possible duplicate (DESIGN §8).
DUPLICATE_WINDOW_DAYS = 30
# 话后处理: shown, not stored; the PBX's wrapuptime is what keeps the calls away.
WRAP_UP = "wrap_up"
STATE_LABELS = {
    WRAP_UP: _("Wrap-up"),
    AgentStatus.OFFLINE: _("Offline"),
    AgentStatus.READY: _("Ready"),
    AgentStatus.PAUSED: _("Paused"),
    AgentStatus.ON_CALL: _("On a call"),
}
KPI_LABELS = {
    "answer_rate": _("Answer rate"),
    "on_time_rate": _("On-time completion rate"),
    "satisfaction_rate": _("Satisfaction rate"),
    "reopen_rate": _("Reopen rate"),
    "repeat_rate": _("Repeat complaint rate"),
}


# --- agent console -------------------------------------------------------------------------


def agent_state(user: User, call: Call | None = None, now=None) -> dict[str, Any]:
    """What the agent is doing: on a call while one is answered and live, in wrap-up for
    AGENT_WRAPUP_SECONDS after it ended (when ready: the PBX's wrapuptime holds them), else their chosen state."""
    if call is not None and call.answered_at and not call.ended_at:
        return {
            "status": AgentStatus.ON_CALL,
            "label": STATE_LABELS[AgentStatus.ON_CALL],
            "since": call.answered_at,
            "reason": "",
        }
    state = AgentState.objects.filter(user=user).first()
    status = state.status if state else AgentStatus.OFFLINE
    if status == AgentStatus.READY and call is not None and call.answered_at and call.ended_at:
        until = call.ended_at + timedelta(seconds=settings.AGENT_WRAPUP_SECONDS)
        left = (until - (now or timezone.now())).total_seconds()
        if left > 0:
            return {
                "status": WRAP_UP,
                "label": STATE_LABELS[WRAP_UP],
                "since": call.ended_at,
                "reason": "",
                "until": until,
                "seconds_left": math.ceil(left),
            }
    return {
        "status": status,
        "label": STATE_LABELS.get(status, status),
        "since": state.changed_at if state else None,
        "reason": state.reason if state and status == AgentStatus.PAUSED else "",
    }


def agent_state_panel(user: User, call: Call | None = None) -> dict[str, Any]:
    """The state panel's context, the same for the page, its forms and the socket."""
    from web.forms import PAUSE_REASONS

    state = agent_state(user, call)
    # Shown beside a pause only, by its label: the row keeps the code the PBX was given ("training").
    reason = dict(PAUSE_REASONS).get(state["reason"], state["reason"])
    # 专席: the desks Ready puts the phone in (the general one and the agent's skills', telephony.desks).
    my_desks = [desks.label(item["queue"]) for item in desks.agent_queues(user)]
    ctx = {"state": state, "pause_reasons": PAUSE_REASONS, "pause_reason": reason, "desks": my_desks}
    # 话后小结: during the call's wrap-up time the panel asks what the call was (telephony.wrapup).
    if call is not None and wrapup.is_open(call):
        left = math.ceil((wrapup.ends_at(call) - timezone.now()).total_seconds())
        ctx |= {
            "wrapup_call": call,
            "wrapup_codes": wrapup.codes(),
            "wrapup_selected": wrapup.suggested(call),
            "wrapup_left": max(left, 1),  # a paused agent's panel too asks again when the time is up
        }
    return ctx


def current_call(user: User, now=None) -> Call | None:
    """The agent's latest call of the last hour (live, or ended and in wrap-up)."""
    now = now or timezone.now()
    return (
        Call.objects.filter(agent=user, offered_at__gte=now - CURRENT_CALL_WINDOW)
        .select_related("caller__flag", "wrapup_code")
        .order_by("-offered_at", "-pk")
        .first()
    )


def pop_context(pop: dict[str, Any] | None) -> dict[str, Any]:
    """Add the repeat-caller hint to a screen pop (from the bridge's message or from the database)."""
    if not pop:
        return {"pop": None}
    previous = pop.get("previous_tickets") or []
    open_tickets = pop.get("open_tickets") or []
    # The pop travels as JSON with status codes; the agent reads words.
    labels = dict(TicketStatus.choices)
    for row in (*previous, *open_tickets):
        row["status_label"] = labels.get(row.get("status"), row.get("status", ""))
    flag = pop.get("flag")
    if flag:  # 恶意来电/缠访: the center's flag, shown with its reason and until when
        kind = flag.get("kind", "")
        expires = parse_datetime(flag.get("expires_at") or "")
        flag = {**flag, "kind_label": dict(FlagKind.choices).get(kind, kind), "expires": expires}
    return {"pop": pop, "repeat_caller": len(previous) > 0, "open_tickets": open_tickets, "caller_flag": flag}


# The agent console shows full numbers (the current caller, missed calls, held revisits): each
# builder notes them; one console render, page or socket push, is one audit entry (security §9).
AGENT_CONSOLE = "agent console: the call, callbacks and revisits"


def transfer_units():
    """Units a call can be transferred to: active network units with a duty phone (the center excluded)."""
    return Unit.objects.filter(is_active=True, level__gt=1).exclude(duty_phone="").order_by("level", "code")


def agent_call_context(user: User) -> dict[str, Any]:
    call = current_call(user)
    ctx = pop_context(call_pop(call) if call else None)
    ctx["call"] = call
    if call is not None and call.answered_at and not call.ended_at:
        ctx["transfer_units"] = list(transfer_units().only("pk", "name", "duty_phone"))  # the transfer form's list
    if call is not None:
        shown = ["phone", "name" if (call.caller.name if call.caller_id else call.caller_name) else ""]
        with audit.scope(user=user, screen="agent console"):
            audit.note_read(user, fields=shown, ticket=call.ticket_id, phone=call.caller_number, reason=AGENT_CONSOLE)
    return ctx


def missed_calls(user: User, limit: int = 10) -> dict[str, Any]:
    mine, due = callbacks_for_agent(user)
    ctx = {"missed_mine": list(mine[:limit]), "missed_due": list(due[:limit]), "missed_total": due.count()}
    with audit.scope(user=user, screen="agent console"):
        for task in ctx["missed_mine"] + ctx["missed_due"]:
            audit.note_read(user, fields=["phone"], phone=task.number, reason=AGENT_CONSOLE)
    return ctx


def duplicates_of(ticket: Ticket, limit: int = 5) -> list[Ticket]:
    """Open or recent tickets of the same caller, or at the same address about the same topic (并单 candidates)."""
    since = ticket.created_at - timedelta(days=DUPLICATE_WINDOW_DAYS)
    same = Q(caller_id=ticket.caller_id)
    if ticket.address and ticket.topic_id:
        same |= Q(address=ticket.address, topic_id=ticket.topic_id)
    mergeable = set(OPEN_STATUSES) | {TicketStatus.CLOSED}
    return list(
        Ticket.objects.filter(same, status__in=mergeable)
        .filter(Q(status__in=OPEN_STATUSES) | Q(created_at__gte=since))
        .exclude(pk=ticket.pk)
        .order_by("-created_at")[:limit]
    )


def revisits_due(user: User, limit: int = 8) -> dict[str, Any]:
    """The phone revisits this agent holds (with the reply to read out) and those waiting for an agent."""
    mine, due = revisits_for_agent(user)
    held = list(mine.select_related("ticket__caller", "unit", "assignment")[:limit])
    with audit.scope(user=user, screen="agent console"):
        for revisit in held:
            audit.note_read(
                user, fields=["phone"], ticket=revisit.ticket, phone=revisit.ticket.caller.phone, reason=AGENT_CONSOLE
            )
    return {"revisits_mine": held, "revisits_due": list(due[:limit]), "revisits_total": due.count()}


def agent_console(user: User) -> dict[str, Any]:
    with audit.scope(user=user, screen="agent console"):
        call = agent_call_context(user)
        return {**agent_state_panel(user, call["call"]), **call, **missed_calls(user), **revisits_due(user)}


# --- unit workbench -------------------------------------------------------------------------


def unit_inbox(unit: Unit, now=None) -> dict[str, Any]:
    """The unit's open assignments, earliest deadline first, with their warning levels and counts."""
    now = now or timezone.now()
    calendar = load_calendar()
    rows = list(
        Assignment.objects.filter(unit=unit, status__in=ACTIVE_ASSIGNMENT_STATUSES)
        .select_related("ticket", "ticket__category", "ticket__topic")
        .order_by("reply_by", "pk")
    )
    # A level-2 unit follows the streets it sub-dispatched to: "城正街街道 已答复" on its own row.
    children: dict[int, list[Assignment]] = {}
    if unit.level == 2 and rows:
        for child in (
            Assignment.objects.filter(parent__in=rows)
            .exclude(status=AssignmentStatus.WITHDRAWN)
            .select_related("unit")
            .order_by("pk")
        ):
            children.setdefault(child.parent_id, []).append(child)
    for row in rows:
        row.warning = warning_level(row, now, calendar)
        row.street_parts = children.get(row.pk, [])
    counts = Counter(row.status for row in rows)
    warnings = Counter(row.warning for row in rows)
    return {
        "inbox": rows,
        "count_pending": counts["pending"],
        "count_accepted": counts["accepted"],
        "count_yellow": warnings[YELLOW],
        "count_red": warnings[RED],
        "unit": unit,
    }


# --- dispatch queue ----------------------------------------------------------------------------


def dispatch_queue(params=None, limit: int = 25, now=None) -> dict[str, Any]:
    """The dispatcher's day: every waiting ticket, filtered and paged by ``params`` (the page's
    GET parameters, ``web.dispatch_filter``), with age, 当日转办 and the suggestions; then the
    replies to review and the extension requests."""
    now = now or timezone.now()
    form = dispatch_filter.read_filter(params)
    rows = dispatch_filter.waiting_tickets(form, now).select_related("category", "topic", "area__parent", "caller")
    page = Paginator(rows, dispatch_filter.PAGE_SIZE).get_page((params or {}).get("page"))
    waiting = list(page.object_list)
    suggestions = suggest_for_tickets(waiting, limit=3)
    returns = dispatch_filter.last_returns(waiting)
    # The calendar (two queries) only matters for urgent tickets: 当日转办.
    calendar = load_calendar() if any(t.urgency == Urgency.URGENT for t in waiting) else None
    for ticket in waiting:
        ticket.suggestions = suggestions[ticket.pk]
        ticket.last_return = returns.get(ticket.pk)
        ticket.dispatch_by = dispatch_by(ticket, calendar)
        ticket.dispatch_late = ticket.dispatch_by is not None and now > ticket.dispatch_by
    query = dispatch_query(params)
    pending = Extension.objects.filter(status=ExtensionStatus.PENDING, assignment__parent__isnull=True)
    extensions = list(
        pending.select_related("assignment__ticket", "assignment__unit", "requested_by").order_by("requested_at")[
            :limit
        ]
    )
    waiting_disputes = list(
        Dispute.objects.filter(status=DisputeStatus.PENDING)
        .select_related("assignment__ticket", "assignment__unit", "raised_by")
        .order_by("raised_at", "pk")
    )
    to_review = Ticket.objects.filter(status=TicketStatus.REPLIED)
    replied = list(to_review.select_related("category").order_by("updated_at")[:limit])
    leads = {
        a.ticket_id: a
        for a in Assignment.objects.filter(ticket__in=replied, parent__isnull=True, status="replied")
        .select_related("unit")
        .order_by("pk")
    }
    for ticket in replied:
        ticket.lead = leads.get(ticket.pk)
    return {
        "waiting": waiting,
        "page": page,
        "filter": form,
        "query": query,
        "all_waiting": (
            Ticket.objects.filter(status__in=list(WAITING_FOR_DISPATCH)).count() if query else page.paginator.count
        ),
        "disputes": waiting_disputes,
        "level2_units": list(Unit.objects.filter(level=2, is_active=True).order_by("kind", "code"))
        if waiting_disputes
        else [],
        "extensions": extensions,
        "extension_count": pending.count() if len(extensions) == limit else len(extensions),
        "replied": replied,
        "replied_count": to_review.count() if len(replied) == limit else len(replied),
    }


def dispatch_query(params, keep_page: bool = False) -> str:
    """The dispatch queue's filter as a query string (no page): for the pager's links, the
    socket's URL and the forms' way back."""
    if not params:
        return ""
    query = QueryDict(mutable=True)
    for key in [*dispatch_filter.DispatchQueueFilter.base_fields, *(["page"] if keep_page else [])]:
        if params.get(key):
            query[key] = params.get(key)
    return query.urlencode()


# --- wallboard -------------------------------------------------------------------------------


def wallboard_queue_snapshot(now=None) -> dict[str, Any]:
    """Waiting callers and agents by state from the database, until the bridge's live picture arrives."""
    now = now or timezone.now()
    waiting = Call.objects.filter(
        offered_at__gte=now - CURRENT_CALL_WINDOW, answered_at__isnull=True, ended_at__isnull=True
    )
    oldest = waiting.order_by("offered_at").values_list("offered_at", flat=True).first()
    states = dict(
        AgentState.objects.filter(user__is_active=True)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    return {
        "queues": {
            "": {
                "waiting": waiting.count(),
                "longest_wait": int((now - oldest).total_seconds()) if oldest else 0,
                "agent_counts": {k: v for k, v in states.items() if k != AgentStatus.OFFLINE},
            }
        },
        "from_database": True,
    }


def wallboard_today(now=None) -> dict[str, Any]:
    now = now or timezone.now()
    period = Period.of("day", timezone.localdate(now))
    kpis = definitions()
    figures = []
    for key in FIVE:
        figure = kpis[key].compute(period, now=now)
        percent = None if figure.value is None else round(figure.value * 100, 1)
        figures.append((KPI_LABELS[key], figure, percent))
    # 话后小结: today's answered calls per wrap-up code (two queries).
    return {"today": call_stats(period), "kpis": figures, "period": period, "wrapups": wrapup_stats(period)}


def overdue_by_unit(now=None) -> list[dict[str, Any]]:
    now = now or timezone.now()
    return list(
        Assignment.objects.filter(status__in=ACTIVE_ASSIGNMENT_STATUSES, reply_by__lt=now)
        .values("unit__name")
        .annotate(n=Count("pk"))
        .order_by("-n", "unit__name")[:15]
    )


def wallboard_hotspots(now=None) -> dict[str, Any]:
    """The hot-spot warnings as the scan recorded them (metrics.hotspots): read, never recomputed."""
    return {"hot_spots": list(hotspots.shown(now))}


def desks_today(now=None) -> dict[str, dict[str, Any]]:
    """Each desk's figures of today (metrics.callcenter.desk_stats)."""
    now = now or timezone.now()
    return desk_stats(Period.of("day", timezone.localdate(now)))


def waiting_by_desk(now=None) -> dict[str, dict[str, Any]]:
    """Callers waiting per queue from the database, until the bridge's live picture arrives."""
    now = now or timezone.now()
    rows = (
        Call.objects.filter(offered_at__gte=now - CURRENT_CALL_WINDOW, answered_at__isnull=True, ended_at__isnull=True)
        .values("queue")
        .annotate(n=Count("pk"), oldest=Min("offered_at"))
    )
    return {
        row["queue"]: {"waiting": row["n"], "longest_wait": int((now - row["oldest"]).total_seconds())} for row in rows
    }


def wallboard_desks(
    live: dict[str, dict[str, Any]] | None, today: dict[str, dict[str, Any]], now=None
) -> dict[str, Any]:
    """专席: one row per desk, its live queue (the bridge's picture, ``live`` by queue) beside today's figures.

    ``live`` None: the bridge has not reported yet; waiting callers come from the database and the
    agents are not known.
    """
    from_database = live is None
    live = waiting_by_desk(now) if live is None else live
    rows = []
    for queue in [*desks.queues(), *sorted(set(today) - set(desks.queues()))]:
        q = live.get(queue, {})
        counts = q.get("agent_counts") or {}
        rows.append(
            {
                "queue": queue,
                "label": desks.label(queue),
                "kind": desks.kind_of(queue),
                "waiting": q.get("waiting", 0),
                "longest_wait": q.get("longest_wait", 0),
                "ready": None if from_database else counts.get("ready", 0),
                "busy": None if from_database else counts.get("on_call", 0) + counts.get("ringing", 0),
                "paused": None if from_database else counts.get("paused", 0),
                "today": today.get(queue, {}),
            }
        )
    return {"desks": rows, "desks_from_database": from_database}


def wallboard(now=None) -> dict[str, Any]:
    return {
        **wallboard_queue_snapshot(now),
        **wallboard_today(now),
        "overdue": overdue_by_unit(now),
        **wallboard_hotspots(now),
        **wallboard_desks(None, desks_today(now), now),
    }
