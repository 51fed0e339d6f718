"""The citizens' progress page (/track/): number + query code → the ticket as its caller may see it.

No login, no JavaScript. The typed form is a POST (the code stays out of the address bar and
the server's access log); the SMS's short link /t/<number>?c=<code> is a GET that shows the
same page. What is shown is ``hotline.public.citizen_view``; throttling is ``web.public``.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from callback import otp
from hotline.lib.phones import InvalidPhone, mask_phone
from hotline.public import STEPS, citizen_view, clean_number, track_path
from web.public import (
    OPENID_COOKIE,
    BadPhone,
    Malformed,
    Throttled,
    captcha_solved,
    look_up,
    my_ticket,
    my_tickets,
    new_captcha,
    pending_openid,
    resend_code,
    send_otp,
    suspicious,
    verify_otp,
)

LARGE_COOKIE = "lx_large_text"
MALFORMED = {
    "number": gettext_lazy("The ticket number has 13 digits, for example 2026112900001. Please check it."),
    "code": gettext_lazy("The query code has 6 digits. Please check it."),
}
LARGE_COOKIE_AGE = 365 * 24 * 3600
CAPTCHA_ASKED = gettext_lazy(
    "Many reports or codes came from this network or for this number. Please type the letters in the picture"
    " to go on — or call 12345."
)
CAPTCHA_WRONG = gettext_lazy(
    "The letters did not match the picture. Please type the letters in the new picture — or call 12345."
)


def captcha_refusal(request: HttpRequest, phone: str = "") -> str | None:
    """What to say when this address (or phone) must solve a CAPTCHA and the form's answer is missing or
    wrong; None when the form may go on (below the volume, or solved). docs/citizens.md, "Abuse control"."""
    if not suspicious(request, phone) or captcha_solved(request):
        return None
    return str(CAPTCHA_WRONG if request.POST.get("captcha_0") else CAPTCHA_ASKED)


def ask_captcha(request: HttpRequest, ctx: dict, phone: str = "") -> dict:
    """The page's CAPTCHA, from the volume on: a new challenge each time the form is shown."""
    if suspicious(request, phone):
        ctx["captcha"] = new_captcha()
    return ctx


def _page(request: HttpRequest, template: str, ctx: dict, status: int = 200) -> HttpResponse:
    ctx.setdefault("large", request.COOKIES.get(LARGE_COOKIE) == "1")
    ctx.setdefault("here", request.get_full_path())
    ctx.setdefault("steps", STEPS)
    response = render(request, template, ctx, status=status)
    # A shared phone or a proxy must not keep a ticket page, and no link may carry the code to
    # another site. Not "no-referrer": browsers then send "Origin: null" and the CSRF check
    # refuses the page's own forms (language, text size).
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "same-origin"
    return response


def _track_page(request: HttpRequest, ctx: dict, status: int = 200) -> HttpResponse:
    if "view" not in ctx:  # the form is shown: with a CAPTCHA after suspicious volume
        ask_captcha(request, ctx)
    return _page(request, "web/public/track.html", ctx, status=status)


def _answer(request: HttpRequest, raw_number: object, raw_code: object) -> HttpResponse:
    number_typed = raw_number if isinstance(raw_number, str) else ""
    form = {"n": number_typed[:40]}
    if request.method == "POST":
        if request.POST.get("action") == "refresh":
            return _track_page(request, {"form": form})
        if (error := captcha_refusal(request)) is not None:
            return _track_page(request, {"form": form, "error": error, "field": "captcha"}, status=400)
    try:
        ticket = look_up(request, raw_number, raw_code)
    except Malformed as exc:
        return _track_page(request, {"form": form, "error": MALFORMED[exc.field]}, status=400)
    except Throttled as exc:
        minutes = (exc.retry_after + 59) // 60
        ctx = {
            "form": form,
            "error": _("Too many wrong tries. Please try again in %(minutes)d minutes, or call 12345.")
            % {"minutes": minutes},
        }
        response = _track_page(request, ctx, status=429)
        response["Retry-After"] = str(exc.retry_after)
        return response
    if ticket is None:
        ctx = {"form": form, "error": _("No ticket matches this number and query code. Please check both.")}
        return _track_page(request, ctx, status=404)
    view = citizen_view(ticket)
    # The language and text-size switches come back here through the short link.
    ctx = {"form": form, "view": view, "here": track_path(ticket)}
    return _page(request, "web/public/track.html", ctx)


