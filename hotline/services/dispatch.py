"""Dispatch across the three-level network and the units' side of an assignment."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hotline.access import check_own_unit
from hotline.errors import Conflict, IllegalTransition, InvalidInput, NotAllowed
from hotline.models import (
    Assignment,
    AssignmentRole,
    AssignmentStatus,
    HeldReport,
    HoldStatus,
    Ticket,
    TicketStatus,
    Unit,
    UnitKind,
    User,
)
from hotline.models.tickets import ACTIVE_ASSIGNMENT_STATUSES
from hotline.services import search, timeline
from hotline.services.assignments import current_lead, new_assignment, withdraw_active
from hotline.services.calendar import load_calendar
from hotline.services.common import clean_text, lock_assignment, lock_ticket, move, notify, touch
from hotline.workflow import action_label, check_transition

S = TicketStatus
A = AssignmentStatus


def check_level2(unit: Unit, what: str) -> None:
    if unit.level != 2:
        raise InvalidInput(
            _("the center dispatches to level-2 units only; %(unit)s is level %(level)s")
            % {"unit": unit.name, "level": unit.level},
            field=what,
        )
    if not unit.is_active:
        raise InvalidInput(_("%(unit)s is not an active unit") % {"unit": unit.name}, field=what)


def dispatch_ticket(
    ticket: Ticket,
    by: User | None,
    lead_unit: Unit,
    assisting_units: Iterable[Unit] = (),
    instructions: str = "",
    expected_version: int | None = None,
    source: dict | None = None,
) -> list[Assignment]:
    """派单: the center hands the ticket to a level-2 lead unit, plus optional assisting units.

    ``by=None`` is the system: an automatic dispatch, whose rule ``source`` names in the timeline
    (``{"rule": name, "rule_id": pk}``, routing/auto.py)."""
    instructions = clean_text(instructions, "instructions", max_chars=2000, required=False)
    assisting = list(dict.fromkeys(assisting_units))
    check_level2(lead_unit, "lead_unit")
    for unit in assisting:
        check_level2(unit, "assisting_units")
        if unit.pk == lead_unit.pk:
            raise InvalidInput(_("the lead unit cannot also be an assisting unit"), field="assisting_units")
    with transaction.atomic():
        ticket = lock_ticket(ticket, expected_version)
        check_transition("dispatch", ticket.status, by)
        if HeldReport.objects.filter(ticket_id=ticket.pk, status=HoldStatus.HELD).exists():
            raise Conflict(_("this report is held for the review of spam and abuse: release it first"))
        calendar, now = load_calendar(), timezone.now()
        made = [
            new_assignment(
                ticket, lead_unit, AssignmentRole.LEAD, by, instructions=instructions, now=now, calendar=calendar
            )
        ]
        made += [
            new_assignment(
                ticket, u, AssignmentRole.ASSISTING, by, instructions=instructions, now=now, calendar=calendar
            )
            for u in assisting
        ]
        old = move(ticket, "dispatch", S.DISPATCHED)
        timeline.record(
            ticket,
            "ticket.dispatched",
            by,
            from_status=old,
            to_status=S.DISPATCHED,
            assignment=made[0],
            note=instructions,
            data={
                "lead": lead_unit.name,
                "assisting": [u.name for u in assisting],
                "reply_by": made[0].reply_by.isoformat(),
                "provisional": made[0].deadline_provisional,
                **(source or {}),
            },
        )
        notify(ticket, "dispatched")
    return made


def reassign_ticket(
    ticket: Ticket, by: User, to_unit: Unit, reason: str, expected_version: int | None = None
) -> Assignment:
    """改派: withdraw the current lead unit's part and give the ticket to another level-2 unit."""
    reason = clean_text(reason, "reason", max_chars=2000)
    check_level2(to_unit, "to_unit")
    with transaction.atomic():
        ticket = lock_ticket(ticket, expected_version)
        check_transition("reassign", ticket.status, by)
        return reassign_locked(ticket, by, to_unit, reason)


