"""The demo's revisit rows agree with its replayed history and are made once."""

from __future__ import annotations

import pytest
from django.utils import timezone

from callback.models import Revisit
from hotline.models import Ticket, TimelineEntry
from web import demo
from web.demo_revisits import seed_revisits

pytestmark = pytest.mark.django_db


def test_seed_revisits_matches_each_tickets_timeline_and_is_idempotent(seeded) -> None:
    demo.seed_users()
    demo.seed_history(count=60, days=20)
    made = seed_revisits()
    assert seed_revisits() == {"done": 0, "unsatisfied": 0, "scheduled": 0}
    closed_after_revisit = TimelineEntry.objects.filter(action="ticket.closed", from_status="revisit_pending")
    reopened_after_revisit = TimelineEntry.objects.filter(action="ticket.reopened", from_status="revisit_pending")
    assert made["done"] == closed_after_revisit.count() > 0
    assert made["unsatisfied"] == reopened_after_revisit.count()
    for revisit in Revisit.objects.filter(status="done"):
        if revisit.rating == "unsatisfied":
            assert revisit.ticket.reopen_count >= 1 and revisit.solved is False
        else:
            assert revisit.rating in {"very_satisfied", "satisfied", "basically_satisfied"}
            assert revisit.ticket.status == "closed"
        assert revisit.completed_at >= revisit.scheduled_for
        if revisit.assignment_id:
            assert revisit.unit_id == revisit.assignment.unit_id
    waiting = Ticket.objects.filter(status="revisit_pending")
    assert Revisit.objects.filter(status="scheduled").count() == waiting.count() == made["scheduled"]
    # A first-time user can try the revisit loop at once: some are due now.
    assert Revisit.objects.filter(status="scheduled", scheduled_for__lte=timezone.now()).exists()
