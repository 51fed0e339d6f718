"""One-time codes by SMS that prove a citizen holds a phone, and the short session that follows.

"My tickets" (docs/citizens.md): a citizen types a mobile number, gets a six-digit code by SMS,
types it back, and for a while may see every ticket registered with that number. The same proof
binds a WeChat user to the phone (``callback/wechat/``).

- A code lives ``CITIZEN_OTP_SECONDS`` (5 min), takes ``CITIZEN_OTP_TRIES`` (5) wrong tries, and
  is used once. Asking again is allowed after ``CITIZEN_OTP_RESEND_SECONDS`` (60 s); a new code
  ends the older ones. Per number and per client address the codes asked for are counted in the
  database (every process sees them), so nobody can make the hotline SMS-bomb a stranger's phone.
- Only a keyed hash (HMAC with SECRET_KEY) of phone + code is stored, compared in constant time:
  a code typed for another number never matches. The SMS row (the outbox) holds the text until
  it is sent; the ``otp.redact`` step blanks the code out of it once the code has expired.
- A session is a random token; only its hash is stored. It ends after
  ``CITIZEN_SESSION_IDLE_SECONDS`` (30 min) without use, at the latest after
  ``CITIZEN_SESSION_MAX_SECONDS``, or when the citizen leaves.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import phonenumbers
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from callback.models import CitizenOtp, CitizenSession, SmsMessage, SmsPurpose, SmsStatus
from callback.sms.services import queue_sms
from hotline.lib.phones import InvalidPhone, normalize_phone

DIGITS = 6
REDACTED = "【12345】验证码 ******（已过期）"
# The session's last use is written at most this often: a page view is not a write every time.
TOUCH_EVERY = timedelta(seconds=60)


class NotAMobile(InvalidPhone):
    """A valid number that cannot receive an SMS (a fixed line)."""


class OtpRefused(Exception):
    """No new code now: ``reason`` is "wait" (asked less than a minute ago), "phone" or "address" (limits)."""

    def __init__(self, reason: str, retry_after: int) -> None:
        super().__init__(reason, retry_after)
        self.reason = reason
        self.retry_after = max(1, int(retry_after))


class OtpFailed(Exception):
    """The code does not prove the phone: "wrong", "expired", "used" or "locked" (too many tries)."""

    def __init__(self, reason: str, tries_left: int = 0) -> None:
        super().__init__(reason, tries_left)
        self.reason = reason
        self.tries_left = tries_left


def mobile(raw: object) -> str:
    """The E.164 form of a Chinese mobile number as typed in any format; raises InvalidPhone/NotAMobile."""
    phone = normalize_phone(raw if isinstance(raw, str) else "")
    kind = phonenumbers.number_type(phonenumbers.parse(phone))
    if kind not in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE):
        raise NotAMobile(f"not a mobile number: {phone}")
    return phone


def _key(*parts: str) -> str:
    message = "\x00".join(parts).encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def address_hash(address: str) -> str:
    return _key("otp-address", address)


def otp_text(code: str) -> str:
    minutes = max(1, settings.CITIZEN_OTP_SECONDS // 60)
    return f"【12345】您的验证码为{code}，{minutes}分钟内有效，用于查看本号码登记的工单。如非本人操作，请忽略。"


@dataclass(frozen=True)
class Sent:
    phone: str
    expires_at: datetime
    resend_at: datetime


def request_code(phone: str, address: str, now: datetime | None = None) -> Sent:
    """Queue a new code by SMS to ``phone`` (E.164, from :func:`mobile`). Raises :class:`OtpRefused`."""
    now = now or timezone.now()
    where = address_hash(address)
    hour, day = now - timedelta(hours=1), now - timedelta(days=1)
    with transaction.atomic():
        mine = CitizenOtp.objects.filter(phone=phone)
        last = mine.order_by("-created_at").first()
        wait = timedelta(seconds=settings.CITIZEN_OTP_RESEND_SECONDS)
        if last is not None and last.created_at + wait > now:
            raise OtpRefused("wait", (last.created_at + wait - now).total_seconds())
        if mine.filter(created_at__gt=hour).count() >= settings.CITIZEN_OTP_PER_PHONE_HOUR:
            raise OtpRefused("phone", _until_window_frees(mine.filter(created_at__gt=hour), hour, 3600))
        if mine.filter(created_at__gt=day).count() >= settings.CITIZEN_OTP_PER_PHONE_DAY:
            raise OtpRefused("phone", _until_window_frees(mine.filter(created_at__gt=day), day, 86400))
        here = CitizenOtp.objects.filter(address_hash=where, created_at__gt=hour)
        if here.count() >= settings.CITIZEN_OTP_PER_ADDRESS_HOUR:
            raise OtpRefused("address", _until_window_frees(here, hour, 3600))
        # Two requests at the same moment both pass the checks above: the cache's SET NX (one key per
        # number and resend window) lets one through. The table stays the record of the exact minute.
        resend = settings.CITIZEN_OTP_RESEND_SECONDS
        if resend > 0:
            window = int(now.timestamp()) // resend
            if not cache.add(f"otp:gate:{_key('otp-gate', phone)}:{window}", 1, timeout=resend + 5):
                raise OtpRefused("wait", resend - int(now.timestamp()) % resend)
        # A new code ends the older ones: only the last SMS the citizen got is worth typing.
        mine.filter(used_at=None, expires_at__gt=now).update(expires_at=now)
        code = f"{secrets.randbelow(10**DIGITS):0{DIGITS}d}"
        otp = CitizenOtp.objects.create(
            phone=phone,
            code_hash=_key("otp", phone, code),
            address_hash=where,
            created_at=now,
            expires_at=now + timedelta(seconds=settings.CITIZEN_OTP_SECONDS),
        )
        queue_sms(phone, otp_text(code), SmsPurpose.CITIZEN_OTP)
    return Sent(phone, otp.expires_at, now + wait)


def _until_window_frees(rows, start: datetime, seconds: int) -> float:
    oldest = rows.order_by("created_at").values_list("created_at", flat=True).first()
    return (oldest - start).total_seconds() if oldest else seconds


def verify_code(phone: str, raw_code: object, now: datetime | None = None) -> None:
    """Consume the phone's current code if ``raw_code`` is it; else raise :class:`OtpFailed`.

    Only the latest code of the number counts; a wrong try is stored before the error is raised.
    """
    now = now or timezone.now()
    code = raw_code.strip() if isinstance(raw_code, str) else ""
    given = _key("otp", phone, code)
    failure: OtpFailed | None = None
    with transaction.atomic():
        otp = CitizenOtp.objects.select_for_update().filter(phone=phone).order_by("-created_at", "-pk").first()
        if otp is None:
            hmac.compare_digest(given, _key("otp", phone, "\x00"))  # the same work as a wrong code
            failure = OtpFailed("wrong")
        elif otp.used_at is not None:
            failure = OtpFailed("used")
        elif otp.attempts >= settings.CITIZEN_OTP_TRIES:
            failure = OtpFailed("locked")
        elif otp.expires_at <= now:
            failure = OtpFailed("expired")
        elif not hmac.compare_digest(otp.code_hash, given):
            CitizenOtp.objects.filter(pk=otp.pk).update(attempts=F("attempts") + 1)
            left = settings.CITIZEN_OTP_TRIES - otp.attempts - 1
            failure = OtpFailed("wrong" if left > 0 else "locked", max(0, left))
        else:
            # Conditional: two requests with the same code — only one of them gets a session.
            if CitizenOtp.objects.filter(pk=otp.pk, used_at=None).update(used_at=now) != 1:
                failure = OtpFailed("used")
    if failure is not None:
        raise failure


def start_session(phone: str, now: datetime | None = None) -> str:
    """A new session for a proven phone. Returns the token (given once; only its hash is stored)."""
    now = now or timezone.now()
    token = secrets.token_urlsafe(32)
    CitizenSession.objects.create(token_hash=_token_hash(token), phone=phone, created_at=now, last_seen_at=now)
    return token


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def session_phone(token: object, now: datetime | None = None) -> str | None:
    """The phone a live session proves, and mark it used; None for an unknown, ended or idle token."""
    if not isinstance(token, str) or not token or len(token) > 100:
        return None
    now = now or timezone.now()
    session = CitizenSession.objects.filter(token_hash=_token_hash(token), ended_at=None).first()
    if session is None:
        return None
    idle = timedelta(seconds=settings.CITIZEN_SESSION_IDLE_SECONDS)
    longest = timedelta(seconds=settings.CITIZEN_SESSION_MAX_SECONDS)
    if session.last_seen_at + idle <= now or session.created_at + longest <= now:
        CitizenSession.objects.filter(pk=session.pk, ended_at=None).update(ended_at=now)
        return None
    if now - session.last_seen_at >= TOUCH_EVERY:
        CitizenSession.objects.filter(pk=session.pk).update(last_seen_at=now)
    return session.phone


def end_session(token: object, now: datetime | None = None) -> None:
    if isinstance(token, str) and token:
        CitizenSession.objects.filter(token_hash=_token_hash(token), ended_at=None).update(
            ended_at=now or timezone.now()
        )


def prune(now: datetime | None = None) -> int:
    """Job step ``otp.prune``: codes older than a day (the longest limit counts a day) and sessions ended a day ago.

    Personal data kept no longer than it serves (docs/adr/0002): a phone number and when it asked.
    """
    now = now or timezone.now()
    day = now - timedelta(days=1)
    codes = CitizenOtp.objects.filter(created_at__lt=day).delete()[0]
    idle = now - timedelta(seconds=settings.CITIZEN_SESSION_IDLE_SECONDS) - timedelta(days=1)
    ended = CitizenSession.objects.filter(ended_at__lt=day).delete()[0]
    stale = CitizenSession.objects.filter(ended_at=None, last_seen_at__lt=idle).delete()[0]
    return codes + ended + stale


def redact_expired(now: datetime | None = None) -> int:
    """Job step ``otp.redact``: blank the code out of OTP SMS rows once the code has expired and was sent."""
    now = now or timezone.now()
    done = (SmsStatus.SENT, SmsStatus.DELIVERED, SmsStatus.FAILED)
    old = now - timedelta(seconds=settings.CITIZEN_OTP_SECONDS)
    rows = SmsMessage.objects.filter(purpose=SmsPurpose.CITIZEN_OTP, status__in=done, created_at__lt=old)
    return rows.exclude(body=REDACTED).update(body=REDACTED)
