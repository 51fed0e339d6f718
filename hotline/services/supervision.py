"""催办 and 督办: the center's manual reminder to a unit, and supervision cases (督办件).

Reviewers (dispatchers, supervisors, admins) take these acts; units only see them. Each act is
one transaction that leaves a timeline entry on every ticket it touches, and nothing is deleted:
a closed case keeps its notes and its result.

- :func:`remind` — 催办 with a note to the units working on a ticket (one entry per assignment,
  ``ticket.reminder``), pushed live to each unit's workbench; the entry's ``notify`` makes
  callback's ``sms.notify_units`` text the unit's liaison.
- :func:`open_case` / :func:`add_note` / :func:`close_case` — a case on one ticket or a set of
  tickets (a hot problem), with form, reason, demanded deadline, responsible unit and leader.
  Opening tells the responsible leader by SMS (``notify: leader``).

Locks: the case row first, then the tickets in id order, so two acts on overlapping cases never
wait on each other; ticket services lock only tickets and assignments, never a case.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from hotline.access import is_center_reviewer
from hotline.errors import IllegalTransition, InvalidInput, NotAllowed
from hotline.events import CENTER_GROUP, publish_on_commit, unit_group
from hotline.models import (
    Assignment,
    SupervisionCase,
    SupervisionForm,
    SupervisionNote,
    SupervisionOutcome,
    SupervisionStatus,
    Ticket,
    TicketStatus,
    Unit,
    User,
)
from hotline.models.tickets import ACTIVE_ASSIGNMENT_STATUSES
from hotline.services import timeline
from hotline.services.common import clean_text, lock_ticket, notify

MAX_TICKETS = 200  # a hot problem, not the whole city: a list the case page can show
# Tickets that left the hotline's hands: nothing to supervise.
NOT_SUPERVISABLE = frozenset({TicketStatus.DISCARDED, TicketStatus.MERGED, TicketStatus.TRANSFERRED_110})


def _check_reviewer(user: User | None) -> None:
    if not is_center_reviewer(user):
        raise NotAllowed(_("only the center's dispatchers and supervisors may do this"))


# --- 催办 ---------------------------------------------------------------------------------


def remind(ticket: Ticket, by: User, note: str, assignment: Assignment | None = None) -> list[Assignment]:
    """催办: remind the unit of ``assignment`` (default: every unit the center dispatched to that is
    still working on the ticket) with ``note``. Returns the assignments reminded."""
    _check_reviewer(by)
    note = clean_text(note, "note", max_chars=500)
    if assignment is not None and assignment.ticket_id != ticket.pk:
        raise InvalidInput(_("that assignment belongs to another ticket"), field="assignment")
    with transaction.atomic():
        ticket = lock_ticket(ticket)
        active = Assignment.objects.filter(ticket=ticket, status__in=ACTIVE_ASSIGNMENT_STATUSES).select_related("unit")
        if assignment is not None:
            targets = list(active.filter(pk=assignment.pk))
            if not targets:
                raise IllegalTransition(
                    _("%(unit)s is not working on this ticket now: nothing to remind") % {"unit": assignment.unit.name}
                )
        else:
            targets = list(active.filter(parent__isnull=True).order_by("pk"))
            if not targets:
                raise IllegalTransition(_("no unit is working on ticket %(number)s now") % {"number": ticket.number})
        for target in targets:
            unit = target.unit
            timeline.record(
                ticket,
                "ticket.reminder",
                by,
                assignment=target,
                note=note,
                data={
                    "unit": unit.name,
                    "unit_id": unit.pk,
                    "notify": "liaison",
                    "reply_by": target.reply_by.isoformat(),
                },
            )
            publish_on_commit(
                [unit_group(unit.pk)],
                {
                    "type": "ticket.reminder",
                    "ticket_id": ticket.pk,
                    "number": ticket.number,
                    "assignment_id": target.pk,
                    "level": "manual",
                    "overdue": timezone.now() > target.reply_by,
                    "deadline": target.reply_by.isoformat(),
                    "note": note,
                },
            )
        publish_on_commit(
            [CENTER_GROUP],
            {
                "type": "ticket.updated",
                "ticket_id": ticket.pk,
                "number": ticket.number,
                "status": ticket.status,
                "action": "reminder",
                "at": timezone.now().isoformat(),
            },
        )
    return targets


# --- 督办件 -------------------------------------------------------------------------------


def open_case(
    by: User,
    tickets: Iterable[Ticket],
    form: str,
    reason: str,
    due_by: datetime,
    *,
    title: str = "",
    unit: Unit | None = None,
    leader_name: str = "",
) -> SupervisionCase:
    """Open a case on ``tickets``; the responsible leader defaults to the unit's leader in charge."""
    _check_reviewer(by)
    if form not in SupervisionForm.values:
        raise InvalidInput(_("unknown supervision form %(form)s") % {"form": form}, field="form")
    reason = clean_text(reason, "reason", max_chars=2000)
    title = clean_text(title, "title", max_chars=200, required=False)
    leader_name = clean_text(leader_name, "leader", max_chars=50, required=False)
    ids = sorted({t.pk for t in tickets})
    if not ids:
        raise InvalidInput(_("a supervision case needs at least one ticket"), field="tickets")
    if len(ids) > MAX_TICKETS:
        raise InvalidInput(
            _("a supervision case holds at most %(max)s tickets") % {"max": MAX_TICKETS}, field="tickets"
        )
    if due_by is None or due_by <= timezone.now():
        raise InvalidInput(_("the demanded deadline must be in the future"), field="due_by")
    if unit is not None and not unit.is_active:
        raise InvalidInput(_("%(unit)s is not an active unit") % {"unit": unit.name}, field="unit")
    with transaction.atomic():
        locked = [lock_ticket(pk) for pk in ids]
        closed_out = [t.number for t in locked if t.status in NOT_SUPERVISABLE]
        if closed_out:
            raise IllegalTransition(
                _("these tickets are no longer handled by the hotline: %(numbers)s")
                % {"numbers": "、".join(closed_out)}
            )
        case = SupervisionCase.objects.create(
            form=form,
            title=title or locked[0].title or locked[0].number,
            reason=reason,
            unit=unit,
            leader_name=leader_name or (unit.leader_name if unit else ""),
            due_by=due_by,
            opened_by=by,
        )
        case.tickets.set(locked)
        data = _case_data(case)
        if unit is not None:
            data.update(unit_id=unit.pk, notify="leader")
        for ticket in locked:
            timeline.record(ticket, "supervision.opened", by, note=reason, data=data)
        _notify_case(case, locked)
    return case


