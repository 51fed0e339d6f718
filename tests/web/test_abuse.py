"""Abuse control on /report/: the CAPTCHA after suspicious volume, the held reports and the center's review.

Through HTTP as a phone and as the center's dispatcher would; the CAPTCHA's answer is read from
django-simple-captcha's table (as its own tests do), the SMS code from the outbox.
"""

from __future__ import annotations

import re
import uuid

import pytest
from captcha.models import CaptchaStore
from django.test import Client
from django.utils import timezone

from callback.models import SmsMessage
from hotline.errors import Conflict, NotAllowed
from hotline.models import (
    Area,
    AuditAction,
    AuditEntry,
    Channel,
    HeldReport,
    HoldReason,
    HoldStatus,
    Ticket,
    TicketStatus,
    TimelineEntry,
)
from hotline.services import abuse, callers, dispatch
from metrics.kpis import RepeatRate
from metrics.periods import Period
from routing.models import DispatchRule
from tests.conftest import make_user, unit
from tests.factories import new_ticket
from tests.web.test_report_page import FORM, PHONE, jpeg, last_code, seeded_topic

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _own_counters(settings, tmp_path):
    settings.CACHES = {name: {**conf, "KEY_PREFIX": f"t-{uuid.uuid4().hex}"} for name, conf in settings.CACHES.items()}
    settings.CITIZEN_OTP_RESEND_SECONDS = 0
    settings.MEDIA_ROOT = tmp_path
    settings.ABUSE_CAPTCHA_AFTER_PER_ADDRESS = 2
    settings.ABUSE_CAPTCHA_AFTER_PER_PHONE = 50


def citizen(address: str = "203.0.113.9", **headers) -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE="zh-hans", REMOTE_ADDR=address, **headers)


def captcha_key(page: str) -> str:
    return re.search(r'name="captcha_0" value="(\w+)"', page)[1]


def answer(key: str) -> str:
    return CaptchaStore.objects.get(hashkey=key).response


def kept_keys(page: str) -> list[str]:
    return re.findall(r'name="kept" value="([\w-]+)"', page)


def filed(response) -> Ticket:
    return Ticket.objects.get(number=re.search(r'data-testid="number">(\d{13})', response.content.decode())[1])


def send_code(client: Client, phone: str = PHONE, **extra) -> str:
    response = client.post("/report/", {**FORM, "phone": phone, "action": "code", **extra})
    assert response.status_code == 200, response.content.decode()
    return last_code(phone)


def suspicious_client() -> tuple[Client, str, str]:
    """A network that has sent a code and one wrong try: the page now asks for a CAPTCHA."""
    client = citizen()
    code = send_code(client)
    response = client.post("/report/", {**FORM, "phone": PHONE, "code": "000000"})
    page = response.content.decode()
    assert response.status_code == 400 and 'data-testid="captcha"' in page
    return client, code, page


def test_below_the_threshold_nobody_sees_a_captcha_and_the_report_is_not_held(seeded):
    client = citizen()
    assert 'data-testid="captcha"' not in client.get("/report/").content.decode()
    code = send_code(client)
    response = client.post("/report/", {**FORM, "phone": PHONE, "code": code})
    assert response.status_code == 200 and 'data-testid="captcha"' not in response.content.decode()
    assert not HeldReport.objects.filter(ticket=filed(response)).exists()


