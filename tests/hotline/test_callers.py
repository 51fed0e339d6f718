"""恶意来电/缠访: agents report, only the center flags, flags expire by themselves, all of it on the record."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from hotline.errors import IllegalTransition, InvalidInput, NotAllowed
from hotline.models import AuditAction, AuditEntry, Caller, CallerFlag, CallerReport, ReportStatus, Role, TimelineEntry
from hotline.services import callers
from tests.conftest import make_user
from tests.factories import new_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(seeded):
    return make_user("admin_sun", Role.ADMIN, "XT12345")


@pytest.fixture
def rude(agent):
    """A caller with a ticket on which they swore at the agent."""
    return new_ticket(agent, phone="13900139000", caller_name="某先生")


def week():
    return timezone.now() + timedelta(days=7)


def test_an_agent_reports_abusive_language_on_a_ticket_which_waits_for_review(agent, rude):
    report = callers.report_caller(rude.caller, agent, "辱骂话务员", ticket=rude)
    assert report.status == ReportStatus.PENDING and report.reason == "辱骂话务员"
    # The caller's record, not the ticket's: units read the timeline, and the demand is handled as any other.
    assert not TimelineEntry.objects.filter(ticket=rude, action__startswith="caller.").exists()
    assert AuditEntry.objects.filter(action=AuditAction.CALLER_REPORTED, user=agent).exists()
    # A double click is one report; a report is no flag.
    assert callers.report_caller(rude.caller, agent, "again", ticket=rude) == report
    rude.caller.refresh_from_db()
    assert rude.caller.flag_in_force() is None


def test_a_report_on_a_call_records_the_caller_by_the_number(agent):
    report = callers.report_call(agent, "139 0013 9001", "1795770144.0", "")
    assert report.caller.phone == "+8613900139001" and report.call_linkedid == "1795770144.0"
    with pytest.raises(InvalidInput):  # a withheld number has no caller to report
        callers.report_call(agent, "anonymous", "1795770144.1")
    with pytest.raises(InvalidInput):  # neither a call nor a ticket
        callers.report_caller(report.caller, agent, "")


def test_a_report_names_a_ticket_of_that_caller_only(agent, rude):
    other = new_ticket(agent, phone="13700137000")
    with pytest.raises(InvalidInput):
        callers.report_caller(rude.caller, agent, "", ticket=other)


def test_a_unit_handler_cannot_report_a_caller(yuhu, rude):
    with pytest.raises(NotAllowed):
        callers.report_caller(rude.caller, yuhu, "", ticket=rude)


@pytest.mark.parametrize("who", ["agent", "dispatcher", "yuhu"])
def test_nobody_but_a_supervisor_or_an_admin_flags_a_caller(who, request, rude):
    user = request.getfixturevalue(who)
    with pytest.raises(NotAllowed):
        callers.set_flag(rude.caller, user, "abuse", "多次辱骂", week())
    with pytest.raises(NotAllowed):
        callers.decline_reports(rude.caller, user, "不成立")
    assert not CallerFlag.objects.exists()


def test_the_center_flags_a_caller_and_decides_the_pending_reports_with_it(agent, supervisor, rude):
    callers.report_caller(rude.caller, agent, "辱骂", ticket=rude)
    flag = callers.set_flag(rude.caller, supervisor, "abuse", "三次辱骂话务员", week())
    caller = Caller.objects.select_related("flag").get(pk=rude.caller_id)
    assert caller.flag_in_force() == flag and flag.set_by == supervisor
    report = CallerReport.objects.get()
    assert (report.status, report.flag, report.decided_by) == (ReportStatus.FLAGGED, flag, supervisor)
    entry = AuditEntry.objects.get(action=AuditAction.CALLER_FLAGGED)
    assert entry.user == supervisor and entry.data["reports"] == [report.pk]


def test_a_flag_expires_by_itself(supervisor, rude):
    flag = callers.set_flag(rude.caller, supervisor, "persistent", "同一诉求一月内来电四十次", week())
    with time_machine.travel(flag.expires_at + timedelta(seconds=1)):
        caller = Caller.objects.get(pk=rude.caller_id)
        assert caller.flag_in_force() is None
        with pytest.raises(IllegalTransition):  # nothing to lift any more
            callers.lift_flag(caller, supervisor, "x")
    assert CallerFlag.objects.get().lifted_at is None  # expired, not lifted: the row says so


def test_a_new_flag_replaces_the_one_in_force_and_a_flag_can_be_lifted(supervisor, admin, rude):
    first = callers.set_flag(rude.caller, supervisor, "abuse", "辱骂", week())
    second = callers.set_flag(rude.caller, admin, "harassment", "深夜反复骚扰", week() + timedelta(days=30))
    first.refresh_from_db()
    assert first.lifted_by == admin and str(second.pk) in first.lift_reason
    callers.lift_flag(rude.caller, supervisor, "来电人已道歉")
    second.refresh_from_db()
    assert second.lift_reason == "来电人已道歉" and not second.in_force()
    assert Caller.objects.get(pk=rude.caller_id).flag_in_force() is None
    assert CallerFlag.objects.count() == 2  # nothing deleted


@pytest.mark.parametrize(
    ("kind", "reason", "expires", "field"),
    [
        ("abuse", "辱骂", lambda: timezone.now() - timedelta(days=1), "expires_at"),  # in the past
        ("abuse", "辱骂", lambda: None, "expires_at"),
        ("abuse", "辱骂", lambda: timezone.now() + timedelta(days=callers.MAX_FLAG_DAYS + 1), "expires_at"),
        ("abuse", "  \u3000 ", week, "reason"),  # empty (invisible characters only)
        ("abuse", "长" * 501, week, "reason"),
        ("vip", "辱骂", week, "kind"),
    ],
)
def test_a_flag_with_bad_input_is_refused_and_nothing_changes(supervisor, rude, kind, reason, expires, field):
    with pytest.raises(InvalidInput) as refused:
        callers.set_flag(rude.caller, supervisor, kind, reason, expires())
    assert refused.value.details["field"] == field
    assert not CallerFlag.objects.exists()
    assert not AuditEntry.objects.filter(action=AuditAction.CALLER_FLAGGED).exists()


def test_the_center_declines_the_reports(agent, supervisor, rude):
    callers.report_caller(rude.caller, agent, "语气不好", ticket=rude)
    assert callers.decline_reports(rude.caller, supervisor, "情绪激动，非恶意") == [CallerReport.objects.get().pk]
    report = CallerReport.objects.get()
    assert (report.status, report.decision_note) == (ReportStatus.DECLINED, "情绪激动，非恶意")
    with pytest.raises(IllegalTransition):  # nothing is waiting any more
        callers.decline_reports(rude.caller, supervisor, "again")
    with pytest.raises(InvalidInput):
        callers.decline_reports(rude.caller, supervisor, "")


def test_the_citizens_export_includes_the_flags_and_the_reports(agent, supervisor, rude):
    callers.report_caller(rude.caller, agent, "辱骂", ticket=rude)
    callers.set_flag(rude.caller, supervisor, "abuse", "三次辱骂话务员", week())
    out = StringIO()
    call_command("citizen_data", "export", "--phone", "13900139000", "--by", supervisor.username,
                 "--reason", "申请 2026-18", stdout=out)  # fmt: skip
    held = json.loads(out.getvalue())
    assert [f["reason"] for f in held["caller_flags"]] == ["三次辱骂话务员"]
    assert held["caller_reports"][0]["ticket"] == rude.number and held["caller_reports"][0]["note"] == "辱骂"
