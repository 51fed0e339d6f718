"""工单详情 for the center: the whole ticket in words, and the center's hand on it.

Agents, dispatchers and supervisors open any ticket here (units have their own page in
``web.views.unit``). Each action is one service call, so one transaction and one timeline
entry; a refusal comes back as a message on the same page, the form's input kept in the message.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from callback.models import SmsMessage, SmsPurpose
from hotline.access import caller_view, is_center_reviewer, may_hear_recording
from hotline.deadlines import dispatch_by, warning_level
from hotline.errors import InvalidInput
from hotline.models import Ticket, TicketStatus
from hotline.models.network import CENTER_ROLES, Role
from hotline.models.tickets import ACTIVE_ASSIGNMENT_STATUSES
from hotline.services import dispatch, supervision, tickets
from hotline.services.calendar import load_calendar
from hotline.workflow import TRANSITIONS
from telephony import recordings
from telephony.models import Call, Outcome
from web import supervision_forms as sf
from web import ticket_forms as tf
from web.forms import ReasonForm
from web.ticket_map import ticket_map
from web.timeline_text import describe, timeline_entries
from web.views import posted, role_required

center_staff = role_required(CENTER_ROLES)
# Quality checkers read the ticket beside the recordings they listen to; they take no action on it.
ticket_readers = role_required(CENTER_ROLES | {Role.QUALITY})
# Texts to units' people (催办, escalations) are not messages to the caller.
UNIT_SMS = (SmsPurpose.UNIT_REMINDER, SmsPurpose.LEADER_NOTICE)


def _may(user, action: str, ticket: Ticket) -> bool:
    transition = TRANSITIONS[action]
    return ticket.status in transition.sources and (user.is_superuser or user.role in transition.roles)


def _calls(ticket: Ticket, user) -> list[Call]:
    """The ticket's calls, each with its recording (or None) and whether ``user`` may hear it."""
    calls = list(ticket.calls.select_related("agent", "recording").order_by("offered_at", "pk"))
    for call in calls:
        call.rec = getattr(call, "recording", None)
        if call.ended_at and not call.answered_at and call.outcome != Outcome.OUTBOUND:
            call.rec = None  # never bridged to an agent: MixMonitor (option b) wrote nothing
        call.may_hear = call.rec is not None and may_hear_recording(user, call.agent_id)
        call.rec_state = _file_state(call.rec) if call.may_hear else "unknown"
    return calls


def _file_state(recording) -> str:
    """ready, writing (live call, or the PBX has not closed or we have not fetched the file), missing, purged."""
    if recording.purged_at is not None:
        return "purged"
    try:
        recordings.check_file(recording)
    except recordings.NotReady:
        return "writing"
    except FileNotFoundError:
        return "missing"
    return "ready"