def test_after_suspicious_volume_a_wrong_captcha_is_refused_with_the_reason_and_everything_typed_is_kept(seeded):
    client, code, page = suspicious_client()
    assert "12345" in page and 'src="/captcha/image/' in page
    key = captcha_key(page)
    photo = jpeg()
    response = client.post(
        "/report/",
        {**FORM, "phone": PHONE, "code": code, "photos": [photo], "captcha_0": key, "captcha_1": "ZZZZ"},
    )
    page = response.content.decode()
    assert response.status_code == 400 and "图中字母不对" in page and "12345" in page
    assert FORM["content"] in page and FORM["address"] in page and 'value="13800138000"' in page
    assert f'value="{code}"' in page  # the SMS code typed is kept too: it was not used
    assert len(kept_keys(page)) == 1 and 'data-testid="kept"' in page
    assert captcha_key(page) != key and not CaptchaStore.objects.filter(hashkey=key).exists()  # tried once
    assert not Ticket.objects.exists()
    # "another picture": a new challenge, nothing lost, no error
    again = client.post(
        "/report/", {**FORM, "phone": PHONE, "code": code, "kept": kept_keys(page), "action": "refresh"}
    )
    refreshed = again.content.decode()
    assert again.status_code == 200 and 'data-testid="error"' not in refreshed
    assert FORM["content"] in refreshed and len(kept_keys(refreshed)) == 1
    # the right letters: filed with the kept photo, and held for the center's review (volume)
    key = captcha_key(refreshed)
    response = client.post(
        "/report/",
        {
            **FORM,
            "phone": PHONE,
            "code": code,
            "kept": kept_keys(refreshed),
            "captcha_0": key,
            "captcha_1": answer(key),
        },
    )
    assert response.status_code == 200, response.content.decode()
    ticket = filed(response)
    assert ticket.channel == Channel.PHOTO and ticket.attachments.count() == 1
    assert ticket.held.status == HoldStatus.HELD and ticket.held.reasons == [HoldReason.VOLUME]
    assert TimelineEntry.objects.filter(ticket=ticket, action="report.held").exists()


def test_a_missing_captcha_is_asked_for_also_before_an_sms_code_is_sent(seeded):
    client, _, _ = suspicious_client()
    sms_before = SmsMessage.objects.count()
    response = client.post("/report/", {**FORM, "phone": PHONE, "action": "code"})
    assert response.status_code == 400 and 'data-testid="captcha"' in response.content.decode()
    assert SmsMessage.objects.count() == sms_before  # no new SMS without the letters
    key = captcha_key(response.content.decode())
    response = client.post(
        "/report/", {**FORM, "phone": PHONE, "action": "code", "captcha_0": key, "captcha_1": answer(key)}
    )
    assert response.status_code == 200 and 'data-testid="sent"' in response.content.decode()


def test_the_volume_of_one_phone_asks_for_a_captcha_from_any_network(seeded, settings):
    settings.ABUSE_CAPTCHA_AFTER_PER_ADDRESS, settings.ABUSE_CAPTCHA_AFTER_PER_PHONE = 50, 1
    send_code(citizen("203.0.113.20"))
    other = citizen("198.51.100.7")
    assert 'data-testid="captcha"' not in other.get("/report/").content.decode()  # the phone is not known yet
    response = other.post("/report/", {**FORM, "phone": PHONE, "action": "code"})
    assert response.status_code == 400 and 'data-testid="captcha"' in response.content.decode()


def test_failed_ticket_lookups_count_towards_the_volume(seeded):
    client = citizen()
    for _ in range(2):
        client.post("/track/", {"n": "2026010100001", "c": "000000"})
    assert 'data-testid="captcha"' in client.get("/report/").content.decode()


def test_the_track_page_asks_for_the_captcha_after_failed_lookups_and_keeps_the_number(seeded, agent):
    ticket = new_ticket(agent)
    client = citizen()
    for _ in range(2):
        assert client.post("/track/", {"n": ticket.number, "c": "000000"}).status_code == 404
    response = client.post("/track/", {"n": ticket.number, "c": ticket.query_code})
    page = response.content.decode()
    assert response.status_code == 400 and 'data-testid="captcha"' in page and f'value="{ticket.number}"' in page
    key = captcha_key(page)
    response = client.post(
        "/track/", {"n": ticket.number, "c": ticket.query_code, "captcha_0": key, "captcha_1": answer(key)}
    )
    assert response.status_code == 200 and 'data-testid="captcha"' not in response.content.decode()


