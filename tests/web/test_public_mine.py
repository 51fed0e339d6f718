"""我的工单: a citizen proves a mobile number with an SMS code and sees every ticket of that number.

Through HTTP as a phone would (the page without JavaScript, and the API with a bearer token); the
code is read from the SMS outbox exactly as it would reach the phone.
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from callback import otp
from callback.models import CitizenOtp, CitizenSession, SmsMessage, SmsPurpose, SmsStatus
from hotline.services import tickets
from tests.factories import dispatched_ticket, new_ticket

pytestmark = pytest.mark.django_db
PHONE, OTHER = "13800138000", "13900139000"


@pytest.fixture(autouse=True)
def _own_counters(settings):
    """Each test its own throttle counters: a fresh key prefix on the configured cache (Redis in CI)."""
    settings.CACHES = {name: {**conf, "KEY_PREFIX": f"t-{uuid.uuid4().hex}"} for name, conf in settings.CACHES.items()}
    settings.CITIZEN_OTP_PER_PHONE_HOUR = 5
    settings.CITIZEN_OTP_PER_ADDRESS_HOUR = 10
    settings.CITIZEN_OTP_FAILURES_PER_ADDRESS = 20


def citizen(address: str = "203.0.113.7", language: str = "zh-hans") -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE=language, REMOTE_ADDR=address)


def app(address: str = "198.51.100.20") -> APIClient:
    return APIClient(REMOTE_ADDR=address, HTTP_ACCEPT_LANGUAGE="en")


def last_code(phone: str = PHONE) -> str:
    sms = SmsMessage.objects.filter(to=f"+86{phone}", purpose=SmsPurpose.CITIZEN_OTP).order_by("-pk").first()
    assert sms is not None, "no code was queued"
    return re.search(r"验证码为(\d{6})", sms.body).group(1)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def signed_in(client: Client, phone: str = PHONE, typed: str | None = None) -> Client:
    assert client.post("/track/mine/", {"phone": typed or phone}).status_code == 200
    response = client.post("/track/mine/verify/", {"phone": typed or phone, "code": last_code(phone)})
    assert response.status_code == 302 and response["Location"] == "/track/mine/", response.content
    return client


def test_a_citizen_gets_a_code_by_sms_and_sees_every_ticket_of_the_phone_newest_first(agent, dispatcher) -> None:
    first = new_ticket(agent)
    second = dispatched_ticket(agent, content="路灯不亮，晚上很黑。")
    strangers = new_ticket(agent, phone=OTHER, content="别人的诉求：垃圾未清运。")
    withdrawn = new_ticket(agent, content="登记错误。")
    tickets.discard_ticket(withdrawn, dispatcher, "重复登记")

    client = citizen()
    form = client.get("/track/mine/")
    assert form.status_code == 200 and 'name="phone"' in form.content.decode()
    sent = client.post("/track/mine/", {"phone": "138 0013 8000"})
    assert sent.status_code == 200
    assert "138****8000" in text(sent) and 'name="code"' in sent.content.decode()
    (sms,) = SmsMessage.objects.filter(purpose=SmsPurpose.CITIZEN_OTP)
    assert sms.to == "+8613800138000" and sms.ticket is None

    # Typed in another format the second time: the number is normalised, so it is the same phone.
    verified = client.post("/track/mine/verify/", {"phone": "+86 138-0013-8000", "code": last_code()})
    assert verified.status_code == 302
    assert verified.cookies["lx_citizen"]["httponly"] and verified.cookies["lx_citizen"]["samesite"] == "Lax"
    page = client.get("/track/mine/")
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    numbers = re.findall(r'data-testid="my-ticket-number">(\d{13})<', page.content.decode())
    assert numbers == [second.number, first.number]  # newest first; not the withdrawn one, not the stranger's
    assert strangers.number not in page.content.decode() and withdrawn.number not in page.content.decode()
    assert "已转办" in text(page) and "已受理" in text(page)

    opened = client.get(f"/track/mine/{second.number}/")
    assert opened.status_code == 200
    assert 'data-testid="status"><strong>已转办<' in opened.content.decode()
    assert "雨湖区" in text(opened)
    refused = client.get(f"/track/mine/{strangers.number}/")
    assert refused.status_code == 404 and strangers.number not in refused.content.decode().split("my-ticket-number")[0]
    assert client.get(f"/track/mine/{withdrawn.number}/").status_code == 404


def test_a_merged_ticket_is_listed_with_the_ticket_it_went_into(agent) -> None:
    mine = new_ticket(agent)
    target = new_ticket(agent, phone=OTHER, content="同一处广场舞噪音。")
    tickets.merge_ticket(mine, target, agent)
    client = signed_in(citizen())
    page = text(client.get("/track/mine/"))
    assert "已合并办理" in page and target.number in page
    opened = client.get(f"/track/mine/{mine.number}/")
    assert opened.status_code == 200 and 'data-testid="merged-into"' in opened.content.decode()
    assert client.get(f"/track/mine/{target.number}/").status_code == 404  # the other caller's ticket itself


def test_only_a_hash_of_the_code_is_stored_and_the_sms_loses_it_once_expired(agent) -> None:
    citizen().post("/track/mine/", {"phone": PHONE})
    code = last_code()
    row = CitizenOtp.objects.get()
    assert code not in row.code_hash and len(row.code_hash) == 64 and row.phone == "+8613800138000"
    assert "203.0.113.7" not in row.address_hash
    SmsMessage.objects.filter(purpose=SmsPurpose.CITIZEN_OTP).update(status=SmsStatus.SENT)
    assert otp.redact_expired() == 0  # still valid: the phone may still need the SMS
    assert otp.redact_expired(timezone.now() + timedelta(minutes=6)) == 1
    assert code not in SmsMessage.objects.get(purpose=SmsPurpose.CITIZEN_OTP).body


def test_a_replayed_code_is_refused(agent) -> None:
    client = signed_in(citizen())
    code = CitizenOtp.objects.get()
    assert code.used_at is not None
    again = citizen().post("/track/mine/verify/", {"phone": PHONE, "code": last_code()})
    assert again.status_code == 400 and "已经使用" in text(again)
    assert "lx_citizen" not in again.cookies
    assert client.get("/track/mine/").status_code == 200


def test_an_expired_code_is_refused(agent) -> None:
    client = citizen()
    client.post("/track/mine/", {"phone": PHONE})
    code = last_code()
    with time_machine.travel(timezone.now() + timedelta(minutes=5, seconds=1)):
        late = client.post("/track/mine/verify/", {"phone": PHONE, "code": code})
    assert late.status_code == 400 and "已过期" in text(late)
    assert CitizenSession.objects.count() == 0


def test_a_code_for_another_number_does_not_open_it(agent, monkeypatch) -> None:
    new_ticket(agent, phone=OTHER)
    client = citizen()
    client.post("/track/mine/", {"phone": PHONE})
    code = last_code()
    response = client.post("/track/mine/verify/", {"phone": OTHER, "code": code})
    assert response.status_code == 400 and CitizenSession.objects.count() == 0
    # The other number has a live code of its own (a different one): the first number's still fails.
    codes = iter([int(wrong(code))])
    monkeypatch.setattr(otp.secrets, "randbelow", lambda n: next(codes))
    citizen("203.0.113.8").post("/track/mine/", {"phone": OTHER})
    assert last_code(OTHER) == wrong(code)
    assert citizen("203.0.113.8").post("/track/mine/verify/", {"phone": OTHER, "code": code}).status_code == 400
    assert CitizenSession.objects.count() == 0


def test_five_wrong_tries_lock_the_code_and_the_right_one_is_refused_after(agent) -> None:
    client = citizen()
    client.post("/track/mine/", {"phone": PHONE})
    code = last_code()
    for _ in range(4):
        assert client.post("/track/mine/verify/", {"phone": PHONE, "code": wrong(code)}).status_code == 400
    fifth = client.post("/track/mine/verify/", {"phone": PHONE, "code": wrong(code)})
    assert fifth.status_code == 400 and "错误次数过多" in text(fifth)
    right = client.post("/track/mine/verify/", {"phone": PHONE, "code": code})
    assert right.status_code == 400 and CitizenSession.objects.count() == 0


def test_another_code_only_after_a_minute_and_then_the_old_one_is_void(agent) -> None:
    client = citizen()
    client.post("/track/mine/", {"phone": PHONE})
    old = last_code()
    again = client.post("/track/mine/", {"phone": PHONE})
    assert again.status_code == 429 and 0 < int(again["Retry-After"]) <= 60
    assert SmsMessage.objects.filter(purpose=SmsPurpose.CITIZEN_OTP).count() == 1
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        assert client.post("/track/mine/", {"phone": PHONE}).status_code == 200
        new = last_code()
        assert CitizenOtp.objects.order_by("created_at").first().expires_at <= timezone.now()  # the old one is void
        if new != old:  # (one in a million they are the same six digits)
            assert client.post("/track/mine/verify/", {"phone": PHONE, "code": old}).status_code == 400
        assert client.post("/track/mine/verify/", {"phone": PHONE, "code": new}).status_code == 302


def test_codes_per_number_and_per_address_are_limited(agent, settings) -> None:
    settings.CITIZEN_OTP_RESEND_SECONDS = 0
    # The hard limits behind the CAPTCHA (asked for from the volume on, tests/web/test_abuse.py).
    settings.ABUSE_CAPTCHA_AFTER_PER_ADDRESS = settings.ABUSE_CAPTCHA_AFTER_PER_PHONE = 1000
    start = timezone.now()
    for i in range(5):
        with time_machine.travel(start + timedelta(seconds=i)):
            assert citizen(f"203.0.113.{i + 1}").post("/track/mine/", {"phone": PHONE}).status_code == 200
    with time_machine.travel(start + timedelta(seconds=10)):
        sixth = citizen("203.0.113.99").post("/track/mine/", {"phone": PHONE})
    assert sixth.status_code == 429 and int(sixth["Retry-After"]) > 60
    # One address asking for many numbers (SMS-bombing strangers) stops at ten an hour.
    for i in range(10):
        with time_machine.travel(start + timedelta(seconds=20 + i)):
            assert citizen("198.51.100.1").post("/track/mine/", {"phone": f"1390013{i:04d}"}).status_code == 200
    with time_machine.travel(start + timedelta(seconds=40)):
        refused = citizen("198.51.100.1").post("/track/mine/", {"phone": "13700137000"})
    assert refused.status_code == 429
    assert SmsMessage.objects.filter(purpose=SmsPurpose.CITIZEN_OTP).count() == 15


def test_many_wrong_codes_from_one_address_over_many_numbers_are_throttled(agent, settings) -> None:
    settings.CITIZEN_OTP_FAILURES_PER_ADDRESS = 3
    for i in range(3):
        response = citizen().post("/track/mine/verify/", {"phone": f"1390013{i:04d}", "code": "123456"})
        assert response.status_code == 400
    throttled = citizen().post("/track/mine/verify/", {"phone": "13900130009", "code": "123456"})
    assert throttled.status_code == 429 and int(throttled["Retry-After"]) > 0


@pytest.mark.parametrize("typed", ["", "12345", "0731-58123456", "+1 202 555 0100", "１３８" + "x" * 40, "😀" * 10])
def test_numbers_that_are_not_a_chinese_mobile_are_refused_plainly(agent, typed) -> None:
    response = citizen().post("/track/mine/", {"phone": typed})
    assert response.status_code == 400 and "手机号码" in text(response)
    assert not SmsMessage.objects.exists()


def test_full_width_digits_are_the_same_number(agent) -> None:
    new_ticket(agent)
    client = signed_in(citizen(), typed="１３８ ００１３ ８０００")
    assert "138****8000" in text(client.get("/track/mine/"))


def test_the_session_ends_after_30_minutes_idle_and_on_sign_out(agent) -> None:
    new_ticket(agent)
    start = timezone.now()
    client = signed_in(citizen())
    with time_machine.travel(start + timedelta(minutes=25)):
        assert 'data-testid="my-tickets"' in client.get("/track/mine/").content.decode()
    with time_machine.travel(start + timedelta(minutes=50)):  # 25 min after the last use: still on
        assert 'data-testid="my-tickets"' in client.get("/track/mine/").content.decode()
    with time_machine.travel(start + timedelta(minutes=81)):  # 31 min idle: ended
        page = client.get("/track/mine/")
        assert 'data-testid="my-tickets"' not in page.content.decode() and 'name="phone"' in page.content.decode()
    other = signed_in(citizen("203.0.113.9"), phone=OTHER)
    assert other.post("/track/mine/leave/").status_code == 302
    assert 'data-testid="my-tickets"' not in other.get("/track/mine/").content.decode()


def test_english_and_large_text_keep_the_list(agent) -> None:
    new_ticket(agent)
    client = signed_in(citizen())
    client.post("/i18n/setlang/", {"language": "en", "next": "/track/mine/"})
    client.post("/track/text-size/", {"large": "1", "next": "/track/mine/"})
    page = client.get("/track/mine/")
    assert "My tickets" in text(page) and 'class="large"' in page.content.decode()


# --- The API: code → token → my tickets -------------------------------------------------------------


def api_token(phone: str = PHONE, client: APIClient | None = None) -> str:
    client = client or app()
    assert client.post("/api/v1/public/otp/", {"phone": phone}, format="json").status_code == 202
    response = client.post("/api/v1/public/otp/verify/", {"phone": phone, "code": last_code(phone)}, format="json")
    assert response.status_code == 200, response.content
    return response.json()["token"]


def test_the_app_trades_the_sms_code_for_a_token_and_lists_the_phone_s_tickets(agent) -> None:
    first = new_ticket(agent)
    second = new_ticket(agent, content="路灯不亮。")
    strangers = new_ticket(agent, phone=OTHER)
    client = app()
    sent = client.post("/api/v1/public/otp/", {"phone": "138-0013-8000"}, format="json")
    assert sent.status_code == 202 and sent.json() == {"status": "sent", "expires_in": 300, "resend_after": 60}
    verified = client.post("/api/v1/public/otp/verify/", {"phone": PHONE, "code": last_code()}, format="json")
    body = verified.json()
    assert verified.status_code == 200 and body["idle_timeout"] == 1800 and len(body["token"]) >= 40

    bearer = APIClient(HTTP_AUTHORIZATION=f"Bearer {body['token']}")
    mine = bearer.get("/api/v1/public/my-tickets/")
    assert mine.status_code == 200
    assert mine.json()["phone"] == "138****8000"
    assert [t["number"] for t in mine.json()["tickets"]] == [second.number, first.number]
    one = bearer.get(f"/api/v1/public/my-tickets/{first.number}/")
    assert one.status_code == 200 and one.json()["stage"]["key"] == "received" and one.json()["phone"] == "138****8000"
    assert bearer.get(f"/api/v1/public/my-tickets/{strangers.number}/").status_code == 404


def test_the_api_refuses_no_token_a_bad_token_and_an_idle_one(agent) -> None:
    assert app().get("/api/v1/public/my-tickets/").status_code == 401
    bad = APIClient(HTTP_AUTHORIZATION="Bearer not-a-token").get("/api/v1/public/my-tickets/")
    assert bad.status_code == 401 and bad.json()["error"]
    token = api_token()
    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        idle = APIClient(HTTP_AUTHORIZATION=f"Bearer {token}").get("/api/v1/public/my-tickets/")
    assert idle.status_code == 401


def test_the_api_answers_each_bad_code_with_its_reason(agent) -> None:
    client = app()
    assert client.post("/api/v1/public/otp/", {"phone": "0731 5812 3456"}, format="json").status_code == 400
    client.post("/api/v1/public/otp/", {"phone": PHONE}, format="json")
    again = client.post("/api/v1/public/otp/", {"phone": PHONE}, format="json")
    assert again.status_code == 429 and again.json()["error"] == "wait" and "Retry-After" in again
    code = last_code()
    first = client.post("/api/v1/public/otp/verify/", {"phone": PHONE, "code": wrong(code)}, format="json")
    assert first.status_code == 400 and first.json()["error"] == "wrong" and first.json()["tries_left"] == 4
    assert client.post("/api/v1/public/otp/verify/", {"phone": PHONE, "code": code}, format="json").status_code == 200
    replay = client.post("/api/v1/public/otp/verify/", {"phone": PHONE, "code": code}, format="json")
    assert replay.status_code == 400 and replay.json()["error"] == "used"
    odd = client.post("/api/v1/public/otp/verify/", {"phone": ["x"], "code": {"a": 1}}, format="json")
    assert odd.status_code == 400


def test_the_my_tickets_endpoints_are_in_the_schema() -> None:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    paths = schema["paths"]
    assert set(paths["/api/v1/public/otp/"]["post"]["responses"]) == {"202", "400", "429"}
    assert set(paths["/api/v1/public/otp/verify/"]["post"]["responses"]) == {"200", "400", "429"}
    assert paths["/api/v1/public/my-tickets/"]["get"]["security"] == [{"citizenToken": []}]
    assert "/api/v1/public/my-tickets/{number}/" in paths
    assert schema["components"]["securitySchemes"]["citizenToken"]["scheme"] == "bearer"


def test_two_requests_at_once_send_one_code(agent) -> None:
    from callback.models import CitizenOtp as Otp

    otp.request_code("+8613800138000", "203.0.113.7")
    Otp.objects.all().delete()  # as if the second request checked the table before the first wrote to it
    with pytest.raises(otp.OtpRefused):
        otp.request_code("+8613800138000", "203.0.113.7")


def test_old_codes_and_sessions_are_pruned_after_a_day(agent) -> None:
    client = signed_in(citizen())
    client.post("/track/mine/leave/")
    assert otp.prune() == 0
    assert otp.prune(timezone.now() + timedelta(days=1, minutes=1)) == 2
    assert not CitizenOtp.objects.exists() and not CitizenSession.objects.exists()
