"""/report/ (随手拍): a citizen files a ticket with photos and a place, the phone proven by an SMS code.

Through HTTP as a phone would; the code is read from the SMS outbox as it would reach the phone.
Bad input: not an image, a too-large file, a decompression bomb, EXIF with bogus GPS, a point
outside the city, an address of emoji, a wrong and an expired code — each refused (or ignored)
with the reason, and what was typed comes back.
"""

from __future__ import annotations

import io
import re
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from PIL import Image

from callback.models import SmsMessage, SmsPurpose
from hotline.models import Area, Attachment, Channel, Ticket, TicketStatus, TimelineEntry
from hotline.services.attachments import prepare_photo
from routing.models import DispatchRule
from tests.conftest import unit

pytestmark = pytest.mark.django_db
PHONE = "13800138000"


@pytest.fixture(autouse=True)
def _own_counters(settings, tmp_path):
    settings.CACHES = {name: {**conf, "KEY_PREFIX": f"t-{uuid.uuid4().hex}"} for name, conf in settings.CACHES.items()}
    settings.CITIZEN_OTP_RESEND_SECONDS = 0
    settings.MEDIA_ROOT = tmp_path


def citizen() -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE="zh-hans", REMOTE_ADDR="203.0.113.9")


def last_code(phone: str = PHONE) -> str:
    sms = SmsMessage.objects.filter(to=f"+86{phone}", purpose=SmsPurpose.CITIZEN_OTP).order_by("-pk").first()
    return re.search(r"验证码为(\d{6})", sms.body).group(1)


def _rational(value: float) -> tuple:
    d = int(value)
    m = int((value - d) * 60)
    s = round(((value - d) * 60 - m) * 60, 2)
    return (d, m, s)


def jpeg(lat: float | None = None, lng: float | None = None, size=(800, 600), name="p.jpg") -> SimpleUploadedFile:
    image = Image.new("RGB", size, (200, 80, 40))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make: must not survive
    if lat is not None:
        gps = exif.get_ifd(0x8825)
        gps.update({1: "N", 2: _rational(lat), 3: "E", 4: _rational(lng)})
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


FORM = {
    "category": "complaint",
    "topic": "0201",
    "content": "小区门口占道经营，噪音很大。",
    "address": "城正街88号",
    "name": "王",
}


def code_for(client: Client, phone: str = PHONE) -> str:
    response = client.post("/report/", {**FORM, "phone": phone, "action": "code"})
    assert response.status_code == 200, response.content.decode()
    assert "138****8000" in response.content.decode()
    return last_code(phone)


def test_a_photo_report_is_registered_with_its_photo_and_the_photo_s_gps_and_no_exif(
    seeded, settings, django_capture_on_commit_callbacks
):
    yh01 = Area.objects.get(code="YH01")
    client = citizen()
    code = code_for(client)
    photo = jpeg(float(yh01.lat), float(yh01.lng))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/report/", {**FORM, "phone": PHONE, "code": code, "consent": "1", "photos": [photo]})
    assert response.status_code == 200, response.content.decode()
    ticket = Ticket.objects.get(number=re.search(r'data-testid="number">(\d{13})', response.content.decode())[1])
    assert ticket.query_code in response.content.decode()
    assert ticket.channel == Channel.PHOTO and ticket.consent_public and ticket.caller.name == "王"
    assert ticket.area == yh01 and abs(ticket.lat - yh01.lat) < Decimal("0.001")
    stored = Attachment.objects.get(ticket=ticket)
    with Image.open(stored.file.path) as image:
        assert not image.getexif() and image.format == "JPEG"
    assert ticket.status == TicketStatus.REGISTERED  # no rule auto-dispatches it: it waits in the queue
    # the registered SMS carries the number and the query code (job step of callback/notifications.py)
    assert "photo" in settings.SMS_REGISTERED_CHANNELS and "web" in settings.SMS_REGISTERED_CHANNELS


def test_a_rule_marked_auto_dispatch_sends_the_photo_report_to_its_unit_and_the_timeline_names_it(seeded):
    rule = DispatchRule.objects.create(
        name="芜湖式自动派单：城正街噪音",
        topic_id=seeded_topic(),
        area=Area.objects.get(code="YH01"),
        unit=unit("CGJ"),
        auto_dispatch=True,
    )
    client = citizen()
    code = code_for(client)
    response = client.post("/report/", {**FORM, "area": "YH01", "phone": PHONE, "code": code, "photos": [jpeg()]})
    assert 'data-testid="auto"' in response.content.decode()
    ticket = Ticket.objects.latest("pk")
    assert ticket.status == TicketStatus.DISPATCHED
    entry = TimelineEntry.objects.get(ticket=ticket, action="ticket.dispatched")
    assert entry.actor is None and entry.data["rule"] == rule.name and entry.data["rule_id"] == rule.pk
    # the same report without a photo (channel web) is left to the center
    client.post("/report/", {**FORM, "area": "YH01"})
    web = Ticket.objects.latest("pk")
    assert web.channel == Channel.WEB and web.status == TicketStatus.REGISTERED


