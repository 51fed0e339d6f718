"""The console's REST endpoints and the SMS webhook, over HTTP."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from rest_framework.test import APIClient

from callback import callbacks, revisits
from callback.models import Revisit, SmsMessage
from hotline.models import Ticket
from telephony import control
from tests.callback.conftest import MORNING, due_revisit, missed_call
from tests.conftest import api_as

pytestmark = pytest.mark.django_db


def test_an_agent_goes_ready_claims_the_next_callback_and_the_bridge_is_down(agent, settings) -> None:
    settings.CALLBACK_ORIGINATE_TIMEOUT = 0.3
    missed_call(at=MORNING)
    callbacks.ingest_missed_calls()
    client = api_as(agent)
    with time_machine.travel(MORNING + timedelta(minutes=1), tick=False):
        with mock.patch("telephony.control.call_bridge", return_value={"ok": True}):
            assert client.post("/api/v1/agent-state/", {"status": "ready"}).json()["status"] == "ready"
        listed = client.get("/api/v1/callbacks/").json()["results"]
        assert [t["status"] for t in listed] == ["due"]
        offered = client.post("/api/v1/callbacks/next/").json()
        assert offered["status"] == "offered" and offered["agent"] == agent.pk
        assert client.post("/api/v1/callbacks/next/").status_code == 204  # one offer at a time
        accepted = client.post(f"/api/v1/callbacks/{offered['id']}/accept/").json()
        assert accepted["status"] == "due" and "did not answer" in accepted["last_error"]
        refused = client.post(f"/api/v1/callbacks/{offered['id']}/complete/", {"outcome": "reached"})
        assert refused.status_code == 409


def test_ready_over_rest_drives_the_bridge_and_a_silent_bridge_changes_nothing(agent, settings) -> None:
    settings.BRIDGE_COMMAND_TIMEOUT = 0.2
    client = api_as(agent)
    down = client.post("/api/v1/agent-state/", {"status": "ready"})
    assert down.status_code == 503 and down.json()["error"] == "bridge_unavailable"
    assert client.get("/api/v1/agent-state/").json()["status"] == "offline"
    with mock.patch("telephony.control.call_bridge", side_effect=control.CommandFailed("no such extension")):
        refused = client.post("/api/v1/agent-state/", {"status": "paused", "reason": "training"})
    assert refused.status_code == 502 and "no such extension" in refused.json()["message"]
    with mock.patch("telephony.control.call_bridge", return_value={"ok": True}) as bridge:
        paused = client.post("/api/v1/agent-state/", {"status": "paused", "reason": "training"}).json()
    assert paused["status"] == "paused" and paused["reason"] == "training"
    assert [c.args[0] for c in bridge.call_args_list] == ["queue_add", "pause"]
    assert client.post("/api/v1/agent-state/", {"status": "on_call"}).status_code == 400


def test_a_unit_handler_cannot_see_callbacks(yuhu) -> None:
    assert api_as(yuhu).get("/api/v1/callbacks/").status_code == 403


def test_an_agent_records_a_revisit_in_one_step(pending_ticket, agent) -> None:
    revisit = revisits.schedule_revisit(pending_ticket)
    client = api_as(agent)
    with time_machine.travel(revisit.scheduled_for + timedelta(minutes=5), tick=False):
        listed = client.get("/api/v1/revisits/").json()["results"]
        assert [r["id"] for r in listed] == [revisit.pk]
        assert listed[0]["phone"] == "+8613800138000"
        assert client.post(f"/api/v1/revisits/{revisit.pk}/claim/").json()["status"] == "in_progress"
        bad = client.post(f"/api/v1/revisits/{revisit.pk}/result/", {"rating": "great"}, format="json")
        assert bad.status_code == 400
        done = client.post(
            f"/api/v1/revisits/{revisit.pk}/result/",
            {"rating": "basically_satisfied", "solved": True, "comment": "还可以"},
            format="json",
        ).json()
    assert (done["status"], done["rating"]) == ("done", "basically_satisfied")
    assert Ticket.objects.get(pk=pending_ticket.pk).status == "closed"


def test_appeal_and_decision_over_http(pending_ticket, agent, yuhu, dispatcher) -> None:
    revisit = due_revisit(pending_ticket)
    revisits.record_result(revisit, agent, rating="unsatisfied", comment="没人来处理")
    seen = api_as(yuhu).get(f"/api/v1/revisits/{revisit.pk}/").json()
    assert seen["phone"] == "138****8000" and seen["rating"] == "unsatisfied"
    appeal = api_as(yuhu).post(f"/api/v1/revisits/{revisit.pk}/appeal/", {"reason": "已按规定处理"}).json()
    decided = api_as(dispatcher).post(
        f"/api/v1/revisit-appeals/{appeal['id']}/decide/", {"grant": False, "note": "证据不足"}, format="json"
    )
    assert decided.json()["status"] == "rejected"
    assert not Revisit.objects.get().excluded_from_kpi


def test_the_sms_webhook_takes_a_reply_and_answers_garbage_clearly(pending_ticket, settings) -> None:
    settings.SMS_INBOUND_TOKEN = "hook-token"
    revisit = revisits.schedule_revisit(pending_ticket, channel="sms")
    with time_machine.travel(revisit.scheduled_for + timedelta(minutes=1), tick=False):
        revisits.start_due_surveys()
    client = APIClient()
    form = {"From": "+8613800138000", "Body": "好"}
    assert client.post("/api/v1/sms/inbound/", form).status_code == 403
    response = client.post("/api/v1/sms/inbound/?token=hook-token", form)
    assert response.status_code == 200 and response["Content-Type"] == "text/xml"
    answer = SmsMessage.objects.filter(purpose="survey_answer").latest("pk")
    assert "未能识别" in answer.body and answer.to == "+8613800138000"
    client.post("/api/v1/sms/inbound/?token=hook-token", {"From": "13800138000", "Body": "1"})
    assert Revisit.objects.get().rating == "satisfied"