def test_my_tickets_asks_for_the_captcha_before_another_sms_and_keeps_the_phone(seeded, settings):
    settings.ABUSE_CAPTCHA_AFTER_PER_ADDRESS, settings.ABUSE_CAPTCHA_AFTER_PER_PHONE = 50, 2
    for address in ("203.0.113.30", "203.0.113.31"):
        assert citizen(address).post("/track/mine/", {"phone": PHONE}).status_code == 200
    sms = SmsMessage.objects.count()
    client = citizen("203.0.113.32")
    response = client.post("/track/mine/", {"phone": PHONE})
    page = response.content.decode()
    assert response.status_code == 400 and 'data-testid="captcha"' in page and f'value="{PHONE}"' in page
    assert SmsMessage.objects.count() == sms
    key = captcha_key(page)
    response = client.post("/track/mine/", {"phone": PHONE, "captcha_0": key, "captcha_1": "nope"})
    assert response.status_code == 400 and "图中字母不对" in response.content.decode()
    key = captcha_key(response.content.decode())
    response = client.post("/track/mine/", {"phone": PHONE, "captcha_0": key, "captcha_1": answer(key)})
    assert response.status_code == 200 and SmsMessage.objects.count() == sms + 1


def dispatcher_client(dispatcher) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(dispatcher)
    return client


def held_report(
    content: str = "加微信领补贴 http://a.example/x www.b.example/y", phone: str = "+8613900139000", **extra
):
    from hotline.models import Category
    from hotline.services.reports import file_report

    return file_report(phone=phone, content=content, category=Category.objects.get(code="complaint"), **extra)


def test_link_spam_a_flagged_caller_and_the_same_text_again_are_held_with_their_reasons(seeded, agent, supervisor):
    spam = held_report()
    assert spam.held.reasons == [HoldReason.LINKS]
    plain = held_report("路灯不亮，已经三天了。", phone="+8613700137000")
    assert not HeldReport.objects.filter(ticket=plain).exists()
    again = held_report("路灯不亮，已经三天了。", phone="+8613700137000")
    assert again.held.reasons == [HoldReason.DUPLICATE]
    rude = new_ticket(agent, phone="13600136000")
    callers.set_flag(
        rude.caller, supervisor, "harassment", "多次恶意骚扰。", timezone.now() + timezone.timedelta(days=30)
    )
    flagged = held_report("有人在楼道堆放杂物。", phone="+8613600136000")
    assert flagged.held.reasons == [HoldReason.FLAGGED]


def test_a_held_report_is_out_of_the_dispatch_queue_and_cannot_be_dispatched(seeded, dispatcher):
    ticket = held_report()
    page = dispatcher_client(dispatcher).get("/dispatch/").content.decode()
    assert ticket.number not in page
    with pytest.raises(Conflict):
        dispatch.dispatch_ticket(ticket, dispatcher, unit("CGJ"))


def test_the_center_releases_a_held_report_and_the_auto_dispatch_rule_applies(seeded, dispatcher):
    rule = DispatchRule.objects.create(
        name="芜湖式自动派单：城正街噪音", topic_id=seeded_topic(), area=Area.objects.get(code="YH01"),
        unit=unit("CGJ"), auto_dispatch=True,
    )  # fmt: skip
    client, code, page = suspicious_client()
    key = captcha_key(page)
    response = client.post(
        "/report/",
        {**FORM, "area": "YH01", "phone": PHONE, "code": code, "photos": [jpeg()], "captcha_0": key,
         "captcha_1": answer(key)},
    )  # fmt: skip
    ticket = filed(response)
    assert ticket.status == TicketStatus.REGISTERED  # held: the rule waits for the center
    staff = dispatcher_client(dispatcher)
    listing = staff.get("/dispatch/held/").content.decode()
    assert ticket.number in listing and "138****8000" in listing and "13800138000" not in listing
    assert 'data-testid="nav-held"' in listing
    response = staff.post(f"/dispatch/held/{ticket.held.pk}/release/", {"note": "市民正常反映。"})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.DISPATCHED and ticket.held.status == HoldStatus.RELEASED
    assert TimelineEntry.objects.filter(ticket=ticket, action="report.released", actor=dispatcher).exists()
    assert TimelineEntry.objects.get(ticket=ticket, action="ticket.dispatched").data["rule_id"] == rule.pk
    assert AuditEntry.objects.filter(action=AuditAction.REPORT_RELEASED, user=dispatcher).exists()
    # decided once: a second release is refused with the reason, nothing changes
    again = staff.post(f"/dispatch/held/{ticket.held.pk}/release/", follow=True)
    assert "已" in again.content.decode() and TimelineEntry.objects.filter(action="report.released").count() == 1


