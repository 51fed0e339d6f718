"""随手拍 and online reports (/report/): a citizen files a ticket from a phone, with photos and a place.

One form, no login: category, topic, what happened, up to 9 photos, the place (the browser's
location, a photo's GPS, or an address and an area), the mobile number proven by an SMS code
(``callback/otp.py``, the same code and session as 我的工单), a name if they like, 同意公开.
"Send the code" posts the same form (everything typed comes back). A refused submission says why
and keeps what was typed and the photos already accepted (kept in the cache for half an hour).
After it: the number and the query code on the page, the same by SMS (SMS_REGISTERED_CHANNELS),
and — for a photo report a rule covers — the automatic dispatch (``routing/auto.py``).
"""

from __future__ import annotations

import logging
import re
import secrets

from django.conf import settings
from django.core.cache import cache
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import HttpRequest, HttpResponse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods

from callback import otp
from hotline.errors import InvalidInput
from hotline.lib.phones import InvalidPhone, mask_phone
from hotline.models import Area, Category, Channel, Topic
from hotline.services import abuse
from hotline.services.attachments import Photo, prepare_photo
from hotline.services.reports import MAX_PHOTOS, file_report
from hotline.throttle import DAY, Bucket, Throttled, check, count
from routing.auto import auto_dispatch
from web import public as public_web
from web.public import BadPhone, client_address, send_otp, verify_otp
from web.views.public import (
    BAD_PHONE,
    CITIZEN_COOKIE,
    OTP_FAILED,
    _page,
    _refused,
    captcha_refusal,
    citizen_phone,
)

log = logging.getLogger(__name__)
KEPT_SECONDS = 1800
KEPT_KEY = re.compile(r"[A-Za-z0-9_-]{32}")
TEXT_FIELDS = ("category", "topic", "content", "address", "area", "lat", "lng", "phone", "name", "code")
BLOCKED = gettext_lazy(
    "The 12345 center has stopped reports from this number on this page until %(date)s. Please call 12345."
)


def _choices() -> dict:
    return {
        "categories": list(Category.objects.all()),
        "topics": list(Topic.objects.filter(parent__isnull=False).select_related("parent").order_by("code")),
        "areas": list(Area.objects.order_by("code")),
        "max_photos": MAX_PHOTOS,
    }


def _form_page(request: HttpRequest, form: dict, status: int = 200, **ctx) -> HttpResponse:
    phone = citizen_phone(request)
    ctx = {"form": form, "proven": mask_phone(phone) if phone else "", **_choices(), **ctx}
    # After suspicious volume from this network or for this phone, a CAPTCHA (below it, none).
    if public_web.suspicious(request, phone or _mobile_or_blank(form.get("phone", ""))):
        ctx["captcha"] = public_web.new_captcha()
    ctx["room"] = MAX_PHOTOS - len(form.get("kept") or [])
    return _page(request, "web/public/report.html", ctx, status=status)


def _typed(request: HttpRequest) -> dict:
    # Not cut to the limits: an over-long text is refused with its length by the service, not shortened.
    form = {k: (request.POST.get(k, "") or "")[:20000] for k in TEXT_FIELDS}
    form["consent"] = request.POST.get("consent") == "1"
    return form


def _buckets(request: HttpRequest) -> list[Bucket]:
    return [Bucket("address", client_address(request), settings.CITIZEN_REPORTS_PER_ADDRESS_HOUR)]


class _SkipFiles(FileUploadHandler):
    """For a body over REPORT_MAX_BODY_BYTES: read the text fields, skip every file (said on the page)."""

    def new_file(self, *args, **kwargs) -> None:
        raise SkipFile()

    def receive_data_chunk(self, raw_data, start):  # pragma: no cover — new_file skipped the file
        return None

    def file_complete(self, file_size):  # pragma: no cover
        return None


@never_cache
@csrf_exempt  # the CSRF check is made below, once the upload handlers are chosen (Django's docs)
@require_http_methods(["GET", "POST"])
def report(request: HttpRequest) -> HttpResponse:
    """GET: the form. POST with action=code: send the SMS code; action=refresh: a new CAPTCHA picture.
    POST: file the report."""
    too_big = request.method == "POST" and _content_length(request) > settings.REPORT_MAX_BODY_BYTES
    if too_big:
        request.upload_handlers = [_SkipFiles()]
    return _report(request, too_big)


