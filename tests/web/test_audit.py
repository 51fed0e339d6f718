"""Issue 11 point 9: every showing of a citizen's full phone, name or address is in an
append-only audit log, with logins, failed logins, logouts, access changes, 2FA enrolments and
exports; only the auditor reads and exports it (docs/security.md §9)."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice
from openpyxl import load_workbook

from hotline import audit
from hotline.models import AuditAction, AuditEntry, AuditSubject, Role, Unit
from hotline.models.audit import AppendOnlyError
from tests.conftest import PASSWORD, api_as, make_user
from tests.factories import dispatched_ticket, new_ticket

pytestmark = pytest.mark.django_db

CALLER = "13800138000"


@pytest.fixture
def auditor(seeded):
    """Ms Zhou, the auditor: reads the audit log and nothing else."""
    return make_user("auditor_zhou", Role.AUDITOR)


def entries(action: str = AuditAction.PERSONAL_DATA_READ):
    return AuditEntry.objects.filter(action=action).order_by("pk")


def test_a_ticket_list_is_one_entry_naming_every_ticket_and_citizen_shown(agent, dispatcher):
    shown = [new_ticket(agent, phone=CALLER, caller_name="王先生"), new_ticket(agent, phone="13900139000")]
    before = entries().count()
    response = api_as(dispatcher).get("/api/v1/tickets/")
    assert response.status_code == 200
    assert entries().count() == before + 1  # one request, one entry: not one per row
    entry = entries().last()
    assert (entry.username, entry.screen, entry.reason) == ("dispatcher_li", "ticket-list", audit.HANDLING)
    assert entry.path == "/api/v1/tickets/" and entry.ip == "127.0.0.1"
    assert entry.fields == "phone,name,address"
    subjects = {(s.ticket_id, s.phone_token) for s in entry.subjects.all()}
    assert {(t.pk, audit.phone_token(t.caller.phone)) for t in shown} <= subjects
    # The log keeps the token, never the number.
    assert not AuditSubject.objects.filter(phone_token__contains="138001").exists()


def test_the_same_citizen_is_found_by_the_pbx_number_and_the_stored_one():
    assert audit.phone_token("13800138000") == audit.phone_token("+8613800138000")
    assert audit.phone_token("13800138000").startswith("anon-")
    assert audit.phone_token(audit.phone_token("13800138000")) == audit.phone_token("13800138000")


def test_a_unit_handler_who_sees_only_the_address_is_audited_for_the_address(agent, yuhu):
    ticket = dispatched_ticket(agent, caller_name="王先生")
    client = Client()
    client.force_login(yuhu)
    assert client.get(f"/unit/tickets/{ticket.pk}/").status_code == 200
    entry = entries().last()
    assert (entry.username, entry.screen, entry.fields) == (yuhu.username, "web:unit-ticket", "address")
    assert entry.subjects.get().ticket_id == ticket.pk


def test_a_search_by_phone_is_audited_with_the_token_of_the_number(agent, dispatcher):
    new_ticket(agent, phone=CALLER)
    assert api_as(dispatcher).get("/api/v1/tickets/", {"phone": "+86" + CALLER}).status_code == 200
    search = entries(AuditAction.PHONE_SEARCH).last()
    assert search.subjects.get().phone_token == audit.phone_token(CALLER)
    assert search.reason == "search by phone"


def test_call_records_and_the_drill_down_are_audited(agent, supervisor):
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from telephony.models import Call

    offered = datetime(2026, 11, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    call = Call.objects.create(
        linkedid="L-audit",
        caller_number=CALLER,
        offered_at=offered,
        answered_at=offered + timedelta(seconds=5),
        ended_at=offered + timedelta(seconds=65),
        wait_seconds=5,
        talk_seconds=60,
        outcome="answered",
    )
    token = audit.phone_token(CALLER)
    assert api_as(supervisor).get("/api/v1/calls/").status_code == 200
    listed = entries().filter(reason="call records").last()
    assert listed.screen == "call-list" and {s.phone_token for s in listed.subjects.all()} == {token}
    api_as(supervisor).get("/api/v1/calls/", {"caller": CALLER})
    assert entries(AuditAction.PHONE_SEARCH).last().subjects.get().phone_token == token
    client = Client()
    client.force_login(supervisor)
    page = client.get("/dashboard/drill/answer_rate/?period=month&date=2026-11-05&part=numerator")
    assert page.status_code == 200 and CALLER in page.content.decode()
    drill = entries().filter(reason="KPI drill-down").last()
    assert drill.screen == "web:dashboard-drill" and drill.subjects.get().phone_token == token
    assert call.pk  # the row shown


def test_the_admins_caller_and_ticket_pages_are_audited(agent):
    ticket = new_ticket(agent, phone=CALLER, caller_name="王先生")
    admin = make_user("admin_zhang", Role.ADMIN, is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    assert client.get(f"/admin/hotline/caller/{ticket.caller_id}/change/").status_code == 200
    form = entries().last()
    assert (form.screen, form.fields, form.reason) == ("admin:hotline_caller_change", "phone,name", "admin")
    assert client.get("/admin/hotline/caller/", {"q": CALLER}).status_code == 200
    assert entries(AuditAction.PHONE_SEARCH).last().subjects.get().phone_token == audit.phone_token(CALLER)
    assert entries().last().fields == "name"  # the list shows names, the numbers masked
    assert client.get(f"/admin/hotline/ticket/{ticket.pk}/change/").status_code == 200
    assert entries().last().subjects.get().ticket_id == ticket.pk and entries().last().fields == "address"


def test_logins_failed_logins_and_logouts_are_audited(agent):
    client = Client(REMOTE_ADDR="198.51.100.7")
    client.post("/login/", {"username": agent.username, "password": "wrong"})
    failed = entries(AuditAction.LOGIN_FAILED).last()
    assert (failed.username, failed.user_id, failed.ip) == (agent.username, None, "198.51.100.7")
    assert "wrong" not in str(failed.data)
    client.post("/login/", {"username": agent.username, "password": PASSWORD})
    assert entries(AuditAction.LOGIN).filter(user=agent, ip="198.51.100.7").exists()
    client.post("/logout/")
    assert entries(AuditAction.LOGOUT).filter(user=agent).exists()


def test_a_wrong_second_factor_code_is_a_failed_login_and_the_right_one_a_login(agent):
    from tests.web.test_auth_twofactor import code, enrolled, password_step

    device = enrolled(agent)
    client = Client()
    password_step(client, agent)
    assert not entries(AuditAction.LOGIN).exists()  # the password alone is no login
    client.post("/login/verify/", {"otp": "123456" if code(device) != "123456" else "654321"})
    assert entries(AuditAction.LOGIN_FAILED).get().data == {"via": "console", "factor": "otp"}
    device.refresh_from_db()
    device.throttle_reset()  # django-otp makes the next try wait after a wrong code
    client.post("/login/verify/", {"otp": code(device)})
    assert entries(AuditAction.LOGIN).filter(user=agent).count() == 1


def test_the_api_token_login_and_its_failure_are_audited(agent):
    client = Client()
    client.post("/api/v1/auth/token/", {"username": agent.username, "password": "wrong"})
    assert entries(AuditAction.LOGIN_FAILED).filter(username=agent.username, data__via="api").exists()
    assert client.post("/api/v1/auth/token/", {"username": agent.username, "password": PASSWORD}).status_code == 200
    assert entries(AuditAction.LOGIN).filter(user=agent, data__via="api").exists()


def test_role_unit_permission_and_password_changes_are_audited_with_who_did_them(yuhu, supervisor):
    yuhu.unit = Unit.objects.get(code="YT")
    yuhu.save()
    change = entries(AuditAction.USER_CHANGED).last()
    assert change.data["target_username"] == yuhu.username
    assert change.data["changes"]["unit_id"][1] == yuhu.unit_id
    yuhu.groups.add(Group.objects.create(name="夜班"))
    assert entries(AuditAction.USER_CHANGED).last().data["groups"] == ["夜班"]
    yuhu.set_password("a much longer passphrase 2026")
    yuhu.save()
    assert entries(AuditAction.PASSWORD_CHANGED).last().data["target_user"] == yuhu.pk
    # Through the admin the actor is the person logged in, from their address.
    admin = make_user("admin_zhang", Role.ADMIN, is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    with audit.scope(request=None, user=admin):
        supervisor.role = Role.DISPATCHER
        supervisor.save()
    assert entries(AuditAction.USER_CHANGED).last().username == "admin_zhang"


def test_enrolling_and_removing_a_second_factor_is_audited(agent):
    device = TOTPDevice.objects.create(user=agent, name="phone", confirmed=False)
    assert not entries(AuditAction.OTP_ENROLLED).exists()
    device.confirmed = True
    device.save()
    assert entries(AuditAction.OTP_ENROLLED).get().data["target_username"] == agent.username
    device.delete()
    assert entries(AuditAction.OTP_REMOVED).get().data["target_user"] == agent.pk


def test_the_dashboard_excel_export_is_audited(supervisor):
    client = Client()
    client.force_login(supervisor)
    assert client.get("/dashboard/excel/?period=month&date=2026-11-01").status_code == 200
    export = entries(AuditAction.EXPORT).last()
    assert (export.username, export.reason, export.screen) == (
        supervisor.username,
        "KPI report workbook",
        "web:dashboard-excel",
    )


def test_an_audit_entry_cannot_be_changed_or_deleted_by_the_app(agent):
    entry = audit.record(AuditAction.EXPORT, user=agent, reason="test")
    entry.reason = "covered up"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(pk=entry.pk).update(reason="covered up")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(AppendOnlyError):
        AuditSubject.objects.all().delete()
    assert AuditEntry.objects.get(pk=entry.pk).reason == "test"


def test_the_admin_shows_the_log_to_the_auditor_read_only_and_to_nobody_else(agent, auditor):
    entry = audit.record(AuditAction.EXPORT, user=agent, reason="test")
    superuser = make_user("root_admin", Role.ADMIN, is_staff=True, is_superuser=True)
    auditor.is_staff = True
    auditor.save()
    as_root, as_auditor = Client(), Client()
    as_root.force_login(superuser)
    as_auditor.force_login(auditor)
    url = f"/admin/hotline/auditentry/{entry.pk}/change/"
    assert as_root.get("/admin/hotline/auditentry/").status_code == 403
    assert as_auditor.get("/admin/hotline/auditentry/").status_code == 200
    page = as_auditor.get(url)
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert as_auditor.post(url, {"reason": "covered up"}).status_code == 403
    assert as_auditor.get(f"/admin/hotline/auditentry/{entry.pk}/delete/").status_code == 403
    assert as_auditor.get("/admin/hotline/auditentry/add/").status_code == 403


def test_the_auditor_page_filters_pages_and_exports_and_nobody_else_sees_it(agent, dispatcher, auditor, supervisor):
    mine = new_ticket(agent, phone=CALLER, caller_name="王先生")
    other = new_ticket(agent, phone="13900139000")
    api_as(dispatcher).get(f"/api/v1/tickets/{mine.pk}/")
    api_as(supervisor).get(f"/api/v1/tickets/{other.pk}/")
    for outsider in (dispatcher, make_user("root", Role.ADMIN, is_superuser=True, is_staff=True)):
        client = Client()
        client.force_login(outsider)
        assert client.get("/audit/").status_code == 403
    client = Client()
    client.force_login(auditor)
    assert client.get("/").url == "/audit/"
    by_phone = client.get("/audit/", {"phone": CALLER})
    assert by_phone.status_code == 200
    assert [e.username for e in by_phone.context["page"].object_list] == [dispatcher.username]
    by_ticket = client.get("/audit/", {"ticket": other.number, "action": AuditAction.PERSONAL_DATA_READ})
    assert [e.username for e in by_ticket.context["page"].object_list] == [supervisor.username]
    by_user = client.get("/audit/", {"user": supervisor.username, "date_from": "2000-01-01", "date_to": "2999-12-31"})
    assert by_user.context["page"].paginator.count >= 1
    assert client.get("/audit/", {"date_from": "0001-01-01"}).status_code == 400
    for n in range(60):
        audit.record(AuditAction.EXPORT, user=agent, reason=f"r{n}")
    paged = client.get("/audit/", {"action": AuditAction.EXPORT})
    assert len(paged.context["page"].object_list) == 50 and paged.context["page"].has_next()
    exported = client.get("/audit/", {"phone": CALLER, "format": "csv"})
    assert exported["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["at", "username", "action"] and rows[1][1] == dispatcher.username
    assert CALLER not in exported.content.decode()
    book = load_workbook(io.BytesIO(client.get("/audit/", {"ticket": other.number, "format": "xlsx"}).content))
    assert book.active.cell(row=2, column=2).value == supervisor.username
    assert entries(AuditAction.EXPORT).filter(user=auditor, reason="audit log").count() == 2


@pytest.mark.postgres
def test_postgresql_itself_refuses_to_change_or_delete_an_audit_row(agent):
    """Past the application: a raw UPDATE or DELETE (a shell, a script) is refused by the trigger."""
    from django.db import DatabaseError, connection, transaction

    entry = audit.record(AuditAction.EXPORT, user=agent, reason="test", subjects=[(None, audit.phone_token(CALLER))])
    statements = [
        ("UPDATE hotline_auditentry SET reason = 'covered up' WHERE id = %s", entry.pk),
        ("DELETE FROM hotline_auditentry WHERE id = %s", entry.pk),
        ("UPDATE hotline_auditsubject SET phone_token = '' WHERE entry_id = %s", entry.pk),
        ("DELETE FROM hotline_auditsubject WHERE entry_id = %s", entry.pk),
    ]
    for sql, pk in statements:
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [pk])
    assert AuditEntry.objects.get(pk=entry.pk).reason == "test"
    assert entry.subjects.count() == 1
