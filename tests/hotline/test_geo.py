"""Points on tickets: WGS-84 checked, resolved to an area from the seed's centroids, cleared at retention."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hotline import geo, retention
from hotline.errors import InvalidInput
from hotline.lib.geo import Frame, InvalidCoordinates, distance_km, parse_coordinate
from hotline.models import Area, Open311Request, Ticket
from hotline.seed.xiangtan import CENTROIDS, DISTRICTS
from hotline.services import open311, tickets


def test_coordinates_are_checked_and_rounded_to_six_places() -> None:
    assert parse_coordinate(" 27.8435001 ", "lat") == Decimal("27.843500")
    assert parse_coordinate("-180", "long") == Decimal("-180.000000")
    bad = [("200", "lat", "range"), ("-90.5", "lat", "range"), ("181", "long", "range"),
           ("NaN", "lat", "number"), ("Infinity", "long", "number"), ("27,8", "lat", "number")]  # fmt: skip
    for raw, field, reason in bad:
        with pytest.raises(InvalidCoordinates) as caught:
            parse_coordinate(raw, field)
        assert (caught.value.field, caught.value.reason) == (field, reason)


def test_the_distance_between_the_seats_of_xiangtan_and_xiangxiang_is_about_40_km() -> None:
    assert 38 < distance_km(*CENTROIDS["YH"], *CENTROIDS["XX"]) < 42


def test_every_seeded_area_has_a_centroid(seeded) -> None:
    codes = {code for code, _name, _children in DISTRICTS}
    codes |= {child for _c, _n, children in DISTRICTS for child, _name, kind in children if kind == "town"}
    assert set(Area.objects.filter(lat__isnull=False).values_list("code", flat=True)) == codes


@pytest.mark.parametrize(
    ("point", "code"),
    [
        ((27.8435, 112.9110), "YH01"),  # beside 城正街街道's seat
        ((27.8760, 112.9610), "YT01"),  # 岳塘街道
        ((27.5800, 112.7800), "XTX02"),  # 花石镇
        ((27.9300, 112.4790), "SS03"),  # 韶山乡
        ((27.6400, 112.6200), "XX"),  # between 湘乡's towns, farther than 10 km from each: the district
    ],
)
def test_a_point_resolves_to_the_nearest_town_else_its_district(seeded, point, code) -> None:
    assert geo.area_for(*point).code == code


def test_a_point_outside_the_city_has_no_area(seeded) -> None:
    assert geo.area_for(39.9042, 116.4074) is None  # Beijing
    assert geo.area_for(28.2282, 112.9388) is None  # 长沙, 40 km north


def test_registering_with_a_point_fills_the_area_unless_the_agent_gave_one(agent, complaint, noise) -> None:
    ticket = tickets.register_ticket(
        by=agent, phone="13800138000", content="噪音", category=complaint, topic=noise, lat="27.8435", lng="112.911"
    )
    assert ticket.area.code == "YH01" and ticket.lat == Decimal("27.843500")
    chosen = Area.objects.get(code="YT")
    ticket = tickets.register_ticket(
        by=agent, phone="13800138000", content="噪音", category=complaint, area=chosen, lat="27.8435", lng="112.911"
    )
    assert ticket.area == chosen


@pytest.mark.parametrize(
    ("lat", "lng", "field", "message"),
    [
        ("27.8", None, "lng", "give both latitude and longitude, or neither"),
        ("", "112.9", "lat", "give both latitude and longitude, or neither"),
        ("200", "112.9", "lat", "lat is outside -90…90 degrees"),
        ("27.8", "east", "lng", "long is not a number of degrees"),
    ],
)
def test_a_bad_point_is_refused_and_registers_nothing(agent, complaint, lat, lng, field, message) -> None:
    before = Ticket.objects.count()
    with pytest.raises(InvalidInput) as caught:
        tickets.register_ticket(by=agent, phone="13800138000", content="x", category=complaint, lat=lat, lng=lng)
    assert caught.value.details["field"] == field and caught.value.message == message
    assert Ticket.objects.count() == before


def test_the_frame_draws_north_up_and_keeps_points_inside(seeded) -> None:
    frame = Frame.around([(lat, lng) for lat, lng in CENTROIDS.values()])
    x1, y1 = frame.xy(*CENTROIDS["SS04"])  # 杨林乡, the north-west
    x2, y2 = frame.xy(*CENTROIDS["XX04"])  # 壶天镇, the south-west
    x3, _y3 = frame.xy(*CENTROIDS["YT06"])  # 霞城街道, the east
    assert y1 < y2 and x1 < x3
    assert all(0 < v < frame.width for v in (x1, x2, x3)) and all(0 < v < frame.height for v in (y1, y2))


def test_retention_clears_the_point_and_what_the_system_told_but_keeps_the_area(seeded, settings) -> None:
    client, _key = open311.create_client(name="s", operator="o", channel_label="c", rate_limit_per_hour=5, by=None)
    made = open311.submit(
        client, service_code="0203", description="垃圾", lat="27.8435", long="112.911", phone="13800138000",
        email="a@b.cn", device_id="d", account_id="acc",
    )  # fmt: skip
    assert retention.anonymise_ticket(made.ticket.pk, 365)
    ticket = Ticket.objects.get(pk=made.ticket.pk)
    assert ticket.lat is None and ticket.lng is None and ticket.area.code == "YH01"
    extra = Open311Request.objects.get(ticket=ticket)
    assert (extra.email, extra.device_id, extra.account_id) == ("", "", "")
    entry = ticket.timeline.get(action=retention.ANONYMISED)
    assert set(entry.data["cleared"]) == {"point", "open311"}
