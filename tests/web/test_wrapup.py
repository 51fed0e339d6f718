"""话后小结: the wrap-up code an agent gives a call during wrap-up, its rules and its statistics."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib import admin
from django.test import Client, RequestFactory
from django.utils import timezone

from hotline.errors import IllegalTransition, InvalidInput, NotAllowed
from hotline.models import Role
from metrics.callcenter import wrapup_stats
from metrics.periods import Period
from telephony import wrapup
from telephony.models import Call, WrapUpCode
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def ended_call(agent, *, seconds_ago: float = 1, n: int = 1, **extra) -> Call:
    now = timezone.now()
    return Call.objects.create(
        linkedid=f"w.{n}",
        agent=agent,
        offered_at=now - timedelta(seconds=seconds_ago + 60),
        answered_at=now - timedelta(seconds=seconds_ago + 50),
        ended_at=now - timedelta(seconds=seconds_ago),
        wait_seconds=10,
        talk_seconds=50,
        outcome="answered",
        **extra,
    )


def test_the_codes_are_seeded_in_order():
    assert [c.name for c in wrapup.codes()] == ["咨询已解答", "已登记工单", "转110", "无效来电", "骚扰来电", "其他"]


def test_an_agent_codes_their_call_during_wrap_up_and_may_correct_it(agent, settings):
    settings.AGENT_WRAPUP_SECONDS = 30
    call = ended_call(agent)
    wrapup.choose(agent, call.pk, "invalid")
    call.refresh_from_db()
    assert (call.wrapup_code.code, call.wrapup_by, call.wrapup_at is not None) == ("invalid", agent, True)
    # A second code within the wrap-up time replaces the first (a misclick corrected).
    wrapup.choose(agent, call.pk, "harassment")
    call.refresh_from_db()
    assert call.wrapup_code.code == "harassment"


def test_bad_input_is_refused_and_changes_nothing(agent, settings):
    settings.AGENT_WRAPUP_SECONDS = 30
    other = make_user("agent_h11_other", Role.AGENT)
    call = ended_call(agent)
    with pytest.raises(InvalidInput):
        wrapup.choose(agent, call.pk, "no-such-code")
    WrapUpCode.objects.filter(code="other").update(active=False)
    with pytest.raises(InvalidInput):  # deactivated: no longer offered nor accepted
        wrapup.choose(agent, call.pk, "other")
    with pytest.raises(NotAllowed):  # another agent's call
        wrapup.choose(other, call.pk, "answered")
    with pytest.raises(NotAllowed):  # no such call
        wrapup.choose(agent, call.pk + 1000, "answered")
    late = ended_call(agent, seconds_ago=31, n=2)
    with pytest.raises(IllegalTransition):  # the wrap-up time is over: left as 未选择
        wrapup.choose(agent, late.pk, "answered")
    live = ended_call(agent, n=3)
    Call.objects.filter(pk=live.pk).update(ended_at=None)
    with pytest.raises(IllegalTransition):  # still on the call
        wrapup.choose(agent, live.pk, "answered")
    assert not Call.objects.filter(wrapup_code__isnull=False).exists()


def test_the_console_asks_during_wrap_up_and_pre_selects_the_ticket_code(agent, settings):
    settings.AGENT_WRAPUP_SECONDS = 30
    from tests.factories import new_ticket

    ticket = new_ticket(agent)
    call = ended_call(agent, ticket=ticket)
    page = client_for(agent).get("/agent/").content.decode()
    assert page.count('data-testid="wrapup-code"') == 6
    assert 'data-code="ticket" aria-pressed="true"' in page

    answer = client_for(agent).post("/agent/wrapup/", {"call": call.pk, "code": "answered"}).content.decode()
    assert 'data-code="answered" aria-pressed="true"' in answer and 'data-testid="wrapup-chosen"' in answer
    assert Call.objects.get(pk=call.pk).wrapup_code.code == "answered"


@pytest.mark.parametrize(
    "data, message",
    [
        ({"code": "answered"}, "Which call?"),
        ({"call": "x", "code": "answered"}, "Which call?"),
        ({"call": "{pk}", "code": "nope"}, "Unknown wrap-up code"),
        ({"call": "{other}", "code": "answered"}, "This is not your call."),
    ],
)
def test_the_view_says_what_is_wrong_and_changes_nothing(agent, settings, data, message):
    settings.AGENT_WRAPUP_SECONDS = 30
    call = ended_call(agent)
    other = ended_call(make_user("agent_h11_other", Role.AGENT), n=2)
    data = {k: v.format(pk=call.pk, other=other.pk) for k, v in data.items()}
    response = client_for(agent).post("/agent/wrapup/", data)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="state-error"' in body and message in body
    assert not Call.objects.filter(wrapup_code__isnull=False).exists()


def test_after_the_wrap_up_time_the_console_no_longer_asks(agent, settings):
    settings.AGENT_WRAPUP_SECONDS = 30
    ended_call(agent, seconds_ago=40)
    assert 'data-testid="wrapup"' not in client_for(agent).get("/agent/").content.decode()


def test_statistics_per_code_count_no_code_as_not_chosen_or_the_ticket_default(agent, settings):
    settings.AGENT_WRAPUP_SECONDS = 30
    from tests.factories import new_ticket

    coded = [ended_call(agent, n=n) for n in range(3)]
    for call, code in zip(coded, ["answered", "answered", "harassment"], strict=True):
        wrapup.choose(agent, call.pk, code)
    ended_call(agent, n=10)  # not chosen
    ended_call(agent, n=11, ticket=new_ticket(agent))  # not chosen, a ticket from it: 已登记工单
    WrapUpCode.objects.filter(code="other").update(active=False)  # inactive, no calls: not listed
    rows = {r["name"]: r["calls"] for r in wrapup_stats(Period.of("day", timezone.localdate()))}
    assert rows == {"咨询已解答": 2, "已登记工单": 1, "转110": 0, "无效来电": 0, "骚扰来电": 1, "Not chosen": 1}


def test_codes_are_never_deleted_in_the_admin(supervisor):
    model_admin = admin.site._registry[WrapUpCode]
    request = RequestFactory().get("/admin/")
    request.user = make_user("root", Role.ADMIN, is_superuser=True, is_staff=True)
    assert model_admin.has_delete_permission(request) is False


def test_a_paused_agent_is_asked_too_and_the_panel_asks_again_when_the_time_is_up(agent, settings):
    from telephony.models import AgentState, AgentStatus

    settings.AGENT_WRAPUP_SECONDS = 30
    AgentState.objects.create(user=agent, status=AgentStatus.PAUSED, reason="break")
    ended_call(agent, seconds_ago=10)
    page = client_for(agent).get("/agent/state/").content.decode()
    assert 'data-testid="wrapup"' in page
    assert re.search(r'hx-trigger="load delay:(19|20)s"', page), page[:600]
