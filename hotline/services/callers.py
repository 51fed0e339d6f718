"""恶意来电 / 缠访: agents report abusive callers; the center flags callers, or declines.

- :func:`report_caller` — any member of the center's staff (an agent on the call) reports that the
  caller was abusive on a call or a ticket. A report is evidence, not a flag: it waits for review.
  It is the caller's record, not the ticket's: no timeline entry, because units read the timeline
  and the demand is handled as any other (the audit log and the report row keep who and when).
- :func:`set_flag` — a supervisor or an administrator (``hotline.access.may_flag_callers``) flags
  the caller with a kind, a reason and an expiry; the caller's pending reports are decided with it.
  A new flag replaces the one in force (which is lifted, naming the new one).
- :func:`lift_flag` — the center ends a flag before it expires, with a reason.
- :func:`decline_reports` — the center reviewed the reports and flags nobody.

A flag expires by itself: whether it is in force is decided when it is read
(``CallerFlag.in_force``), so no job has to run. Every act is one transaction and one audit entry
naming the caller's number (as its token); nothing is deleted, so the caller's record
(``/callers/<id>/``, ``manage.py citizen_data export``) shows every report, flag and decision.

Locks: the caller row only (no service here writes a ticket).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hotline import audit
from hotline.access import is_center_staff, may_flag_callers
from hotline.errors import IllegalTransition, InvalidInput, NotAllowed
from hotline.models import (
    AuditAction,
    Caller,
    CallerFlag,
    CallerReport,
    FlagKind,
    ReportStatus,
    Ticket,
    User,
)
from hotline.services.common import clean_text
from hotline.services.tickets import find_or_create_caller

# A flag is a temporary measure the center reviews again: it cannot be set for longer than this.
MAX_FLAG_DAYS = 366
REASON_MAX = 500


def _check_flagger(by: User | None) -> None:
    if not may_flag_callers(by):
        raise NotAllowed(
            _("only a supervisor or an administrator of the center may flag a caller or decide on reports")
        )


def _subject(caller: Caller) -> list[tuple[None, str]]:
    return [(None, audit.phone_token(caller.phone))]


def report_caller(
    caller: Caller, by: User, note: str = "", *, ticket: Ticket | None = None, call_linkedid: str = ""
) -> CallerReport:
    """The agent says the caller was abusive on ``ticket`` or the call ``call_linkedid``.

    Reporting the same call or ticket twice gives back the first report (a double click is one report)."""
    if not is_center_staff(by):
        raise NotAllowed(_("only the center's staff report abusive callers"))
    note = clean_text(note, "note", max_chars=REASON_MAX, required=False)
    if ticket is not None and ticket.caller_id != caller.pk:
        raise InvalidInput(_("this ticket is not the caller's"), field="ticket")
    if ticket is None and not call_linkedid:
        raise InvalidInput(_("name the call or the ticket on which the caller was abusive"), field="ticket")
    with transaction.atomic():
        caller = Caller.objects.select_for_update().get(pk=caller.pk)
        same = CallerReport.objects.filter(caller=caller, reported_by=by)
        same = same.filter(ticket=ticket) if ticket is not None else same.filter(call_linkedid=call_linkedid)
        if (existing := same.first()) is not None:
            return existing
        report = CallerReport.objects.create(
            caller=caller, ticket=ticket, call_linkedid=call_linkedid[:64], reported_by=by, reason=note
        )
        audit.record(
            AuditAction.CALLER_REPORTED,
            user=by,
            reason=note[:300],
            subjects=[(ticket.pk if ticket else None, audit.phone_token(caller.phone))],
            data={"report": report.pk, "call": call_linkedid},
        )
    return report


def report_call(by: User, phone: str, call_linkedid: str, note: str = "") -> CallerReport:
    """A report on a call, before any ticket: the caller is found (or first recorded) by the number.
    A withheld number has no caller to report (400)."""
    if not is_center_staff(by):
        raise NotAllowed(_("only the center's staff report abusive callers"))
    if not call_linkedid:
        raise InvalidInput(_("name the call or the ticket on which the caller was abusive"), field="ticket")
    return report_caller(find_or_create_caller(phone), by, note, call_linkedid=call_linkedid)


def check_expiry(expires_at: datetime | None, now: datetime) -> datetime:
    if expires_at is None:
        raise InvalidInput(_("give the date the flag expires"), field="expires_at")
    if expires_at <= now:
        raise InvalidInput(_("the expiry must be in the future"), field="expires_at")
    if expires_at > now + timedelta(days=MAX_FLAG_DAYS):
        raise InvalidInput(
            _("a flag lasts at most %(days)s days: set an earlier expiry") % {"days": MAX_FLAG_DAYS},
            field="expires_at",
        )
    return expires_at


def set_flag(caller: Caller, by: User, kind: str, reason: str, expires_at: datetime | None) -> CallerFlag:
    """Flag ``caller`` until ``expires_at``; the pending reports are decided "flagged" with it."""
    _check_flagger(by)
    if kind not in FlagKind.values:
        raise InvalidInput(_("choose what kind of caller this is"), field="kind")
    reason = clean_text(reason, "reason", max_chars=REASON_MAX)
    now = timezone.now()
    expires_at = check_expiry(expires_at, now)
    with transaction.atomic():
        caller = Caller.objects.select_for_update(of=("self",)).select_related("flag").get(pk=caller.pk)
        flag = CallerFlag.objects.create(
            caller=caller, kind=kind, reason=reason, set_by=by, set_at=now, expires_at=expires_at
        )
        replaced = caller.flag_in_force(now)
        if replaced is not None:
            replaced.lifted_by, replaced.lifted_at = by, now
            replaced.lift_reason = _("replaced by flag #%(id)s") % {"id": flag.pk}
            replaced.save(update_fields=["lifted_by", "lifted_at", "lift_reason"])
        caller.flag = flag
        caller.save(update_fields=["flag"])
        decided = _decide_pending(caller, ReportStatus.FLAGGED, by, reason, flag=flag)
        audit.record(
            AuditAction.CALLER_FLAGGED,
            user=by,
            reason=reason[:300],
            subjects=_subject(caller),
            data={
                "flag": flag.pk,
                "kind": kind,
                "expires_at": expires_at.isoformat(),
                "reports": decided,
                "replaced": replaced.pk if replaced else None,
            },
        )
    return flag


def lift_flag(caller: Caller, by: User, reason: str) -> CallerFlag:
    """End the flag in force before it expires."""
    _check_flagger(by)
    reason = clean_text(reason, "reason", max_chars=REASON_MAX)
    now = timezone.now()
    with transaction.atomic():
        caller = Caller.objects.select_for_update(of=("self",)).select_related("flag").get(pk=caller.pk)
        flag = caller.flag_in_force(now)
        if flag is None:
            raise IllegalTransition(_("this caller has no flag in force"))
        flag.lifted_by, flag.lifted_at, flag.lift_reason = by, now, reason
        flag.save(update_fields=["lifted_by", "lifted_at", "lift_reason"])
        audit.record(
            AuditAction.CALLER_FLAG_LIFTED,
            user=by,
            reason=reason[:300],
            subjects=_subject(caller),
            data={"flag": flag.pk},
        )
    return flag


def decline_reports(caller: Caller, by: User, note: str) -> int:
    """The center reviewed the caller's pending reports and flags nobody; how many were declined."""
    _check_flagger(by)
    note = clean_text(note, "note", max_chars=REASON_MAX)
    with transaction.atomic():
        caller = Caller.objects.select_for_update().get(pk=caller.pk)
        declined = _decide_pending(caller, ReportStatus.DECLINED, by, note)
        if not declined:
            raise IllegalTransition(_("no report on this caller is waiting for review"))
        audit.record(
            AuditAction.CALLER_REPORTS_DECLINED,
            user=by,
            reason=note[:300],
            subjects=_subject(caller),
            data={"reports": declined},
        )
    return declined


