"""热点预警 on the dashboard and the wallboard, and 专题督办 from a hot spot in one POST."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from hotline.models import SupervisionCase, Unit
from metrics import hotspots
from metrics.models import HotSpot, HotSpotStatus
from tests.metrics.test_hotspots import FIVE, burst
from tests.web.test_consumers import connect_as, receive_until, run

DASHBOARD = reverse("web:dashboard")


def client_of(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


@pytest.fixture
def spot(agent) -> HotSpot:
    made = burst(agent, FIVE)
    assert hotspots.scan() == 1
    spot = HotSpot.objects.get()
    spot.made = made
    return spot


def supervise_url(spot: HotSpot) -> str:
    return reverse("web:hotspot-supervise", args=[spot.pk])


def test_the_dashboard_shows_each_hot_spot_with_its_tickets_to_the_center(spot, dispatcher, yuhu):
    page = client_of(dispatcher).get(DASHBOARD).content.decode()
    assert page.count('data-testid="hotspot"') == 1
    assert 'data-testid="hotspot-warning"' in page and "雨湖区" in page
    assert all(t.number in page for t in spot.made)
    assert page.count('data-testid="hotspot-ticket"') == 5
    assert 'data-testid="hotspot-supervise"' in page
    # A unit's dashboard is its own subtree's KPIs: no city-wide warnings.
    assert 'data-testid="hotspots"' not in client_of(yuhu).get(DASHBOARD).content.decode()


def test_no_hot_spot_says_so(dispatcher):
    assert 'data-testid="no-hotspots"' in client_of(dispatcher).get(DASHBOARD).content.decode()


def test_one_post_opens_a_special_topic_case_on_its_tickets(spot, supervisor):
    client = client_of(supervisor)
    response = client.post(supervise_url(spot), {"back": DASHBOARD})
    case = SupervisionCase.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("web:supervision-case", args=[case.pk])
    assert case.form == "special_topic" and case.opened_by == supervisor
    assert set(case.tickets.values_list("pk", flat=True)) == {t.pk for t in spot.made}
    spot.refresh_from_db()
    assert spot.status == HotSpotStatus.SUPERVISED and spot.case == case
    assert f"#{case.pk}" in client.get(response["Location"]).content.decode()
    listing = client.get(reverse("web:supervision")).content.decode()
    assert 'data-testid="case-row"' in listing
    dashboard = client.get(DASHBOARD).content.decode()
    assert 'data-testid="hotspot-case"' in dashboard and 'data-testid="hotspot-supervise"' not in dashboard

    # Twice is refused with a message; still one case.
    again = client.post(supervise_url(spot), {"back": DASHBOARD}, follow=True)
    assert "already supervised" in again.content.decode()
    assert SupervisionCase.objects.count() == 1


def test_the_optional_fields_override_the_defaults(spot, dispatcher):
    due = timezone.localdate() + timedelta(days=2)
    water = Unit.objects.filter(level=2, is_active=True).exclude(pk=spot.unit_id).first()
    client_of(dispatcher).post(
        supervise_url(spot), {"due_by": due.isoformat(), "unit": water.pk, "reason": "市领导要求三日内恢复供水"}
    )
    case = SupervisionCase.objects.get()
    assert timezone.localtime(case.due_by).date() == due
    assert case.unit == water and case.reason == "市领导要求三日内恢复供水"


@pytest.mark.parametrize(
    "data, message",
    [
        ({"due_by": "2020-01-01"}, "must not be in the past"),
        ({"due_by": "next week"}, "Enter a valid date"),
        ({"unit": "999999"}, "Select a valid choice"),
        ({"reason": "x" * 2001}, "at most 2000 characters"),
    ],
)
def test_bad_input_is_a_message_and_opens_nothing(spot, dispatcher, data, message):
    response = client_of(dispatcher).post(supervise_url(spot), {"back": DASHBOARD, **data}, follow=True)
    assert message in response.content.decode()
    assert not SupervisionCase.objects.exists()
    spot.refresh_from_db()
    assert spot.status == HotSpotStatus.ACTIVE


def test_only_reviewers_may_and_the_way_back_stays_on_the_dashboard(spot, agent, yuhu, dispatcher):
    assert client_of(agent).post(supervise_url(spot)).status_code == 403
    assert client_of(yuhu).post(supervise_url(spot)).status_code == 403
    assert client_of(dispatcher).get(supervise_url(spot)).status_code == 405
    missing = reverse("web:hotspot-supervise", args=[spot.pk + 1000])
    assert client_of(dispatcher).post(missing).status_code == 404
    response = client_of(dispatcher).post(supervise_url(spot), {"back": "https://evil.example/", "due_by": "x"})
    assert response["Location"] == "/dashboard/"
    assert not SupervisionCase.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_wallboard_shows_the_warning_the_scan_finds_without_a_reload(agent, supervisor):
    async def scenario():
        comm, _ = await connect_as(supervisor, "/ws/wallboard/")
        snapshot = await comm.receive_from(timeout=5)
        assert 'id="wb-hotspots"' in snapshot and 'data-testid="wb-hotspot"' not in snapshot
        made = await sync_to_async(burst)(agent, FIVE)
        assert await sync_to_async(hotspots.scan)() == 1
        frame = await receive_until(comm, 'data-testid="wb-hotspot"')
        assert 'id="wb-hotspots"' in frame and all(t.number in frame for t in made)
        assert re.search(r"<b>5</b>", frame)
        await comm.disconnect()

    run(scenario)


def _map(page: str) -> dict:
    import json

    found = re.search(r'<script id="hotspot-map-data" type="application/json">(.*?)</script>', page, re.S)
    assert found, "no map data on the page"
    return json.loads(found.group(1))


def test_the_dashboard_carries_the_hot_spot_map_at_the_tickets_mean_or_the_district_centroid(spot, dispatcher):
    page = client_of(dispatcher).get(DASHBOARD).content.decode()
    assert 'data-testid="hotspot-map"' in page and f'id="hotspot-{spot.pk}"' in page
    data = _map(page)
    names = {a["name"] for a in data["areas"]}
    assert {"雨湖区", "韶山市"} <= names and len(data["areas"]) > 20
    # No ticket has a point: the hot spot sits on its district's centroid (雨湖区, the seed's).
    (point,) = data["spots"]
    assert point["id"] == spot.pk and point["count"] == 5 and point["district"] == "雨湖区"
    assert (point["lat"], point["lng"]) == (27.856, 112.907)

    # With points on two of its tickets, it sits at their mean.
    first, second = spot.made[:2]
    type(first).objects.filter(pk=first.pk).update(lat="27.850000", lng="112.900000")
    type(first).objects.filter(pk=second.pk).update(lat="27.860000", lng="112.920000")
    (point,) = _map(client_of(dispatcher).get(DASHBOARD).content.decode())["spots"]
    assert (point["lat"], point["lng"]) == (27.855, 112.91)


def test_a_supervised_hot_spot_leaves_the_map_but_stays_in_the_list(spot, dispatcher):
    HotSpot.objects.filter(pk=spot.pk).update(status=HotSpotStatus.SUPERVISED)
    page = client_of(dispatcher).get(DASHBOARD).content.decode()
    assert page.count('data-testid="hotspot"') == 1
    assert 'id="hotspot-map-data"' not in page


def test_the_map_costs_one_query_whatever_the_number_of_hot_spots(spot, agent, django_assert_num_queries):
    burst(agent, FIVE, area="XX01")
    assert hotspots.scan() == 1
    with django_assert_num_queries(2):  # the hot spots, their tickets (prefetched)
        shown = list(hotspots.shown())
    with django_assert_num_queries(1):  # the areas' centroids
        data = hotspots.map_data(shown)
    assert sorted(p["district"] for p in data["spots"]) == ["湘乡市", "雨湖区"]
