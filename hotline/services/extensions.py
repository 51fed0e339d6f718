"""延期: a unit asks for more time before its deadline; whoever dispatched to it decides."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hotline.access import is_center_reviewer
from hotline.errors import IllegalTransition, InvalidInput, NotAllowed
from hotline.models import Extension, ExtensionStatus, Role, User
from hotline.models.tickets import Assignment
from hotline.services import timeline
from hotline.services.common import clean_text, lock_assignment, notify, touch
from hotline.services.dispatch import A, check_unit_action


def request_extension(
    assignment: Assignment, by: User, until: datetime, reason: str, expected_version: int | None = None
) -> Extension:
    reason = clean_text(reason, "reason", max_chars=2000)
    with transaction.atomic():
        ticket, assignment = check_unit_action(
            "request_extension", assignment, by, expected_version, {A.PENDING, A.ACCEPTED}
        )
        if timezone.now() > assignment.reply_by:
            # Asked once overdue, an extension would turn late work into on-time work in a later period.
            raise IllegalTransition(
                _("the deadline (%(deadline)s) has passed; more time can only be asked for before it")
                % {"deadline": timezone.localtime(assignment.reply_by).strftime("%Y-%m-%d %H:%M")}
            )
        if until <= assignment.reply_by:
            raise InvalidInput(_("the requested deadline must be later than the current one"), field="until")
        if assignment.parent_id and until > assignment.parent.reply_by:
            raise InvalidInput(
                _("the requested deadline cannot pass the dispatching unit's own deadline"), field="until"
            )
        if assignment.extensions.filter(status=ExtensionStatus.PENDING).exists():
            raise IllegalTransition(_("an extension request for this assignment is already waiting for a decision"))
        extension = Extension.objects.create(
            assignment=assignment, requested_by=by, requested_until=until, reason=reason
        )
        touch(ticket)
        timeline.record(
            ticket,
            "extension.requested",
            by,
            assignment=assignment,
            note=reason,
            data={"until": until.isoformat(), "extension": extension.pk},
        )
        notify(ticket, "extension_requested", extra_units=(assignment.parent.unit_id,) if assignment.parent_id else ())
    return extension


def _check_decider(by: User, assignment: Assignment) -> None:
    """The center decides on top-level assignments; a level-2 unit on its sub-dispatches."""
    if by.is_superuser:
        return
    if assignment.parent_id is None:
        if not is_center_reviewer(by):
            raise NotAllowed(_("only the center's dispatchers and supervisors decide on extensions"))
    elif by.role != Role.UNIT_HANDLER or by.unit_id != assignment.parent.unit_id:
        raise NotAllowed(_("only the unit that sub-dispatched decides on this extension"))


def decide_extension(extension: Extension, by: User, *, approve: bool, note: str = "") -> Extension:
    note = clean_text(note, "note", max_chars=2000, required=not approve)
    with transaction.atomic():
        ticket, assignment = lock_assignment(extension.assignment_id)
        extension = Extension.objects.select_for_update().get(pk=extension.pk)
        _check_decider(by, assignment)
        if extension.status != ExtensionStatus.PENDING:
            raise IllegalTransition(
                _("this extension request is already %(status)s") % {"status": extension.get_status_display()}
            )
        if approve and not assignment.is_active:
            raise IllegalTransition(_("the assignment is no longer open"))
        extension.decide(ExtensionStatus.APPROVED if approve else ExtensionStatus.REJECTED, by, note)
        extension.save(update_fields=Extension.DECISION_FIELDS)
        old_deadline = assignment.reply_by
        if approve:
            assignment.reply_by = extension.requested_until
            assignment.save(update_fields=["reply_by"])
        touch(ticket)
        timeline.record(
            ticket,
            "extension.approved" if approve else "extension.rejected",
            by,
            assignment=assignment,
            note=note,
            data={"old_reply_by": old_deadline.isoformat(), "reply_by": assignment.reply_by.isoformat()},
        )
        notify(ticket, "extension_decided", extra_units=(assignment.unit_id,))
    return extension
