"""The public API and the query code's defences: same answer for a wrong code and an unknown number,
throttles per address and per ticket number, logged refusals, and "forgot the query code"."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.test import Client
from rest_framework.test import APIClient

from callback.models import SmsMessage
from hotline.services import tickets
from tests.factories import dispatched_ticket, lead_assignment, new_ticket

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _own_counters(settings):
    """Each test its own throttle counters: a fresh key prefix on the configured cache (Redis in CI)."""
    settings.CACHES = {name: {**conf, "KEY_PREFIX": f"t-{uuid.uuid4().hex}"} for name, conf in settings.CACHES.items()}
    settings.PUBLIC_TRACK_FAILURES_PER_ADDRESS = 10
    settings.PUBLIC_TRACK_FAILURES_PER_TICKET = 10
    settings.PUBLIC_TRACK_FAILURES_PER_ADDRESS_DAY = 50
    settings.PUBLIC_TRACK_FAILURES_PER_TICKET_DAY = 30
    settings.PUBLIC_RESEND_PER_ADDRESS = 5
    settings.PUBLIC_RESEND_PER_TICKET = 3


def app(address: str = "198.51.100.20", language: str = "zh-hans") -> APIClient:
    return APIClient(REMOTE_ADDR=address, HTTP_ACCEPT_LANGUAGE=language)


def url(number: str, code: str | None = None) -> str:
    return f"/api/v1/public/tickets/{number}/" + (f"?code={code}" if code is not None else "")


def wrong_code(ticket) -> str:
    return "000000" if ticket.query_code != "000000" else "111111"


def test_the_app_reads_a_ticket_anonymously_with_the_same_rules_as_the_page(agent, dispatcher, yuhu) -> None:
    ticket = dispatched_ticket(agent)
    response = app(language="en").get(url(ticket.number, ticket.query_code))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["number"] == ticket.number
    assert body["stage"]["key"] == "forwarded" and body["stage"]["word"] == "Forwarded"
    assert body["phone"] == "138****8000"
    assert body["units"] == [{"name": "雨湖区", "role": "lead unit", "replied": False}]
    assert body["reply_by"] and body["reply"] == ""
    assert "query_code" not in body and "timeline" not in body and "caller" not in body

    lead = lead_assignment(ticket)
    from hotline.services import dispatch

    dispatch.accept_assignment(lead, yuhu)
    dispatch.reply_assignment(lead, yuhu, "已处理。")
    assert app().get(url(ticket.number, ticket.query_code)).json()["reply"] == ""
    tickets.review_reply(ticket, dispatcher, approve=True)
    body = app().get(url(ticket.number, ticket.query_code)).json()
    assert body["stage"]["word"] == "回访中" and body["reply"] == "已处理。"


def test_a_wrong_code_and_an_unknown_number_answer_exactly_the_same(agent) -> None:
    ticket = new_ticket(agent)
    wrong = app().get(url(ticket.number, wrong_code(ticket)))
    unknown = app().get(url(ticket.number[:8] + "99999", ticket.query_code))
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.content == unknown.content
    assert wrong.json()["error"] == "not_found"


@pytest.mark.parametrize(
    "number, code, field",
    [
        ("２０２６abc", "123456", "number"),
        ("x" * 5000, "1" * 5000, "number"),
        ("2026112900001", "１２３４５６７", "code"),
        ("..", "%00", "number"),
        ("2026112900001", "", "code"),
    ],
)
def test_malformed_input_is_a_plain_400(agent, number, code, field) -> None:
    new_ticket(agent)
    response = app().get(url(number, code))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid" and response.json()["field"] == field


def test_full_width_digits_in_the_code_are_understood(agent) -> None:
    ticket = new_ticket(agent)
    full_width = "".join(chr(ord(d) + 0xFEE0) for d in ticket.query_code)
    assert app().get(url(ticket.number, full_width)).status_code == 200


def test_a_thousand_tries_from_one_address_are_stopped_after_ten_and_the_right_code_is_refused_too(
    agent, settings
) -> None:
    settings.ABUSE_CAPTCHA_AFTER_PER_ADDRESS = 1000  # the hard limit behind the page's CAPTCHA (test_abuse.py)
    ticket = new_ticket(agent)
    client = app()
    statuses = []
    for guess in range(1000):  # bounded: stops at the first refusal
        response = client.get(url(ticket.number, f"{(int(ticket.query_code) + 1 + guess) % 1_000_000:06d}"))
        statuses.append(response.status_code)
        if response.status_code == 429:
            break
    assert statuses == [404] * 10 + [429]
    assert 1 <= int(response["Retry-After"]) <= 3600
    assert response.json()["error"] == "throttled"
    # While throttled the right code is refused as well: else the throttle would still say when a guess hit.
    assert client.get(url(ticket.number, ticket.query_code)).status_code == 429
    # The page shares the counters.
    page = Client(REMOTE_ADDR="198.51.100.20").post("/track/", {"n": ticket.number, "c": ticket.query_code})
    assert page.status_code == 429 and page["Retry-After"]


def test_failures_for_one_number_from_many_addresses_stop_that_number_only(agent) -> None:
    target, other = new_ticket(agent), new_ticket(agent, phone="13900139000")
    for n in range(10):
        assert app(f"192.0.2.{n}").get(url(target.number, wrong_code(target))).status_code == 404
    fresh = app("192.0.2.200")
    assert fresh.get(url(target.number, target.query_code)).status_code == 429
    assert fresh.get(url(other.number, other.query_code)).status_code == 200


def test_a_ticket_takes_thirty_failures_a_day_however_they_are_spread(agent) -> None:
    ticket = new_ticket(agent)
    day = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    for hour in range(3):  # ten an hour from a new address each hour: within the hourly limits
        with time_machine.travel(day + timedelta(hours=hour, minutes=5), tick=False):
            for n in range(10):
                assert app(f"192.0.2.{hour * 10 + n}").get(url(ticket.number, wrong_code(ticket))).status_code == 404
    with time_machine.travel(day + timedelta(hours=5), tick=False):
        refused = app("192.0.2.250").get(url(ticket.number, ticket.query_code))
        assert refused.status_code == 429
        assert int(refused["Retry-After"]) == 18 * 3600  # until the day's end (UTC)
    with time_machine.travel(day + timedelta(days=1, minutes=1), tick=False):
        assert app("192.0.2.250").get(url(ticket.number, ticket.query_code)).status_code == 200


def test_unknown_numbers_count_against_the_address_like_wrong_codes(agent) -> None:
    ticket = new_ticket(agent)
    client = app("192.0.2.77")
    for n in range(10):
        assert client.get(url(f"19990101{n:05d}", "123456")).status_code == 404
    assert client.get(url(ticket.number, ticket.query_code)).status_code == 429


def test_success_does_not_count(agent) -> None:
    ticket = new_ticket(agent)
    client = app()
    for _ in range(15):
        assert client.get(url(ticket.number, ticket.query_code)).status_code == 200


def test_a_forwarded_for_header_does_not_pick_a_fresh_bucket(agent) -> None:
    ticket = new_ticket(agent)
    for n in range(10):
        app().get(url(ticket.number[:8] + "88888", "123456"), HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")
    assert app().get(url(ticket.number, ticket.query_code), HTTP_X_FORWARDED_FOR="10.9.9.9").status_code == 429


def test_refusals_are_logged_without_the_code_or_the_phone(agent, caplog) -> None:
    ticket = new_ticket(agent)
    guesses = [f"{(int(ticket.query_code) + k) % 1_000_000:06d}" for k in range(1, 12)]
    with caplog.at_level(logging.INFO, logger="lianxin.public"):
        for guess in guesses:
            app().get(url(ticket.number, guess))
        app().post(url(ticket.number) + "resend-code/", {"phone": "13800138000"}, format="json")
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "lianxin.public")
    assert "lookup failed" in logged and "refused" in logged and ticket.number in logged
    for secret in [*guesses, ticket.query_code, "13800138000", "138 0013 8000"]:
        assert secret not in logged


def test_a_discarded_or_merged_ticket_opens_only_with_its_own_code(agent, dispatcher) -> None:
    binned = new_ticket(agent)
    tickets.discard_ticket(binned, dispatcher, "误登记")
    into = new_ticket(agent, phone="13700137000")
    merged = new_ticket(agent, phone="13900139000")
    tickets.merge_ticket(merged, into, agent)
    assert app().get(url(binned.number, wrong_code(binned))).status_code == 404
    assert app().get(url(binned.number, binned.query_code)).json()["stage"]["key"] == "withdrawn"
    # The target's code does not open the merged ticket, nor the other way round.
    if into.query_code != merged.query_code:
        assert app().get(url(merged.number, into.query_code)).status_code == 404
    body = app().get(url(merged.number, merged.query_code)).json()
    assert body["stage"]["key"] == "merged" and body["merged_into"]["number"] == into.number
    assert body["phone"] == "139****9000"
    assert "phone" not in body["merged_into"] and "content" not in body["merged_into"]


def test_forgot_code_sends_it_only_to_the_phone_on_file_and_answers_the_same(agent) -> None:
    ticket = new_ticket(agent)
    path = url(ticket.number) + "resend-code/"
    wrong = app("192.0.2.1").post(path, {"phone": "13900139000"}, format="json")
    assert SmsMessage.objects.filter(ticket=ticket).count() == 0
    unknown = app("192.0.2.2").post(url("2026112999999") + "resend-code/", {"phone": "13800138000"}, format="json")
    right = app("192.0.2.3").post(path, {"phone": "138-0013-8000"}, format="json")
    assert wrong.status_code == unknown.status_code == right.status_code == 202
    assert wrong.content == unknown.content == right.content
    message = SmsMessage.objects.get(ticket=ticket)
    assert message.to == "+8613800138000" and ticket.query_code in message.body and message.status == "queued"


def test_forgot_code_is_throttled_per_ticket_and_per_address(agent) -> None:
    ticket = new_ticket(agent)
    path = url(ticket.number) + "resend-code/"
    answers = [app(f"192.0.2.{n}").post(path, {"phone": "13800138000"}, format="json").status_code for n in range(5)]
    assert answers == [202, 202, 202, 429, 429]
    assert SmsMessage.objects.filter(ticket=ticket).count() == 3
    client = app("192.0.2.99")
    answers = [
        client.post(url(f"19990101{n:05d}") + "resend-code/", {"phone": "1"}, format="json").status_code
        for n in range(7)
    ]
    assert answers == [202] * 5 + [429, 429]


def test_forgot_code_through_the_page(agent) -> None:
    ticket = new_ticket(agent)
    client = Client(REMOTE_ADDR="192.0.2.50")
    form = client.get(f"/track/forgot/?n={ticket.number}")
    assert f'value="{ticket.number}"' in form.content.decode()
    wrong = client.post("/track/forgot/", {"n": ticket.number, "phone": "13900139000"})
    right = client.post("/track/forgot/", {"n": ticket.number, "phone": "13800138000"})
    assert wrong.status_code == right.status_code == 200
    assert "查询码已通过短信发出" in right.content.decode()
    assert SmsMessage.objects.filter(ticket=ticket, to="+8613800138000").count() == 1


def test_the_public_endpoints_are_in_the_schema_without_authentication() -> None:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"]["/api/v1/public/tickets/{number}/"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"number", "code"}
    assert set(operation["responses"]) == {"200", "400", "404", "429"}
    assert operation["security"] == [{}]  # anonymous
    assert "/api/v1/public/tickets/{number}/resend-code/" in schema["paths"]


def _manage(code: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CACHE_PREFIX")}
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", code],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("redis_url", "backend"),
    [("", "LocMemCache"), ("redis://127.0.0.1:6379/0", "RedisCache")],
)
def test_redis_url_puts_the_throttle_counters_in_redis(redis_url, backend) -> None:
    result = _manage(
        "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])", REDIS_URL=redis_url
    )
    assert result.stdout.strip().endswith(backend), result.stderr


@pytest.mark.redis
def test_failures_counted_in_another_process_throttle_this_one(settings) -> None:
    """Two web processes behind one proxy share the counters through Redis (CI runs this)."""
    from web.public import Bucket, Throttled, check

    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    now = time.time()
    bucket = Bucket("address", "192.0.2.250", settings.PUBLIC_TRACK_FAILURES_PER_ADDRESS)
    code = (
        "from web.public import Bucket, count\n"
        f"for _ in range(10): count('track', [Bucket('address', '192.0.2.250', 10)], now={now!r})"
    )
    result = _manage(code, REDIS_URL=settings.REDIS_URL, CACHE_PREFIX=prefix)
    assert result.returncode == 0, result.stderr
    with pytest.raises(Throttled):
        check("track", [bucket], now=now)