def _content_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


@csrf_protect
def _report(request: HttpRequest, too_big: bool) -> HttpResponse:
    if request.method == "GET":
        return _form_page(request, {"consent": False})
    form = _typed(request)
    photos, photo_error = _photos(request)
    if too_big:
        mb = settings.REPORT_MAX_BODY_BYTES // (1024 * 1024)
        error = _(
            "The photos together are too large (at most %(mb)s MB in one go). Please choose fewer or smaller ones."
        )
        photo_error = InvalidInput(error % {"mb": mb}, field="photos")
    action = request.POST.get("action")
    if action == "refresh":  # a new picture; everything typed and chosen stays
        return _refuse(request, form, photos, photo_error and str(photo_error), "photos", status=200)
    typed_phone = _mobile_or_blank(form["phone"])
    phone = citizen_phone(request) or typed_phone
    volume = public_web.suspicious(request, phone)
    if volume and (error := captcha_refusal(request, phone)) is not None:
        return _refuse(request, form, photos, error, "captcha")
    if phone and (until := abuse.blocked_until(phone)):
        error = BLOCKED % {"date": formats.date_format(timezone.localtime(until), "DATE_FORMAT")}
        return _refuse(request, form, photos, error, "phone", status=403)
    if action == "code":
        # Photos chosen before asking for the code are kept too (a refused one is said, not kept).
        _stash(form, photos)
        try:
            sent = send_otp(request, form["phone"])
        except BadPhone:
            return _form_page(request, form, 400, error=BAD_PHONE, field="phone")
        except otp.OtpRefused as exc:
            response = _form_page(request, form, 429, error=_refused(exc), field="phone")
            response["Retry-After"] = str(exc.retry_after)
            return response
        form["code"] = ""
        if photo_error is not None:
            return _form_page(
                request, form, 400, error=str(photo_error), field="photos", sent_to=mask_phone(sent.phone)
            )
        return _form_page(request, form, sent_to=mask_phone(sent.phone))
    # A typed number counts for its phone only once the SMS code proves it (send_otp counts the codes):
    # else anyone could load a stranger's number with volume.
    public_web.note_volume(request, citizen_phone(request) or "")
    return _submit(request, form, photos, photo_error, volume)


def _mobile_or_blank(raw: str) -> str:
    try:
        return otp.mobile(raw)
    except InvalidPhone:
        return ""


def report_channel(request: HttpRequest) -> str | None:
    """WeChat's in-app browser, the city's app (REPORT_APP_USER_AGENT_MARKERS), or None: web or photo."""
    agent = request.META.get("HTTP_USER_AGENT", "")
    if "MicroMessenger" in agent:
        return Channel.WECHAT
    if any(marker and marker in agent for marker in settings.REPORT_APP_USER_AGENT_MARKERS):
        return Channel.APP
    return None


