"""Issue 12, defect 7: urgent tickets follow 湖南's 当日转办、次日反馈、三日办结 — the center dispatches the
same working day, the unit gives its first feedback (accepts) by the next working day, and the unit
is done in three working days — and the documented settings are the ones the code reads."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings

from hotline.deadlines import NORMAL, RED, dispatch_by, dispatch_level
from hotline.models import SlaPolicy, Unit, Urgency
from hotline.services import dispatch
from hotline.services.calendar import load_calendar
from tests.factories import new_ticket

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
ROOT = Path(__file__).resolve().parents[2]


def test_every_urgent_default_is_next_day_feedback_and_three_day_completion(seeded):
    normal = {p.category.code: p for p in SlaPolicy.objects.filter(urgency=Urgency.NORMAL)}
    urgent = SlaPolicy.objects.filter(urgency=Urgency.URGENT).select_related("category")
    assert urgent.count() == len(normal) == 6
    for policy in urgent:
        # One working day of the default office hours (08:30–17:30), never looser than a normal ticket.
        assert policy.accept_hours == min(9, normal[policy.category.code].accept_hours), policy
        assert policy.reply_days == 3, policy


def test_an_urgent_ticket_is_due_for_dispatch_the_same_day_accept_the_next_and_reply_in_three(agent, seeded):
    calendar = load_calendar()
    with time_machine.travel(datetime(2026, 11, 26, 10, 0, tzinfo=SH), tick=False):  # a Thursday
        ticket = new_ticket(agent, urgency=Urgency.URGENT)
        assert dispatch_by(ticket, calendar).astimezone(SH) == datetime(2026, 11, 26, 23, 59, 59, tzinfo=SH)
        lead = dispatch.dispatch_ticket(ticket, agent, Unit.objects.get(code="YH"))[0]
    assert lead.accept_by.astimezone(SH) == datetime(2026, 11, 27, 10, 0, tzinfo=SH)  # Friday, same hour
    assert lead.reply_by.astimezone(SH) == datetime(2026, 12, 1, 23, 59, 59, tzinfo=SH)  # Fri, Mon, Tue


def test_an_urgent_ticket_registered_on_a_day_off_is_due_for_dispatch_the_next_working_day(agent, seeded):
    with time_machine.travel(datetime(2026, 11, 28, 10, 0, tzinfo=SH), tick=False):  # a Saturday
        ticket = new_ticket(agent, urgency=Urgency.URGENT)
    due = dispatch_by(ticket, load_calendar())
    assert due.astimezone(SH) == datetime(2026, 11, 30, 23, 59, 59, tzinfo=SH)
    assert dispatch_level(ticket, datetime(2026, 11, 30, 23, 0, tzinfo=SH)) == NORMAL
    assert dispatch_level(ticket, datetime(2026, 12, 1, 0, 0, tzinfo=SH)) == RED
    dispatch.dispatch_ticket(ticket, agent, Unit.objects.get(code="YH"))
    ticket.refresh_from_db()
    assert dispatch_level(ticket, datetime(2026, 12, 1, 0, 0, tzinfo=SH)) == NORMAL  # dispatched: nothing to warn


def test_a_normal_ticket_has_no_dispatch_by(agent, seeded):
    ticket = new_ticket(agent)
    assert dispatch_by(ticket, load_calendar()) is None
    assert dispatch_level(ticket) == NORMAL


def test_every_setting_docs_metrics_names_is_one_the_code_reads():
    text = (ROOT / "docs" / "metrics.md").read_text(encoding="utf-8")
    names = set(re.findall(r"`((?:METRICS|HOTLINE)_[A-Z_]+)`", text))
    assert "HOTLINE_REPEAT_WINDOW_DAYS" in names
    assert sorted(n for n in names if not hasattr(settings, n)) == []