def test_marking_spam_keeps_the_ticket_out_of_the_kpis_and_can_block_the_phone(seeded, dispatcher):
    period = Period.of("day", timezone.localdate())
    before = RepeatRate().compute(period)
    ticket = held_report(phone="+86" + PHONE)
    assert RepeatRate().compute(period).denominator == before.denominator + 1
    staff = dispatcher_client(dispatcher)
    response = staff.post(f"/dispatch/held/{ticket.held.pk}/spam/", {"note": "广告刷屏。", "block_days": "30"})
    assert response.status_code == 302
    ticket.refresh_from_db()
    held = HeldReport.objects.get(ticket=ticket)
    assert ticket.status == TicketStatus.DISCARDED and held.status == HoldStatus.SPAM  # kept, not deleted
    assert held.blocked_until > timezone.now() + timezone.timedelta(days=29)
    actions = set(TimelineEntry.objects.filter(ticket=ticket).values_list("action", flat=True))
    assert {"report.held", "report.marked_spam", "ticket.discarded"} <= actions
    assert AuditEntry.objects.filter(action=AuditAction.REPORT_SPAM, user=dispatcher).exists()
    assert RepeatRate().compute(period).denominator == before.denominator  # not counted as a complaint
    assert f'data-number="{ticket.number}"' not in staff.get("/dispatch/held/").content.decode()
    # the blocked phone is refused on /report/ with the reason, what was typed comes back, 12345 is named
    client = citizen("198.51.100.8")
    response = client.post("/report/", {**FORM, "phone": PHONE, "action": "code"})
    page = response.content.decode()
    assert response.status_code == 403 and "12345" in page and FORM["content"] in page
    assert not Ticket.objects.exclude(pk=ticket.pk).exists()


def test_a_spam_decision_needs_a_reason(seeded, dispatcher):
    ticket = held_report()
    dispatcher_client(dispatcher).post(f"/dispatch/held/{ticket.held.pk}/spam/", {"note": "", "block_days": "0"})
    assert HeldReport.objects.get(ticket=ticket).status == HoldStatus.HELD


@pytest.mark.parametrize("who", ["anonymous", "unit", "agent"])
def test_only_the_center_s_reviewers_see_and_decide_held_reports(seeded, who, yuhu, agent):
    ticket = held_report()
    client = Client()
    if who != "anonymous":
        client.force_login(yuhu if who == "unit" else agent)
    listing = client.get("/dispatch/held/")
    release = client.post(f"/dispatch/held/{ticket.held.pk}/release/")
    spam = client.post(f"/dispatch/held/{ticket.held.pk}/spam/", {"note": "x", "block_days": "0"})
    expected = 302 if who == "anonymous" else 403
    assert listing.status_code == release.status_code == spam.status_code == expected
    assert HeldReport.objects.get(ticket=ticket).status == HoldStatus.HELD
    with pytest.raises(NotAllowed):
        abuse.release(ticket.held, yuhu if who == "unit" else agent)


def test_a_phone_may_file_only_so_many_reports_a_day(seeded, settings):
    settings.CITIZEN_REPORTS_PER_PHONE_DAY = 1
    settings.ABUSE_CAPTCHA_AFTER_PER_ADDRESS = 50
    client = citizen()
    code = send_code(client)
    assert client.post("/report/", {**FORM, "phone": PHONE, "code": code}).status_code == 200
    # another network, the phone proven again: the phone's limit for the day holds
    other = citizen("198.51.100.9")
    code = send_code(other)
    response = other.post("/report/", {**FORM, "content": "另一件事：井盖缺失。", "phone": PHONE, "code": code})
    page = response.content.decode()
    assert response.status_code == 429 and "井盖缺失" in page and "12345" in page
    assert Ticket.objects.count() == 1


