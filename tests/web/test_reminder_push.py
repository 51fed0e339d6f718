"""催办 reaches the unit's open workbench through the real ASGI stack (origin → session → router →
UnitConsumer), from the center's manual reminder and from the reminder job; never another unit's."""

from __future__ import annotations

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async

from hotline.services import supervision
from routing import warnings
from tests.factories import dispatched_ticket, lead_assignment
from tests.web.test_consumers import connect_as, receive_until, run

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_manual_reminder_reaches_the_units_workbench_and_no_other(agent, dispatcher, yuhu, yuetang) -> None:
    ticket = dispatched_ticket(agent)

    async def scenario():
        yh, _ = await connect_as(yuhu, "/ws/unit/")
        yt, _ = await connect_as(yuetang, "/ws/unit/")
        await yh.receive_from(timeout=5)  # the snapshot
        await yt.receive_from(timeout=5)
        await sync_to_async(supervision.remind)(ticket, dispatcher, "请今天内签收并联系群众")
        frame = await receive_until(yh, "请今天内签收并联系群众")
        assert 'id="inbox"' in frame and 'data-testid="reminder"' in frame and ticket.number in frame
        assert await yt.receive_nothing(timeout=1)
        await yh.disconnect()
        await yt.disconnect()

    run(scenario)


def test_the_reminder_job_pushes_to_the_unit(agent, yuhu) -> None:
    ticket = dispatched_ticket(agent)
    assignment = lead_assignment(ticket)

    async def scenario():
        yh, _ = await connect_as(yuhu, "/ws/unit/")
        await yh.receive_from(timeout=5)

        # The step takes its "now": the clock of the socket's side stays real (a session is hours long).
        late = assignment.accept_by + timedelta(minutes=5)
        assert await sync_to_async(warnings.send_deadline_warnings)(late) >= 1
        frame = await receive_until(yh, ticket.number)
        assert 'id="inbox"' in frame
        await yh.disconnect()

    run(scenario)
