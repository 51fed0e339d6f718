"""Open311 GeoReport v2 at /open311/v2/: every method in JSON and XML, the errors, the bad input.

The expected shapes are the spec's (wiki.open311.org/GeoReport_v2): element names, the
``service_requests`` root, ``errors``/``error`` with ``code`` and ``description``.
"""

from __future__ import annotations

import json
import socket
from xml.etree import ElementTree as ET

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from hotline.models import Category, Channel, Open311Client, Open311Request, Ticket, TimelineEntry
from hotline.services import dispatch, tickets
from hotline.services import open311 as submissions
from tests.conftest import unit

API = "/open311/v2"
PHONE = "13800138000"
# 城正街街道's seed centroid is (27.842, 112.910): a point 200 m away.
IN_CHENGZHENG = ("27.8435", "112.9110")


@pytest.fixture(autouse=True)
def _fresh_counters():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def system(seeded):
    """湘潭城管通, an app of the city's urban management, with its key."""
    client, key = submissions.create_client(
        name="湘潭城管通", operator="市城管局信息科", channel_label="城管通", rate_limit_per_hour=5, by=None
    )
    client.raw_key = key
    return client


def web(language: str = "en") -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE=language)


def xml(response) -> ET.Element:
    assert response["Content-Type"].startswith("text/xml"), response["Content-Type"]
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(response.content)


def report(system, fmt: str = "json", **fields):
    data = {
        "api_key": system.raw_key,
        "service_code": "0104",
        "lat": IN_CHENGZHENG[0],
        "long": IN_CHENGZHENG[1],
        "description": "城正街路灯不亮，电话13912345678",
        "attribute[facility]": "streetlight",
        "phone": PHONE,
        "first_name": "小明",
        "last_name": "张",
        "email": "zhang@example.cn",
        "device_id": "device-1",
        "media_url": "https://photos.example.cn/1.jpg",
        **fields,
    }
    data = {k: v for k, v in data.items() if v is not None}
    return web().post(f"{API}/requests.{fmt}", data)


def spec_error(response, fmt: str) -> tuple[int, str]:
    """The (code, description) of a spec-format error, checking its shape."""
    if fmt == "json":
        body = response.json()
        assert isinstance(body, list) and set(body[0]) == {"code", "description"}
        return body[0]["code"], body[0]["description"]
    root = xml(response)
    assert root.tag == "errors" and root[0].tag == "error"
    return int(root[0].findtext("code")), root[0].findtext("description")


# --- discovery and services ---------------------------------------------------------------------


