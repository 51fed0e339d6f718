"""110转来 on the agent console: a 110 transfer taken on the phone becomes a ticket of channel 110;
the same incident twice gives the first ticket, an unknown matter and a revoked system are refused."""

from __future__ import annotations

from django.test import Client

from hotline.models import Channel, InboundReferral, TimelineEntry
from hotline.services import apikeys, referrals110

FORM = {
    "incident_number": "XT110-7788",
    "matter": "zao_yin",
    "phone": "13900139000",
    "address": "岳塘区建设北路8号",
    "content": "楼上KTV深夜噪音，110转12345",
}


def _agent_client(agent) -> Client:
    client = Client()
    client.force_login(agent)
    return client


def test_the_agent_registers_a_110_transfer(agent) -> None:
    system, _key = referrals110.create_system(name="湘潭市公安局110指挥中心", code="xt110", operator="市公安局")
    client = _agent_client(agent)
    page = client.get("/agent/").content.decode()
    assert 'data-testid="from110-form"' in page and "噪音扰民" in page and "湘潭市公安局110指挥中心" in page
    answer = client.post("/agent/from-110/", {**FORM, "system": system.pk}).content.decode()
    referral = InboundReferral.objects.get()
    assert referral.ticket.number in answer and 'data-testid="from110-ok"' in answer
    assert referral.ticket.channel == Channel.POLICE_110 and referral.via == InboundReferral.Via.PHONE
    assert referral.received_by == agent and referral.ticket.created_by == agent
    entry = TimelineEntry.objects.get(ticket=referral.ticket, action="ticket.registered")
    assert entry.actor == agent and entry.data["incident_110"] == "XT110-7788"
    again = client.post("/agent/from-110/", {**FORM, "system": system.pk}).content.decode()
    assert referral.ticket.number in again and InboundReferral.objects.count() == 1


def test_bad_input_on_the_form_is_said_and_makes_nothing(agent) -> None:
    system, _key = referrals110.create_system(name="湘潭市公安局110指挥中心", code="xt110", operator="市公安局")
    client = _agent_client(agent)
    bad = client.post("/agent/from-110/", {**FORM, "system": system.pk, "matter": "jiao_tong"}).content.decode()
    assert 'data-testid="from110-error"' in bad
    apikeys.revoke(system, None)
    revoked = client.post("/agent/from-110/", {**FORM, "system": system.pk}).content.decode()
    assert 'data-testid="from110-error"' in revoked
    assert not InboundReferral.objects.exists()
