"""Issue 12, defect 1: an assignment withdrawn after its deadline passed is late, not gone.

December 2026 (no public holidays). Four complaints go to 雨湖区 on 1 Dec; a complaint has ten
working days, so every deadline is 15 Dec 23:59:59:
- T1 is reassigned to 岳塘区 on 17 Dec, overdue: 雨湖区's part counts late in December;
- T2 is reassigned to 岳塘区 on 3 Dec, before its deadline: 雨湖区 is not judged on it;
- T3 is merged into T4 on 17 Dec, overdue: late at 雨湖区 again.
岳塘区 replies to both of its parts the day after it got them: on time, deadlines in December.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from hotline.models import Ticket, Unit
from hotline.services import dispatch, tickets
from hotline.services.assignments import current_lead
from metrics import kpis
from metrics.kpis import Figure
from metrics.periods import Period

from .conftest import SH, at, register, reply, travel

pytestmark = pytest.mark.django_db

DECEMBER = Period.of("month", datetime(2026, 12, 1).date())
NOW = datetime(2027, 1, 20, 12, 0, tzinfo=SH)


def to_yuhu(agent, when: datetime, phone: str) -> Ticket:
    ticket = register(agent, when, phone, f"雨湖区韶山路{phone[-2:]}号")
    with travel(when):
        dispatch.dispatch_ticket(ticket, agent, Unit.objects.get(code="YH"))
    return Ticket.objects.get(pk=ticket.pk)


def reassign_to_yuetang(ticket: Ticket, dispatcher, when: datetime, yuetang) -> None:
    with travel(when):
        ticket = Ticket.objects.get(pk=ticket.pk)
        made = dispatch.reassign_ticket(ticket, dispatcher, Unit.objects.get(code="YT"), "属地调整")
    with travel(at(when.month, when.day + 1, 9)):
        dispatch.accept_assignment(made, yuetang)
    reply(made, yuetang, at(when.month, when.day + 1, 10))


@pytest.fixture
def withdrawn_december(agent, dispatcher, yuetang):
    t1 = to_yuhu(agent, at(12, 1, 9), "13800000101")
    t2 = to_yuhu(agent, at(12, 1, 10), "13800000102")
    t3 = to_yuhu(agent, at(12, 1, 11), "13800000103")
    t4 = register(agent, at(12, 1, 12), "13800000104", "雨湖区韶山路04号")
    assert current_lead(t1).reply_by == at(12, 15, 23, 59, 59)
    reassign_to_yuetang(t1, dispatcher, at(12, 17, 9), yuetang)
    reassign_to_yuetang(t2, dispatcher, at(12, 3, 9), yuetang)
    with travel(at(12, 17, 11)):
        tickets.merge_ticket(Ticket.objects.get(pk=t3.pk), Ticket.objects.get(pk=t4.pk), dispatcher, "同一诉求")


def test_an_assignment_withdrawn_after_its_deadline_counts_late_in_its_deadline_period(withdrawn_december):
    yuhu, yuetang = Unit.objects.get(code="YH"), Unit.objects.get(code="YT")
    assert kpis.on_time_rate(DECEMBER, yuhu, rollup=False, now=NOW) == Figure(0, 2)
    assert kpis.on_time_rate(DECEMBER, yuetang, rollup=False, now=NOW) == Figure(2, 2)
    assert kpis.on_time_rate(DECEMBER, now=NOW) == Figure(2, 4)
    # The grouped computation for every unit says the same.
    table = {row["unit"].code: row for row in kpis.kpis_for_all_units(DECEMBER, now=NOW)}
    assert table["YH"]["own"]["on_time_rate"] == Figure(0, 2)
    assert table["XT12345"]["rollup"]["on_time_rate"] == Figure(2, 4)
