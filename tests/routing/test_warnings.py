"""Deadline warnings: one timeline entry and one reminder to the unit per yellow/red transition."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from hotline.events import unit_group
from hotline.models import TimelineEntry
from routing import warnings
from tests.factories import dispatched_ticket, lead_assignment

pytestmark = pytest.mark.django_db


def test_yellow_then_red_each_announced_once(agent, django_capture_on_commit_callbacks, monkeypatch) -> None:
    sent: list[tuple[list[str], dict]] = []
    monkeypatch.setattr("hotline.events._send", lambda groups, event: sent.append((groups, event)))
    ticket = dispatched_ticket(agent)
    assignment = lead_assignment(ticket)
    for moment in (assignment.reply_by - timedelta(hours=3), assignment.reply_by + timedelta(minutes=1)):
        with time_machine.travel(moment, tick=False), django_capture_on_commit_callbacks(execute=True):
            assert warnings.send_deadline_warnings() == 1
            assert warnings.send_deadline_warnings() == 0
    actions = list(
        TimelineEntry.objects.filter(ticket=ticket, action__startswith="assignment.deadline").values_list(
            "action", flat=True
        )
    )
    assert actions == ["assignment.deadline_yellow", "assignment.deadline_red"]
    reminders = [(g, e) for g, e in sent if e["type"] == "ticket.reminder"]
    assert [(g, e["level"]) for g, e in reminders] == [
        ([unit_group(assignment.unit_id)], "yellow"),
        ([unit_group(assignment.unit_id)], "red"),
    ]


def test_an_assignment_far_from_its_deadline_is_not_warned(agent) -> None:
    dispatched_ticket(agent)
    assert warnings.send_deadline_warnings() == 0