def _submit(
    request: HttpRequest, form: dict, photos: list[Photo], photo_error: InvalidInput | None, volume: bool
) -> HttpResponse:
    try:
        check("report", _buckets(request))
    except Throttled as exc:
        minutes = (exc.retry_after + 59) // 60
        error = _("Too many reports from this network. Please try again in %(minutes)d minutes, or call 12345.")
        response = _refuse(request, form, photos, error % {"minutes": minutes}, status=429)
        response["Retry-After"] = str(exc.retry_after)
        return response
    try:
        fields = _parse(form)
        if photo_error is not None:
            raise photo_error
    except InvalidInput as exc:
        return _refuse(request, form, photos, str(exc), exc.details.get("field"))
    token = None
    phone = citizen_phone(request)
    if phone is None:
        try:
            token = verify_otp(request, form["phone"], request.POST.get("code", ""))
        except BadPhone:
            return _refuse(request, form, photos, BAD_PHONE, "phone")
        except otp.OtpFailed as exc:
            return _refuse(request, form, photos, OTP_FAILED[exc.reason], "code")
        except Throttled as exc:
            error = _("Too many wrong tries. Please try again in %(minutes)d minutes, or call 12345.")
            return _refuse(request, form, photos, error % {"minutes": (exc.retry_after + 59) // 60}, status=429)
        phone = otp.mobile(form["phone"])
    try:
        check("report", _phone_buckets(phone))
    except Throttled as exc:
        error = _("This number has sent many reports today. Please try again tomorrow, or call 12345.")
        response = _refuse(request, form, photos, error, "phone", status=429)
        response["Retry-After"] = str(exc.retry_after)
        return _with_session(response, token)
    channel = report_channel(request)
    try:
        ticket = file_report(
            phone=phone, photos=photos, consent_public=form["consent"], channel=channel, volume=volume, **fields
        )
    except InvalidInput as exc:
        return _with_session(_refuse(request, form, photos, str(exc), exc.details.get("field")), token)
    count("report", _buckets(request) + _phone_buckets(phone))
    held = abuse.is_held(ticket)
    rule = None if held else auto_dispatch(ticket)
    log.info(
        "report %s filed (%s photos, channel %s, held %s, auto-dispatch rule %s)",
        ticket.number,
        len(photos),
        ticket.channel,
        held,
        rule and rule.pk,
    )
    ticket.refresh_from_db()
    ctx = {"ticket": ticket, "photos": len(photos), "area": ticket.area, "auto": rule is not None}
    return _with_session(_page(request, "web/public/report_done.html", ctx), token)


def _with_session(response: HttpResponse, token: str | None) -> HttpResponse:
    if token:  # the code was used: the session it started spares the citizen another one for 30 min
        response.set_cookie(CITIZEN_COOKIE, token, httponly=True, samesite="Lax", secure=settings.SESSION_COOKIE_SECURE)
    return response


def _phone_buckets(phone: str) -> list[Bucket]:
    return [Bucket("phone", phone, settings.CITIZEN_REPORTS_PER_PHONE_DAY, DAY)]


def _photos(request: HttpRequest) -> tuple[list[Photo], InvalidInput | None]:
    """The photos kept from an earlier refused try and the ones chosen now, verified; and the first
    refusal, if any (the photos before it are kept, so they need not be chosen again)."""
    photos = []
    for key in request.POST.getlist("kept")[:MAX_PHOTOS]:
        if isinstance(key, str) and KEPT_KEY.fullmatch(key):
            photo = cache.get(f"report:photo:{key}")
            if isinstance(photo, Photo):
                photos.append(photo)
    for upload in request.FILES.getlist("photos"):
        if len(photos) >= MAX_PHOTOS:
            return photos, InvalidInput(
                _("Please choose at most %(count)s photos.") % {"count": MAX_PHOTOS}, field="photos"
            )
        try:
            photos.append(prepare_photo(upload))
        except InvalidInput as exc:
            name = (upload.name or "")[:60]
            return photos, InvalidInput(_("Photo “%(name)s”: %(error)s") % {"name": name, "error": exc}, field="photos")
    return photos, None


def _stash(form: dict, photos: list[Photo]) -> None:
    """Keep verified photos for the next try (a browser never refills a file field): in the cache under
    random keys the page carries back, for ``KEPT_SECONDS``. Only the stripped re-encoding is kept."""
    keys = []
    for photo in photos:
        key = secrets.token_urlsafe(24)
        cache.set(f"report:photo:{key}", photo, KEPT_SECONDS)
        keys.append(key)
    form["kept"] = keys


def _refuse(
    request: HttpRequest,
    form: dict,
    photos: list[Photo],
    error: str | None,
    field: str | None = None,
    status: int = 400,
) -> HttpResponse:
    _stash(form, photos)
    return _form_page(request, form, status, error=error or "", field=field if error else None)


def _parse(form: dict) -> dict:
    category = Category.objects.filter(code=form["category"]).first()
    if category is None:
        raise InvalidInput(_("Please choose what kind of request this is."), field="category")
    topic = None
    if form["topic"]:
        topic = Topic.objects.filter(code=form["topic"], parent__isnull=False).first()
        if topic is None:
            raise InvalidInput(_("Please choose a matter from the list."), field="topic")
    area = None
    if form["area"]:
        area = Area.objects.filter(code=form["area"]).first()
        if area is None:
            raise InvalidInput(_("Please choose an area from the list."), field="area")
    return {
        "category": category,
        "topic": topic,
        "area": area,
        "content": form["content"],
        "address": form["address"],
        "lat": form["lat"] or None,
        "lng": form["lng"] or None,
        "caller_name": form["name"][:50],
    }
