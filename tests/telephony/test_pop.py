"""The screen pop: one shape whether the bridge sends it while the phone rings or the console reads it later."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from hotline.models import Caller
from hotline.services import callers, tickets
from telephony import pop
from telephony.lifecycle import AgentRinging
from telephony.models import Call
from tests.factories import new_ticket

pytestmark = pytest.mark.django_db


def _ringing(number: str = "13800138000", interface: str = "Local/1001@agents") -> AgentRinging:
    return AgentRinging(
        linkedid="1795770144.0", pbx_epoch=1795770000, at=None, queue="12345",
        interface=interface, member_name="agent1001", caller_number=number,
    )  # fmt: skip


def test_the_ringing_pop_goes_to_that_agent_only_with_the_callers_history(agent) -> None:
    earlier = tickets.resolve_on_call(new_ticket(agent, caller_name="王先生", category="consultation"), agent, "已解答")
    assert earlier.status == "closed"
    open_one = new_ticket(agent)
    caller = open_one.caller
    group, message = pop.ringing_pop(_ringing("13800138000"))
    assert group == f"agent.{agent.pk}"
    assert message["type"] == "call.screen_pop" and message["linkedid"] == "1795770144.0"
    assert message["caller_name"] == "王先生" and message["caller_id"] == caller.pk
    assert {t["number"] for t in message["previous_tickets"]} == {earlier.number, open_one.number}
    assert [t["number"] for t in message["open_tickets"]] == [open_one.number]


def test_the_ringing_pop_of_a_first_time_or_anonymous_caller_has_no_history(agent) -> None:
    for number in ("13900139000", "anonymous", ""):
        _, message = pop.ringing_pop(_ringing(number))
        assert (message["caller_id"], message["previous_tickets"], message["open_tickets"]) == (None, [], [])
    assert not Caller.objects.exists()  # a pop only reads
    assert pop.ringing_pop(_ringing(interface="Local/4999@agents")) is None  # nobody's phone


def test_the_console_reads_the_same_pop_from_the_stored_call(agent) -> None:
    caller = new_ticket(agent, caller_name="王先生").caller
    call = Call.objects.create(linkedid="1795770144.0", caller=caller, caller_number="13800138000", agent=agent)
    _, message = pop.ringing_pop(_ringing("13800138000"))
    assert pop.call_pop(call) == {k: v for k, v in message.items() if k not in ("type", "event")}
    # A caller the hotline does not know yet shows the name the PBX gave.
    stranger = Call.objects.create(linkedid="1795770145.0", caller_number="13900139000", caller_name="李女士")
    assert pop.call_pop(stranger)["caller_name"] == "李女士"


def test_the_pop_shows_the_centers_flag_in_force_with_its_reason_and_expiry(agent, supervisor) -> None:
    caller = new_ticket(agent).caller
    _, message = pop.ringing_pop(_ringing("13800138000"))
    assert message["flag"] is None
    flag = callers.set_flag(caller, supervisor, "harassment", "深夜反复骚扰", timezone.now() + timedelta(days=3))
    _, message = pop.ringing_pop(_ringing("13800138000"))
    assert message["flag"] == {
        "kind": "harassment",
        "reason": "深夜反复骚扰",
        "expires_at": flag.expires_at.isoformat(),
    }
    json.dumps(message)  # it travels on the channel layer
    with time_machine.travel(flag.expires_at + timedelta(minutes=1)):  # expired: gone from the pop
        assert pop.ringing_pop(_ringing("13800138000"))[1]["flag"] is None
