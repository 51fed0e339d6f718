"""The console's call controls: refusals in the agent's words, the state as the PBX confirmed it.

The PBX side (each control over AMI against the recordings) is tests/telephony/test_call_controls.py;
here the bridge's answers are given, to check what the caller panel shows and what is written.
"""

from __future__ import annotations

from unittest import mock

import pytest
from django.test import Client
from django.utils import timezone, translation

from hotline.models import Unit
from telephony import control, services
from telephony.models import Call
from tests.factories import new_ticket
from web.timeline_text import describe, timeline_entries


def client_for(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    return client


def _live(agent, **fields) -> Call:
    now = timezone.now()
    return Call.objects.create(
        linkedid="1795965000.7", pbx_epoch=1, agent=agent, caller_number="13611112222", offered_at=now,
        answered_at=now, **fields,
    )  # fmt: skip


@pytest.mark.django_db
def test_controls_without_a_call_are_refused_and_ask_no_one(agent):
    with mock.patch("telephony.control.call_bridge") as bridge:
        for url, data in [
            ("/agent/call/hold/", {"held": "1"}),
            ("/agent/call/mute/", {"muted": "1"}),
            ("/agent/call/transfer/", {"extension": "1002", "mode": "blind"}),
            ("/agent/call/transfer/end/", {"how": "cancel"}),
        ]:
            page = client_for(agent).post(url, data).content.decode()
            assert 'data-testid="control-error"' in page and "当前没有进行中的通话" in page, url
            assert client_for(agent).get(url).status_code == 405
    bridge.assert_not_called()


@pytest.mark.django_db
def test_on_hold_shows_only_after_the_bridge_confirmed(agent):
    call = _live(agent)
    page = client_for(agent).get("/agent/").content.decode()
    assert 'data-testid="hold"' in page and 'data-testid="pop-held"' not in page
    refused = control.CommandFailed("the call ended before the PBX got Redirect", code="call_ended")
    with mock.patch("telephony.control.call_bridge", side_effect=refused):
        page = client_for(agent).post("/agent/call/hold/", {"held": "1"}).content.decode()
    assert "通话已经结束，未做任何更改" in page and 'data-testid="pop-held"' not in page
    call.refresh_from_db()
    assert not call.on_hold
    answer = {"ok": True, "linkedid": call.linkedid, "pbx_epoch": call.pbx_epoch, "held": True}
    with mock.patch("telephony.control.call_bridge", return_value=answer) as bridge:
        page = client_for(agent).post("/agent/call/hold/", {"held": "1"}).content.decode()
    assert bridge.call_args.args[0] == "hold"
    assert 'data-testid="pop-held"' in page and "保持中" in page and 'data-testid="unhold"' in page
    assert 'data-testid="transfer-consult"' not in page  # no transfer while the caller is held
    call.refresh_from_db()
    assert call.on_hold


@pytest.mark.django_db
def test_an_invalid_extension_and_a_busy_unit_are_said_in_the_agents_words(agent):
    _live(agent)
    invalid = control.CommandFailed("not a dialable number: '12ab'", code="invalid_number")
    with mock.patch("telephony.control.call_bridge", side_effect=invalid):
        page = client_for(agent).post("/agent/call/transfer/", {"extension": "12ab", "mode": "consult"})
    assert "这不是电话系统可以拨打的号码" in page.content.decode()
    busy = control.CommandFailed("did not answer (BUSY)", code="not_answered", detail="BUSY")
    unit = Unit.objects.get(code="YH")
    with mock.patch("telephony.control.call_bridge", side_effect=busy) as bridge:
        page = client_for(agent).post("/agent/call/transfer/", {"unit": unit.pk, "mode": "consult"})
    assert bridge.call_args.kwargs["number"] == unit.duty_phone
    assert f"{unit.name} 未接通（BUSY），来电人已回到您的通话中" in page.content.decode()
    assert Call.objects.get().consulting == ""
    page = client_for(agent).post("/agent/call/transfer/", {"mode": "consult"}).content.decode()
    assert "请选择要转接的单位或输入分机号" in page


@pytest.mark.django_db
def test_a_transfer_is_written_on_the_calls_ticket_timeline(agent):
    ticket = new_ticket(agent)
    call = _live(agent, ticket=ticket)
    services.set_call_controls(
        call.linkedid, call.pbx_epoch, pbx=call.pbx, by=agent, transferred_to="雨湖区 073150292002", mode="attended"
    )
    entry = ticket.timeline.get(action="ticket.call_transferred")
    assert entry.actor == agent and entry.data["to"] == "雨湖区 073150292002"
    with translation.override("zh-hans"):
        lines = [str(line) for line in describe(timeline_entries(ticket))]
    assert any("与 雨湖区 073150292002 沟通后将来电转接过去" in line for line in lines), lines
    # Once: writing the same transfer again adds nothing.
    services.set_call_controls(call.linkedid, call.pbx_epoch, pbx=call.pbx, by=agent, transferred_to=entry.data["to"])
    assert ticket.timeline.filter(action="ticket.call_transferred").count() == 1


@pytest.mark.django_db
def test_during_a_consultation_the_panel_offers_only_complete_and_cancel(agent):
    _live(agent, consulting="073150292002")
    page = client_for(agent).get("/agent/").content.decode()
    assert "正在咨询 073150292002" in page
    assert 'data-testid="transfer-complete"' in page and 'data-testid="transfer-cancel"' in page
    for other in ("hold", "mute", "transfer-consult", "transfer-blind", "hang-up"):
        assert f'data-testid="{other}"' not in page, other
