"""Issue 12, defect 4: a unit cannot ask for more time once its deadline has passed (409 with the reason),
so an overdue assignment never turns into an on-time one in a later period."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from hotline.errors import IllegalTransition
from hotline.models import Extension, Unit
from hotline.services import dispatch, extensions
from tests.conftest import api_as
from tests.factories import new_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def accepted(agent, yuhu):
    lead = dispatch.dispatch_ticket(new_ticket(agent), agent, Unit.objects.get(code="YH"))[0]
    dispatch.accept_assignment(lead, yuhu)
    lead.refresh_from_db()
    return lead


def test_an_extension_asked_after_the_deadline_is_refused_with_the_reason(accepted, yuhu):
    late = time_machine.travel(accepted.reply_by + timedelta(days=3), tick=False)
    with late, pytest.raises(IllegalTransition) as refused:
        extensions.request_extension(accepted, yuhu, accepted.reply_by + timedelta(days=10), "需协调")
    assert "deadline" in refused.value.message and "passed" in refused.value.message
    assert not Extension.objects.exists()


def test_an_extension_asked_in_time_may_still_be_decided_after_the_deadline(accepted, yuhu, dispatcher):
    with time_machine.travel(accepted.reply_by - timedelta(hours=1), tick=False):
        asked = extensions.request_extension(accepted, yuhu, accepted.reply_by + timedelta(days=5), "需协调")
    with time_machine.travel(accepted.reply_by + timedelta(hours=1), tick=False):
        extensions.decide_extension(asked, dispatcher, approve=True)
    accepted.refresh_from_db()
    assert accepted.reply_by == asked.requested_until


def test_the_api_answers_409_in_chinese(accepted, yuhu):
    with time_machine.travel(accepted.reply_by + timedelta(days=3), tick=False):
        response = api_as(yuhu, "zh-hans").post(
            f"/api/v1/assignments/{accepted.pk}/extension/",
            {"until": (accepted.reply_by + timedelta(days=10)).isoformat(), "reason": "需协调"},
            format="json",
        )
    assert response.status_code == 409, response.json()
    assert response.json()["message"].startswith("办理时限（") and "已过" in response.json()["message"]