@never_cache
@require_http_methods(["GET", "POST"])
def track(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _answer(request, request.POST.get("n", ""), request.POST.get("c", ""))
    if "c" in request.GET:  # /track/?n=…&c=… works like the short link
        return _answer(request, request.GET.get("n", ""), request.GET.get("c", ""))
    number = clean_number(request.GET.get("n", "")) or ""
    return _track_page(request, {"form": {"n": number}})


@never_cache
@require_http_methods(["GET"])
def track_short(request: HttpRequest, number: str) -> HttpResponse:
    """The SMS's link: /t/<number>?c=<code>."""
    return _answer(request, number, request.GET.get("c", ""))


@require_POST
def text_size(request: HttpRequest) -> HttpResponse:
    """大字版 (适老化): a cookie, set by a plain form button, so it works without JavaScript."""
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False):
        target = reverse("web:track")
    response = HttpResponseRedirect(target)
    if request.POST.get("large") == "1":
        response.set_cookie(LARGE_COOKIE, "1", max_age=LARGE_COOKIE_AGE, samesite="Lax", httponly=True)
    else:
        response.delete_cookie(LARGE_COOKIE, samesite="Lax")
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def forgot_code(request: HttpRequest) -> HttpResponse:
    """忘记查询码: the same answer whether or not the phone matched the ticket's."""
    if request.method == "GET":
        number = clean_number(request.GET.get("n", "")) or ""
        return _page(request, "web/public/forgot.html", {"form": {"n": number}})
    raw_number = request.POST.get("n", "")
    form = {"n": raw_number[:40]}
    try:
        resend_code(request, raw_number, request.POST.get("phone", ""))
    except Throttled as exc:
        minutes = (exc.retry_after + 59) // 60
        ctx = {
            "form": form,
            "error": _("Too many requests. Please try again in %(minutes)d minutes, or call 12345.")
            % {"minutes": minutes},
        }
        response = _page(request, "web/public/forgot.html", ctx, status=429)
        response["Retry-After"] = str(exc.retry_after)
        return response
    sent = _(
        "If the phone number is the one registered with this ticket, the query code is on its way by SMS. "
        "It can take a few minutes."
    )
    return _page(request, "web/public/forgot.html", {"form": form, "sent": sent})


# --- 我的工单: every ticket of a phone proven by an SMS code (docs/citizens.md) ----------------------

CITIZEN_COOKIE = "lx_citizen"
OTP_FAILED = {
    "wrong": gettext_lazy("The code is not right. Please check the SMS and type it again."),
    "expired": gettext_lazy("This code has expired. Please ask for a new one."),
    "used": gettext_lazy("This code has already been used. Please ask for a new one."),
    "locked": gettext_lazy("Too many wrong tries for this code. Please ask for a new one."),
}
BAD_PHONE = gettext_lazy("Please enter a mobile phone number, for example 138 0013 8000.")


def citizen_phone(request: HttpRequest) -> str | None:
    """The phone this browser proved with an SMS code, while its session lives (30 min idle)."""
    return otp.session_phone(request.COOKIES.get(CITIZEN_COOKIE))


def _refused(exc: otp.OtpRefused) -> str:
    if exc.reason == "wait":
        return _("A code was sent less than a minute ago. You can ask for another in %(seconds)d seconds.") % {
            "seconds": exc.retry_after
        }
    return _("Too many codes were asked for. Please try again in %(minutes)d minutes, or call 12345.") % {
        "minutes": (exc.retry_after + 59) // 60
    }


