"""办件公开 through the services: publishing a closed, consented ticket with its personal data hidden."""

from __future__ import annotations

import pytest

from hotline.errors import Conflict, IllegalTransition, InvalidInput, NotAllowed
from hotline.models import AuditEntry, PublishedCase, Ticket, TimelineEntry, Topic
from hotline.public_cases import matching_cases, public_view, published_case, published_cases
from hotline.services import disclosure
from tests.factories import closed_ticket, new_ticket

pytestmark = pytest.mark.django_db

CONTENT = "我是张伟，电话13807321234，楼下湘C12345的车每晚占用消防通道，3栋1302室。"
REPLY = "已联系张先生，交警已对湘C12345依法处理，消防通道已畅通。"


@pytest.fixture
def closed(agent, dispatcher, yuhu) -> Ticket:
    return closed_ticket(
        agent, dispatcher, yuhu, reply=REPLY, content=CONTENT, caller_name="张伟", consent_public=True, title=""
    )


def publish(ticket, by, **edits) -> PublishedCase:
    d = disclosure.draft(ticket)
    texts = {p.field: p.redacted.text for p in d.parts} | edits
    return disclosure.publish_case(ticket, by, **texts)


def test_the_draft_hides_the_callers_data_and_keeps_the_rest(closed):
    d = disclosure.draft(closed)
    assert d.refusal == ""
    assert d.content.redacted.text == "我是某某，电话[电话]，楼下[车牌号]的车每晚占用消防通道，3栋1302室。"
    assert d.reply.redacted.text == "已联系某先生，交警已对[车牌号]依法处理，消防通道已畅通。"
    assert d.unit.code == "YH" and d.hidden == {"name": 3, "mobile": 2, "plate": 3}


def test_publishing_is_one_entry_on_the_timeline_and_in_the_audit_and_leaves_the_ticket_alone(closed, dispatcher):
    before = Ticket.objects.values().get(pk=closed.pk)
    case = publish(closed, dispatcher, typical=True, content="某某反映：楼下车辆每晚占用消防通道。")
    assert Ticket.objects.values().get(pk=closed.pk) == before  # the original stays untouched
    assert case.is_live and case.typical and case.unit.code == "YH" and case.published_by == dispatcher
    assert (
        case.auto_content.startswith("我是某某，电话[电话]") and case.content == "某某反映：楼下车辆每晚占用消防通道。"
    )
    entry = TimelineEntry.objects.get(ticket=closed, action="ticket.published")
    assert entry.actor == dispatcher and entry.data["edited"] == ["content"] and entry.data["typical"] is True
    audit = AuditEntry.objects.get(action="case.published")
    assert audit.user == dispatcher and list(audit.subjects.values_list("ticket_id", flat=True)) == [closed.pk]
    assert "13807321234" not in str(public_view(case)) and "张伟" not in str(public_view(case))


def test_an_edit_that_brings_a_phone_number_back_is_refused_and_nothing_is_written(closed, dispatcher):
    with pytest.raises(InvalidInput) as refused:
        publish(closed, dispatcher, reply="请联系物业 0731-58581234。")
    assert "0731-58581234" in refused.value.message and refused.value.details["field"] == "reply"
    with pytest.raises(InvalidInput):
        publish(closed, dispatcher, content="张先生说车是他的。")  # the caller's surname form
    assert not PublishedCase.objects.exists() and not TimelineEntry.objects.filter(action="ticket.published").exists()


def test_without_consent_nothing_is_published(agent, dispatcher, yuhu):
    ticket = closed_ticket(agent, dispatcher, yuhu)
    assert ticket.consent_public is False and disclosure.draft(ticket).refusal
    with pytest.raises(NotAllowed):
        publish(ticket, dispatcher)
    assert not PublishedCase.objects.exists()


def test_an_open_ticket_is_not_published(agent, dispatcher):
    ticket = new_ticket(agent, consent_public=True)
    with pytest.raises(IllegalTransition):
        publish(ticket, dispatcher)


def test_only_reviewers_publish(closed, agent, yuhu):
    for who in (agent, yuhu):
        with pytest.raises(NotAllowed):
            publish(closed, who)


def test_a_ticket_is_published_once_and_a_withdrawn_case_stays(closed, dispatcher, supervisor):
    case = publish(closed, dispatcher)
    with pytest.raises(Conflict):
        publish(closed, dispatcher)
    disclosure.withdraw_case(case, supervisor, "市民要求撤回。")
    case.refresh_from_db()
    assert case.withdrawn_by == supervisor and case.withdraw_reason == "市民要求撤回。"
    assert published_case(case.pk) is None and not published_cases().exists()
    with pytest.raises(Conflict):
        disclosure.withdraw_case(case, supervisor, "再次撤回")
    again = publish(closed, dispatcher)  # a withdrawn case may be followed by a new one
    assert PublishedCase.objects.count() == 2 and published_case(again.pk) == again


def test_published_cases_are_found_by_words_topic_and_area(closed, dispatcher):
    case = publish(closed, dispatcher)
    assert list(published_cases("消防通道")) == [case]
    assert list(published_cases("消防 畅通")) == [case]
    assert not published_cases("广场舞").exists()
    assert list(published_cases(topic=Topic.objects.get(code="02"))) == [case]  # the parent topic
    assert not published_cases(topic=Topic.objects.get(code="0101")).exists()
    assert list(published_cases(area=closed.area.parent)) == [case]
    with pytest.raises(InvalidInput):
        published_cases("😀😀")


def test_an_agent_sees_cases_like_what_the_caller_says(closed, dispatcher):
    case = publish(closed, dispatcher)
    assert [m.case for m in matching_cases("有车占用消防通道怎么办")] == [case]
    assert matching_cases("社保卡怎么补办") == [] and matching_cases("😀") == [] and matching_cases("") == []
