"""Working days on the Chinese calendar: holidays, 调休 Saturdays, and years with no data yet."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from hotline.lib.workcal import WorkCalendar
from hotline.models import CalendarDay, CalendarYear, TimelineEntry
from hotline.services.assignments import recompute_provisional_deadlines
from hotline.services.calendar import load_calendar, provisional_years, seed_year
from tests.factories import dispatched_ticket, lead_assignment

SH = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        # National Day 2026: Oct 1–7 off, Saturday Oct 10 worked.
        (date(2026, 9, 30), 5, date(2026, 10, 13)),
        # Spring Festival 2026: Saturday Feb 14 is a workday, Feb 15–23 off.
        (date(2026, 2, 13), 1, date(2026, 2, 14)),
        (date(2026, 2, 14), 1, date(2026, 2, 24)),
        # Saturday Feb 28 is worked too.
        (date(2026, 2, 27), 1, date(2026, 2, 28)),
        # An ordinary week: Friday + 1 = Monday.
        (date(2026, 11, 27), 1, date(2026, 11, 30)),
        (date(2026, 11, 27), 0, date(2026, 11, 27)),
    ],
)
def test_working_days_follow_the_official_2026_schedule(seeded, start, days, expected):
    day, provisional = load_calendar().add_working_days(start, days)
    assert day == expected
    assert provisional is False


def test_a_deadline_reaching_a_year_without_official_data_is_provisional_not_a_crash(seeded):
    # 2026-12-14 + 15 working days walks into 2027, which chinese-calendar 1.11 does not know.
    calendar = load_calendar()
    day, provisional = calendar.add_working_days(date(2026, 12, 14), 15)
    # Dec 15–31 has 13 weekdays; 2027-01-01 is New Year's Day (a computed festival); then Jan 4, 5.
    assert day == date(2027, 1, 5)
    assert provisional is True


def test_a_year_nobody_entered_still_gets_weekends_and_computed_festivals(seeded):
    calendar = load_calendar()
    assert 2027 not in calendar.official_years
    assert not calendar.is_workday(date(2027, 2, 8))  # Spring Festival, from the lunar calendar
    assert not calendar.is_workday(date(2027, 1, 2))  # a Saturday
    assert calendar.is_workday(date(2027, 1, 4))


def test_packages_agree_on_2026(seeded):
    report = seed_year(2026)
    assert report.official
    assert report.disagreements == []


def test_admins_are_told_which_years_lack_an_official_schedule(seeded):
    with time_machine.travel(datetime(2026, 11, 27, 10, tzinfo=SH), tick=False):
        assert provisional_years() == [2027]


def test_hours_deadline_counts_office_hours_only():
    calendar = WorkCalendar.build([date(2026, 10, 1)], [], [2026], office_hours="08:30-17:30")
    # Friday 16:30 + 2 working hours = Monday 09:30.
    start = datetime(2026, 11, 27, 16, 30, tzinfo=SH)
    assert calendar.hours_deadline(start, 2).at.astimezone(SH) == datetime(2026, 11, 30, 9, 30, tzinfo=SH)
    # Before opening, the clock starts at opening.
    start = datetime(2026, 11, 26, 6, 0, tzinfo=SH)
    assert calendar.hours_deadline(start, 1).at.astimezone(SH) == datetime(2026, 11, 26, 9, 30, tzinfo=SH)


LUNCH_BREAK = "08:30-12:00,14:00-17:30"
NATIONAL_DAY = [date(2026, 10, day) for day in range(1, 8)]


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        # Thursday 11:00 + 2 h: one hour before lunch, one after it.
        (datetime(2026, 11, 26, 11, 0, tzinfo=SH), 2, datetime(2026, 11, 26, 15, 0, tzinfo=SH)),
        # During the break the clock waits for 14:00.
        (datetime(2026, 11, 26, 12, 30, tzinfo=SH), 1, datetime(2026, 11, 26, 15, 0, tzinfo=SH)),
        # 11:00 + 1 h ends as the break starts, not after it.
        (datetime(2026, 11, 26, 11, 0, tzinfo=SH), 1, datetime(2026, 11, 26, 12, 0, tzinfo=SH)),
        # One working day is 7 hours: Thursday 10:00 + 7 h = 2 + 3.5 h, then Friday 08:30 + 1.5 h.
        (datetime(2026, 11, 26, 10, 0, tzinfo=SH), 7, datetime(2026, 11, 27, 10, 0, tzinfo=SH)),
        # Friday 16:30 + 2 h = 1 h on Friday, 1 h on Monday morning.
        (datetime(2026, 11, 27, 16, 30, tzinfo=SH), 2, datetime(2026, 11, 30, 9, 30, tzinfo=SH)),
        # 30 Sep 16:00 + 3 h: 1.5 h, the National Day holiday, then 8 Oct 08:30 + 1.5 h.
        (datetime(2026, 9, 30, 16, 0, tzinfo=SH), 3, datetime(2026, 10, 8, 10, 0, tzinfo=SH)),
        # After closing, the next working morning.
        (datetime(2026, 11, 26, 18, 0, tzinfo=SH), 4, datetime(2026, 11, 27, 14, 30, tzinfo=SH)),
    ],
)
def test_hours_deadlines_skip_the_lunch_break(start, hours, expected):
    calendar = WorkCalendar.build(NATIONAL_DAY, [], [2026], office_hours=LUNCH_BREAK)
    assert calendar.hours_deadline(start, hours).at.astimezone(SH) == expected


@pytest.mark.parametrize("text", ["08:30-12:00,11:00-17:30", "14:00-17:30,08:30-12:00", "08:30", "", "08:30-12:00,"])
def test_office_hours_that_overlap_or_are_out_of_order_are_refused(text):
    with pytest.raises(ValueError):
        WorkCalendar.build([], [], [2026], office_hours=text)


def test_the_office_hours_setting_takes_several_spans(seeded, settings):
    settings.HOTLINE_OFFICE_HOURS = " 08:30-12:00 , 14:00-17:30 "
    start = datetime(2026, 11, 26, 11, 0, tzinfo=SH)
    assert load_calendar().hours_deadline(start, 2).at.astimezone(SH) == datetime(2026, 11, 26, 15, 0, tzinfo=SH)


def test_days_deadline_ends_at_the_close_of_the_last_working_day(seeded):
    start = datetime(2026, 9, 30, 15, 0, tzinfo=SH)
    deadline = load_calendar().days_deadline(start, 5)
    assert deadline.at.astimezone(SH) == datetime(2026, 10, 13, 23, 59, 59, tzinfo=SH)


def test_entering_the_official_schedule_recomputes_open_provisional_deadlines(agent, supervisor):
    with time_machine.travel(datetime(2026, 12, 14, 10, tzinfo=SH), tick=False):
        ticket = dispatched_ticket(agent, category="report")  # a report: 15 working days to reply
    assignment = lead_assignment(ticket)
    assert assignment.deadline_provisional
    assert assignment.reply_by.astimezone(SH).date() == date(2027, 1, 5)
    # The State Council's 2027 notice arrives: say Jan 4 is a day off. An admin enters it and marks 2027 official.
    CalendarDay.objects.create(date=date(2027, 1, 4), kind=CalendarDay.Kind.HOLIDAY, name="元旦", source="admin")
    CalendarYear.objects.filter(year=2027).update(official=True, source="admin test")
    assert recompute_provisional_deadlines(supervisor) == 1
    assignment.refresh_from_db()
    assert not assignment.deadline_provisional
    assert assignment.reply_by.astimezone(SH).date() == date(2027, 1, 6)
    entry = TimelineEntry.objects.get(ticket=ticket, action="assignment.deadline_recomputed")
    assert entry.actor == supervisor  # the one who made the schedule official
    assert recompute_provisional_deadlines(supervisor) == 0  # a second run changes nothing


@pytest.mark.django_db
def test_holidays_are_named_in_chinese_for_the_staff_who_read_them():
    seed_year(2026)
    assert CalendarDay.objects.get(date=date(2026, 10, 1)).name == "国庆节"
    assert CalendarDay.objects.get(date=date(2026, 2, 14)).name == "春节调休上班"  # a Saturday worked
