"""话务台: the agent console."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from callback import callbacks, notifications, revisits
from callback.models import CallbackTask, Rating, Revisit
from hotline import public_cases
from hotline.errors import DomainError, InvalidInput
from hotline.models import Role, Ticket, TicketStatus, Topic, Unit
from hotline.services import callers, dispatch, tickets
from hotline.services import knowledge as knowledge_base
from hotline.services.assignments import current_lead, sla_for
from hotline.services.calendar import load_calendar
from routing.suggest import suggest_for_ticket
from telephony import control, presence, wrapup
from telephony.commands import CALL_ENDED, NO_ROOM, NOT_ANSWERED, NOT_REACHED
from telephony.models import Call
from web.forms import AgentStateForm, RegisterForm, TransferForm
from web.views import agent_110, role_required
from web.views import snapshots as snap

agent_only = role_required([Role.AGENT])


@agent_only
def console(request: HttpRequest) -> HttpResponse:
    ctx = snap.agent_console(request.user)
    ctx["ratings"] = [(value, label) for value, label in Rating.choices if value]
    ctx |= {"form": RegisterForm(initial=_initial_from_call(ctx["call"]))} | agent_110.form_context()
    return render(request, "web/agent/console.html", ctx)


def _state_panel(request: HttpRequest, error: str = "") -> HttpResponse:
    ctx = snap.agent_state_panel(request.user, snap.current_call(request.user))
    ctx["state_error"] = error
    return render(request, "web/agent/_state.html", ctx)


@agent_only
@require_http_methods(["GET", "POST"])
def set_state(request: HttpRequest) -> HttpResponse:
    """示闲/示忙: the bridge moves the phone in or out of the queues first; only then the state changes.

    GET answers the panel as it is (the wrap-up panel asks again when its time is up).
    """
    if request.method == "GET":
        return _state_panel(request)
    form = AgentStateForm(request.POST)
    if not form.is_valid():
        return _state_panel(request, _("Choose ready, paused or log off."))
    try:
        presence.set_agent_state(request.user, form.cleaned_data["state"], form.cleaned_data["reason"])
    except control.BridgeUnavailable as exc:
        return _state_panel(request, control.explain(exc))
    except control.CommandFailed as exc:
        return _state_panel(request, control.explain(exc))
    return _state_panel(request)


@agent_only
@require_POST
def wrap_up(request: HttpRequest) -> HttpResponse:
    """话后小结: the agent's wrap-up code for their call that just ended (telephony.wrapup).

    Answers the state panel; a refusal (unknown code, not their call, wrap-up over) is said in it
    and changes nothing.
    """
    raw = request.POST.get("call", "")
    if not raw.isdigit():
        return _state_panel(request, _("Which call? Reload the console."))
    try:
        wrapup.choose(request.user, int(raw), request.POST.get("code", ""))
    except DomainError as exc:
        return _state_panel(request, str(exc))
    return _state_panel(request)


def _initial_from_call(call: Call | None) -> dict:
    if call is None:
        return {}
    return {
        "phone": call.caller_number,
        "caller_name": call.caller.name if call.caller_id else call.caller_name,
        "no_messages": call.caller.no_messages if call.caller_id else False,
        "call_linkedid": call.linkedid,
    }


@agent_only
def register_form(request: HttpRequest) -> HttpResponse:
    """The register form, pre-filled from a call (or blank). Agents are center staff: they see numbers in full."""
    call = None
    if linkedid := request.GET.get("linkedid", "").strip():
        # The pop names the call by its linkedid (it may go out before the call's row is written);
        # the newest PBX boot's call of that id on the agent's PBX is the ringing one.
        calls = Call.objects.filter(linkedid=linkedid, pbx=control.pbx_of(request.user))
        call = calls.select_related("caller").order_by("-pbx_epoch").first()
    ctx = {"form": RegisterForm(initial=_initial_from_call(call)), "from_call": call.pk if call else ""}
    return render(request, "web/agent/_work.html", ctx)


@agent_only
def knowledge(request: HttpRequest) -> HttpResponse:
    """知识库 search while on the call; an answer can be copied into the resolve-on-call field.

    Beside the articles, the published cases like the caller's demand (办件公开): of the topic
    chosen on the register form first, when one is.
    """
    query = request.GET.get("q", "").strip()
    raw_topic = request.GET.get("topic", "")
    topic = Topic.objects.filter(pk=raw_topic).select_related("parent").first() if raw_topic.isdigit() else None
    ctx = {
        "query": query,
        "hits": knowledge_base.search(query, topic=topic),
        "cases": public_cases.matching_cases(query, topic) if query else [],
    }
    return render(request, "web/agent/_knowledge.html", ctx)


def told_to_caller(ticket: Ticket) -> dict:
    """What the agent reads out before hanging up: the query code and when the answer is due.

    Before dispatch the due date is the category's SLA counted from now (the deadline the unit
    will get); once dispatched it is the lead unit's reply-by.
    """
    lead = current_lead(ticket)
    if lead is not None:
        return {"reply_days": lead.reply_days or None, "reply_by": lead.reply_by}
    if not ticket.is_open or ticket.status == TicketStatus.REVISIT_PENDING:
        return {}
    _accept_hours, reply_days = sla_for(ticket)
    return {"reply_days": reply_days, "reply_by": load_calendar().days_deadline(timezone.now(), reply_days).at}


def _ticket_panel(request: HttpRequest, ticket: Ticket, message: str = "", error: str = "") -> HttpResponse:
    ctx = {
        "ticket": ticket,
        "told": told_to_caller(ticket),
        "suggestions": suggest_for_ticket(ticket) if ticket.status in ("registered", "returned") else [],
        "duplicates": snap.duplicates_of(ticket) if ticket.is_open else [],
        "sms_messages": notifications.messages_of(ticket),
        "experts": expert_units() if ticket.status == TicketStatus.REGISTERED else [],
        "message": message,
        "error": error,
    }
    return render(request, "web/agent/_ticket.html", ctx)


@agent_only
@require_POST
def register(request: HttpRequest) -> HttpResponse:
    """受理登记, or 受理登记 and 直接办结 in one when the agent answered on the call."""
    form = RegisterForm(request.POST)
    if not form.is_valid():
        return render(request, "web/agent/_work.html", {"form": form})
    data = form.cleaned_data
    resolve = "resolve" in request.POST
    if resolve and not data["resolution"].strip():
        form.add_error("resolution", _("Write the answer you gave before resolving on the call."))
        return render(request, "web/agent/_work.html", {"form": form})
    try:
        ticket, _new = tickets.register_ticket_once(
            idempotency_key=data["form_token"],
            by=request.user,
            phone=data["phone"],
            caller_name=data["caller_name"],
            content=data["content"],
            category=data["category"],
            topic=data["topic"],
            area=data["area"],
            address=data["address"],
            urgency=data["urgency"],
            call_linkedid=data["call_linkedid"],
            resolve_with=data["resolution"] if resolve else None,
            no_messages=data["no_messages"],
            consent_public=data["consent_public"],
        )
    except DomainError as exc:
        return render(request, "web/agent/_work.html", {"form": form, "error": exc.message})
    return _ticket_panel(request, ticket, _("Resolved on the call.") if resolve else _("Registered."))


@agent_only
@require_POST
def report_caller(request: HttpRequest) -> HttpResponse:
    """恶意来电: the agent reports abusive language on their call (``linkedid``) or on a ticket
    (``ticket``). A report for the center to review, never a flag (hotline.services.callers)."""
    note = request.POST.get("note", "")
    ctx: dict = {}
    try:
        if ticket_id := request.POST.get("ticket", "").strip():
            ticket = get_object_or_404(
                Ticket.objects.select_related("caller"), pk=int(ticket_id) if ticket_id.isdigit() else 0
            )
            callers.report_caller(ticket.caller, request.user, note, ticket=ticket, call_linkedid="")
        else:
            linkedid = request.POST.get("linkedid", "").strip()
            call = (
                Call.objects.filter(linkedid=linkedid, agent=request.user, pbx=control.pbx_of(request.user))
                .order_by("-pbx_epoch")
                .first()
                if linkedid
                else None
            )
            if call is None:
                raise InvalidInput(_("This call is not yours or is not recorded yet."))
            callers.report_call(request.user, call.caller_number, call.linkedid, note)
    except DomainError as exc:
        ctx["report_error"] = exc.message
    else:
        ctx["report_message"] = _("Reported to the center for review.")
    return render(request, "web/agent/_report_result.html", ctx)


def _ticket_or_404(pk: int) -> Ticket:
    """Any ticket: agents are center staff and may act on every one (the services check the rest)."""
    return get_object_or_404(Ticket.objects.select_related("caller", "topic", "area", "category"), pk=pk)


@agent_only
@require_POST
def dispatch_ticket(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = _ticket_or_404(pk)
    unit = get_object_or_404(Unit, pk=request.POST.get("unit") or 0)
    try:
        dispatch.dispatch_ticket(ticket, request.user, unit, expected_version=_version(request))
    except DomainError as exc:
        return _ticket_panel(request, ticket, error=exc.message)
    ticket.refresh_from_db()
    return _ticket_panel(request, ticket, _("Dispatched to %(unit)s.") % {"unit": unit.name})


@agent_only
@require_POST
def merge_ticket(request: HttpRequest, pk: int) -> HttpResponse:
    """并单: fold the ticket just registered into an earlier one."""
    ticket = _ticket_or_404(pk)
    into = get_object_or_404(Ticket, pk=request.POST.get("into") or 0)
    try:
        tickets.merge_ticket(ticket, into, request.user, expected_version=_version(request))
    except DomainError as exc:
        return _ticket_panel(request, ticket, error=exc.message)
    ticket.refresh_from_db()
    return _ticket_panel(request, ticket, _("Merged into %(number)s.") % {"number": into.number})


def _version(request: HttpRequest) -> int | None:
    value = request.POST.get("version", "")
    return int(value) if value.isdigit() else None


# What the PBX showed after it accepted a transfer or three-way call that did not work (the bridge's codes).
TRANSFER_FAILURES = {
    NOT_ANSWERED: gettext_lazy(
        "110 did not answer (%(detail)s). The caller is still with you; no referral was recorded."
    ),
    NOT_REACHED: gettext_lazy(
        "The caller's line never reached 110. No referral was recorded; check the call and try again."
    ),
    CALL_ENDED: gettext_lazy("The call ended before 110 was on the line. No referral was recorded."),
    NO_ROOM: gettext_lazy(
        "The phone system cannot hold a three-way call (ConfBridge is not set up). The caller is still with you; "
        "no referral was recorded."
    ),
}


def _transfer_failure(exc: control.CommandFailed) -> str:
    message = TRANSFER_FAILURES.get(exc.code)
    if message is None:
        return control.explain(exc)
    return str(message) % {"detail": exc.detail or "?"}


@agent_only
@require_POST
def transfer_110(request: HttpRequest) -> HttpResponse:
    """移交110 (or a three-way call with 110): the bridge acts first; the referral is written after."""
    form = TransferForm(request.POST)
    ctx: dict = {}
    if not form.is_valid():
        ctx["transfer_error"] = _("Give the reason for the transfer.")
        return render(request, "web/agent/_transfer_result.html", ctx)
    ticket = None
    if form.cleaned_data["ticket"]:
        ticket = Ticket.objects.filter(pk=form.cleaned_data["ticket"]).first()
    reason, three_way = form.cleaned_data["reason"], form.cleaned_data["three_way"]
    matter = None
    if form.cleaned_data["matter"]:
        matter = agent_110.matters_to_110().filter(code=form.cleaned_data["matter"]).first()
        if matter is None:
            ctx["transfer_error"] = _("This matter is not on the list of matters 12345 hands to 110.")
            return render(request, "web/agent/_transfer_result.html", ctx)
    try:
        referral = control.transfer_to_110(request.user, reason, ticket=ticket, three_way=three_way, matter=matter)
    except control.BridgeUnavailable as exc:
        ctx["transfer_error"] = control.explain(exc)
    except control.CommandFailed as exc:
        ctx["transfer_error"] = _transfer_failure(exc)
    except DomainError as exc:
        ctx["transfer_error"] = exc.message
    else:
        ctx["referral"] = referral
        if not three_way:  # the caller is with 110 now: the pop says so and offers no hang-up
            pop = {**snap.agent_call_context(request.user), "oob": True}
            result = render(request, "web/agent/_transfer_result.html", ctx)
            result.content += render_to_string("web/agent/_pop.html", pop, request).encode()
            return result
    return render(request, "web/agent/_transfer_result.html", ctx)


def expert_units():
    """Units an agent can put on the line: active network units (not the center itself), with a duty phone."""
    return Unit.objects.filter(is_active=True, level__gt=1).exclude(duty_phone="").order_by("level", "code")


@agent_only
@require_POST
def conference_unit(request: HttpRequest) -> HttpResponse:
    """专家在线: the unit's duty phone joins the agent's live call (a three-way call, like 110's)."""
    ctx: dict = {}
    unit = expert_units().filter(pk=request.POST.get("unit") or 0).first()
    if unit is None:
        ctx["expert_error"] = _("Choose a unit with a duty phone.")
        return render(request, "web/agent/_expert_result.html", ctx)
    try:
        result = control.conference_unit(request.user, unit)
    except control.BridgeUnavailable as exc:
        ctx["expert_error"] = control.explain(exc)
    except control.CommandFailed as exc:
        if exc.code == NOT_ANSWERED:
            ctx["expert_error"] = _(
                "%(unit)s's duty phone did not answer (%(detail)s). The caller is still with you."
            ) % {"unit": unit.name, "detail": exc.detail or "?"}
        elif exc.code == NO_ROOM:
            ctx["expert_error"] = str(TRANSFER_FAILURES[NO_ROOM])
        elif exc.code == CALL_ENDED:
            ctx["expert_error"] = _("The call ended before %(unit)s was on the line.") % {"unit": unit.name}
        else:
            ctx["expert_error"] = control.explain(exc)
    else:
        ctx.update(unit=unit, linkedid=result.get("linkedid", ""))
    return render(request, "web/agent/_expert_result.html", ctx)


@agent_only
@require_POST
def resolve_with_unit(request: HttpRequest, pk: int) -> HttpResponse:
    """直接办结 with the answer the unit gave on the call; the unit's answer joins the timeline."""
    ticket = _ticket_or_404(pk)
    unit = Unit.objects.filter(pk=request.POST.get("unit") or 0).first()
    answer = request.POST.get("answer", "")
    if unit is None or not answer.strip():
        return _ticket_panel(request, ticket, error=_("Choose the unit and write down the answer it gave."))
    try:
        ticket = tickets.resolve_on_call(ticket, request.user, answer, _version(request), unit=unit)
    except DomainError as exc:
        return _ticket_panel(request, ticket, error=exc.message)
    return _ticket_panel(request, ticket, _("Resolved on the call with %(unit)s's answer.") % {"unit": unit.name})


@agent_only
@require_POST
def hang_up(request: HttpRequest) -> HttpResponse:
    """挂断 the agent's call: the PBX hangs up the caller; the call ends when the bridge sees it."""
    call = snap.current_call(request.user)
    ctx: dict = {}
    if call is None or not call.answered_at or call.ended_at:
        ctx["hangup_error"] = _("You have no call in progress to hang up.")
        return render(request, "web/agent/_hangup_result.html", ctx)
    try:
        control.hang_up(request.user)
    except control.BridgeUnavailable as exc:
        ctx["hangup_error"] = control.explain(exc)
    except control.CommandFailed as exc:
        ctx["hangup_error"] = control.explain(exc)
    else:
        ctx["hangup_message"] = _("Hung up.")
    return render(request, "web/agent/_hangup_result.html", ctx)


@agent_only
@require_POST
def stop_recording(request: HttpRequest) -> HttpResponse:
    """The caller asked not to be recorded: the PBX stops recording (StopMixMonitor); the recording is marked."""
    call = snap.current_call(request.user)
    ctx: dict = {}
    if call is None or not call.answered_at or call.ended_at:
        ctx["hangup_error"] = _("You have no call in progress.")
        return render(request, "web/agent/_hangup_result.html", ctx)
    try:
        control.stop_recording(request.user)
    except control.BridgeUnavailable as exc:
        ctx["hangup_error"] = control.explain(exc)
    except control.CommandFailed as exc:
        ctx["hangup_error"] = control.explain(exc)
    except DomainError as exc:
        ctx["hangup_error"] = exc.message
    else:
        ctx["hangup_message"] = _("Recording stopped: the caller asked not to be recorded.")
    return render(request, "web/agent/_hangup_result.html", ctx)


@agent_only
@require_POST
def call_back(request: HttpRequest, pk: int) -> HttpResponse:
    """回拨 a missed call from the list (the callback service claims it, then dials through the bridge)."""
    task = get_object_or_404(CallbackTask, pk=pk)
    ctx: dict = {}
    try:
        task = callbacks.manual_dial(request.user, task=task)
    except DomainError as exc:
        ctx["missed_error"] = exc.message
    else:
        if task.last_error and task.status == "due":  # the bridge did not dial; the task stays due
            ctx["missed_error"] = task.last_error
        else:
            ctx["missed_message"] = _("Dialling %(number)s…") % {"number": task.number}
    ctx |= snap.missed_calls(request.user)
    return render(request, "web/agent/_missed.html", ctx)


@agent_only
@require_POST
def callback_done(request: HttpRequest, pk: int) -> HttpResponse:
    """The outcome of a callback the agent dialled, in one click (reached, no answer, busy, wrong number)."""
    task = get_object_or_404(CallbackTask, pk=pk)
    ctx: dict = {}
    try:
        callbacks.complete_callback(task, request.user, request.POST.get("outcome", ""), request.POST.get("note", ""))
    except DomainError as exc:
        ctx["missed_error"] = exc.message
    ctx |= snap.missed_calls(request.user)
    return render(request, "web/agent/_missed.html", ctx)


def _revisits_panel(request: HttpRequest, error: str = "", message: str = "") -> HttpResponse:
    ctx = {**snap.revisits_due(request.user), "revisit_error": error, "revisit_message": message}
    ctx["ratings"] = [(value, label) for value, label in Rating.choices if value]
    return render(request, "web/agent/_revisits.html", ctx)


@agent_only
@require_POST
def revisit_dial(request: HttpRequest, pk: int) -> HttpResponse:
    """回访: take the revisit and ring the agent's phone, then the citizen's."""
    try:
        revisit = revisits.dial_revisit(get_object_or_404(Revisit, pk=pk), request.user)
    except DomainError as exc:
        return _revisits_panel(request, error=exc.message)
    if revisit.status != "in_progress":  # the bridge could not dial: it is due again shortly
        return _revisits_panel(request, error=revisit.last_error or _("The call could not be placed."))
    return _revisits_panel(request, message=_("Dialling the caller…"))


@agent_only
@require_POST
def revisit_result(request: HttpRequest, pk: int) -> HttpResponse:
    """The caller's answer in one step: a rating and whether it was solved, or unreachable."""
    revisit = get_object_or_404(Revisit, pk=pk)
    rating = request.POST.get("rating", "")
    reached = rating != "unreachable"
    solved = {"yes": True, "no": False}.get(request.POST.get("solved", ""))
    try:
        revisits.record_result(
            revisit,
            request.user,
            reached=reached,
            rating=rating if reached else "",
            solved=solved if reached else None,
            comment=request.POST.get("comment", ""),
        )
    except DomainError as exc:
        return _revisits_panel(request, error=exc.message)
    return _revisits_panel(request, message=_("Revisit recorded."))