def add_note(case: SupervisionCase, by: User, text: str) -> SupervisionNote:
    """A follow-up on an open case, on the timeline of each of its tickets."""
    _check_reviewer(by)
    text = clean_text(text, "note", max_chars=2000)
    with transaction.atomic():
        case, locked = _lock_case(case)
        if not case.is_open:
            raise IllegalTransition(_("supervision case #%(id)s is closed") % {"id": case.pk})
        note = SupervisionNote.objects.create(case=case, author=by, text=text)
        for ticket in locked:
            timeline.record(ticket, "supervision.note", by, note=text, data=_case_data(case))
        _notify_case(case, locked)
    return note


def close_case(case: SupervisionCase, by: User, outcome: str, result: str) -> SupervisionCase:
    """Close a case with its result; the tickets keep the case (and their timeline says so)."""
    _check_reviewer(by)
    if outcome not in SupervisionOutcome.values:
        raise InvalidInput(_("unknown outcome %(outcome)s") % {"outcome": outcome}, field="outcome")
    result = clean_text(result, "result", max_chars=2000)
    with transaction.atomic():
        case, locked = _lock_case(case)
        if not case.is_open:
            raise IllegalTransition(_("supervision case #%(id)s is closed") % {"id": case.pk})
        case.status, case.outcome, case.result = SupervisionStatus.CLOSED, outcome, result
        case.closed_by, case.closed_at = by, timezone.now()
        case.save(update_fields=["status", "outcome", "result", "closed_by", "closed_at"])
        data = {**_case_data(case), "outcome": outcome, "outcome_label": str(case.get_outcome_display())}
        for ticket in locked:
            timeline.record(ticket, "supervision.closed", by, note=result, data=data)
        _notify_case(case, locked)
    return case


def _lock_case(case: SupervisionCase | int) -> tuple[SupervisionCase, list[Ticket]]:
    pk = case if isinstance(case, int) else case.pk
    locked_case = SupervisionCase.objects.select_for_update().get(pk=pk)
    ids = sorted(locked_case.tickets.values_list("pk", flat=True))
    return locked_case, [lock_ticket(t) for t in ids]


def _case_data(case: SupervisionCase) -> dict:
    return {
        "case": case.pk,
        "form": case.form,
        "form_label": str(case.get_form_display()),
        "due_by": case.due_by.isoformat(),
        "unit": case.unit.name if case.unit_id else "",
        "leader": case.leader_name,
    }


def _notify_case(case: SupervisionCase, tickets: list[Ticket]) -> None:
    """The marks change on the dispatch queue and on the units' workbenches."""
    extra = (case.unit_id,) if case.unit_id else ()
    for ticket in tickets:
        notify(ticket, "supervision", extra_units=extra)


# --- reads --------------------------------------------------------------------------------


def open_cases() -> QuerySet[SupervisionCase]:
    return SupervisionCase.objects.filter(status=SupervisionStatus.OPEN)


def supervised_filter() -> Exists:
    """``Ticket.objects.filter(supervised_filter())``: tickets under an open case (for lists and the API)."""
    return Exists(open_cases().filter(tickets=OuterRef("pk")))


def supervision_by_ticket(ticket_ids: Iterable[int]) -> dict[int, SupervisionCase]:
    """For marking rows: each ticket's most recent open case, one query for the whole list."""
    ids = list(ticket_ids)
    if not ids:
        return {}
    through = SupervisionCase.tickets.through
    rows = (
        through.objects.filter(ticket_id__in=ids, supervisioncase__status=SupervisionStatus.OPEN)
        .select_related("supervisioncase")
        .order_by("supervisioncase__opened_at", "supervisioncase__pk")
    )
    return {row.ticket_id: row.supervisioncase for row in rows}


def cases_of(ticket: Ticket) -> QuerySet[SupervisionCase]:
    return ticket.supervisions.select_related("unit", "opened_by", "closed_by").prefetch_related("notes__author")
