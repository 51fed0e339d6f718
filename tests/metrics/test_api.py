"""The metrics REST endpoints, through HTTP, with the personas of tests/conftest.py."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator

from hotline.models import Unit
from tests.conftest import api_as

pytestmark = pytest.mark.django_db

BASE = "/api/v1/metrics/"
NOV = {"period": "month", "date": "2026-11-15"}


def test_center_staff_get_the_citys_kpis_with_numerators_and_denominators(november, supervisor):
    response = api_as(supervisor).get(BASE + "kpis/", NOV)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["period"] == {"kind": "month", "first": "2026-11-01", "last": "2026-11-30"}
    assert body["unit"] is None and body["rollup"] is True
    assert body["kpis"]["on_time_rate"] == {"numerator": 3, "denominator": 6, "value": 0.5}
    assert body["kpis"]["repeat_rate"] == {"numerator": 3, "denominator": 8, "value": 0.375}
    # Nobody is flagged: none of the three repeats is a flagged caller's (a line of its own).
    assert body["flagged_repeats"] == {"numerator": 0, "denominator": 3, "value": 0.0}


def test_a_unit_with_no_data_reports_null_not_zero(november, supervisor):
    zjj = Unit.objects.get(code="ZJJ")
    body = api_as(supervisor).get(BASE + "kpis/", {**NOV, "unit": zjj.pk}).json()
    assert body["kpis"]["on_time_rate"] == {"numerator": 0, "denominator": 0, "value": None}


def test_unit_handler_sees_its_own_unit_by_default_and_its_street(november, yuhu):
    client = api_as(yuhu)
    body = client.get(BASE + "kpis/", NOV).json()
    assert body["unit"]["code"] == "YH"
    assert body["kpis"]["on_time_rate"]["denominator"] == 6
    street = Unit.objects.get(code="YH01")
    body = client.get(BASE + "kpis/", {**NOV, "unit": street.pk}).json()
    assert body["kpis"]["on_time_rate"] == {"numerator": 0, "denominator": 1, "value": 0.0}


def test_unit_handler_cannot_see_another_units_kpis(november, yuhu):
    response = api_as(yuhu).get(BASE + "kpis/", {**NOV, "unit": Unit.objects.get(code="YT").pk})
    assert response.status_code == 403


def test_street_handler_cannot_see_its_district(november, chengzheng):
    response = api_as(chengzheng).get(BASE + "kpis/", {**NOV, "unit": Unit.objects.get(code="YH").pk})
    assert response.status_code == 403


def test_ranking_lists_every_unit_for_the_center_and_the_subtree_for_a_unit(november, supervisor, yuhu):
    everyone = api_as(supervisor).get(BASE + "kpis/units/", {"from": "2026-11-01", "to": "2026-11-30"}).json()
    assert len(everyone["units"]) == Unit.objects.filter(is_active=True).count()
    row = next(r for r in everyone["units"] if r["unit"]["code"] == "YH")
    assert row["own"]["on_time_rate"]["denominator"] == 5
    assert row["rollup"]["on_time_rate"]["denominator"] == 6
    mine = api_as(yuhu).get(BASE + "kpis/units/", NOV).json()
    assert {r["unit"]["id"] for r in mine["units"]} == set(Unit.objects.get(code="YH").subtree_ids())


def test_call_center_figures_are_for_center_staff_only(november, supervisor, yuhu):
    response = api_as(supervisor).get(BASE + "callcenter/", {**NOV, "short_abandon_seconds": 5})
    assert response.status_code == 200
    body = response.json()
    assert body["answer_rate"] == {"numerator": 3, "denominator": 5, "value": 0.6}
    assert body["answer_rate_15s"]["numerator"] == 2
    assert body["by_hour"][9] == {"hour": 9, "calls": 3, "answered": 3}
    assert body["agents"][0]["answered"] == 3
    assert api_as(yuhu).get(BASE + "callcenter/", NOV).status_code == 403
    assert api_as(yuhu).get(BASE + "staffing/", NOV).status_code == 403


def test_staffing_lists_half_hours(november, supervisor):
    body = api_as(supervisor).get(BASE + "staffing/", {"period": "day", "date": "2026-11-02"}).json()
    assert [(i["start"], i["calls"], i["agents_recommended"]) for i in body["intervals"]] == [
        ("2026-11-02T09:00:00+08:00", 1, 1),
        ("2026-11-02T09:30:00+08:00", 1, 1),
    ]
    assert body["target_level"] == 0.8


def test_bad_periods_are_400(supervisor):
    client = api_as(supervisor)
    assert client.get(BASE + "kpis/", {"from": "2026-11-30", "to": "2026-11-01"}).status_code == 400
    assert client.get(BASE + "kpis/", {"from": "2026-11-01"}).status_code == 400
    assert client.get(BASE + "kpis/", {"period": "fortnight"}).status_code == 400
    assert client.get(BASE + "staffing/", {"period": "year", "date": "2026-01-01"}).status_code == 400


def test_anonymous_is_refused(client):
    assert client.get(BASE + "kpis/").status_code in (401, 403)


def test_the_endpoints_are_in_the_openapi_schema_without_warnings(capsys):
    from drf_spectacular.drainage import GENERATOR_STATS

    GENERATOR_STATS.reset()
    schema = SchemaGenerator().get_schema(request=None, public=True)
    assert {"/api/v1/metrics/kpis/", "/api/v1/metrics/kpis/units/", "/api/v1/metrics/callcenter/"} <= set(
        schema["paths"]
    )
    assert "/api/v1/metrics/staffing/" in schema["paths"]
    assert not GENERATOR_STATS, "drf-spectacular warned or errored"


def test_kpis_command_prints_exactly_one_json_object(november, capsys):
    import json

    call_command("kpis", "--from", "2026-11-01", "--to", "2026-11-30", "--json")
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"answer_rate", "on_time_rate", "satisfaction_rate", "reopen_rate", "repeat_rate"}
    assert data["reopen_rate"] == {"numerator": 1, "denominator": 4, "value": 0.25}
    assert data["satisfaction_rate"] == {"numerator": 0, "denominator": 0, "value": None}


def test_kpis_command_prints_a_table_for_one_unit(november, capsys):
    call_command("kpis", "--from", "2026-11-01", "--to", "2026-11-30", "--unit", str(Unit.objects.get(code="YH").pk))
    out = capsys.readouterr().out
    assert "雨湖区" in out
    assert "reopen_rate" in out and "1 / 4" in out
    assert "no data" in out  # answer rate is the center's
