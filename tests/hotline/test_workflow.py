"""The lifecycle's side roads: merge, recycle bin, extensions, disputes, redo, 110."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.apps import apps as django_apps
from django.db import transaction

from hotline.errors import IllegalTransition, InvalidInput, NotAllowed
from hotline.models import Dispute, DisputeStatus, Referral, Ticket, TimelineEntry, Topic, Unit
from hotline.services import dispatch, disputes, extensions, tickets
from hotline.services.common import lock_ticket, move
from hotline.workflow import TRANSITIONS, check_transition
from tests.conftest import make_user
from tests.factories import dispatched_ticket, lead_assignment, new_ticket


def actions(ticket: Ticket) -> list[str]:
    return list(TimelineEntry.objects.filter(ticket=ticket).values_list("action", flat=True))


def test_every_transition_in_the_table_names_known_statuses():
    from hotline.models import TicketStatus

    for name, transition in TRANSITIONS.items():
        assert transition.sources and transition.targets, name
        assert set(transition.sources) | set(transition.targets) <= set(TicketStatus.values), name


def test_agents_may_dispatch_but_not_review(agent):
    check_transition("dispatch", "registered", agent)
    with pytest.raises(NotAllowed):
        check_transition("review", "replied", agent)


def test_merged_tickets_stay_countable_and_point_at_the_survivor(agent):
    first = new_ticket(agent)
    repeat = dispatched_ticket(agent, phone="13900139000")
    tickets.merge_ticket(repeat, first, agent, "同一诉求")
    repeat.refresh_from_db()
    assert repeat.status == "merged" and repeat.merged_into == first
    assert lead_assignment(repeat) is None  # its unit was released
    assert "ticket.merge_received" in actions(first)
    assert Ticket.objects.filter(merged_into=first).count() == 1
    with pytest.raises(InvalidInput):
        tickets.merge_ticket(first, first, agent)


def test_recycle_bin_restores_a_ticket_with_its_whole_timeline(agent, dispatcher):
    ticket = new_ticket(agent)
    tickets.discard_ticket(ticket, dispatcher, "骚扰电话")
    ticket.refresh_from_db()
    assert ticket.status == "discarded"
    assert Ticket.objects.filter(pk=ticket.pk).exists()  # never deleted
    tickets.restore_ticket(ticket, dispatcher, "误删")
    ticket.refresh_from_db()
    assert ticket.status == "registered"
    assert actions(ticket) == ["ticket.registered", "ticket.discarded", "ticket.restored"]


def test_an_agent_cannot_empty_tickets_into_the_recycle_bin(agent):
    with pytest.raises(NotAllowed):
        tickets.discard_ticket(new_ticket(agent), agent, "不想处理")


def test_an_approved_extension_is_the_deadline_that_counts(agent, yuhu, dispatcher):
    ticket = dispatched_ticket(agent)
    lead = lead_assignment(ticket)
    dispatch.accept_assignment(lead, yuhu)
    until = lead.reply_by + timedelta(days=7)
    request = extensions.request_extension(lead, yuhu, until, "需要协调供电部门")
    with pytest.raises(IllegalTransition):
        extensions.request_extension(lead, yuhu, until + timedelta(days=1), "再延")
    with pytest.raises(NotAllowed):
        extensions.decide_extension(request, agent, approve=True)
    extensions.decide_extension(request, dispatcher, approve=True)
    lead.refresh_from_db()
    assert lead.reply_by == until and lead.original_reply_by < until
    assert actions(ticket)[-2:] == ["extension.requested", "extension.approved"]


def test_a_street_asks_its_district_not_the_center_for_more_time(agent, yuhu, chengzheng, dispatcher):
    ticket = dispatched_ticket(agent)
    lead = lead_assignment(ticket)
    dispatch.accept_assignment(lead, yuhu)
    inner = lead.reply_by - timedelta(days=3)
    child = dispatch.sub_dispatch(lead, yuhu, Unit.objects.get(code="YH01"), reply_by=inner)
    request = extensions.request_extension(child, chengzheng, lead.reply_by, "需要现场复核")
    with pytest.raises(NotAllowed):
        extensions.decide_extension(request, dispatcher, approve=True)
    with pytest.raises(InvalidInput):
        extensions.request_extension(child, chengzheng, lead.reply_by + timedelta(days=1), "超过区里期限")
    extensions.decide_extension(request, yuhu, approve=False, note="请按期办结")
    child.refresh_from_db()
    assert child.reply_by == inner


def test_a_dispute_ends_with_the_dispatch_standing_or_in_a_reassignment(agent, zhujian, dispatcher):
    ticket = dispatched_ticket(agent, lead="ZJJ")
    lead = lead_assignment(ticket)
    dispute = disputes.raise_dispute(lead, zhujian, "噪音属于城管职责")
    disputes.decide_dispute(dispute, dispatcher, reassign_to=Unit.objects.get(code="CGJ"), note="改派城管局")
    ticket.refresh_from_db()
    lead.refresh_from_db()
    assert lead.status == "withdrawn"
    assert lead_assignment(ticket).unit.code == "CGJ"
    assert ticket.status == "dispatched"
    assert {"dispute.raised", "dispute.accepted", "ticket.reassigned"} <= set(actions(ticket))
    again = disputes.raise_dispute(lead_assignment(ticket), make_user("handler_cgj", "unit_handler", "CGJ"), "非本局")
    disputes.decide_dispute(again, dispatcher, note="属于城管职责，维持派单")
    again.refresh_from_db()
    assert again.status == DisputeStatus.DISPATCH_STANDS == "dispatch_stands"
    assert again.get_status_display() == "dispatch stands"
    assert actions(ticket)[-1] == "dispute.rejected"


def test_disputes_stored_as_upheld_become_dispatch_stands(agent, zhujian, dispatcher):
    """The data step of the rename: old rows and timeline codes read like the new ones."""
    rename = importlib.import_module("hotline.migrations.0006_dispute_dispatch_stands")
    ticket = dispatched_ticket(agent, lead="ZJJ")
    dispute = disputes.raise_dispute(lead_assignment(ticket), zhujian, "不属于本单位")
    disputes.decide_dispute(dispute, dispatcher, note="维持派单")
    Dispute.objects.filter(pk=dispute.pk).update(status="upheld")
    TimelineEntry.objects.filter(action="dispute.rejected").update(action="dispute.upheld")
    rename.forwards(django_apps, None)
    dispute.refresh_from_db()
    assert dispute.status == DisputeStatus.DISPATCH_STANDS
    assert actions(ticket)[-1] == "dispute.rejected"
    rename.backwards(django_apps, None)
    dispute.refresh_from_db()
    assert dispute.status == "upheld" and actions(ticket)[-1] == "dispute.upheld"


def test_review_send_back_and_revisit_reopen_both_redo_at_the_same_unit(agent, yuhu, dispatcher):
    ticket = dispatched_ticket(agent)
    lead = lead_assignment(ticket)
    dispatch.accept_assignment(lead, yuhu)
    dispatch.reply_assignment(lead, yuhu, "已处理")
    tickets.review_reply(ticket, dispatcher, approve=False, note="答复过于简单，请补充处理过程")
    ticket.refresh_from_db()
    redo = lead_assignment(ticket)
    assert ticket.status == "in_progress" and redo.reopen_of == lead and redo.unit == lead.unit
    dispatch.reply_assignment(redo, yuhu, "已约谈并复查，噪音问题已解决")
    tickets.review_reply(ticket, dispatcher, approve=True)
    ticket.refresh_from_db()
    assert ticket.status == "revisit_pending"
    tickets.reopen_ticket(ticket, dispatcher, "回访不满意：晚上仍有噪音")
    ticket.refresh_from_db()
    assert ticket.status == "in_progress" and ticket.reopen_count == 2
    assert lead_assignment(ticket).reopen_of == redo
    redo.refresh_from_db()
    assert lead_assignment(ticket).reply_by > redo.replied_at


def test_a_unit_cannot_reply_while_its_street_is_still_working(agent, yuhu):
    ticket = dispatched_ticket(agent)
    lead = lead_assignment(ticket)
    dispatch.accept_assignment(lead, yuhu)
    dispatch.sub_dispatch(lead, yuhu, Unit.objects.get(code="YH01"))
    with pytest.raises(IllegalTransition, match="城正街街道"):
        dispatch.reply_assignment(lead, yuhu, "已处理")


def test_a_level2_only_topic_is_never_pushed_down_to_a_town(agent, yuhu):
    ticket = dispatched_ticket(agent, topic="0502")  # 社保缴纳 belongs to departments
    assert Topic.objects.get(code="0502").is_level2_only
    lead = lead_assignment(ticket)
    dispatch.accept_assignment(lead, yuhu)
    with pytest.raises(InvalidInput, match="towns/streets"):
        dispatch.sub_dispatch(lead, yuhu, Unit.objects.get(code="YH01"))
    # A county department is not a town: allowed.
    dispatch.sub_dispatch(lead, yuhu, Unit.objects.get(code="YH51"))


def test_consultation_resolved_on_call_closes_without_a_revisit(agent):
    ticket = new_ticket(agent, category="consultation", topic="1001")
    tickets.resolve_on_call(ticket, agent, "已告知所需材料")
    ticket.refresh_from_db()
    assert ticket.status == "closed" and ticket.resolved_on_call and ticket.closed_at


def test_registering_and_resolving_on_the_call_is_one_act_with_the_agent_on_both_entries(agent):
    ticket = new_ticket(agent, category="consultation", topic="1001", resolve_with="已告知所需材料")
    ticket.refresh_from_db()
    assert ticket.status == "closed" and ticket.resolved_on_call and ticket.resolution == "已告知所需材料"
    entries = TimelineEntry.objects.filter(ticket=ticket).order_by("pk")
    assert [(e.action, e.actor) for e in entries] == [
        ("ticket.registered", agent),
        ("ticket.resolved_on_call", agent),
    ]


def test_a_failing_resolve_leaves_no_ticket_and_no_used_number(agent, yuhu):
    with pytest.raises(NotAllowed):  # a unit handler may not resolve on the call: the registration is undone too
        new_ticket(yuhu, category="consultation", topic="1001", resolve_with="已告知所需材料")
    assert not Ticket.objects.exists() and not TimelineEntry.objects.exists()
    assert new_ticket(agent).number.endswith("00001")


def test_a_move_to_a_status_the_table_does_not_list_is_refused(agent, monkeypatch):
    ticket = new_ticket(agent)
    with transaction.atomic(), pytest.raises(IllegalTransition):
        move(lock_ticket(ticket), "close", "in_progress")  # "close" leads to closed only
    # A service whose branch asks for a target outside its action's row is stopped, not written.
    monkeypatch.setattr(tickets, "_revisit_or_close", lambda ticket: "dispatched")
    with pytest.raises(IllegalTransition):
        tickets.resolve_on_call(ticket, agent, "已告知所需材料")
    ticket.refresh_from_db()
    assert ticket.status == "registered" and not ticket.resolved_on_call


def test_transfer_to_110_leaves_a_referral(agent):
    ticket = new_ticket(agent, call_linkedid="1795770000.12")
    referral = tickets.transfer_to_110(ticket, agent, "有人打架斗殴，涉及治安")
    ticket.refresh_from_db()
    assert ticket.status == "transferred_110"
    assert Referral.objects.get() == referral and referral.call_linkedid == "1795770000.12"
    with pytest.raises(IllegalTransition):
        tickets.transfer_to_110(ticket, agent, "again")


def test_an_assisting_unit_returning_does_not_return_the_ticket(agent, zhujian):
    ticket = new_ticket(agent)
    dispatch.dispatch_ticket(ticket, agent, Unit.objects.get(code="YH"), [Unit.objects.get(code="ZJJ")])
    helper = ticket.assignments.get(unit__code="ZJJ")
    assert helper.role == "assisting"
    dispatch.return_assignment(helper, zhujian, "非本单位职责")
    ticket.refresh_from_db()
    assert ticket.status == "dispatched"


def test_a_ticket_is_marked_as_a_repeat_when_registered(agent):
    first = new_ticket(agent)
    by_caller = new_ticket(agent, address="", topic=None)
    by_place = new_ticket(agent, phone="13900139000")  # another caller, same address and topic
    stranger = new_ticket(agent, phone="13700137000", address="", topic="0401")
    assert by_caller.repeat_of == first
    assert by_place.repeat_of == first  # the latest earlier ticket at that address and topic
    assert stranger.repeat_of is None
    entry = TimelineEntry.objects.get(ticket=by_caller, action="ticket.registered")
    assert entry.data["repeat_of"] == first.number


def test_a_ticket_in_the_recycle_bin_is_not_repeated(agent, dispatcher):
    first = new_ticket(agent)
    tickets.discard_ticket(first, dispatcher, "骚扰电话")
    assert new_ticket(agent).repeat_of is None
