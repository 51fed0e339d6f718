"""An Open311 client written by others, unchanged, against our server over real HTTP.

``georeport`` (PyPI, 0.3.1: a GeoReport v2 wrapper on requests and xmltodict) reads services, a
service definition, requests and a request, in JSON and in XML. ``make install`` installs it from
requirements-nodeps.txt with ``--no-deps``: it pins ``xmltodict<0.15`` and the project pins 1.0.4
(wechatpy's entity refusal), so pip cannot resolve both; its calls to xmltodict are the same in 1.0.
"""

from __future__ import annotations

import georeport
import pytest

from hotline.services import open311


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_the_georeport_client_reads_everything_unchanged(live_server, seeded, fmt) -> None:
    client, _key = open311.create_client(
        name="湘潭城管通", operator="市城管局", channel_label="城管通", rate_limit_per_hour=10, by=None
    )
    made = open311.submit(
        client,
        service_code="0201",
        description="夜间工地施工噪音",
        lat="27.8435",
        long="112.9110",
        phone="13800138000",
        attributes={"noise_time": ["night"]},
    )
    api = georeport.GeoReport(f"{live_server.url}/open311/v2", output_format=fmt)

    services = api.get_service_list()
    assert "0201" in [s["service_code"] for s in services]

    definition = api.get_service_definition("0201")
    assert definition["service_code"] == "0201"
    attributes = definition["attributes"]
    # xmltodict gives a single repeated element as a dict, several as a list
    first = attributes[0] if fmt == "json" else attributes["attribute"][0]
    assert first["code"] == "noise_time"

    found = api.get_service_requests(service_code="0201")
    found = found if isinstance(found, list) else [found]
    assert [r["service_request_id"] for r in found] == [made.ticket.number]

    one = api.get_service_request(made.ticket.number)
    assert one["status"] == "open" and one["service_code"] == "0201"
    assert "13800138000" not in str(one)