@ticket_readers
def ticket_page(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = get_object_or_404(
        Ticket.objects.select_related(
            "caller", "category", "topic", "area__parent", "merged_into", "repeat_of", "open311__client"
        ),
        pk=pk,
    )
    now = timezone.now()
    calendar = load_calendar()
    assignments = list(ticket.assignments.select_related("unit", "parent__unit").order_by("pk"))
    for a in assignments:
        a.warning = warning_level(a, now, calendar)
    user = request.user
    actions = {name: _may(user, name, ticket) for name in ("dispatch", "reassign", "close", "reopen", "merge")}
    actions.update(discard=_may(user, "discard", ticket), restore=_may(user, "restore", ticket))
    reviewer = is_center_reviewer(user)
    actions["remind"] = reviewer and any(a.status in ACTIVE_ASSIGNMENT_STATUSES for a in assignments)
    actions["supervise"] = reviewer and ticket.status not in supervision.NOT_SUPERVISABLE
    # 办件公开: the publish step says itself why a ticket without consent cannot be published.
    actions["publish"] = reviewer and ticket.status == TicketStatus.CLOSED
    cases = list(supervision.cases_of(ticket))
    ctx = {
        "ticket": ticket,
        "caller": caller_view(user, ticket),
        "assignments": assignments,
        "lines": describe(timeline_entries(ticket)),
        "calls": _calls(ticket, user),
        "sms": SmsMessage.objects.filter(ticket=ticket).exclude(purpose__in=UNIT_SMS).order_by("created_at", "pk"),
        "unit_sms": SmsMessage.objects.filter(ticket=ticket, purpose__in=UNIT_SMS).order_by("created_at", "pk"),
        "cases": cases,
        "published": ticket.published.filter(withdrawn_at__isnull=True).first(),
        "supervised": any(c.is_open for c in cases),
        "revisits": ticket.revisits.select_related("unit", "agent").order_by("scheduled_for", "pk"),
        "referrals": ticket.referrals.select_related("referred_by").order_by("referred_at"),
        "attachments": ticket.attachments.order_by("pk"),
        "merged_here": Ticket.objects.filter(merged_into=ticket).order_by("pk"),
        "repeats": Ticket.objects.filter(repeat_of=ticket).order_by("pk"),
        "dispatch_by": dispatch_by(ticket, calendar),
        "map": ticket_map(ticket),
        "actions": actions,
        "dispatch_form": tf.HandDispatchForm(),
        "reassign_form": tf.ReassignForm(),
        "merge_form": tf.MergeForm(),
        "note_form": tf.NoteForm(),
        "reason_form": ReasonForm(),
        "remind_form": sf.RemindForm(ticket_id=ticket.pk),
        "case_form": sf.CaseForm(initial=_case_initial(assignments)),
    }
    return render(request, "web/ticket/page.html", ctx)


def _case_initial(assignments) -> dict:
    """The lead unit the center dispatched to is the first guess for the responsible unit."""
    lead = next((a for a in assignments if a.parent_id is None and a.role == "lead" and a.status != "withdrawn"), None)
    return {"unit": lead.unit_id if lead else None}


def _act(request: HttpRequest, pk: int, form_class, do: Callable, ok: str) -> HttpResponse:
    ticket = get_object_or_404(Ticket, pk=pk)
    return posted(
        request,
        form_class(request.POST),
        lambda data: do(ticket, data),
        ok % {"number": ticket.number},
        reverse("web:ticket", args=[pk]),
        prefix=f"{ticket.number}: ",
    )


@center_staff
@require_POST
def hand_dispatch(request: HttpRequest, pk: int) -> HttpResponse:
    def do(ticket, data):
        assisting = [u for u in data["assisting"] if u != data["lead"]]
        dispatch.dispatch_ticket(ticket, request.user, data["lead"], assisting, instructions=data["instructions"])

    return _act(request, pk, tf.HandDispatchForm, do, _("%(number)s dispatched."))


@center_staff
@require_POST
def reassign(request: HttpRequest, pk: int) -> HttpResponse:
    def do(ticket, data):
        dispatch.reassign_ticket(ticket, request.user, data["to_unit"], data["reason"])

    return _act(request, pk, tf.ReassignForm, do, _("%(number)s reassigned."))


@center_staff
@require_POST
def close(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request, pk, tf.NoteForm, lambda t, d: tickets.close_ticket(t, request.user, d["note"]), _("%(number)s closed.")
    )


@center_staff
@require_POST
def reopen(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        ReasonForm,
        lambda t, d: tickets.reopen_ticket(t, request.user, d["reason"]),
        _("%(number)s reopened."),
    )


@center_staff
@require_POST
def merge(request: HttpRequest, pk: int) -> HttpResponse:
    def do(ticket, data):
        into = Ticket.objects.filter(number=data["into"].strip()).first()
        if into is None:
            raise InvalidInput(_("no ticket has the number %(number)s") % {"number": data["into"].strip()})
        tickets.merge_ticket(ticket, into, request.user, data["note"])

    return _act(request, pk, tf.MergeForm, do, _("%(number)s merged."))


@center_staff
@require_POST
def discard(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        ReasonForm,
        lambda t, d: tickets.discard_ticket(t, request.user, d["reason"]),
        _("%(number)s moved to the recycle bin."),
    )


@center_staff
@require_POST
def restore(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        tf.NoteForm,
        lambda t, d: tickets.restore_ticket(t, request.user, d["note"]),
        _("%(number)s restored."),
    )


@center_staff
@require_POST
def remind(request: HttpRequest, pk: int) -> HttpResponse:
    """催办: the note reaches the unit's open workbench at once, and its liaison by SMS."""
    return _act(
        request,
        pk,
        lambda post: sf.RemindForm(post, ticket_id=pk),
        lambda t, d: supervision.remind(t, request.user, d["note"], assignment=d["assignment"]),
        _("%(number)s: reminder sent."),
    )


@center_staff
@require_POST
def supervise(request: HttpRequest, pk: int) -> HttpResponse:
    """督办: open a supervision case on this ticket."""

    def do(ticket, data):
        supervision.open_case(
            request.user,
            [ticket],
            data["form"],
            data["reason"],
            sf.end_of_day(data["due_by"]),
            title=data["title"],
            unit=data["unit"],
            leader_name=data["leader_name"],
        )

    return _act(request, pk, sf.CaseForm, do, _("%(number)s is now supervised."))
