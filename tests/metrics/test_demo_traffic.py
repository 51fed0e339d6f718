"""The demo's call traffic agrees with the demo's tickets."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hotline.models import Channel, Ticket
from metrics import kpis
from metrics.callcenter import call_stats
from metrics.periods import Period
from telephony.models import Call
from web import demo
from web.demo_traffic import seed_calls

pytestmark = pytest.mark.django_db


def test_every_phone_ticket_has_its_answered_call_and_seeding_twice_adds_nothing(seeded):
    demo.seed_users()
    assert demo.seed_history(count=25, days=8, seed=7) == 25
    made = seed_calls(days=8, seed=7)
    assert made > 100
    phone_tickets = Ticket.objects.filter(channel=Channel.PHONE)
    assert phone_tickets.exists()
    for ticket in phone_tickets:
        [call] = Call.objects.filter(ticket=ticket)
        assert call.caller_id == ticket.caller_id
        assert call.agent is not None and call.agent.agent_extension
        assert call.outcome in ("answered", "transferred_110")
        assert ticket.created_at - timedelta(minutes=15) < call.ended_at <= ticket.created_at
        assert call.offered_at < call.answered_at < call.ended_at
    outcomes = set(Call.objects.values_list("outcome", flat=True))
    assert {"answered", "abandoned", "timeout", "ivr_110"} <= outcomes
    assert Call.objects.filter(outcome="abandoned", wait_seconds__lt=5).exists()
    assert seed_calls(days=8, seed=7) == 0
    assert Call.objects.count() == made


def test_demo_calls_give_a_plausible_answer_rate(seeded):
    demo.seed_users()
    seed_calls(days=3, seed=1)
    first = Call.objects.order_by("offered_at").first().offered_at.date()
    period = Period(first - timedelta(days=1), first + timedelta(days=5))
    rate = kpis.answer_rate(period).value
    assert rate is not None and 0.85 < rate < 0.99
    stats = call_stats(period, short_abandon_seconds=5)
    assert stats["short_abandons"] > 0
    assert stats["answer_rate"].denominator < kpis.answer_rate(period).denominator
