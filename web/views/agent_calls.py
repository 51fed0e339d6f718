"""话务台 call controls: hold, mute, consult and blind transfer (telephony/call_controls.py).

Each view asks the bridge once and answers the caller panel (the pop) as the database holds it
after the PBX confirmed the control: the console never shows 保持中 or 静音 the PBX has not reported.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hotline.models import Role, Unit
from telephony import control
from telephony.commands import NOT_ANSWERED
from web.views import role_required
from web.views import snapshots as snap

agent_only = role_required([Role.AGENT])


def _pop(request: HttpRequest, *, error: str = "", message: str = "") -> HttpResponse:
    ctx = snap.agent_call_context(request.user)
    ctx |= {"control_error": error, "control_message": message}
    return render(request, "web/agent/_pop.html", ctx)


def _live(request: HttpRequest) -> bool:
    call = snap.current_call(request.user)
    return call is not None and bool(call.answered_at) and not call.ended_at


def _ask(request: HttpRequest, act, message: str) -> HttpResponse:
    """Run one control; its refusal is said in the panel in the agent's words, nothing else changes."""
    if not _live(request):
        return _pop(request, error=_("You have no call in progress."))
    try:
        act()
    except control.BridgeError as exc:
        return _pop(request, error=control.explain(exc))
    return _pop(request, message=message)


@agent_only
@require_POST
def hold(request: HttpRequest) -> HttpResponse:
    """保持 / 取回: ``held=1`` puts the caller on hold (music), ``held=0`` takes them back."""
    if request.POST.get("held") == "1":
        return _ask(request, lambda: control.hold(request.user), _("The caller is on hold and hears music."))
    return _ask(request, lambda: control.unhold(request.user), _("The caller is back on the line."))


@agent_only
@require_POST
def mute(request: HttpRequest) -> HttpResponse:
    """静音: ``muted=1`` turns the agent's microphone toward the caller off, ``muted=0`` on again."""
    on = request.POST.get("muted") == "1"
    message = _("Your microphone is muted: the caller cannot hear you.") if on else _("The caller hears you again.")
    return _ask(request, lambda: control.mute(request.user, on), message)


def _target(request: HttpRequest) -> tuple[str, str]:
    """(number, label): a unit's duty phone chosen from the list, else the extension typed in."""
    unit_pk = request.POST.get("unit") or ""
    if unit_pk:
        unit = snap.transfer_units().filter(pk=unit_pk if unit_pk.isdigit() else 0).first()
        return (unit.duty_phone, unit.name) if unit is not None else ("", "")
    return (request.POST.get("extension") or "").strip(), ""


@agent_only
@require_POST
def transfer(request: HttpRequest) -> HttpResponse:
    """转接: ``mode=consult`` (咨询转接: talk to the number first) or ``mode=blind`` (直接转接)."""
    number, label = _target(request)
    if not number:
        return _pop(request, error=_("Choose a unit or type an extension to transfer to."))
    if not _live(request):
        return _pop(request, error=_("You have no call in progress."))
    who = label or number
    try:
        if request.POST.get("mode") == "blind":
            control.blind_transfer(request.user, number, label)
            return _pop(request, message=_("The caller was transferred to %(who)s.") % {"who": who})
        control.consult_transfer(request.user, number)
    except control.CommandFailed as exc:
        if exc.code == NOT_ANSWERED:
            error = _("%(who)s did not answer (%(detail)s). The caller is back with you.") % {
                "who": who,
                "detail": exc.detail or "?",
            }
            return _pop(request, error=error)
        return _pop(request, error=control.explain(exc))
    except control.BridgeError as exc:
        return _pop(request, error=control.explain(exc))
    return _pop(
        request,
        message=_("You are talking to %(who)s; the caller is on hold. Complete or cancel the transfer.") % {"who": who},
    )


@agent_only
@require_POST
def transfer_end(request: HttpRequest) -> HttpResponse:
    """End a consult transfer: ``how=complete`` (the caller talks to the unit) or ``how=cancel``."""
    call = snap.current_call(request.user)
    if request.POST.get("how") == "complete":
        number = call.consulting if call is not None else ""
        unit = Unit.objects.filter(duty_phone=number).first() if number else None
        label = unit.name if unit is not None else ""
        return _ask(
            request,
            lambda: control.complete_transfer(request.user, label),
            _("The caller was transferred to %(who)s.") % {"who": label or number},
        )
    return _ask(request, lambda: control.cancel_transfer(request.user), _("The caller is back on the line."))
