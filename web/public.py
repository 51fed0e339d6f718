"""The citizen's way in, shared by the page (web/views/public.py) and the API (web/api/public.py).

What a citizen may see is decided in ``hotline.public``; this module adds what belongs to the
web: who is asking (the client address), how often they may fail (a throttle in the configured
cache, so every process counts together when Redis is set), the log of refusals, and the
"forgot the query code" SMS through callback's outbox. docs/citizens.md says why the numbers
are what they are.
"""

from __future__ import annotations

import hmac
import logging

from captcha.fields import CaptchaField
from captcha.helpers import captcha_image_url
from captcha.models import CaptchaStore
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.urls import reverse

from callback import otp
from callback.models import SmsPurpose
from callback.sms.services import queue_sms
from callback.wechat import accounts
from hotline import public
from hotline.lib.phones import InvalidPhone, normalize_phone
from hotline.models import Ticket

# One throttle for the page, SMS, WeChat and the phone menu: a ticket number's failures count together.
from hotline.throttle import Bucket, Throttled, check, count, lookup_buckets

log = logging.getLogger("lianxin.public")
_NO_PHONE = "\x00" * 14  # compared against when the number is unknown (an E.164 mobile is 14 long)


def client_address(request: HttpRequest) -> str:
    """The client's address as the server saw it: REMOTE_ADDR.

    Forwarded headers are not read here: the ASGI server (uvicorn under ``manage.py serve``)
    already puts the client a trusted proxy forwarded for into REMOTE_ADDR, and only for the
    proxies it trusts; a header a client sends itself can therefore not pick its own bucket.
    """
    return request.META.get("REMOTE_ADDR") or "unknown"


class Malformed(Exception):
    """The number or the code cannot be one (not 13 or 6 digits): said plainly, nothing is looked up.

    The formats are printed on every SMS, so saying which field is malformed tells a guesser nothing.
    """

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


def _lookup_buckets(address: str, number: str) -> list[Bucket]:
    return lookup_buckets(number, address, scope="address")


def look_up(request: HttpRequest, raw_number: object, raw_code: object) -> Ticket | None:
    """The ticket for a number and query code as typed, or None (wrong code and unknown number alike).

    Raises :class:`Throttled` while this address or this number has failed too often this hour —
    also for the right code: otherwise the throttle would still tell a guesser when they hit —
    and :class:`Malformed` for input that cannot be a number or a code (not counted).
    """
    number, code = public.clean_number(raw_number), public.clean_code(raw_code)
    if number is None:
        raise Malformed("number")
    if code is None:
        raise Malformed("code")
    address = client_address(request)
    buckets = _lookup_buckets(address, number)
    try:
        check("track", buckets)
    except Throttled:
        log.warning("public lookup refused: too many failures (address=%s ticket=%s)", address, number)
        raise
    ticket = public.find_for_citizen(number, code)
    if ticket is None:
        count("track", buckets)
        note_volume(request)
        log.info("public lookup failed: no ticket for this number and code (address=%s ticket=%s)", address, number)
    return ticket


def reminder_text(ticket: Ticket) -> str:
    link = public.track_link(ticket)
    text = f"【12345】您的工单{ticket.number}的查询码为{ticket.query_code}。"
    return text + (f"查办理进度：{link}" if link else "")


def resend_code(request: HttpRequest, raw_number: object, raw_phone: object) -> None:
    """忘记查询码: queue the code by SMS to the phone on file, only if ``raw_phone`` is that phone.

    Says nothing either way (the caller of this answers the same whether it matched); every
    request counts against the hourly limits, matched or not. Raises :class:`Throttled`.
    """
    number = public.clean_number(raw_number)
    address = client_address(request)
    buckets = [Bucket("address", address, settings.PUBLIC_RESEND_PER_ADDRESS)]
    if number is not None:
        buckets.append(Bucket("ticket", number, settings.PUBLIC_RESEND_PER_TICKET))
    try:
        check("resend", buckets)
    except Throttled:
        log.warning("query code resend refused: too many requests (address=%s ticket=%s)", address, number or "-")
        raise
    count("resend", buckets)
    try:
        phone = normalize_phone(raw_phone if isinstance(raw_phone, str) else "")
    except InvalidPhone:
        phone = ""
    ticket = None
    if number is not None:
        ticket = Ticket.objects.filter(number=number).select_related("caller").first()
    expected = ticket.caller.phone if ticket is not None else _NO_PHONE
    matched = hmac.compare_digest(expected.encode(), phone.encode()) and ticket is not None
    if matched and public.find_for_citizen(ticket.number, ticket.query_code) is not None:
        queue_sms(phone, reminder_text(ticket), SmsPurpose.TICKET_REGISTERED, ticket=ticket)
    log.info("query code resend asked (address=%s ticket=%s matched=%s)", address, number or "-", matched)


# --- "My tickets": a phone proven by an SMS code (callback.otp; docs/citizens.md) -------------------