def reassign_locked(
    ticket: Ticket, by: User, to_unit: Unit, reason: str, replacing: Assignment | None = None
) -> Assignment:
    """Withdraw ``replacing`` (default: the current lead) with its sub-dispatches; give its part to ``to_unit``."""
    previous = replacing or current_lead(ticket)
    role = previous.role if previous else AssignmentRole.LEAD
    withdrawn: list[int] = []
    if previous is not None:
        if previous.unit_id == to_unit.pk:
            raise InvalidInput(_("the ticket is already with %(unit)s") % {"unit": to_unit.name}, field="to_unit")
        tree = {previous.pk, *Assignment.objects.filter(parent=previous).values_list("pk", flat=True)}
        withdrawn = withdraw_active(ticket, by, reason, only=tree)
    made = new_assignment(ticket, to_unit, role, by, instructions=reason)
    if role == AssignmentRole.LEAD:
        old = move(ticket, "reassign", S.DISPATCHED)
    else:
        old = ticket.status
        touch(ticket)
    timeline.record(
        ticket,
        "ticket.reassigned",
        by,
        from_status=old,
        to_status=ticket.status,
        assignment=made,
        note=reason,
        data={"from": previous.unit.name if previous else "", "to": to_unit.name, "role": role},
    )
    notify(ticket, "reassigned", extra_units=tuple(withdrawn))
    return made


def check_unit_action(
    action: str, assignment: Assignment | int, by: User, expected_version: int | None, statuses: set[str]
) -> tuple[Ticket, Assignment]:
    """Lock, then check role, unit and both the ticket's and the assignment's status."""
    ticket, assignment = lock_assignment(assignment, expected_version)
    check_transition(action, ticket.status, by)
    check_own_unit(by, assignment)
    if assignment.status not in statuses:
        raise IllegalTransition(
            _("cannot %(action)s an assignment that is %(status)s")
            % {
                "action": action_label(action),
                "status": assignment.get_status_display(),
            },
            action=action,
            status=assignment.status,
        )
    return ticket, assignment


def _is_top_lead(assignment: Assignment) -> bool:
    return assignment.parent_id is None and assignment.role == AssignmentRole.LEAD


def accept_assignment(assignment: Assignment, by: User, expected_version: int | None = None) -> Assignment:
    """签收."""
    with transaction.atomic():
        ticket, assignment = check_unit_action("accept", assignment, by, expected_version, {A.PENDING})
        assignment.status, assignment.accepted_at, assignment.accepted_by = A.ACCEPTED, timezone.now(), by
        assignment.save(update_fields=["status", "accepted_at", "accepted_by"])
        late = assignment.accepted_at > assignment.accept_by
        if _is_top_lead(assignment) and ticket.status == S.DISPATCHED:
            old = move(ticket, "accept", S.IN_PROGRESS)
        else:
            old = ticket.status
            touch(ticket)
        timeline.record(
            ticket,
            "assignment.accepted",
            by,
            from_status=old,
            to_status=ticket.status,
            assignment=assignment,
            data={"late": late},
        )
        notify(ticket, "accepted")
    return assignment


def return_assignment(assignment: Assignment, by: User, reason: str, expected_version: int | None = None) -> Assignment:
    """退回: the unit hands the assignment back, with a reason, before accepting it."""
    reason = clean_text(reason, "reason", max_chars=2000)
    with transaction.atomic():
        ticket, assignment = check_unit_action("return", assignment, by, expected_version, {A.PENDING})
        if timezone.now() > assignment.accept_by:
            # Past the accept-by deadline the unit owns the case; a wrong dispatch is then a dispute.
            raise IllegalTransition(
                _("the time to return this assignment ended at %(time)s; raise a dispatch dispute instead")
                % {"time": timezone.localtime(assignment.accept_by).strftime("%Y-%m-%d %H:%M")}
            )
        assignment.status, assignment.returned_at, assignment.return_reason = A.RETURNED, timezone.now(), reason
        assignment.save(update_fields=["status", "returned_at", "return_reason"])
        if _is_top_lead(assignment):
            withdraw_active(ticket, by, "主办单位退回")
            old = move(ticket, "return", S.RETURNED)
        else:
            old = ticket.status
            touch(ticket)
        timeline.record(
            ticket,
            "assignment.returned",
            by,
            from_status=old,
            to_status=ticket.status,
            assignment=assignment,
            note=reason,
        )
        notify(ticket, "returned", extra_units=(assignment.unit_id,))
    return assignment


