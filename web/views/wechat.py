"""/wechat/: the official account's server endpoint, and the menu's way into /track/mine/ through OAuth.

The checks, the decryption and the parsing are ``callback.wechat.server``'s; the answers are
``callback.wechat.commands``'. Without WECHAT_APP_ID, WECHAT_APP_SECRET and WECHAT_TOKEN every
route here answers 503 with a sentence saying WeChat is off (docs/citizens.md).
"""

from __future__ import annotations

import hmac
import logging
import secrets

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from callback import otp
from callback.wechat import accounts, api, commands, enabled, server
from web.public import OPENID_AGE, OPENID_COOKIE, OPENID_SALT, Bucket, Throttled, check, client_address, count
from web.views.public import CITIZEN_COOKIE, _page, citizen_phone

log = logging.getLogger("lianxin.wechat")
OFF = "WeChat is off on this server: WECHAT_APP_ID, WECHAT_APP_SECRET and WECHAT_TOKEN are not set.\n"
STATE_COOKIE = "lx_wx_state"
OAUTH_FAILURES_PER_ADDRESS = 20
# The menu's click events: the account's menu may use a "click" button instead of a link.
MY_TICKETS_KEY = "MY_TICKETS"


OFF_PAGE = gettext_lazy("WeChat is not available on this site. You can still see your tickets with a code by SMS.")
EXPIRED = gettext_lazy("This link has expired. Please open it again from the menu of the official account.")
NO_ANSWER = gettext_lazy("WeChat could not confirm who you are just now. Please try again in a moment.")


def _refusal(request: HttpRequest, error, status: int) -> HttpResponse:
    """The citizen's browser, not WeChat's server, reads these: the public pages' look and languages."""
    return _page(request, "web/public/wechat.html", {"error": error, "here": reverse("web:track-mine")}, status)


def _plain(text: str, status: int) -> HttpResponse:
    return HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")


@csrf_exempt  # WeChat's servers sign their requests (checked below); they have no CSRF token
@never_cache
@require_http_methods(["GET", "POST"])
def endpoint(request: HttpRequest) -> HttpResponse:
    if not enabled():
        return _plain(OFF, 503)
    try:
        server.verify(request.GET)
        if request.method == "GET":  # WeChat checks the URL once, when it is saved in the back office
            return _plain(request.GET.get("echostr", ""), 200)
        message, box = server.read(request.body, request.GET)
    except server.Refused as exc:
        log.warning("WeChat request refused: %s (address=%s)", exc.reason, request.META.get("REMOTE_ADDR", ""))
        return _plain(f"{exc.reason}\n", exc.status)
    text = _answer(message)
    if text is None:
        return _plain("success", 200)  # WeChat's "received, no reply"
    xml = server.answer(message, text, box, request.GET)
    return HttpResponse(xml, content_type="application/xml; charset=utf-8")


def _answer(message) -> str | None:
    openid = message.source
    if message.type == "text":
        return commands.reply_to(openid, message.content)
    if message.type == "event":
        event = getattr(message, "event", "")
        if event in ("subscribe", "subscribe_scan"):
            return commands.WELCOME_TEXT
        if event == "click" and getattr(message, "key", "") == MY_TICKETS_KEY:
            return commands.my_tickets_text(openid)
        return None  # unsubscribe, view, location…: nothing to say
    return commands.HELP_TEXT  # an image, a voice message…


def _oauth_return(request: HttpRequest) -> str:
    path = reverse("web:wechat-oauth")
    base = settings.PUBLIC_BASE_URL.rstrip("/")
    return f"{base}{path}" if base else request.build_absolute_uri(path)


@never_cache
@require_GET
def menu(request: HttpRequest) -> HttpResponse:
    """The menu's link: to WeChat's OAuth (snsapi_base: the citizen is asked nothing), which returns here."""
    if not enabled():
        return _refusal(request, OFF_PAGE, 503)
    state = secrets.token_urlsafe(16)
    response = HttpResponseRedirect(api.authorize_url(_oauth_return(request), state))
    response.set_cookie(
        STATE_COOKIE, state, max_age=600, httponly=True, samesite="Lax", secure=settings.SESSION_COOKIE_SECURE
    )
    return response


@never_cache
@require_GET
def oauth(request: HttpRequest) -> HttpResponse:
    """WeChat's return with ?code=…&state=…: the openid; a bound one opens /track/mine/, else it is bound next."""
    if not enabled():
        return _refusal(request, OFF_PAGE, 503)
    state, expected = request.GET.get("state", ""), request.COOKIES.get(STATE_COOKIE, "")
    code = request.GET.get("code", "")
    if not expected or not hmac.compare_digest(state.encode(), expected.encode()) or not code or len(code) > 128:
        return _refusal(request, EXPIRED, 400)
    # Made-up codes each cost a call to WeChat's API: a few failures an hour per address, then 429.
    buckets = [Bucket("address", client_address(request), OAUTH_FAILURES_PER_ADDRESS)]
    try:
        check("wechat-oauth", buckets)
    except Throttled as exc:
        response = _refusal(request, NO_ANSWER, 429)
        response["Retry-After"] = str(exc.retry_after)
        return response
    try:
        openid = api.openid_for_code(code)
    except api.WechatError as exc:
        count("wechat-oauth", buckets)
        log.warning("WeChat OAuth failed: %s (address=%s)", exc, client_address(request))
        return _refusal(request, NO_ANSWER, 502)
    phone = accounts.phone_of(openid)
    proven = citizen_phone(request)
    if phone is None and proven is not None:  # this browser proved a phone by SMS code minutes ago: bind it
        accounts.bind(openid, proven)
        log.info("WeChat user bound to the phone of a live session")
        phone = proven
    if phone is not None:
        response = HttpResponseRedirect(reverse("web:track-mine"))
        token = otp.start_session(phone)
        response.set_cookie(CITIZEN_COOKIE, token, httponly=True, samesite="Lax", secure=settings.SESSION_COOKIE_SECURE)
    else:
        response = HttpResponseRedirect(reverse("web:track-mine"))
        response.set_signed_cookie(
            OPENID_COOKIE,
            openid,
            salt=OPENID_SALT,
            max_age=OPENID_AGE,
            httponly=True,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
        )
    response.delete_cookie(STATE_COOKIE, samesite="Lax")
    return response
