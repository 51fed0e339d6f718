"""Logging in: the password, then the TOTP code for users who have (or must have) a second factor.

A user who needs a second factor (web.twofactor) is not logged in by the password: the session
only remembers, for a few minutes, who gave it. Then either the code from the user's app
(/login/verify/), or, for a required role without a device, the enrolment (/login/enrol/): scan
the QR code, type a code, and the device is confirmed and the user logged in. Anybody logged in
may enrol (or replace) an app from the same page.
"""

from __future__ import annotations

import base64
import time
from io import BytesIO

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from hotline import audit
from hotline.models import AuditAction
from web import twofactor

PENDING = "web.pending_login"  # {"user": pk, "backend": path, "at": epoch seconds, "next": url}
PENDING_SECONDS = 300  # the code must follow the password within five minutes
MAX_CODE_FAILURES = 5  # then the password again


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if not twofactor.needs_second_factor(user):
            return super().form_valid(form)
        self.request.session.cycle_key()
        self.request.session[PENDING] = {
            "user": user.pk,
            "backend": user.backend,
            "at": time.time(),
            "next": self.get_success_url(),
            "failures": 0,
        }
        return redirect("web:login-verify" if twofactor.has_device(user) else "web:login-enrol")


def _pending_user(request: HttpRequest):
    pending = request.session.get(PENDING)
    if not pending or time.time() - pending["at"] > PENDING_SECONDS:
        request.session.pop(PENDING, None)
        return None, None
    user = get_user_model().objects.filter(pk=pending["user"], is_active=True).first()
    return user, pending


def _finish_login(request: HttpRequest, user, pending: dict, device) -> HttpResponse:
    request.session.pop(PENDING, None)
    user.otp_device = device  # django-otp records the device in the session on user_logged_in
    login(request, user, backend=pending["backend"])
    target = pending.get("next") or ""
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = settings.LOGIN_REDIRECT_URL
    return redirect(target)


def verify(request: HttpRequest) -> HttpResponse:
    user, pending = _pending_user(request)
    if user is None:
        return redirect("web:login")
    error = None
    if request.method == "POST":
        device = twofactor.verify(user, request.POST.get("otp", ""))
        if device is not None:
            return _finish_login(request, user, pending, device)
        pending["failures"] = pending.get("failures", 0) + 1
        audit.record(AuditAction.LOGIN_FAILED, username=user.username, data={"via": "console", "factor": "otp"})
        if pending["failures"] >= MAX_CODE_FAILURES:
            request.session.pop(PENDING, None)
            messages.error(request, _("Too many wrong codes: log in again."))
            return redirect("web:login")
        request.session[PENDING] = pending
        error = _("Wrong or expired code.")
    return render(request, "web/login_verify.html", {"error": error}, status=400 if error else 200)


def qr_svg(data: str) -> str:
    """The QR code of ``data`` as inline SVG markup (no script, no style: CSP-clean)."""
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    out = BytesIO()
    image.save(out)
    svg = out.getvalue().decode()
    return svg[svg.index("<svg") :]


def enrol(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app: for a pending login of a required role, or for a logged-in user."""
    if request.user.is_authenticated:
        if not twofactor.session_passes(request.user, request.session):
            logout(request)
            return redirect_to_login(request.get_full_path())
        user, pending = request.user, None
    else:
        user, pending = _pending_user(request)
        if user is None:
            return redirect("web:login")
        if twofactor.has_device(user):  # enrolled meanwhile (another browser): the code, not a new app
            return redirect("web:login-verify")
    device = twofactor.pending_device(user)
    error = None
    if request.method == "POST":
        if twofactor.verify_pending(device, request.POST.get("otp", "")):
            TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()  # a new app replaces the old
            if pending is not None:
                return _finish_login(request, user, pending, device)
            otp_login(request, device)
            messages.success(request, _("Two-factor authentication is set up."))
            return redirect("web:home")
        error = _("Wrong or expired code.")
    secret = base64.b32encode(device.bin_key).decode()
    context = {
        "qr": mark_safe(qr_svg(device.config_url)),  # generated here from our own data, XML-escaped
        "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        "error": error,
        "required": twofactor.otp_required(user),
        "enrolled": twofactor.has_device(user),
        "pending": pending is not None,
    }
    return render(request, "web/login_enrol.html", context, status=400 if error else 200)
