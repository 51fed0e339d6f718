"""A ticket's whole life through the REST API, as the seeded people would live it."""

from __future__ import annotations

import pytest

from hotline.models import Unit
from tests.conftest import api_as


def post(client, url, data=None, status=200):
    response = client.post(url, data or {}, format="json")
    assert response.status_code == status, response.json()
    return response.json()


def test_register_dispatch_subdispatch_reply_review_close_entirely_through_the_api(
    agent, dispatcher, yuhu, chengzheng, noise, yuhu_area
):
    center = api_as(agent)
    ticket = post(
        center,
        "/api/v1/tickets/",
        {
            "phone": "138 0013 8000",
            "caller_name": "王先生",
            "category": "complaint",
            "topic": noise.code,
            "area": yuhu_area.code,
            "address": "雨湖区城正街88号",
            "content": "小区楼下广场舞音乐太吵，晚上十点后仍未停止。",
        },
        status=201,
    )
    assert ticket["status"] == "registered"
    assert ticket["caller"]["phone"] == "+8613800138000"
    assert len(ticket["number"]) == 13 and len(ticket["query_code"]) == 6
    url = f"/api/v1/tickets/{ticket['number']}"

    suggestions = center.get(f"{url}/suggestions/").json()
    assert suggestions[0]["unit_name"] == "雨湖区"
    assert suggestions[0]["reasons"]

    ticket = post(center, f"{url}/dispatch/", {"lead_unit": suggestions[0]["unit"], "version": ticket["version"]})
    assert ticket["status"] == "dispatched"
    lead = ticket["assignments"][0]
    assert lead["unit_name"] == "雨湖区" and lead["status"] == "pending"

    district = api_as(yuhu)
    ticket = post(district, f"/api/v1/assignments/{lead['id']}/accept/")
    assert ticket["status"] == "in_progress"
    street = Unit.objects.get(code="YH01")
    ticket = post(
        district,
        f"/api/v1/assignments/{lead['id']}/sub-dispatch/",
        {"to_unit": street.pk, "instructions": "请现场核查"},
        status=201,
    )
    child = next(a for a in ticket["assignments"] if a["parent"] == lead["id"])
    assert child["reply_by"] <= lead["reply_by"]

    town = api_as(chengzheng)
    post(town, f"/api/v1/assignments/{child['id']}/accept/")
    post(town, f"/api/v1/assignments/{child['id']}/reply/", {"text": "已约谈广场舞组织者，音量已调低，22点前结束。"})
    ticket = post(district, f"/api/v1/assignments/{lead['id']}/reply/", {"text": "街道已处理，区城管局将定期巡查。"})
    assert ticket["status"] == "replied"

    ticket = post(api_as(dispatcher), f"{url}/review/", {"decision": "approve"})
    assert ticket["status"] == "revisit_pending"
    ticket = post(api_as(dispatcher), f"{url}/close/", {"note": "回访满意"})
    assert ticket["status"] == "closed"

    actions = [entry["action"] for entry in center.get(url + "/").json()["timeline"]]
    assert actions == [
        "ticket.registered",
        "ticket.dispatched",
        "assignment.accepted",
        "assignment.sub_dispatched",
        "assignment.accepted",
        "assignment.replied",
        "assignment.replied",
        "ticket.reply_approved",
        "ticket.closed",
    ]


@pytest.mark.parametrize("key", ["number", "id"])
def test_a_ticket_is_found_by_number_or_id(agent, key):
    ticket = post(
        api_as(agent),
        "/api/v1/tickets/",
        {"phone": "13800138000", "category": "help", "content": "路灯坏了"},
        status=201,
    )
    response = api_as(agent).get(f"/api/v1/tickets/{ticket[key]}/")
    assert response.status_code == 200
    assert response.json()["number"] == ticket["number"]
