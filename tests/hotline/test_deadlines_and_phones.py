"""Warning levels, the return window, and phone numbers."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from hotline.deadlines import NORMAL, RED, YELLOW, warning_level
from hotline.errors import IllegalTransition
from hotline.lib.phones import InvalidPhone, mask_phone, national_digits, normalize_phone
from hotline.services import dispatch
from tests.factories import dispatched_ticket, lead_assignment

SH = ZoneInfo("Asia/Shanghai")


def test_warning_turns_yellow_the_working_day_before_and_red_after_the_deadline(agent):
    with time_machine.travel(datetime(2026, 11, 2, 9, tzinfo=SH), tick=False):  # a Monday
        lead = lead_assignment(dispatched_ticket(agent, category="help"))  # 5 working days: Mon Nov 9
    assert lead.reply_by.astimezone(SH).date().isoformat() == "2026-11-09"
    assert warning_level(lead, now=datetime(2026, 11, 5, 12, tzinfo=SH)) == NORMAL
    assert warning_level(lead, now=datetime(2026, 11, 6, 12, tzinfo=SH)) == YELLOW  # Friday: next working day is Mon
    assert warning_level(lead, now=datetime(2026, 11, 10, 0, 1, tzinfo=SH)) == RED


def test_a_unit_cannot_return_after_its_accept_by_deadline(agent, yuhu):
    ticket = dispatched_ticket(agent)
    lead = lead_assignment(ticket)
    with time_machine.travel(lead.accept_by + timedelta(minutes=1), tick=False):
        with pytest.raises(IllegalTransition, match="dispute"):
            dispatch.return_assignment(lead, yuhu, "不属于本单位")
        accepted = dispatch.accept_assignment(lead, yuhu)  # late, but the unit can still take it
    assert accepted.status == "accepted"


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("13800138000", "+8613800138000"),
        ("+86 138-0013-8000", "+8613800138000"),
        ("0731-58123456", "+867315812345" + "6"),
    ],
)
def test_numbers_are_normalised_to_e164(raw, e164):
    assert normalize_phone(raw) == e164


@pytest.mark.parametrize("raw", ["", "110", "+44 20 7946 0958", "1380013800x", "1" * 40])
def test_bad_numbers_are_refused(raw):
    with pytest.raises(InvalidPhone):
        normalize_phone(raw)


def test_masking_keeps_the_first_three_and_last_four_digits():
    assert mask_phone("+8613800138000") == "138****8000"
    assert national_digits("+8613800138000") == "13800138000"