def sub_dispatch(
    assignment: Assignment,
    by: User,
    to_unit: Unit,
    *,
    reply_by: datetime | None = None,
    instructions: str = "",
    expected_version: int | None = None,
) -> Assignment:
    """二次派单: a level-2 unit passes its part to one of its own level-3 units."""
    instructions = clean_text(instructions, "instructions", max_chars=2000, required=False)
    with transaction.atomic():
        ticket, parent = check_unit_action("sub_dispatch", assignment, by, expected_version, {A.ACCEPTED})
        if parent.unit.level != 2:
            raise NotAllowed(_("only level-2 units sub-dispatch"))
        if to_unit.parent_id != parent.unit_id:
            raise InvalidInput(
                _("%(unit)s is not a unit under %(parent)s") % {"unit": to_unit.name, "parent": parent.unit.name},
                field="to_unit",
            )
        if not to_unit.is_active:
            raise InvalidInput(_("%(unit)s is not an active unit") % {"unit": to_unit.name}, field="to_unit")
        topic = ticket.topic
        if topic is not None and topic.is_level2_only and to_unit.kind == UnitKind.TOWN:
            raise InvalidInput(
                _("topic %(topic)s belongs to level-2 departments and is not pushed down to towns/streets")
                % {"topic": topic},
                field="to_unit",
            )
        if Assignment.objects.filter(parent=parent, unit=to_unit, status__in=ACTIVE_ASSIGNMENT_STATUSES).exists():
            raise IllegalTransition(_("%(unit)s already has this ticket") % {"unit": to_unit.name})
        now = timezone.now()
        reply_by = reply_by or parent.reply_by
        if reply_by > parent.reply_by:
            raise InvalidInput(
                _("the inner deadline cannot be later than your own deadline (%(deadline)s)")
                % {"deadline": timezone.localtime(parent.reply_by).strftime("%Y-%m-%d %H:%M")},
                field="reply_by",
            )
        if reply_by <= now:
            raise InvalidInput(_("the inner deadline must be in the future"), field="reply_by")
        child = new_assignment(
            ticket, to_unit, parent.role, by, parent=parent, reply_by=reply_by, instructions=instructions, now=now
        )
        touch(ticket)
        timeline.record(
            ticket,
            "assignment.sub_dispatched",
            by,
            assignment=child,
            note=instructions,
            data={"from": parent.unit.name, "to": to_unit.name, "reply_by": reply_by.isoformat()},
        )
        notify(ticket, "sub_dispatched")
    return child


def reply_assignment(
    assignment: Assignment,
    by: User,
    text: str,
    expected_version: int | None = None,
    *,
    contacted_caller: bool = False,
) -> Assignment:
    """答复: the unit reports what it did (and whether it contacted the caller); the reply travels up."""
    text = clean_text(text, "reply", max_chars=settings.HOTLINE_MAX_CONTENT_CHARS)
    with transaction.atomic():
        ticket, assignment = check_unit_action("reply", assignment, by, expected_version, {A.ACCEPTED})
        open_children = Assignment.objects.filter(parent=assignment, status__in=ACTIVE_ASSIGNMENT_STATUSES)
        if open_children.exists():
            names = ", ".join(open_children.values_list("unit__name", flat=True))
            raise IllegalTransition(
                _("wait for the replies of the units you sub-dispatched to: %(units)s") % {"units": names}
            )
        assignment.status, assignment.replied_at, assignment.replied_by = A.REPLIED, timezone.now(), by
        assignment.reply_text, assignment.contacted_caller = text, bool(contacted_caller)
        assignment.save(update_fields=["status", "replied_at", "replied_by", "reply_text", "contacted_caller"])
        search.index_ticket(ticket)
        if _is_top_lead(assignment):
            old = move(ticket, "reply", S.REPLIED)
        else:
            old = ticket.status
            touch(ticket)
        timeline.record(
            ticket,
            "assignment.replied",
            by,
            from_status=old,
            to_status=ticket.status,
            assignment=assignment,
            note=text,
            data={
                "on_time": assignment.replied_at <= assignment.reply_by,
                "to": _reply_target(assignment),
                "contacted_caller": assignment.contacted_caller,
            },
        )
        notify(ticket, "replied", extra_units=(assignment.parent.unit_id,) if assignment.parent_id else ())
    return assignment


def _reply_target(assignment: Assignment) -> str:
    return assignment.parent.unit.name if assignment.parent_id else "12345"
