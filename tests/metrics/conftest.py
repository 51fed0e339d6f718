"""A small month with hand-computed KPIs: November 2026 (no public holidays) on the 湘潭 network.

Everything is made through the real services at past moments (time_machine); Call rows are
written directly because they come from the PBX. The expected figures are in
``EXPECTED``, worked out by hand from the story told in ``november`` below.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from hotline.models import Area, Assignment, Category, Ticket, Topic, Unit, User
from hotline.services import assignments, dispatch, extensions, tickets
from metrics.periods import Period
from telephony.models import Call

SH = ZoneInfo("Asia/Shanghai")
NOVEMBER = Period.of("month", datetime(2026, 11, 1).date())
# When the figures are computed: every November deadline has passed.
NOW = datetime(2026, 12, 15, 12, 0, tzinfo=SH)


def at(month: int, day: int, hour: int = 9, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=SH)


def travel(moment: datetime):
    return time_machine.travel(moment, tick=False)


@dataclass
class Story:
    tickets: dict[str, Ticket] = field(default_factory=dict)
    assignments: dict[str, Assignment] = field(default_factory=dict)
    calls: dict[str, Call] = field(default_factory=dict)

    def units(self) -> dict[str, Unit]:
        return {code: Unit.objects.get(code=code) for code in ("XT12345", "YH", "YH01", "YT", "ZJJ")}


def register(agent: User, when: datetime, phone: str, address: str, topic: str = "0201") -> Ticket:
    with travel(when):
        return tickets.register_ticket(
            by=agent,
            phone=phone,
            content="小区楼下广场舞音乐太吵，晚上十点后仍未停止。",
            category=Category.objects.get(code="complaint"),
            topic=Topic.objects.get(code=topic),
            area=Area.objects.get(code="YH01"),
            address=address,
        )


def dispatched(agent: User, handler: User, when: datetime, phone: str, address: str) -> tuple[Ticket, Assignment]:
    """Registered and dispatched to 雨湖区 at ``when``, accepted ten minutes later."""
    ticket = register(agent, when, phone, address)
    with travel(when + timedelta(minutes=2)):
        dispatch.dispatch_ticket(ticket, agent, Unit.objects.get(code="YH"))
    lead = assignments.current_lead(ticket)
    with travel(when + timedelta(minutes=10)):
        dispatch.accept_assignment(lead, handler)
    return ticket, Assignment.objects.get(pk=lead.pk)


def reply(assignment: Assignment, handler: User, when: datetime) -> Assignment:
    with travel(when):
        dispatch.reply_assignment(Assignment.objects.get(pk=assignment.pk), handler, "已处理完毕。")
    return Assignment.objects.get(pk=assignment.pk)


def call(linkedid: str, offered: datetime, outcome: str, wait: int, talk: int | None = None, agent=None) -> Call:
    answered = outcome in ("answered", "transferred_110", "transferred")
    return Call.objects.create(
        linkedid=linkedid,
        queue="12345",
        caller_number="13900000000",
        offered_at=offered,
        answered_at=offered + timedelta(seconds=wait) if answered else None,
        ended_at=offered + timedelta(seconds=wait + (talk or 0)),
        wait_seconds=wait,
        talk_seconds=talk,
        outcome=outcome,
        agent=agent if answered else None,
        agent_interface="PJSIP/1001" if answered else "",
    )


@pytest.fixture
def november(agent, dispatcher, yuhu, chengzheng) -> Story:
    """The month's story; see EXPECTED in test_kpis.py for the figures it gives."""
    story = Story()
    # T1: 雨湖区 replies on the second day, long before the deadline (13 Nov 23:59:59) -> on time.
    t1, a1 = dispatched(agent, yuhu, at(11, 2), "13800000001", "城正街1号")
    story.assignments["t1"] = reply(a1, yuhu, at(11, 3, 10))
    with travel(at(11, 3, 15)):
        tickets.review_reply(Ticket.objects.get(pk=t1.pk), dispatcher, approve=True)
    # T2: replied one minute after its deadline -> late.
    t2, a2 = dispatched(agent, yuhu, at(11, 2, 10), "13800000002", "城正街2号")
    story.assignments["t2"] = reply(a2, yuhu, a2.reply_by + timedelta(minutes=1))
    # T3: the same caller as T1 within 30 days (a repeat); an extension approved before the deadline
    # moves reply_by from 16 Nov to 27 Nov; replied on 25 Nov -> on time.
    t3, a3 = dispatched(agent, yuhu, at(11, 3), "13800000001", "城正街3号")
    with travel(at(11, 5)):
        ext = extensions.request_extension(a3, yuhu, at(11, 27, 23, 59, 59), "需协调多个部门")
    with travel(at(11, 6)):
        extensions.decide_extension(ext, dispatcher, approve=True)
    story.assignments["t3"] = reply(a3, yuhu, at(11, 25, 16))
    # T4: sub-dispatched to 城正街街道, which accepts a day late and never replies: both overdue.
    t4, a4 = dispatched(agent, yuhu, at(11, 4), "13800000004", "城正街4号")
    with travel(at(11, 4, 9, 20)):
        child = dispatch.sub_dispatch(a4, yuhu, Unit.objects.get(code="YH01"), instructions="请核实")
    with travel(at(11, 5, 12)):
        dispatch.accept_assignment(child, chengzheng)
    story.assignments["t4"], story.assignments["t4_child"] = a4, Assignment.objects.get(pk=child.pk)
    # T5: replied and approved in October; reopened after the revisit on 5 Nov, the redo replied on 6 Nov.
    t5, a5 = dispatched(agent, yuhu, at(10, 12), "13800000005", "城正街5号")
    story.assignments["t5_october"] = reply(a5, yuhu, at(10, 14))
    with travel(at(10, 15)):
        tickets.review_reply(Ticket.objects.get(pk=t5.pk), dispatcher, approve=True)
    with travel(at(11, 5)):
        redo = tickets.reopen_ticket(Ticket.objects.get(pk=t5.pk), dispatcher, "回访不满意")
    story.assignments["t5_redo"] = reply(redo, yuhu, at(11, 6))
    # Repeats among tickets that were never dispatched (they count for the city only):
    # A0 on 1 Oct and R1 by the same caller on 1 Nov, 31 days later: not a repeat with a 30-day window.
    story.tickets["a0"] = register(agent, at(10, 1), "13800000010", "岳塘区建设路1号")
    story.tickets["r1"] = register(agent, at(11, 1), "13800000010", "岳塘区建设路2号")
    # R2 then R3 by the same caller 18 days apart: R3 repeats.
    story.tickets["r2"] = register(agent, at(11, 2, 11), "13800000020", "岳塘区建设路3号")
    story.tickets["r3"] = register(agent, at(11, 20), "13800000030", "岳塘区建设路3号")
    # M1 (another caller, another place) merged into R2: a repeat by merge.
    m1 = register(agent, at(11, 21), "13800000040", "岳塘区建设路4号", topic="0202")
    with travel(at(11, 21, 10)):
        tickets.merge_ticket(m1, Ticket.objects.get(pk=story.tickets["r2"].pk), agent, "同一诉求")
    # D1: an invalid call moved to the recycle bin; not a ticket for the repeat rate.
    d1 = register(agent, at(11, 22), "13800000030", "岳塘区建设路3号")
    with travel(at(11, 22, 10)):
        tickets.discard_ticket(d1, dispatcher, "无效来电")
    story.tickets.update(t1=t1, t2=t2, t3=t3, t4=t4, t5=t5, m1=m1, d1=d1)

    # Calls of November (and one of October), straight from the "PBX".
    story.calls = {
        "answered_10s": call("c1", at(11, 2, 9, 5), "answered", 10, 100, agent),
        "answered_20s": call("c2", at(11, 2, 9, 40), "answered", 20, 200, agent),
        "short_abandon_3s": call("c3", at(11, 3, 14), "abandoned", 3),
        "abandoned_30s": call("c4", at(11, 3, 14, 10), "abandoned", 30),
        "timeout_60s": call("c5", at(11, 7, 20), "timeout", 60),
        "ivr_110": call("c6", at(11, 8, 2), "ivr_110", 0),
        "to_110_after_5s": call("c7", at(11, 9, 9), "transferred_110", 5, 60, agent),
        "callback": call("c8", at(11, 9, 11), "callback", 0, 30, agent),
        "october": call("c9", at(10, 31, 23, 59), "answered", 4, 30, agent),
    }
    return story