def _mine_page(request: HttpRequest, ctx: dict, status: int = 200, retry_after: int | None = None) -> HttpResponse:
    ctx.setdefault("here", reverse("web:track-mine"))
    if ctx.get("stage") == "phone":  # the phone form: with a CAPTCHA after suspicious volume
        ask_captcha(request, ctx, ctx.pop("mobile", ""))
    response = _page(request, "web/public/mine.html", ctx, status=status)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def mine(request: HttpRequest) -> HttpResponse:
    """GET: the list (with a live session) or the phone form. POST: send a code to the phone typed."""
    if request.method == "GET":
        phone = citizen_phone(request)
        if phone is None:
            return _mine_page(request, {"stage": "phone", "binding": bool(pending_openid(request))})
        return _mine_page(request, {"stage": "list", "phone": mask_phone(phone), "tickets": my_tickets(phone)})
    raw = request.POST.get("phone", "")
    typed = raw[:32] if isinstance(raw, str) else ""
    try:
        mobile = otp.mobile(raw)
    except InvalidPhone:
        mobile = ""
    if request.POST.get("action") == "refresh":
        return _mine_page(request, {"stage": "phone", "typed": typed, "mobile": mobile})
    if (error := captcha_refusal(request, mobile)) is not None:
        ctx = {"stage": "phone", "typed": typed, "error": error, "field": "captcha", "mobile": mobile}
        return _mine_page(request, ctx, status=400)
    try:
        sent = send_otp(request, raw)
    except BadPhone:
        return _mine_page(request, {"stage": "phone", "typed": typed, "error": BAD_PHONE}, status=400)
    except otp.OtpRefused as exc:
        # "wait": the earlier code is still on its way, so the code form stays useful.
        stage = "code" if exc.reason == "wait" else "phone"
        ctx = {"stage": stage, "typed": typed, "error": _refused(exc)}
        return _mine_page(request, ctx, status=429, retry_after=exc.retry_after)
    ctx = {"stage": "code", "typed": typed, "sent_to": mask_phone(sent.phone)}
    return _mine_page(request, ctx)


@never_cache
@require_POST
def mine_verify(request: HttpRequest) -> HttpResponse:
    raw = request.POST.get("phone", "")
    typed = raw[:32] if isinstance(raw, str) else ""
    try:
        token = verify_otp(request, raw, request.POST.get("code", ""))
    except BadPhone:
        return _mine_page(request, {"stage": "phone", "typed": typed, "error": BAD_PHONE}, status=400)
    except otp.OtpFailed as exc:
        return _mine_page(request, {"stage": "code", "typed": typed, "error": OTP_FAILED[exc.reason]}, status=400)
    except Throttled as exc:
        minutes = (exc.retry_after + 59) // 60
        error = _("Too many wrong tries. Please try again in %(minutes)d minutes, or call 12345.") % {
            "minutes": minutes
        }
        return _mine_page(request, {"stage": "code", "typed": typed, "error": error}, 429, exc.retry_after)
    response = HttpResponseRedirect(_after_proof(request))
    if pending_openid(request):  # verify_otp bound it: nothing is waiting any more
        response.delete_cookie(OPENID_COOKIE, samesite="Lax")
    # A browser-session cookie; the server ends the session after 30 min idle whatever the cookie says.
    response.set_cookie(CITIZEN_COOKIE, token, httponly=True, samesite="Lax", secure=settings.SESSION_COOKIE_SECURE)
    return response


def _after_proof(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False):
        return target
    return reverse("web:track-mine")


@never_cache
@require_http_methods(["GET"])
def mine_ticket(request: HttpRequest, number: str) -> HttpResponse:
    """One of my tickets: the same page as with the query code; the proven phone replaces the code."""
    phone = citizen_phone(request)
    if phone is None:
        return HttpResponseRedirect(reverse("web:track-mine"))
    ticket = my_ticket(phone, number)
    if ticket is None:
        ctx = {"stage": "list", "phone": mask_phone(phone), "tickets": my_tickets(phone)}
        ctx["error"] = _("This ticket is not one of the tickets registered with your phone number.")
        return _mine_page(request, ctx, status=404)
    ctx = {"view": citizen_view(ticket), "mine": True, "here": reverse("web:track-mine-ticket", args=[number])}
    return _page(request, "web/public/track.html", ctx)


@require_POST
def mine_leave(request: HttpRequest) -> HttpResponse:
    otp.end_session(request.COOKIES.get(CITIZEN_COOKIE))
    response = HttpResponseRedirect(reverse("web:track-mine"))
    response.delete_cookie(CITIZEN_COOKIE, samesite="Lax")
    return response
