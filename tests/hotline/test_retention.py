"""Issue 11 point 10: personal data of finished tickets is anonymised after the retention period,
every KPI of past periods stays exactly the same, and a citizen's request for what is held about
them (and its correction) has a tested, audited path (docs/security.md §10, ADR 0002)."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from callback.models import CallbackTask, DoNotCall, Revisit, SmsMessage
from hotline import audit, jobs, retention
from hotline.lib.tokens import is_token
from hotline.models import AuditAction, AuditEntry, Caller, Role, Ticket, TicketStatus, TimelineEntry
from hotline.models.tickets import OPEN_STATUSES
from hotline.services import tickets
from metrics import kpis
from telephony.models import Call
from tests.conftest import make_user
from tests.factories import new_ticket
from tests.metrics import conftest as story
from tests.metrics.conftest import DECEMBER, NOVEMBER

november = story.november
rated_december = story.rated_december

pytestmark = pytest.mark.django_db

JANUARY = story.at(12, 31, 12) + timedelta(days=5)  # every deadline of both months has passed
FOUR_YEARS_LATER = JANUARY + timedelta(days=4 * 365)


def everything(period) -> dict:
    """All five KPIs (and their companions), for the city, one unit, and every unit at once."""
    from hotline.models import Unit

    return {
        "city": kpis.compute_kpis(period, now=JANUARY),
        "yuhu_own": kpis.compute_kpis(period, Unit.objects.get(code="YH"), rollup=False, now=JANUARY),
        "all_units": kpis.kpis_for_all_units(period, now=JANUARY),
        "scores": {k: d.compute(period, now=JANUARY) for k, d in kpis.scoring_definitions().items()},
    }


def finish_the_year(supervisor) -> None:
    """The stories leave tickets open; by the end of the year every one is closed, as in life.
    (Closed here by row: how they closed does not matter, only that the figures are taken after.)"""
    for ticket in Ticket.objects.filter(status__in=OPEN_STATUSES):
        Ticket.objects.filter(pk=ticket.pk).update(status=TicketStatus.CLOSED, closed_at=story.at(12, 31, 18))


def run_until_done(now) -> int:
    total = 0
    while done := retention.anonymise_due(now):
        total += done
    return total


def test_anonymisation_keeps_every_kpi_of_past_periods_exactly(november, rated_december, supervisor, settings):
    # The PBX's calls of the story come from the story's callers (as dialled, without +86).
    for linkedid, phone in (("c1", "13800000001"), ("c2", "13800000010"), ("c4", "13800000020")):
        Call.objects.filter(linkedid=linkedid).update(
            caller_number=phone, caller=Caller.objects.get(phone="+86" + phone), caller_name="王先生"
        )
    t1 = story_ticket = Ticket.objects.get(pk=november.tickets["t1"].pk)
    SmsMessage.objects.create(to=t1.caller.phone, body="您的工单已办结", purpose="reply", ticket=t1)
    CallbackTask.objects.create(number="13800000020", missed_at=story.at(11, 3), next_attempt_at=story.at(11, 3))
    DoNotCall.objects.create(phone="+8613800000030", reason="市民要求")
    finish_the_year(supervisor)
    before = {"november": everything(NOVEMBER), "december": everything(DECEMBER)}
    assert before["november"]["city"]["repeat_rate"].numerator > 0  # the story has repeats to keep
    assert before["december"]["city"]["satisfaction_rate"].denominator > 0

    settings.PERSONAL_DATA_RETENTION_DAYS = 3 * 365 + 1
    with time_machine.travel(JANUARY + timedelta(days=365), tick=False):
        assert run_until_done(JANUARY + timedelta(days=365)) == 0  # one year on: nothing is due yet
    with time_machine.travel(FOUR_YEARS_LATER, tick=False):
        assert run_until_done(FOUR_YEARS_LATER) > 0

    after = {"november": everything(NOVEMBER), "december": everything(DECEMBER)}
    assert after == before

    # Nothing personal is left in clear, and nothing was deleted.
    assert not Ticket.objects.exclude(address="").exists()
    assert all(is_token(c.phone) and c.name == "" for c in Caller.objects.all())
    assert not Call.objects.filter(caller_number__startswith="138").exists()
    assert not Call.objects.exclude(caller_name="").exists()
    assert CallbackTask.objects.get().number == audit.phone_token("13800000020")
    assert SmsMessage.objects.get().to == audit.phone_token("+8613800000001")
    assert DoNotCall.objects.get().phone == "+8613800000030"  # the citizen's own "never call me" is kept
    assert Revisit.objects.count() == 6
    # The same number is one token everywhere: the call, the callback and the caller still match.
    assert (
        Call.objects.get(linkedid="c4").caller_number
        == Caller.objects.get(pk=Call.objects.get(linkedid="c4").caller_id).phone
    )
    entry = TimelineEntry.objects.get(ticket=story_ticket, action=retention.ANONYMISED)
    assert entry.data == {"rule": "PERSONAL_DATA_RETENTION_DAYS", "days": 1096, "cleared": ["address"]}
    assert AuditEntry.objects.filter(action=AuditAction.ANONYMISED).exists()


def test_the_step_is_registered_runs_once_and_waits_for_open_tickets_and_recent_calls(agent, dispatcher, settings):
    assert "retention.anonymise" in dict(jobs.steps())
    settings.PERSONAL_DATA_RETENTION_DAYS = 30
    old = story.at(1, 5)
    with time_machine.travel(old, tick=False):
        closed = answered(agent, "13800138001")
        kept_open = new_ticket(agent, phone="13800138002")
        also_old = answered(agent, "13800138003")
    assert Ticket.objects.get(pk=closed.pk).status == TicketStatus.CLOSED
    # The third caller called again last week: still being served, the number stays.
    Call.objects.create(linkedid="recent", caller_number="13800138003", offered_at=story.at(6, 1))
    later = story.at(6, 10)
    with time_machine.travel(later, tick=False):
        assert retention.anonymise_due(later) == 3  # two tickets, one caller
        assert retention.anonymise_due(later) == 0  # a second round (or worker) finds nothing
    assert is_token(Caller.objects.get(pk=closed.caller_id).phone)
    assert Caller.objects.get(pk=kept_open.caller_id).phone == "+8613800138002"
    assert Ticket.objects.get(pk=kept_open.pk).address != ""
    assert Caller.objects.get(pk=also_old.caller_id).phone == "+8613800138003"
    assert Ticket.objects.get(pk=also_old.pk).address == ""
    settings.PERSONAL_DATA_RETENTION_DAYS = 0
    assert retention.anonymise_due(later) == 0  # 0 turns it off


def test_the_registered_step_looks_once_an_hour_unless_a_backlog_waits(agent, settings, monkeypatch):
    settings.PERSONAL_DATA_RETENTION_DAYS = 30
    monkeypatch.setattr(retention, "_next_check", None)
    monkeypatch.setattr(retention, "BATCH", 2)
    with time_machine.travel(story.at(1, 5), tick=False):
        for n in range(3):
            answered(agent, f"1380013810{n}")
    later = story.at(6, 10)
    step = dict(jobs.steps())["retention.anonymise"]
    assert step(later) == 2 + 2  # a full batch of tickets (and their callers): more may wait
    assert step(later) == 1 + 1  # so the next round looks again, and finds the rest
    answered(agent, "13800138199")
    Ticket.objects.filter(status=TicketStatus.CLOSED, address__gt="").update(closed_at=story.at(1, 6))
    Caller.objects.filter(phone="+8613800138199").update(created_at=story.at(1, 6))
    assert step(later + timedelta(minutes=5)) == 0  # not looked for within the hour
    assert step(later + timedelta(hours=1)) == 2


def answered(agent, phone: str) -> Ticket:
    """A praise, answered on the call: closed at once (no revisit)."""
    return tickets.resolve_on_call(new_ticket(agent, phone=phone, category="praise"), agent, "已转达")


@pytest.fixture
def citizen(agent):
    first = new_ticket(agent, phone="13800138000", caller_name="王先生", address="雨湖区城正街88号")
    second = new_ticket(agent, phone="13800138000", address='=HYPERLINK("http://x")')
    Call.objects.create(linkedid="L1", caller_number="13800138000", caller=first.caller, offered_at=story.at(11, 2))
    SmsMessage.objects.create(to="+8613800138000", body="您的工单已受理", purpose="registered", ticket=first)
    return first, second


def test_a_citizens_request_exports_everything_held_about_the_number_and_is_audited(citizen, supervisor, tmp_path):
    first, second = citizen
    out = StringIO()
    call_command("citizen_data", "export", "--phone", "138 0013 8000", "--by", supervisor.username,
                 "--reason", "申请 2026-17", stdout=out)  # fmt: skip
    held = json.loads(out.getvalue())
    assert held["caller"]["phone"] == "+8613800138000" and held["caller"]["name"] == "王先生"
    assert [t["number"] for t in held["tickets"]] == [first.number, second.number]
    assert held["tickets"][0]["address"] == "雨湖区城正街88号" and held["tickets"][0]["timeline"]
    assert [c["linkedid"] for c in held["calls"]] == ["L1"]
    assert held["sms"][0]["text"] == "您的工单已受理"
    assert held["callbacks"] == [] and held["revisits"] == []
    entry = AuditEntry.objects.filter(action=AuditAction.CITIZEN_EXPORT).get()
    assert (entry.user, entry.reason, entry.fields) == (supervisor, "申请 2026-17", "phone,name,address")
    assert {s.ticket_id for s in entry.subjects.all()} == {first.pk, second.pk}
    # The same as a workbook: a sheet per section, a citizen's "=…" stays text.
    path = tmp_path / "citizen.xlsx"
    call_command("citizen_data", "export", "--phone", "13800138000", "--by", supervisor.username,
                 "--reason", "r", "--out", str(path), stdout=StringIO())  # fmt: skip
    book = load_workbook(path)
    assert {"caller", "tickets", "calls", "sms", "callbacks", "revisits"} <= set(book.sheetnames)
    cells = [c for row in book["tickets"].iter_rows() for c in row]
    assert any(c.value == '=HYPERLINK("http://x")' and c.data_type == "s" for c in cells)


def test_a_citizen_corrects_the_name_and_an_address_with_a_timeline_entry_and_an_audit_entry(citizen, supervisor):
    first, second = citizen
    call_command("citizen_data", "correct", "--phone", "13800138000", "--by", supervisor.username,
                 "--reason", "市民来电更正", "--name", "王建国", stdout=StringIO())  # fmt: skip
    assert Caller.objects.get(pk=first.caller_id).name == "王建国"
    for ticket in (first, second):
        entry = TimelineEntry.objects.get(ticket=ticket, action="caller.corrected")
        assert (entry.actor, entry.note, entry.data) == (supervisor, "市民来电更正", {"fields": ["name"]})
        assert "王先生" not in entry.note
    address = ["--ticket", first.number, "--address", "雨湖区城正街90号"]
    call_command("citizen_data", "correct", "--phone", "+8613800138000", "--by", supervisor.username,
                 "--reason", "地址有误", *address, stdout=StringIO())  # fmt: skip
    assert Ticket.objects.get(pk=first.pk).address == "雨湖区城正街90号"
    assert Ticket.objects.get(pk=second.pk).address.startswith("=HYPERLINK")
    corrections = AuditEntry.objects.filter(action=AuditAction.CITIZEN_CORRECTED).order_by("pk")
    assert [e.fields for e in corrections] == ["name", "address"]
    assert [s.ticket_id for s in corrections.last().subjects.all()] == [first.pk]


def test_bad_requests_are_refused_clearly_and_change_nothing(citizen, supervisor, agent):
    first, _ = citizen
    boss, phone = supervisor.username, "13800138000"
    cases = [
        (["export", "--phone", "13900000000", "--by", boss, "--reason", "r"], "no caller"),
        (["export", "--phone", phone, "--by", agent.username, "--reason", "r"], "supervisor"),
        (["export", "--phone", phone, "--by", "nobody", "--reason", "r"], "no active user"),
        (["correct", "--phone", phone, "--by", boss, "--reason", "r"], "nothing to correct"),
        (["correct", "--phone", phone, "--by", boss, "--reason", "r", "--address", "x"], "name the ticket"),
        (["correct", "--phone", phone, "--by", boss, "--reason", "\u200b", "--name", "x"], "empty"),
        (["correct", "--phone", phone, "--by", boss, "--reason", "r", "--ticket", "1", "--address", "x"], "not the"),
        (["export", "--phone", phone, "--by", boss, "--reason", "r", "--out", "x.txt"], ".json or .xlsx"),
    ]
    for args, message in cases:
        with pytest.raises(CommandError, match=message):
            call_command("citizen_data", *args, stdout=StringIO())
    assert Caller.objects.get(pk=first.caller_id).name == "王先生"
    assert not TimelineEntry.objects.filter(action="caller.corrected").exists()


def test_an_anonymised_citizen_is_found_by_the_number_they_give(citizen, agent, supervisor, settings):
    first, _ = citizen
    Ticket.objects.filter(caller=first.caller).update(status=TicketStatus.CLOSED, closed_at=story.at(1, 1))
    Caller.objects.filter(pk=first.caller_id).update(created_at=story.at(1, 1))
    Call.objects.filter(linkedid="L1").update(created_at=story.at(1, 1))
    SmsMessage.objects.update(created_at=story.at(1, 1))
    settings.PERSONAL_DATA_RETENTION_DAYS = 30
    assert retention.anonymise_due(story.at(6, 1)) == 3
    out = StringIO()
    call_command(
        "citizen_data", "export", "--phone", "13800138000", "--by", supervisor.username, "--reason", "r", stdout=out
    )
    held = json.loads(out.getvalue())
    assert held["caller"]["phone"] == audit.phone_token("13800138000") and held["caller"]["name"] == ""
    assert [c["linkedid"] for c in held["calls"]] == ["L1"] and len(held["sms"]) == 1
    # The citizen calls again: a new caller row in clear; a request covers both.
    again = new_ticket(agent, phone="13800138000", address="雨湖区城正街1号")
    out = StringIO()
    call_command(
        "citizen_data", "export", "--phone", "13800138000", "--by", supervisor.username, "--reason", "r", stdout=out
    )
    held = json.loads(out.getvalue())
    assert held["caller"]["phone"] == "+8613800138000"
    assert held["anonymised_caller"]["phone"] == audit.phone_token("13800138000")
    assert [t["number"] for t in held["tickets"]][-1] == again.number and len(held["tickets"]) == 3
    # The audit log still finds the citizen's earlier entries by the number.
    auditor = make_user("auditor_zhou", Role.AUDITOR)
    from django.test import Client

    client = Client()
    client.force_login(auditor)
    page = client.get("/audit/", {"phone": "13800138000"})
    assert {e.action for e in page.context["page"].object_list} >= {AuditAction.CITIZEN_EXPORT}