DECEMBER = Period.of("month", datetime(2026, 12, 1).date())


@pytest.fixture
def rated_december(agent, dispatcher, zhujian) -> dict[str, object]:
    """Six tickets of 市住建局 revisited in December through the callback services.

    very satisfied, satisfied, basically satisfied, unsatisfied (appeal granted), very unsatisfied,
    and one caller never reached.
    """
    from callback import revisits

    results = [
        "very_satisfied",
        "satisfied",
        "basically_satisfied",
        "unsatisfied",
        "very_unsatisfied",
        None,
    ]
    made = {}
    for index, rating in enumerate(results):
        day = 1 + index
        ticket = register(agent, at(12, day, 9), f"1390000010{index}", f"韶山路{index}号")
        with travel(at(12, day, 9, 5)):
            dispatch.dispatch_ticket(ticket, agent, Unit.objects.get(code="ZJJ"))
        lead = assignments.current_lead(ticket)
        with travel(at(12, day, 9, 10)):
            dispatch.accept_assignment(lead, zhujian)
        reply(lead, zhujian, at(12, day, 15))
        with travel(at(12, day, 16)):
            tickets.review_reply(Ticket.objects.get(pk=ticket.pk), dispatcher, approve=True)
            revisit = revisits.schedule_revisit(Ticket.objects.get(pk=ticket.pk))
        # Each answer is taken when the revisit is due (a weekend puts it off to Monday), never before.
        if rating is None:
            while revisit.status != "unreachable":
                with travel(max(at(12, day + 1, 10), revisit.scheduled_for)):
                    revisit = revisits.record_result(revisit, agent, reached=False)
        else:
            with travel(max(at(12, day + 1, 10), revisit.scheduled_for)):
                revisit = revisits.record_result(revisit, agent, rating=rating, solved=rating != "unsatisfied")
        made[rating or "unreachable"] = revisit
    with travel(at(12, 10, 10)):
        appeal = revisits.raise_appeal(made["unsatisfied"], zhujian, "市民诉求超出政策范围")
        revisits.decide_appeal(appeal, dispatcher, grant=True, note="申诉成立")
    return made