class BadPhone(Exception):
    """Not a Chinese mobile number in any format (a fixed line cannot get the SMS)."""


def send_otp(request: HttpRequest, raw_phone: object) -> otp.Sent:
    """Queue a one-time code to a mobile number. Raises :class:`BadPhone` or ``otp.OtpRefused``."""
    try:
        phone = otp.mobile(raw_phone)
    except InvalidPhone as exc:
        raise BadPhone() from exc
    address = client_address(request)
    try:
        sent = otp.request_code(phone, address)
    except otp.OtpRefused as exc:
        log.warning("one-time code refused: %s (address=%s)", exc.reason, address)
        raise
    note_volume(request, phone)
    log.info("one-time code sent (address=%s)", address)
    return sent


def verify_otp(request: HttpRequest, raw_phone: object, raw_code: object) -> str:
    """Check the code for the number and start a session. Returns its token.

    Raises :class:`BadPhone`, ``otp.OtpFailed`` (each failure counted per client address), or
    :class:`Throttled` once this address has failed ``CITIZEN_OTP_FAILURES_PER_ADDRESS`` times this hour.
    """
    try:
        phone = otp.mobile(raw_phone)
    except InvalidPhone as exc:
        raise BadPhone() from exc
    address = client_address(request)
    buckets = [Bucket("address", address, settings.CITIZEN_OTP_FAILURES_PER_ADDRESS)]
    try:
        check("otp", buckets)
    except Throttled:
        log.warning("one-time code check refused: too many failures (address=%s)", address)
        raise
    try:
        otp.verify_code(phone, raw_code)
    except otp.OtpFailed as exc:
        count("otp", buckets)
        log.info("one-time code failed: %s (address=%s)", exc.reason, address)
        raise
    openid = pending_openid(request)
    if openid:  # came from the WeChat menu unbound: the proven phone is now this WeChat user's
        accounts.bind(openid, phone)
        log.info("WeChat user bound to a phone (address=%s)", address)
    return otp.start_session(phone)


# The openid that came through WeChat's OAuth unbound (web/views/wechat.py), waiting for the phone's
# SMS code; signed, so it cannot be forged or swapped.
OPENID_COOKIE = "lx_wx_openid"
OPENID_SALT = "lianxin.wechat.openid"
OPENID_AGE = 30 * 60


def pending_openid(request: HttpRequest) -> str | None:
    return request.get_signed_cookie(OPENID_COOKIE, default=None, salt=OPENID_SALT, max_age=OPENID_AGE)


def my_tickets(phone: str) -> list[public.Listed]:
    return public.tickets_of_phone(phone)


def my_ticket(phone: str, raw_number: object) -> Ticket | None:
    return public.find_for_phone(public.clean_number(raw_number), phone)


# --- Suspicious volume and the CAPTCHA after it (docs/citizens.md, "Abuse control") -----------------------
# Reports sent, SMS codes asked for and failed lookups count per client address, reports and codes per
# phone, per clock hour (ABUSE_CAPTCHA_AFTER_*). From the limit on, the forms ask for a CAPTCHA
# (django-simple-captcha: the picture is drawn here, the answer kept in its table, each tried once) and a
# report filed is held for the center's review. Nobody is refused for volume alone: 12345 stays open.


def _volume_buckets(request: HttpRequest, phone: str = "") -> list[Bucket]:
    buckets = [Bucket("address", client_address(request), settings.ABUSE_CAPTCHA_AFTER_PER_ADDRESS)]
    if phone:
        buckets.append(Bucket("phone", phone, settings.ABUSE_CAPTCHA_AFTER_PER_PHONE))
    return buckets


def note_volume(request: HttpRequest, phone: str = "") -> None:
    """One more submission from this address (and for this phone, E.164, if known)."""
    count("volume", _volume_buckets(request, phone))


def suspicious(request: HttpRequest, phone: str = "") -> bool:
    """Has this address, or this phone, reached the volume after which a CAPTCHA is asked for?"""
    try:
        check("volume", _volume_buckets(request, phone))
    except Throttled:
        return True
    return False


def new_captcha() -> dict:
    """A new challenge for the page: its key (a hidden field) and its picture's address. The expired
    challenges go first, so the table holds only the last few minutes' (only suspicious traffic makes any)."""
    CaptchaStore.remove_expired()
    key = CaptchaStore.generate_key()
    audio = reverse("captcha-audio", args=[key]) if settings.CAPTCHA_FLITE_PATH else ""
    return {"key": key, "image": captcha_image_url(key), "audio": audio}


def captcha_solved(request: HttpRequest) -> bool:
    """Did the form carry the answer to its challenge? The challenge is used up either way."""
    key, answer = request.POST.get("captcha_0", ""), request.POST.get("captcha_1", "")
    try:
        CaptchaField().clean([key, answer])
    except ValidationError:
        log.info("CAPTCHA failed (address=%s)", client_address(request))
        return False
    return True