def test_discovery_names_the_specification_and_both_formats(seeded) -> None:
    body = web().get(f"{API}/discovery.json").json()
    endpoint = body["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2"
    assert endpoint["formats"] == ["text/xml", "application/json"]
    root = xml(web().get(f"{API}/discovery.xml"))
    assert root.tag == "discovery"
    assert [f.text for f in root.find("endpoints/endpoint/formats")] == ["text/xml", "application/json"]


def test_services_are_the_leaf_topics_with_metadata_where_a_topic_asks_for_more(seeded) -> None:
    body = web().get(f"{API}/services.json").json()
    by_code = {s["service_code"]: s for s in body}
    assert "02" not in by_code  # a parent topic is a group, not a service
    noise = by_code["0201"]
    assert noise == {
        "service_code": "0201",
        "service_name": "噪音扰民",
        "description": "城市管理 › 噪音扰民",
        "metadata": True,
        "type": "realtime",
        "keywords": None,
        "group": "城市管理",
    }
    assert by_code["0203"]["metadata"] is False
    root = xml(web().get(f"{API}/services.xml"))
    assert root.tag == "services" and all(child.tag == "service" for child in root)
    first = {e.tag: e.text for e in root.find("service[service_code='0201']")}
    assert first["metadata"] == "true" and first["type"] == "realtime" and first["group"] == "城市管理"


def test_a_service_definition_lists_its_attributes_in_both_formats(seeded) -> None:
    body = web().get(f"{API}/services/0201.json").json()
    assert body["service_code"] == "0201"
    first = body["attributes"][0]
    assert first["variable"] is True and first["code"] == "noise_time" and first["datatype"] == "singlevaluelist"
    assert first["required"] is True and first["order"] == 1 and first["datatype_description"] is None
    assert {"key": "night", "name": "夜间（22时至次日6时）"} in first["values"]
    root = xml(web().get(f"{API}/services/0201.xml"))
    assert root.tag == "service_definition"
    attribute = root.find("attributes/attribute")
    assert attribute.findtext("code") == "noise_time" and attribute.findtext("required") == "true"
    assert [v.findtext("key") for v in attribute.find("values")] == ["day", "night", "all_day"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_unknown_service_definition_is_404_in_the_spec_error_format(seeded, fmt) -> None:
    response = web().get(f"{API}/services/9999.{fmt}")
    assert response.status_code == 404
    assert spec_error(response, fmt) == (404, "service_code 9999 was not found")


# --- POST requests --------------------------------------------------------------------------------


def test_a_post_is_a_ticket_of_channel_open311_with_the_system_on_its_timeline(system) -> None:
    response = report(system)
    assert response.status_code == 200, response.content
    [row] = response.json()
    ticket = Ticket.objects.get(number=row["service_request_id"])
    assert ticket.channel == Channel.OPEN311
    assert ticket.topic.code == "0104" and ticket.category.code == "help"
    assert ticket.area.code == "YH01"  # the nearest centroid: 城正街街道
    assert str(ticket.lat) == "27.843500" and str(ticket.lng) == "112.911000"
    assert ticket.caller.phone == "+8613800138000" and ticket.caller.name == "张小明"
    assert "设施类型：路灯" in ticket.content
    entry = TimelineEntry.objects.get(ticket=ticket, action="ticket.registered")
    assert entry.actor is None
    assert entry.data["system"] == "湘潭城管通" and entry.data["channel_label"] == "城管通"
    extra = ticket.open311
    assert extra.client == system and len(extra.token) > 30
    assert set(row) == {"service_request_id", "service_notice", "account_id"}  # realtime: the id, no token
    assert row["account_id"] is None  # the spec's null
    assert extra.attributes == {"facility": "streetlight"} and extra.email == "zhang@example.cn"
    assert row["service_notice"].endswith(ticket.number + ".")
    system.refresh_from_db()
    assert system.last_used_at is not None


def test_a_post_that_looks_like_spam_is_filed_but_held_for_the_center(system) -> None:
    response = report(system, description="加微信领补贴 http://a.example/x 详见 www.b.example/y")
    assert response.status_code == 200, response.content
    ticket = Ticket.objects.get(number=response.json()[0]["service_request_id"])
    assert ticket.held.status == "held" and ticket.held.reasons == ["links"]
    # an ordinary report is not held, the same text again from the same phone is
    first = Ticket.objects.get(number=report(system).json()[0]["service_request_id"])
    again = Ticket.objects.get(number=report(system).json()[0]["service_request_id"])
    assert not hasattr(first, "held") and again.held.reasons == ["duplicate"]


def test_a_post_in_xml_answers_under_service_requests(system) -> None:
    root = xml(report(system, "xml", account_id="acc-7"))
    assert root.tag == "service_requests"
    request = root.find("request")
    number = request.findtext("service_request_id")
    assert Ticket.objects.filter(number=number, channel="open311").exists()
    assert request.find("token") is None
    assert request.findtext("account_id") == "acc-7"


def test_the_token_leads_to_the_service_request_id_in_both_formats(system) -> None:
    [row] = report(system).json()
    token = Open311Request.objects.get(ticket__number=row["service_request_id"]).token
    assert web().get(f"{API}/tokens/{token}.json").json() == [
        {"service_request_id": row["service_request_id"], "token": token}
    ]
    root = xml(web().get(f"{API}/tokens/{token}.xml"))
    assert root.find("request/service_request_id").text == row["service_request_id"]
    response = web().get(f"{API}/tokens/nope.xml")
    assert response.status_code == 404 and spec_error(response, "xml")[0] == 404


def test_multivalue_attributes_come_as_attribute_code_brackets(system) -> None:
    from hotline.models import Topic

    Topic.objects.filter(code="0203").update(
        extra_fields=[
            {
                "code": "kind",
                "description": "垃圾种类",
                "datatype": "multivaluelist",
                "required": True,
                "values": [{"key": "food", "name": "厨余"}, {"key": "bulky", "name": "大件"}],
            }
        ]
    )
    response = report(
        system, service_code="0203", **{"attribute[facility]": None, "attribute[kind][]": ["food", "bulky"]}
    )
    assert response.status_code == 200, response.content
    ticket = Ticket.objects.get(number=response.json()[0]["service_request_id"])
    assert ticket.open311.attributes == {"kind": ["food", "bulky"]}
    assert "垃圾种类：厨余、大件" in ticket.content


# --- bad input: each refused in the spec's format, and nothing is created -----------------------

BAD = [
    ("no api_key", {"api_key": None}, 403, "api_key was not provided"),
    ("wrong api_key", {"api_key": "x" * 40}, 403, "api_key provided is invalid"),
    ("unknown service", {"service_code": "9999"}, 404, "service_code 9999 was not found"),
    ("no service", {"service_code": None}, 400, "service_code was not provided"),
    ("lat without long", {"long": None, "address_string": None}, 400, "lat and long must be given together"),
    (
        "no location",
        {"lat": None, "long": None},
        400,
        "a location is required: lat and long, address_string or address_id",
    ),
    ("lat 200", {"lat": "200"}, 400, "lat is outside -90…90 degrees"),
    ("lat not a number", {"lat": "north"}, 400, "lat is not a number of degrees"),
    ("lat NaN", {"lat": "NaN"}, 400, "lat is not a number of degrees"),
    (
        "attribute not in the definition",
        {"attribute[colour]": "red"},
        400,
        "attribute[colour] is not in the definition of service 0104",
    ),
    (
        "required attribute missing",
        {"attribute[facility]": None},
        400,
        "attribute[facility] is required by service 0104",
    ),
    (
        "attribute value not a key",
        {"attribute[facility]": "moon"},
        400,
        "attribute[facility] must be one of the keys in the service definition",
    ),
    (
        "no phone",
        {"phone": None},
        400,
        "phone is required: the 12345 hotline calls every citizen back with the answer",
    ),
    ("foreign phone", {"phone": "+14155550100"}, 400, "Only Chinese (+86) numbers are accepted: “+14155550100”."),
    (
        "media_url not http",
        {"media_url": "file:///etc/passwd"},
        400,
        "media_url must be an http or https URL of at most 500 characters",
    ),
    (
        "no description",
        {"description": "", "attribute[facility]": None, "service_code": "0203"},
        400,
        "description is required",
    ),
]


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(("name", "fields", "status", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_posts_are_refused_in_the_spec_format_and_create_nothing(
    system, fmt, name, fields, status, message
) -> None:
    before = Ticket.objects.count()
    response = report(system, fmt, **fields)
    assert response.status_code == status, response.content
    assert spec_error(response, fmt) == (status, message)
    assert Ticket.objects.count() == before and not Open311Request.objects.exists()


def test_errors_come_in_chinese_when_the_client_asks_for_it(system) -> None:
    response = Client(HTTP_ACCEPT_LANGUAGE="zh-hans").post(f"{API}/requests.json", {"service_code": "0104"})
    assert response.status_code == 403
    assert response.json()[0]["description"] == "未提供 api_key"


def test_a_revoked_key_is_refused_and_its_reports_stay(system) -> None:
    [row] = report(system).json()
    assert submissions.revoke_client(system, by=None)
    assert not submissions.revoke_client(system, by=None)  # once
    response = report(system)
    assert response.status_code == 403
    assert spec_error(response, "json") == (403, "api_key provided has been revoked")
    assert Ticket.objects.filter(number=row["service_request_id"]).exists()
    assert web().get(f"{API}/requests/{row['service_request_id']}.json").status_code == 200


def test_the_rate_limit_of_a_key_gives_429_with_retry_after(system) -> None:
    for _ in range(system.rate_limit_per_hour):
        assert report(system).status_code == 200
    response = report(system, "xml")
    assert response.status_code == 429
    assert spec_error(response, "xml") == (429, "this API key may post 5 requests an hour")
    assert 0 < int(response["Retry-After"]) <= 3600
    assert Ticket.objects.filter(channel="open311").count() == 5
    other, key = submissions.create_client(
        name="另一个系统", operator="x", channel_label="y", rate_limit_per_hour=5, by=None
    )
    other.raw_key = key
    assert report(other).status_code == 200  # each key counts alone


def test_an_xml_body_is_refused_unread_so_no_entity_is_ever_expanded(system) -> None:
    body = (
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd"><!ENTITY b "&x;&x;">]>'
        f"<request><api_key>{system.raw_key}</api_key><service_code>0104</service_code><description>&b;</description></request>"
    )
    for fmt in ("json", "xml"):
        response = web().post(f"{API}/requests.{fmt}", body, content_type="text/xml")
        assert response.status_code == 400
        assert spec_error(response, fmt) == (400, "POST the request as a form (application/x-www-form-urlencoded)")
    response = web().post(
        f"{API}/requests.json", json.dumps({"api_key": system.raw_key}), content_type="application/json"
    )
    assert response.status_code == 400
    assert not Ticket.objects.filter(channel="open311").exists()


def test_a_media_url_at_a_private_address_is_stored_and_never_fetched(system, monkeypatch) -> None:
    def no_network(*args, **kwargs):
        raise AssertionError("the server tried to connect somewhere")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    response = report(system, media_url="http://169.254.169.254/latest/meta-data/")
    assert response.status_code == 200, response.content
    ticket = Ticket.objects.get(number=response.json()[0]["service_request_id"])
    assert ticket.open311.media_url == "http://169.254.169.254/latest/meta-data/"


def test_a_point_outside_the_city_is_accepted_with_the_area_left_for_the_center(system) -> None:
    response = report(system, lat="39.9042", long="116.4074")  # Beijing
    assert response.status_code == 200, response.content
    ticket = Ticket.objects.get(number=response.json()[0]["service_request_id"])
    assert ticket.area is None and str(ticket.lat) == "39.904200"


def test_a_wrong_jurisdiction_is_404_and_ours_or_none_is_fine(system, settings) -> None:
    settings.OPEN311_JURISDICTION_ID = "xiangtan.gov.cn"
    response = web().get(f"{API}/services.xml?jurisdiction_id=suzhou.gov.cn")
    assert response.status_code == 404
    assert spec_error(response, "xml") == (404, "jurisdiction_id suzhou.gov.cn was not found")
    assert web().get(f"{API}/services.json?jurisdiction_id=xiangtan.gov.cn").status_code == 200
    assert report(system, jurisdiction_id="suzhou.gov.cn").status_code == 404
    assert report(system, jurisdiction_id="xiangtan.gov.cn").status_code == 200


def test_a_key_is_stored_only_as_its_hash(system) -> None:
    stored = Open311Client.objects.get(pk=system.pk)
    assert system.raw_key not in (stored.key_hash, stored.key_prefix)
    assert stored.key_prefix == system.raw_key[:8]
    assert submissions.authenticate(system.raw_key) == stored


# --- GET requests ---------------------------------------------------------------------------------


def test_get_requests_shows_no_personal_data(system) -> None:
    [row] = report(system, address_string="雨湖区城正街88号2栋").json()
    for fmt in ("json", "xml"):
        body = web().get(f"{API}/requests.{fmt}").content.decode()
        assert row["service_request_id"] in body
        for secret in ("13800138000", "8000", "小明", "zhang@example.cn", "device-1", "13912345678", "88号"):
            assert secret not in body, (fmt, secret)
    [shown] = web().get(f"{API}/requests/{row['service_request_id']}.json").json()
    assert shown["description"].startswith("城正街路灯不亮，电话***********")
    assert shown["address"] == "城正街街道, 雨湖区"  # most specific first, as the spec asks
    assert (shown["lat"], shown["long"]) == (27.844, 112.911)  # rounded to about 100 m
    assert shown["media_url"] == "https://photos.example.cn/1.jpg"
    assert shown["status"] == "open" and shown["status_notes"] is None and shown["agency_responsible"] is None


def test_a_phone_ticket_is_not_shown_by_the_open311_api(agent, system, complaint, noise) -> None:
    ticket = tickets.register_ticket(by=agent, phone=PHONE, content="楼下噪音", category=complaint, topic=noise)
    assert web().get(f"{API}/requests/{ticket.number}.json").status_code == 404
    assert ticket.number not in web().get(f"{API}/requests.json").content.decode()


def test_status_notes_and_agency_follow_the_approved_reply_and_the_lead_unit(system, agent, dispatcher, yuhu) -> None:
    number = report(system).json()[0]["service_request_id"]
    ticket = Ticket.objects.get(number=number)
    [lead] = dispatch.dispatch_ticket(ticket, dispatcher, unit("YH"))
    dispatch.accept_assignment(lead, yuhu)
    [shown] = web().get(f"{API}/requests/{number}.json").json()
    assert shown["agency_responsible"] == "雨湖区" and shown["status"] == "open"
    assert shown["expected_datetime"] and shown["status_notes"] is None
    dispatch.reply_assignment(lead, yuhu, "已更换路灯，联系人张小明13800138000。")
    assert web().get(f"{API}/requests/{number}.json").json()[0]["status_notes"] is None  # not approved yet
    tickets.review_reply(ticket, dispatcher, approve=True)
    ticket.refresh_from_db()
    tickets.close_ticket(ticket, dispatcher)
    root = xml(web().get(f"{API}/requests/{number}.xml"))
    request = root.find("request")
    assert root.tag == "service_requests"
    assert request.findtext("status") == "closed"
    assert request.findtext("status_notes") == "已更换路灯，联系人张*************。"
    assert request.findtext("agency_responsible") == "雨湖区"
    assert request.findtext("expected_datetime") == ""
    ticket.refresh_from_db()
    closed = timezone.localtime(ticket.closed_at).isoformat(timespec="seconds")
    assert request.findtext("updated_datetime") == closed  # the spec: a closed request's time of closing


def test_get_requests_filters_as_the_spec_says(system) -> None:
    first = report(system).json()[0]["service_request_id"]
    second = report(system, service_code="0601", **{"attribute[facility]": None, "attribute[route]": "11路"}).json()[0][
        "service_request_id"
    ]
    ids = lambda url: [r["service_request_id"] for r in web().get(url).json()]  # noqa: E731
    assert ids(f"{API}/requests.json") == [second, first]
    assert ids(f"{API}/requests.json?service_code=0601") == [second]
    assert ids(f"{API}/requests.json?service_code=0104,0601") == [second, first]
    assert ids(f"{API}/requests.json?status=closed") == []
    assert ids(f"{API}/requests.json?status=open,closed") == [second, first]
    # service_request_id overrides every other parameter
    assert ids(f"{API}/requests.json?service_request_id={first}&service_code=0601") == [first]
    assert ids(f"{API}/requests.json?start_date=2020-01-01T00:00:00Z&end_date=2020-02-01T00:00:00Z") == []
    root = xml(web().get(f"{API}/requests.xml?service_code=0104"))
    assert [r.findtext("service_request_id") for r in root.findall("request")] == [first]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("status=pending", "status must be open, closed or both (comma-separated)"),
        (
            "start_date=yesterday",
            "start_date must be a W3C date and time with its time zone, e.g. 2026-01-01T00:00:00Z",
        ),
        (
            "start_date=2026-01-01T00:00:00",
            "start_date must be a W3C date and time with its time zone, e.g. 2026-01-01T00:00:00Z",
        ),
        (
            "start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z",
            "start_date to end_date may not span more than 90 days",
        ),
        ("start_date=2026-02-01T00:00:00Z&end_date=2026-01-01T00:00:00Z", "end_date is before start_date"),
    ],
)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_bad_get_parameters_are_400_in_the_spec_format(seeded, fmt, query, message) -> None:
    response = web().get(f"{API}/requests.{fmt}?{query}")
    assert response.status_code == 400
    assert spec_error(response, fmt) == (400, message)


def test_an_unknown_request_is_404(seeded) -> None:
    for fmt in ("json", "xml"):
        response = web().get(f"{API}/requests/2026010199999.{fmt}")
        assert response.status_code == 404
        assert spec_error(response, fmt) == (404, "service_request_id 2026010199999 was not found")


def test_a_published_ticket_appears_through_the_publisher_hook(agent, complaint, noise) -> None:
    from django.db.models import Q

    from hotline import open311

    ticket = tickets.register_ticket(by=agent, phone=PHONE, content="某小区噪音扰民", category=complaint, topic=noise)
    open311.register_publisher(
        open311.Publisher("test", lambda: Q(pk=ticket.pk), redact=lambda text: text.replace("某小区", "［小区］"))
    )
    try:
        [shown] = web().get(f"{API}/requests/{ticket.number}.json").json()
        assert shown["description"] == "［小区］噪音扰民"
    finally:
        open311._publishers.pop("test")
    assert web().get(f"{API}/requests/{ticket.number}.json").status_code == 404


# --- the center's ticket page ---------------------------------------------------------------------


def test_the_ticket_page_shows_the_point_among_the_areas_and_the_system(system, agent) -> None:
    number = report(system, media_url="http://10.0.0.5/x.jpg").json()[0]["service_request_id"]
    ticket = Ticket.objects.get(number=number)
    page = web()
    page.force_login(agent)
    html = page.get(f"/tickets/{ticket.pk}/").content.decode()
    assert 'data-testid="ticket-map"' in html and 'data-testid="ticket-point"' in html
    assert "WGS-84 27.843500, 112.911000" in html
    assert "湘潭城管通 · 城管通" in html and 'href="http://10.0.0.5/x.jpg" rel="noopener noreferrer nofollow"' in html
    assert "registered the ticket from 湘潭城管通 (Open311)" in html
    far = report(system, lat="39.9042", long="116.4074").json()[0]["service_request_id"]
    html = page.get(f"/tickets/{Ticket.objects.get(number=far).pk}/").content.decode()
    assert 'data-testid="ticket-map"' in html and 'data-testid="ticket-point"' not in html
    assert "outside the city: the area is for the center to set" in html


def test_a_report_gets_dispatch_suggestions_from_its_topic_and_resolved_area(system) -> None:
    from routing.suggest import suggest_for_ticket

    response = report(system, service_code="0201", **{"attribute[facility]": None, "attribute[noise_time]": "night"})
    ticket = Ticket.objects.get(number=response.json()[0]["service_request_id"])
    assert "噪音出现的时段：夜间（22时至次日6时）" in ticket.content
    assert suggest_for_ticket(ticket)[0].unit.name == "雨湖区"  # a local matter goes to the area's district


def test_the_citizen_of_a_report_gets_the_registered_sms_with_the_query_code(system) -> None:
    from callback import notifications
    from callback.models import SmsMessage

    number = report(system).json()[0]["service_request_id"]
    ticket = Ticket.objects.get(number=number)
    assert notifications.notify_registered() == 1
    message = SmsMessage.objects.get(ticket=ticket)
    assert message.to == "+8613800138000" and ticket.query_code in message.body


def test_the_center_api_registers_a_point_and_shows_it_but_not_the_open311_channel(agent) -> None:
    from tests.conftest import api_as

    api = api_as(agent)
    body = {"phone": PHONE, "category": "complaint", "content": "路灯不亮", "lat": 27.8435, "lng": 112.911}
    response = api.post("/api/v1/tickets/", body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["area"] == "YH01" and response.json()["lat"] == "27.843500"
    response = api.post("/api/v1/tickets/", {**body, "lng": None}, format="json")
    assert response.status_code == 400 and response.json()["message"] == "give both latitude and longitude, or neither"
    response = api.post("/api/v1/tickets/", {**body, "channel": "open311"}, format="json")
    assert response.status_code == 400 and response.json()["fields"]["channel"]
    with pytest.raises(Exception, match="only for reports posted through the Open311 API"):
        tickets.register_ticket(
            by=agent, phone=PHONE, content="x", category=Category.objects.get(code="help"), channel="open311"
        )


def test_a_published_case_is_a_closed_request_in_its_reviewed_words(agent, dispatcher, yuhu) -> None:
    """办件公开 through Open311 GET: the case's redacted texts, never the ticket's own, and gone
    once withdrawn (issue 16, point 4)."""
    from hotline.services import disclosure
    from tests.factories import closed_ticket

    ticket = closed_ticket(
        agent,
        dispatcher,
        yuhu,
        reply="已协调物业清理消防通道，请张伟先生监督。",
        content="张伟反映：小区消防通道被车辆占用，电话13912345678。",
        caller_name="张伟",
        consent_public=True,
        title="",
    )
    assert web().get(f"{API}/requests/{ticket.number}.json").status_code == 404  # not published yet
    draft = disclosure.draft(ticket)
    case = disclosure.publish_case(ticket, dispatcher, **{p.field: p.redacted.text for p in draft.parts})
    for fmt in ("json", "xml"):
        response = web().get(f"{API}/requests/{ticket.number}.{fmt}")
        assert response.status_code == 200
        body = response.content.decode()
        assert case.content in body and "13912345678" not in body and "张伟" not in body
    [shown] = web().get(f"{API}/requests/{ticket.number}.json").json()
    assert (shown["status"], shown["description"], shown["status_notes"]) == ("closed", case.content, case.reply)
    assert shown["lat"] is None and shown["long"] is None
    numbers = [r["service_request_id"] for r in web().get(f"{API}/requests.json", {"status": "closed"}).json()]
    assert ticket.number in numbers
    disclosure.withdraw_case(case, dispatcher, "市民要求撤回")
    assert web().get(f"{API}/requests/{ticket.number}.json").status_code == 404