def test_a_body_over_the_cap_keeps_the_text_and_says_the_photos_were_too_large(seeded, settings):
    settings.REPORT_MAX_BODY_BYTES = 200_000
    settings.ABUSE_CAPTCHA_AFTER_PER_ADDRESS = 50
    client = citizen()
    code = send_code(client)
    big = jpeg(size=(1600, 1200))
    big.file.write(b"\0" * 300_000)  # trailing bytes: the body is over the cap
    big.file.seek(0)
    response = client.post("/report/", {**FORM, "phone": PHONE, "code": code, "photos": [big]})
    page = response.content.decode()
    assert response.status_code == 400 and "MB" in page and FORM["content"] in page
    assert not Ticket.objects.exists()


@pytest.mark.parametrize(
    "agent_string, markers, channel",
    [
        ("Mozilla/5.0 (iPhone) AppleWebKit MicroMessenger/8.0.50 NetType/WIFI", [], Channel.WECHAT),
        ("Mozilla/5.0 (Linux; Android 14) XiangtanCityApp/3.2", ["XiangtanCityApp"], Channel.APP),
        ("Mozilla/5.0 (Linux; Android 14) XiangtanCityApp/3.2", [], Channel.WEB),
    ],
    ids=["wechat", "app", "app-marker-unset"],
)
def test_the_channel_follows_the_browser(seeded, settings, agent_string, markers, channel):
    settings.REPORT_APP_USER_AGENT_MARKERS = markers
    client = citizen(HTTP_USER_AGENT=agent_string)
    code = send_code(client)
    response = client.post("/report/", {**FORM, "phone": PHONE, "code": code})
    assert filed(response).channel == channel
    assert channel in settings.SMS_REGISTERED_CHANNELS  # the number and the code by SMS as well


def test_a_wechat_photo_report_is_auto_dispatched_like_a_photo_report(seeded):
    DispatchRule.objects.create(
        name="自动派单", topic_id=seeded_topic(), area=Area.objects.get(code="YH01"), unit=unit("CGJ"),
        auto_dispatch=True,
    )  # fmt: skip
    client = citizen(HTTP_USER_AGENT="Mozilla/5.0 MicroMessenger/8.0.50")
    code = send_code(client)
    response = client.post("/report/", {**FORM, "area": "YH01", "phone": PHONE, "code": code, "photos": [jpeg()]})
    ticket = filed(response)
    assert ticket.channel == Channel.WECHAT and ticket.status == TicketStatus.DISPATCHED


def test_the_nav_shows_the_count_of_held_reports_to_the_center(seeded, dispatcher):
    held_report()
    held_report("再来一次 http://a.example http://b.example", phone="+8613900139001")
    page = dispatcher_client(dispatcher).get("/dispatch/").content.decode()
    assert re.search(r'data-testid="nav-held">[^<]*<span class="count">2</span>', page)
    unit_user = make_user("yuhu2", "unit_handler", "YH")
    client = Client()
    client.force_login(unit_user)
    assert 'data-testid="nav-held"' not in client.get("/unit/").content.decode()


def test_the_held_list_costs_the_same_queries_for_one_report_or_many(seeded, dispatcher):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = dispatcher_client(dispatcher)
    counts = []
    for n in range(3):
        held_report(f"第{n}条 http://a.example http://b.example", phone=f"+861390013900{n}")
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/dispatch/held/").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1] == counts[2], counts  # the rows with their caller, category, area; the photos


def test_the_captcha_offers_its_letters_spoken_only_with_flite_configured(seeded, settings):
    client, _, page = suspicious_client()
    assert 'data-testid="captcha-audio"' not in page
    assert client.get(f"/captcha/audio/{captcha_key(page)}.wav").status_code == 404
    settings.CAPTCHA_FLITE_PATH = "/usr/bin/flite"
    page = client.get("/report/").content.decode()
    assert f'href="/captcha/audio/{captcha_key(page)}.wav"' in page
