"""办件公开 on the pages: the center's publish step, the public case library, the agent's console."""

from __future__ import annotations

import pytest
from django.test import Client

from hotline.models import PublishedCase, Ticket, Topic
from hotline.services import disclosure
from tests.factories import closed_ticket, new_ticket

pytestmark = pytest.mark.django_db

CONTENT = "我是张伟，电话13807321234，楼下湘C12345的车每晚占用消防通道。"
REPLY = "已联系张先生，交警已对违停车辆依法处理，消防通道已畅通。"


def client_for(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def closed(agent, dispatcher, yuhu) -> Ticket:
    return closed_ticket(agent, dispatcher, yuhu, reply=REPLY, content=CONTENT, caller_name="张伟", consent_public=True)


def publish_form(ticket, **edits) -> dict:
    d = disclosure.draft(ticket)
    return {p.field: p.redacted.text for p in d.parts} | edits


def test_the_agent_registers_the_callers_consent(agent):
    html = client_for(agent).get("/agent/").content.decode()
    assert 'name="consent_public"' in html
    form = {"phone": "13800138000", "category": "1", "content": "路灯不亮", "urgency": "normal", "form_token": "t1"}
    from hotline.models import Category

    form["category"] = str(Category.objects.get(code="complaint").pk)
    client_for(agent).post("/agent/register/submit/", form | {"consent_public": "on"})
    assert Ticket.objects.get().consent_public is True


def test_the_publish_step_marks_what_is_hidden_and_publishes(closed, dispatcher):
    client = client_for(dispatcher)
    page = client.get(f"/tickets/{closed.pk}/").content.decode()
    assert f"/tickets/{closed.pk}/publish/" in page
    html = client.get(f"/tickets/{closed.pk}/publish/").content.decode()
    assert "<mark" in html and "13807321234" in html and "[电话]" in html  # the reviewer sees both
    response = client.post(f"/tickets/{closed.pk}/publish/", publish_form(closed, typical="on"))
    case = PublishedCase.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/cases/{case.pk}/" and case.typical


def test_an_edit_with_a_phone_number_comes_back_with_the_text_kept(closed, dispatcher):
    response = client_for(dispatcher).post(
        f"/tickets/{closed.pk}/publish/", publish_form(closed, reply="请联系物业13907325678处理。")
    )
    html = response.content.decode()
    assert response.status_code == 400 and "13907325678" in html and 'data-testid="publish-error"' in html
    assert not PublishedCase.objects.exists()


def test_no_consent_and_open_tickets_are_refused_on_the_page(agent, dispatcher, yuhu):
    no_consent = closed_ticket(agent, dispatcher, yuhu)
    client = client_for(dispatcher)
    assert 'data-testid="publish-refused"' in client.get(f"/tickets/{no_consent.pk}/publish/").content.decode()
    assert client.post(f"/tickets/{no_consent.pk}/publish/", publish_form(no_consent)).status_code == 403
    open_one = new_ticket(agent, consent_public=True)
    assert (
        client.post(f"/tickets/{open_one.pk}/publish/", {"title": "t", "content": "c", "reply": "r"}).status_code == 409
    )
    assert not PublishedCase.objects.exists()


def test_the_public_library_searches_shows_and_never_shows_personal_data(closed, dispatcher):
    case = disclosure.publish_case(closed, dispatcher, **publish_form(closed))
    anonymous = client_for()
    html = anonymous.get("/cases/?q=消防通道").content.decode()
    assert f"/cases/{case.pk}/" in html
    page = anonymous.get(f"/cases/{case.pk}/").content.decode()
    for secret in ("13807321234", "张伟", "湘C12345", closed.number, closed.query_code, closed.address):
        assert secret not in html and secret not in page
    topic = Topic.objects.get(code="0201")
    assert (
        f"/cases/{case.pk}/" in anonymous.get(f"/cases/?topic={topic.parent_id}&area={closed.area_id}").content.decode()
    )
    assert f"/cases/{case.pk}/" not in anonymous.get("/cases/?q=社保卡").content.decode()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("q=😀😀", "no letters or digits"),
        ("page=99", "There is no page 99"),
        ("page=abc", "There is no page abc"),
        ("topic=999999", "could not be used"),
        ("q=" + "字" * 101, "at most 100 characters"),
    ],
)
def test_bad_searches_say_what_was_wrong_and_still_list_cases(closed, dispatcher, query, message):
    case = disclosure.publish_case(closed, dispatcher, **publish_form(closed))
    response = client_for().get(f"/cases/?{query}", HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert response.status_code == 200 and message in html and f"/cases/{case.pk}/" in html


def test_an_empty_search_lists_every_case_and_a_withdrawn_case_is_gone(closed, dispatcher):
    case = disclosure.publish_case(closed, dispatcher, **publish_form(closed))
    assert f"/cases/{case.pk}/" in client_for().get("/cases/?q=&topic=&area=").content.decode()
    response = client_for(dispatcher).post(f"/cases/{case.pk}/withdraw/", {"reason": "市民要求撤回。"})
    assert response.status_code == 302
    assert client_for().get(f"/cases/{case.pk}/").status_code == 404
    assert f"/cases/{case.pk}/" not in client_for().get("/cases/").content.decode()


def test_the_agent_sees_matching_cases_beside_the_knowledge_base(closed, dispatcher, agent):
    case = disclosure.publish_case(closed, dispatcher, **publish_form(closed))
    topic = Topic.objects.get(code="0201")
    html = client_for(agent).get("/agent/knowledge/", {"q": "消防通道被车堵了", "topic": topic.pk}).content.decode()
    assert 'data-testid="kb-case"' in html and f"/cases/{case.pk}/" in html
    html = client_for(agent).get("/agent/knowledge/", {"q": "😀", "topic": "x"}).content.decode()
    assert "kb-case" not in html


def test_a_long_question_on_the_console_still_finds_cases(closed, dispatcher, agent):
    case = disclosure.publish_case(closed, dispatcher, **publish_form(closed))
    question = "消防通道被车堵了" + "，" * 150
    html = client_for(agent).get("/agent/knowledge/", {"q": question}).content.decode()
    assert f"/cases/{case.pk}/" in html


def test_the_library_reads_the_same_number_of_queries_for_one_case_or_many(agent, dispatcher, yuhu):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as seen:
            assert client_for().get("/cases/").status_code == 200
        return len(seen)

    first = closed_ticket(agent, dispatcher, yuhu, consent_public=True)
    disclosure.publish_case(first, dispatcher, **publish_form(first))
    one = queries()
    for n in range(3):
        ticket = closed_ticket(agent, dispatcher, yuhu, consent_public=True, phone=f"1390000000{n}")
        disclosure.publish_case(ticket, dispatcher, **publish_form(ticket))
    # The count, the page's cases with topic, area, unit and category joined, and the form's two lists.
    assert queries() == one <= 6


def test_the_reviewers_list_of_tickets_waiting_to_be_published(closed, agent, dispatcher, yuhu):
    no_consent = closed_ticket(agent, dispatcher, yuhu, phone="13900000009")
    html = client_for(dispatcher).get("/cases/pending/").content.decode()
    assert f"/tickets/{closed.pk}/publish/" in html and no_consent.number not in html
    disclosure.publish_case(closed, dispatcher, **publish_form(closed))
    html = client_for(dispatcher).get("/cases/pending/").content.decode()
    assert 'data-testid="pending-row"' not in html and f"/tickets/{closed.pk}/publish/" in html  # now under published
    assert client_for(agent).get("/cases/pending/").status_code == 403
