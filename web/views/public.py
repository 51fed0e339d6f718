"""The citizens' progress page (/track/): number + query code → the ticket as its caller may see it.

No login, no JavaScript. The typed form is a POST (the code stays out of the address bar and
the server's access log); the SMS's short link /t/<number>?c=<code> is a GET that shows the
same page. What is shown is ``hotline.public.citizen_view``; throttling is ``web.public``.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from hotline.public import STEPS, citizen_view, clean_number, track_path
from web.public import Malformed, Throttled, look_up, resend_code

LARGE_COOKIE = "lx_large_text"
MALFORMED = {
    "number": gettext_lazy("The ticket number has 13 digits, for example 2026112900001. Please check it."),
    "code": gettext_lazy("The query code has 6 digits. Please check it."),
}
LARGE_COOKIE_AGE = 365 * 24 * 3600


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


def _answer(request: HttpRequest, raw_number: object, raw_code: object) -> HttpResponse:
    number_typed = raw_number if isinstance(raw_number, str) else ""
    form = {"n": number_typed[:40]}
    try:
        ticket = look_up(request, raw_number, raw_code)
    except Malformed as exc:
        return _page(request, "web/public/track.html", {"form": form, "error": MALFORMED[exc.field]}, status=400)
    except Throttled as exc:
        minutes = (exc.retry_after + 59) // 60
        ctx = {
            "form": form,
            "error": _("Too many wrong tries. Please try again in %(minutes)d minutes, or call 12345.")
            % {"minutes": minutes},
        }
        response = _page(request, "web/public/track.html", ctx, status=429)
        response["Retry-After"] = str(exc.retry_after)
        return response
    if ticket is None:
        ctx = {"form": form, "error": _("No ticket matches this number and query code. Please check both.")}
        return _page(request, "web/public/track.html", ctx, status=404)
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
    return _page(request, "web/public/track.html", {"form": {"n": number}})


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
