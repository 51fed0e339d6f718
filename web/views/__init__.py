"""The consoles' pages: each role lands on its own screen after login."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from hotline.errors import DomainError, NotAllowed
from hotline.models import Role

HOME_BY_ROLE = {
    Role.AGENT: "web:agent",
    Role.UNIT_HANDLER: "web:workbench",
    Role.DISPATCHER: "web:dispatch",
    Role.SUPERVISOR: "web:wallboard",
    Role.AUDITOR: "web:audit",
    Role.QUALITY: "web:quality",
}


def form_errors(form) -> str:
    """A bound form's errors as one message line: "理由：这个字段是必填项。"."""
    labels = {name: field.label for name, field in form.fields.items()}
    return "；".join(f"{labels.get(k) or k}：{' '.join(v)}" for k, v in form.errors.items())


def posted(
    request: HttpRequest, form, do: Callable[[dict], object], ok: str, back: str, prefix: str = ""
) -> HttpResponse:
    """One form POST on one object: validate, one service call (one transaction, one timeline
    entry), the outcome as a message, back to the page. A refusal keeps nothing half done."""
    if not form.is_valid():
        messages.error(request, form_errors(form))
        return redirect(back)
    try:
        do(form.cleaned_data)
    except DomainError as exc:
        messages.error(request, f"{prefix}{exc.message}")
        return redirect(back)
    messages.success(request, ok)
    return redirect(back)


def forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "web/403.html", {"message": message}, status=403)


def role_required(roles: Iterable[str]) -> Callable:
    """Logged in, active and of one of ``roles`` (superusers pass); anybody else gets the 403 page."""
    allowed = frozenset(roles)

    def decorator(view: Callable) -> Callable:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            user = request.user
            if not (user.is_superuser or user.role in allowed):
                return forbidden(request, _("This screen is not for your role."))
            if user.role == Role.UNIT_HANDLER and not user.unit_id:
                return forbidden(request, _("Your account belongs to no unit."))
            try:
                return view(request, *args, **kwargs)
            except NotAllowed as exc:  # a refusal the view does not answer itself: the 403 page
                return forbidden(request, exc.message)

        return wrapped

    return decorator


@login_required
def home(request: HttpRequest) -> HttpResponse:
    target = HOME_BY_ROLE.get(request.user.role)
    if target is None:
        return redirect("admin:index")
    return redirect(target)
