"""Issue 12, defect 3: repeat marks stay true when tickets go to and come back from the recycle bin,
or are merged, so ``recompute_repeats`` never finds anything to change."""

from __future__ import annotations

import pytest

from hotline.models import Ticket
from hotline.services import tickets
from hotline.services.repeats import recompute_repeats
from tests.factories import new_ticket

pytestmark = pytest.mark.django_db


def mark(ticket: Ticket) -> Ticket | None:
    return Ticket.objects.get(pk=ticket.pk).repeat_of


def test_discard_and_restore_keep_every_repeat_mark_true(agent, dispatcher):
    first, second, third = new_ticket(agent), new_ticket(agent), new_ticket(agent)
    assert (mark(second), mark(third)) == (first, second)

    tickets.discard_ticket(second, dispatcher, "无效来电")
    assert mark(third) == first  # the latest earlier ticket that is still a ticket
    tickets.discard_ticket(first, dispatcher, "无效来电")
    assert mark(third) is None
    assert recompute_repeats() == 0

    tickets.restore_ticket(Ticket.objects.get(pk=first.pk), dispatcher)
    assert mark(third) == first
    tickets.restore_ticket(Ticket.objects.get(pk=second.pk), dispatcher)
    assert mark(third) == second
    assert recompute_repeats() == 0


def test_a_discarded_place_repeat_is_unmarked_for_another_caller_at_the_same_address(agent, dispatcher):
    first = new_ticket(agent)
    neighbour = new_ticket(agent, phone="13900139000")  # same address and topic, another caller
    assert mark(neighbour) == first
    tickets.discard_ticket(first, dispatcher, "重复登记")
    assert mark(neighbour) is None
    assert recompute_repeats() == 0


def test_merging_keeps_every_repeat_mark_true(agent, dispatcher):
    first, second = new_ticket(agent), new_ticket(agent)
    other = new_ticket(agent, phone="13700137000", address="", topic="0401")
    later = new_ticket(agent, phone="13700137000", address="", topic="0401")
    tickets.merge_ticket(other, first, agent, "同一诉求")
    tickets.merge_ticket(Ticket.objects.get(pk=second.pk), Ticket.objects.get(pk=first.pk), agent)
    assert mark(later) == other  # a merged ticket is still a demand that was made: a later one repeats it
    assert recompute_repeats() == 0