def _decide_pending(caller: Caller, status: str, by: User, note: str, flag: CallerFlag | None = None) -> list[int]:
    pending = list(CallerReport.objects.filter(caller=caller, status=ReportStatus.PENDING).order_by("pk"))
    for report in pending:
        report.decide(status, by, note)
        report.flag = flag
        report.save(update_fields=[*CallerReport.DECISION_FIELDS, "flag"])
    return [r.pk for r in pending]


def export_rows(callers: list[Caller]) -> dict[str, list[dict]]:
    """The flags and reports held about these callers, for a citizen's request (PIPL art. 45)."""
    flags = CallerFlag.objects.filter(caller__in=callers).order_by("set_at", "pk")
    reports = CallerReport.objects.filter(caller__in=callers).select_related("ticket").order_by("reported_at", "pk")
    return {
        "caller_flags": [
            {
                "kind": f.get_kind_display(),
                "reason": f.reason,
                "set_at": f.set_at,
                "expires_at": f.expires_at,
                "lifted_at": f.lifted_at,
                "lift_reason": f.lift_reason,
            }
            for f in flags
        ],
        "caller_reports": [
            {
                "reported_at": r.reported_at,
                "ticket": r.ticket.number if r.ticket_id else "",
                "call": r.call_linkedid,
                "note": r.reason,
                "status": r.get_status_display(),
                "decided_at": r.decided_at,
                "decision_note": r.decision_note,
            }
            for r in reports
        ],
    }