def seeded_topic() -> int:
    from hotline.models import Topic

    return Topic.objects.get(code="0201").pk


@pytest.mark.parametrize(
    "upload, reason",
    [
        (SimpleUploadedFile("x.jpg", b"<html>not an image</html>"), "不是图片"),
        (SimpleUploadedFile("big.jpg", b"\xff\xd8" + b"0" * (12 * 1024 * 1024)), "字节"),  # 12 MB: by size
    ],
    ids=["not-an-image", "too-large"],
)
def test_a_bad_photo_is_refused_with_the_reason_and_the_text_comes_back(seeded, upload, reason):
    client = citizen()
    code = code_for(client)
    response = client.post("/report/", {**FORM, "phone": PHONE, "code": code, "photos": [upload]})
    page = response.content.decode()
    assert response.status_code == 400 and reason in page, page
    assert FORM["content"] in page and FORM["address"] in page and 'value="13800138000"' in page
    assert not Ticket.objects.exists()


def test_a_decompression_bomb_is_refused_by_its_pixels_before_decoding(seeded, settings):
    settings.ATTACHMENT_MAX_PIXELS = 1_000_000
    out = io.BytesIO()
    Image.new("1", (4000, 4000)).save(out, "PNG")  # 16 megapixels in a few KB
    client = citizen()
    code = code_for(client)
    bomb = SimpleUploadedFile("bomb.png", out.getvalue())
    response = client.post("/report/", {**FORM, "phone": PHONE, "code": code, "photos": [bomb]})
    assert response.status_code == 400 and "像素" in response.content.decode()
    assert not Ticket.objects.exists()


def test_bogus_gps_is_ignored_and_not_stored(seeded):
    photo = prepare_photo(jpeg(200.0, 112.9))
    assert photo.lat is None and photo.lng is None
    with Image.open(io.BytesIO(photo.content)) as image:
        assert not image.getexif()


def test_a_big_photo_is_made_smaller(seeded):
    photo = prepare_photo(jpeg(size=(4000, 3000)))
    with Image.open(io.BytesIO(photo.content)) as image:
        assert max(image.size) == 2048


def test_a_point_outside_the_city_is_accepted_with_the_area_left_to_the_center(seeded):
    client = citizen()
    code = code_for(client)
    response = client.post("/report/", {**FORM, "phone": PHONE, "code": code, "lat": "39.9", "lng": "116.4"})
    assert response.status_code == 200 and 'data-testid="no-area"' in response.content.decode()
    ticket = Ticket.objects.get()
    assert ticket.area is None and ticket.lat == Decimal("39.9")


def test_an_address_of_only_emoji_is_refused(seeded):
    client = citizen()
    code = code_for(client)
    response = client.post("/report/", {**FORM, "address": "🏠🚧🚗", "phone": PHONE, "code": code})
    assert response.status_code == 400 and "地址" in response.content.decode()
    assert FORM["content"] in response.content.decode()
    assert not Ticket.objects.exists()


def test_a_wrong_or_expired_code_is_refused_and_keeps_what_was_typed(seeded):
    client = citizen()
    code = code_for(client)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    response = client.post("/report/", {**FORM, "phone": PHONE, "code": wrong})
    page = response.content.decode()
    assert response.status_code == 400 and "验证码" in page and FORM["content"] in page
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        response = client.post("/report/", {**FORM, "phone": PHONE, "code": code})
    assert response.status_code == 400 and "过期" in response.content.decode()
    assert not Ticket.objects.exists()


def test_photos_accepted_in_a_refused_submission_need_not_be_chosen_again(seeded, django_capture_on_commit_callbacks):
    client = citizen()
    code = code_for(client)
    bad = SimpleUploadedFile("x.jpg", b"not an image")
    response = client.post("/report/", {**FORM, "phone": PHONE, "code": code, "photos": [jpeg(), bad]})
    page = response.content.decode()
    assert response.status_code == 400 and 'data-testid="kept"' in page and "x.jpg" in page
    kept = re.findall(r'name="kept" value="([^"]+)"', page)
    assert len(kept) == 1
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"  # a wrong code next: the photo is still kept
    page = client.post("/report/", {**FORM, "phone": PHONE, "code": wrong, "kept": kept}).content.decode()
    kept = re.findall(r'name="kept" value="([^"]+)"', page)
    assert len(kept) == 1 and not Ticket.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/report/", {**FORM, "phone": PHONE, "code": code, "kept": [*kept, "forged" * 6]})
    assert response.status_code == 200
    ticket = Ticket.objects.get()
    assert ticket.channel == Channel.PHOTO and Attachment.objects.filter(ticket=ticket).count() == 1


def test_reports_from_one_address_are_limited(seeded, settings):
    settings.CITIZEN_REPORTS_PER_ADDRESS_HOUR = 1
    client = citizen()
    code = code_for(client)
    assert client.post("/report/", {**FORM, "phone": PHONE, "code": code}).status_code == 200
    response = client.post("/report/", FORM)  # the session from the code: no second code needed
    assert response.status_code == 429 and response["Retry-After"] and FORM["content"] in response.content.decode()
    assert Ticket.objects.count() == 1
