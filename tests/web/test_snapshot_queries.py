"""A console's snapshot costs as many queries for 3 rows as for 20 (no query per row).

Each test fills a console with n rows, then renders the fragments its socket sends (the
snapshot and the templates together: a template reaching for an unloaded relation is a
query per row too) under ``django_assert_num_queries`` with one pinned count for every n.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.template.loader import render_to_string

from callback.models import CallbackStatus, CallbackTask, Revisit, RevisitStatus
from hotline.models import Unit
from hotline.services import callers, dispatch, extensions
from metrics.models import HotSpot
from telephony.models import Call, Outcome
from tests.factories import dispatched_ticket, lead_assignment, new_ticket
from web.views import snapshots as snap

pytestmark = pytest.mark.django_db

SIZES = [3, 20]
# Friday 2026-11-27, 10:00 in Shanghai: a working day, inside calling hours (revisits are due).
MORNING = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
AREAS = ["YH01", "YH02", "YT01", None]  # street areas (named with their district) and none
LEADS = ["YH", "YT", "ZJJ"]

# Pinned counts. A change here is a change in what every console refresh costs: look at the queries.
DISPATCH_QUEUE = 8  # waiting (count + page), one read of the dispatch rules, disputes, extensions, replies,
# their leads, the supervision marks
UNIT_INBOX = 6  # the calendar (days, years), the assignments, the streets' parts (a level-2 unit), their
# supervision marks and 催办
WALLBOARD = 17  # waiting calls (count, oldest), agent states, today's calls, five KPIs, overdue by unit,
# the hot spots and their tickets, desks (3), answered calls by wrap-up code (the counts, the codes)
AGENT_CONSOLE = 14  # the current call (answered: "on a call" needs no state row), caller history (2),
# callbacks (mine, due, count), revisits (mine, due, count), the audit entry of the numbers shown and its subjects,
# the revisit script (once, however many revisits), the agent's desks (skills), the units' duty phones a call
# can be transferred to (one read, however many units)


@pytest.fixture(autouse=True)
def _morning():
    with time_machine.travel(MORNING, tick=True):
        yield


def render(*fragments: tuple[str, dict]) -> str:
    return "".join(render_to_string(template, ctx) for template, ctx in fragments)


def call(number: str, offered_at: datetime, **extra) -> Call:
    """A call row as the bridge stores it."""
    return Call.objects.create(
        linkedid=f"{offered_at.timestamp():.0f}.{Call.objects.count()}",
        caller_number=number,
        queue="12345",
        offered_at=offered_at,
        **extra,
    )


@pytest.mark.parametrize("n", SIZES)
def test_the_dispatch_queue_reads_the_rules_once_for_the_page(n, agent, yuhu, django_assert_num_queries):
    for i in range(n):
        new_ticket(agent, phone=f"1380013{i:04d}", area=AREAS[i % len(AREAS)], address=f"雨湖区{i}号")
        assignment = lead_assignment(dispatched_ticket(agent, phone=f"1390013{i:04d}", address=f"岳塘区{i}号"))
        dispatch.accept_assignment(assignment, yuhu)
        if i % 2:
            dispatch.reply_assignment(assignment, yuhu, "已处理。")
        else:
            extensions.request_extension(assignment, yuhu, assignment.reply_by + timedelta(days=3), "需要协调")

    with django_assert_num_queries(DISPATCH_QUEUE):
        html = render(("web/center/_dispatch.html", snap.dispatch_queue()))

    assert html.count('data-testid="waiting-row"') == n
    assert html.count('name="unit"') >= n  # every waiting ticket got its suggestions
    assert html.count('data-testid="review-row"') == n // 2


@pytest.mark.parametrize("n", SIZES)
def test_the_unit_inbox(n, agent, yuhu, django_assert_num_queries):
    for i in range(n):
        ticket = dispatched_ticket(agent, phone=f"1390013{i:04d}", topic=["0201", "0502"][i % 2])
        if i % 2:
            dispatch.accept_assignment(lead_assignment(ticket), yuhu)
    unit = Unit.objects.get(pk=yuhu.unit_id)

    with django_assert_num_queries(UNIT_INBOX):
        html = render(("web/unit/_inbox.html", snap.unit_inbox(unit)))

    assert html.count('data-testid="inbox-row"') == n


@pytest.mark.parametrize("n", SIZES)
def test_the_wallboard(n, agent, django_assert_num_queries):
    with time_machine.travel(MORNING - timedelta(days=40), tick=True):
        made = [  # long past their deadlines by now
            dispatched_ticket(agent, lead=LEADS[i % len(LEADS)], phone=f"1390013{i:04d}") for i in range(n)
        ]
    spot = HotSpot.objects.create(  # a hot spot of all of them, as the scan would record it
        district=made[0].area.parent, topic=made[0].topic, title="广场舞", ticket_count=n, baseline=0.0,
        window_hours=24, first_at=MORNING, last_at=MORNING,
    )  # fmt: skip
    spot.tickets.set(made)
    for i in range(n):
        at = MORNING - timedelta(minutes=5 + i)
        call(f"1370013{i:04d}", at, answered_at=at + timedelta(seconds=8), outcome=Outcome.ANSWERED, wait_seconds=8)
        call(f"1360013{i:04d}", at, ended_at=at + timedelta(seconds=50), outcome=Outcome.ABANDONED, wait_seconds=50)
        call(f"1350013{i:04d}", MORNING - timedelta(seconds=10 * i))  # waiting in the queue now

    with django_assert_num_queries(WALLBOARD):
        ctx = snap.wallboard(MORNING)
        html = render(
            ("web/center/_queues.html", ctx),
            ("web/center/_today.html", ctx),
            ("web/center/_overdue.html", ctx),
            ("web/center/_hotspots.html", ctx),
            ("web/center/_desks.html", ctx),
        )

    assert ctx["queues"][""]["waiting"] == n
    general = next(d for d in ctx["desks"] if d["queue"] == "12345")
    assert (general["waiting"], general["today"]["answered"], general["today"]["abandoned"]) == (n, n, n)
    assert ctx["today"]["answered"] == n
    assert ctx["wrapups"][-1] == {"code": "", "name": "Not chosen", "calls": n}  # none coded
    assert html.count('data-testid="wb-wrapup"') == 7
    assert sum(row["n"] for row in ctx["overdue"]) == n
    assert html.count('data-testid="wb-hotspot"') == 1 and made[0].number in html


@pytest.mark.parametrize("n", SIZES)
def test_the_agent_console(n, agent, supervisor, django_assert_num_queries):
    caller = new_ticket(agent, phone="13700137000").caller
    for i in range(n - 1):  # a repeat caller: n tickets in the screen pop
        new_ticket(agent, phone="13700137000", address=f"雨湖区{i}号")
    # Flagged by the center: the flag comes with the caller's row (no query of its own).
    callers.set_flag(caller, supervisor, "persistent", "同一诉求反复来电", MORNING + timedelta(days=7))
    call(caller.phone, MORNING - timedelta(minutes=2), caller=caller, agent=agent, answered_at=MORNING)
    for i in range(n):
        missed = MORNING - timedelta(minutes=30 + i)
        CallbackTask.objects.create(number=f"1360013{i:04d}", missed_at=missed, next_attempt_at=missed)
        CallbackTask.objects.create(
            number=f"1340013{i:04d}",
            missed_at=missed,
            next_attempt_at=missed,
            status=CallbackStatus.OFFERED,
            agent=agent,
        )
        for status, holder in ((RevisitStatus.SCHEDULED, None), (RevisitStatus.IN_PROGRESS, agent)):
            assignment = lead_assignment(dispatched_ticket(agent, phone=f"1390013{i:04d}", address=f"{status}{i}"))
            Revisit.objects.create(
                ticket_id=assignment.ticket_id,
                assignment=assignment,
                unit_id=assignment.unit_id,
                status=status,
                agent=holder,
                scheduled_for=MORNING - timedelta(hours=1),
            )

    with django_assert_num_queries(AGENT_CONSOLE):
        ctx = snap.agent_console(agent)
        html = render(*[(f"web/agent/_{part}.html", ctx) for part in ("state", "pop", "missed", "revisits")])

    assert len(ctx["pop"]["previous_tickets"]) == min(n, 10)  # the pop lists the latest ten
    assert 'data-testid="agent-desks"' in html
    assert 'data-testid="pop-flag"' in html and "同一诉求反复来电" in html
    assert html.count('data-testid="revisit-mine"') == min(n, 8)
    assert ctx["missed_total"] == n
