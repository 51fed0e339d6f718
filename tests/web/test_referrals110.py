"""110 → 12345 referrals at /api/110/v1/: a referral becomes a ticket of channel 110 with the
incident on its timeline; the bad input — an unknown matter, a repeated incident, bad and revoked
keys, a body that is not JSON — each get their own clear answer and leave nothing behind."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from django.test import Client

from hotline.models import Channel, InboundReferral, Matter110, Ticket, TimelineEntry
from hotline.services import apikeys, referrals110
from web.timeline_text import what

API = "/api/110/v1"
PHONE = "13800138000"
BODY = {
    "incident_number": "XT110-20261129-0042",
    "matter": "nuo_che",
    "content": "小区门口一辆白色轿车堵住消防通道，联系不上车主",
    "phone": PHONE,
    "address": "雨湖区城正街12号",
    "reported_at": "2026-11-29T09:12:00+08:00",
}


@pytest.fixture(autouse=True)
def _fresh_counters():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def system(seeded):
    made, key = referrals110.create_system(
        name="湘潭市公安局110指挥中心", code="xt110", operator="市公安局指挥中心", rate_limit_per_hour=5
    )
    made.raw_key = key
    return made


def post(system_or_key, body, **headers):
    key = system_or_key if isinstance(system_or_key, str) else system_or_key.raw_key
    return Client().post(
        f"{API}/referrals",
        data=json.dumps(body, ensure_ascii=False) if not isinstance(body, str) else body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
        **headers,
    )


def test_a_referral_becomes_a_ticket_of_channel_110_with_the_incident_on_its_timeline(system) -> None:
    response = post(system, BODY)
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["created"] is True and data["incident_number"] == BODY["incident_number"]
    ticket = Ticket.objects.get(number=data["ticket_number"])
    assert ticket.channel == Channel.POLICE_110 == "110"
    assert ticket.address == BODY["address"] and ticket.caller.phone.endswith(PHONE)
    referral = InboundReferral.objects.get(ticket=ticket)
    assert referral.system == system and referral.matter.code == "nuo_che"
    assert referral.via == InboundReferral.Via.API and referral.reported_at.hour == 1  # 09:12 +08 in UTC
    entry = TimelineEntry.objects.get(ticket=ticket, action="ticket.registered")
    assert entry.data["incident_110"] == BODY["incident_number"] and entry.data["system"] == system.name
    assert "XT110-20261129-0042" in str(what(entry)) and system.name in str(what(entry))
    assert data["status"] == "registered" and data["finished"] is False and PHONE not in response.content.decode()
    system.refresh_from_db()
    assert system.last_used_at is not None


def test_a_repeated_incident_number_gives_the_same_ticket_back(system) -> None:
    first = post(system, BODY).json()
    again = post(system, {**BODY, "content": "再次推送"})
    assert again.status_code == 200
    assert again.json()["created"] is False and again.json()["ticket_number"] == first["ticket_number"]
    assert InboundReferral.objects.count() == 1 and Ticket.objects.filter(channel="110").count() == 1
    # Another 110 system's incident with the same number is its own referral.
    other, _key = referrals110.create_system(name="岳塘分局110", code="yt110", operator="岳塘分局")
    other.raw_key = _key
    assert post(other, BODY).status_code == 201


def test_an_unknown_matter_is_refused_and_leaves_nothing(system) -> None:
    response = post(system, {**BODY, "matter": "抢劫"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unknown_matter" and response.json()["error"]["field"] == "matter"
    # A matter that only goes 12345 → 110 is not one 110 may hand over.
    assert post(system, {**BODY, "matter": "jiao_tong"}).json()["error"]["code"] == "unknown_matter"
    # An item the center switched off in the admin is refused too.
    Matter110.objects.filter(code="kai_suo").update(active=False)
    assert post(system, {**BODY, "matter": "kai_suo"}).status_code == 400
    assert not Ticket.objects.filter(channel="110").exists() and not InboundReferral.objects.exists()


def test_the_matter_may_be_named_in_chinese(system) -> None:
    assert post(system, {**BODY, "matter": "噪音扰民"}).status_code == 201


@pytest.mark.parametrize(
    ("key", "status", "code"),
    [("", 401, "no_key"), ("wrong-key-0123456789", 401, "bad_key"), ("x" * 500, 401, "bad_key")],
)
def test_a_missing_or_bad_key_is_refused(system, key, status, code) -> None:
    response = post(key, BODY)
    assert response.status_code == status and response.json()["error"]["code"] == code
    assert not InboundReferral.objects.exists()


def test_a_revoked_key_is_refused_and_its_referrals_stay(system) -> None:
    made = post(system, BODY).json()
    assert apikeys.revoke(system, None) is True
    response = post(system, {**BODY, "incident_number": "XT110-2"})
    assert response.status_code == 403 and response.json()["error"]["code"] == "revoked_key"
    read = Client().get(f"{API}/referrals/{BODY['incident_number']}", HTTP_X_API_KEY=system.raw_key)
    assert read.status_code == 403
    assert Ticket.objects.filter(number=made["ticket_number"]).exists()


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ("{not json", "invalid_json", None),
        ("[1, 2]", "invalid_json", None),
        ({**BODY, "incident_number": ""}, "invalid", "incident_number"),
        ({**BODY, "incident_number": "a b"}, "invalid", "incident_number"),
        ({**BODY, "content": ""}, "invalid", "content"),
        ({**BODY, "phone": "12"}, "invalid", "phone"),
        ({**BODY, "reported_at": "yesterday"}, "invalid", "reported_at"),
        ({**BODY, "matter": 3}, "invalid", "matter"),
    ],
)
def test_bad_bodies_get_clear_errors_and_leave_nothing(system, body, code, field) -> None:
    response = post(system, body)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == code and error["message"]
    if field:
        assert error["field"] == field
    assert not InboundReferral.objects.exists() and not Ticket.objects.filter(channel="110").exists()


def test_the_rate_limit_answers_429(system) -> None:
    for n in range(5):
        assert post(system, {**BODY, "incident_number": f"N{n}"}).status_code == 201
    response = post(system, {**BODY, "incident_number": "N9"})
    assert response.status_code == 429 and int(response["Retry-After"]) > 0


def test_a_system_reads_only_its_own_referrals(system) -> None:
    post(system, BODY)
    mine = Client().get(f"{API}/referrals/{BODY['incident_number']}", HTTP_X_API_KEY=system.raw_key)
    assert mine.status_code == 200 and mine.json()["status"] == "registered"
    _other, key = referrals110.create_system(name="岳塘分局110", code="yt110", operator="岳塘分局")
    theirs = Client().get(f"{API}/referrals/{BODY['incident_number']}", HTTP_X_API_KEY=key)
    assert theirs.status_code == 404 and theirs.json()["error"]["code"] == "not_found"
    matters = Client().get(f"{API}/matters", HTTP_X_API_KEY=key).json()["matters"]
    codes = [m["code"] for m in matters]
    assert "nuo_che" in codes and "jiao_tong" not in codes


def test_channel_110_is_only_for_referrals_with_an_incident(system, agent) -> None:
    from hotline.errors import InvalidInput
    from hotline.models import Category
    from hotline.services import tickets

    with pytest.raises(InvalidInput) as refused:
        tickets.register_ticket(
            by=agent, phone=PHONE, content="x", category=Category.objects.get(code="help"), channel="110"
        )
    assert refused.value.details["field"] == "channel"
