"""/api/v1/calls/ through a URLconf of its own (web/api/urls.py wires the same viewset)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from telephony.models import Call
from tests.conftest import api_as

pytestmark = pytest.mark.django_db


def calls_url() -> str:
    return "/api/v1/calls/"


@pytest.fixture
def two_calls(agent) -> None:
    Call.objects.create(
        linkedid="1.0",
        caller_number="13800138000",
        outcome="answered",
        agent=agent,
        agent_interface="Local/1001@agents",
        offered_at=datetime(2026, 11, 27, 2, 0, tzinfo=UTC),
        wait_seconds=3,
        talk_seconds=60,
    )
    Call.objects.create(
        pbx="sy",
        linkedid="2.0",
        caller_number="13912345678",
        outcome="abandoned",
        offered_at=datetime(2026, 11, 28, 2, 0, tzinfo=UTC),
        wait_seconds=20,
    )


def test_agent_lists_calls_with_the_documented_fields(agent, two_calls) -> None:
    response = api_as(agent).get(calls_url())
    assert response.status_code == 200
    first = response.json()["results"][0]
    for key in ("pbx", "linkedid", "caller", "queue", "agent", "offered_at", "answered_at", "ended_at"):
        assert key in first
    assert {"wait_seconds", "talk_seconds", "outcome"} <= set(first)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"outcome": "abandoned"}, ["2.0"]),
        ({"caller": "13800138000"}, ["1.0"]),
        ({"date_from": "2026-11-28"}, ["2.0"]),
        ({"offered_before": "2026-11-28T00:00:00Z"}, ["1.0"]),
        ({"pbx": "sy"}, ["2.0"]),
        ({"pbx": "main"}, ["1.0"]),
    ],
)
def test_filters(agent, two_calls, query, expected) -> None:
    response = api_as(agent).get(calls_url(), query)
    assert [c["linkedid"] for c in response.json()["results"]] == expected


def test_filter_by_agent(agent, two_calls) -> None:
    response = api_as(agent).get(calls_url(), {"agent": agent.pk})
    assert [c["linkedid"] for c in response.json()["results"]] == ["1.0"]


def test_unit_handler_is_refused(yuhu, two_calls) -> None:
    assert api_as(yuhu).get(calls_url()).status_code == 403
