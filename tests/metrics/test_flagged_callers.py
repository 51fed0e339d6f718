"""The repeats of flagged callers are a line of their own, and stay in the repeat complaint rate;
the caller history the center reviews before flagging."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from hotline.models import Unit
from hotline.services import callers, dispatch
from metrics import callers as analysis
from metrics import kpis
from metrics.kpis import Figure
from metrics.periods import Period
from telephony.models import Call
from tests.factories import new_ticket

pytestmark = pytest.mark.django_db

NOVEMBER = Period.of("month", date(2026, 11, 1))


def at(day: int, hour: int = 2) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


def ticket_on(day: int, agent, phone: str, **extra):
    with time_machine.travel(at(day)):
        return new_ticket(agent, phone=phone, address=f"{phone}号", **extra)


def test_flagged_callers_repeats_are_counted_apart_and_not_taken_out_of_the_kpi(agent, supervisor):
    first = ticket_on(2, agent, "13900139000")  # not a repeat
    ticket_on(3, agent, "13900139000")  # a repeat before the flag: an ordinary repeat
    with time_machine.travel(at(4)):
        flag = callers.set_flag(first.caller, supervisor, "persistent", "同一诉求反复来电", at(20))
    flagged = [ticket_on(day, agent, "13900139000") for day in (5, 6)]  # repeats under the flag
    ticket_on(10, agent, "13700137000")
    ticket_on(11, agent, "13700137000")  # somebody else's repeat
    with time_machine.travel(at(12)):
        callers.lift_flag(first.caller, supervisor, "已解决")
    ticket_on(13, agent, "13900139000")  # after the flag was lifted: ordinary again

    assert kpis.repeat_rate(NOVEMBER) == Figure(5, 7)  # every repeat stays in the KPI
    assert kpis.flagged_repeats(NOVEMBER) == Figure(2, 5)  # of which by a flagged caller
    assert flag.pk and all(t.repeat_of_id for t in flagged)

    # A unit's figure through its lead assignments.
    yuhu = Unit.objects.get(code="YH")
    dispatch.dispatch_ticket(flagged[0], agent, yuhu)
    assert kpis.flagged_repeats(NOVEMBER, yuhu) == Figure(1, 1)


def test_the_history_counts_calls_tickets_repeats_and_reports_per_span(agent):
    with time_machine.travel(at(20)):
        caller = new_ticket(agent, phone="13900139000").caller
        repeat = new_ticket(agent, phone="13900139000", address="别处")
        callers.report_caller(caller, agent, "辱骂", ticket=repeat)
    for days_ago in (1, 10, 100):
        Call.objects.create(linkedid=f"L{days_ago}", caller=caller, caller_number="13900139000",
                            offered_at=at(28) - timedelta(days=days_ago))  # fmt: skip
    history = analysis.caller_history(caller, now=at(28))
    by_days = {s.days: (s.calls, s.tickets, s.repeats, s.reports) for s in history["spans"]}
    assert by_days[7] == (1, 0, 0, 0)
    assert by_days[30] == (2, 2, 1, 1)
    assert by_days[365] == (3, 2, 1, 1)
    assert (history["total"].calls, history["pending_reports"]) == (3, 1)


def test_the_review_list_shows_reported_frequent_and_flagged_callers(agent, supervisor):
    with time_machine.travel(at(20)):
        reported = new_ticket(agent, phone="13900139000")
        callers.report_caller(reported.caller, agent, "", ticket=reported)
        frequent = [new_ticket(agent, phone="13700137000", address=f"{i}号") for i in range(4)]
        quiet = new_ticket(agent, phone="13600136000")
        callers.set_flag(quiet.caller, supervisor, "nuisance", "恶作剧来电", at(27))

    def ids(view, day=21):
        return [c.pk for c in analysis.review_list(view, now=at(day))]

    assert ids("review") == [reported.caller_id]
    assert ids("frequent") == [frequent[0].caller_id]
    assert ids("flagged") == [quiet.caller_id]
    assert ids("flagged", day=28) == []  # expired
    assert set(ids("all", day=28)) == {reported.caller_id, frequent[0].caller_id, quiet.caller_id}
    row = next(c for c in analysis.review_list("frequent", now=at(21)))
    assert (row.tickets_recent, row.repeats_recent, row.reports_pending) == (4, 3, 0)
