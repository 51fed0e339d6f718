"""派单异议: a unit disputes a dispatch; the center lets the dispatch stand or reassigns (改派)."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from hotline.access import is_center_reviewer
from hotline.errors import IllegalTransition, InvalidInput, NotAllowed
from hotline.models import Dispute, DisputeStatus, Unit, User
from hotline.models.tickets import Assignment
from hotline.services import timeline
from hotline.services.common import clean_text, lock_assignment, notify, touch
from hotline.services.dispatch import A, check_level2, check_unit_action, reassign_locked
from hotline.workflow import check_transition


def raise_dispute(assignment: Assignment, by: User, reason: str, expected_version: int | None = None) -> Dispute:
    reason = clean_text(reason, "reason", max_chars=2000)
    with transaction.atomic():
        ticket, assignment = check_unit_action("dispute", assignment, by, expected_version, {A.PENDING, A.ACCEPTED})
        if assignment.parent_id is not None:
            raise NotAllowed(_("a sub-dispatched unit returns the assignment to its level-2 unit instead"))
        if assignment.disputes.filter(status=DisputeStatus.PENDING).exists():
            raise IllegalTransition(_("a dispute about this dispatch is already waiting for a decision"))
        dispute = Dispute.objects.create(assignment=assignment, raised_by=by, reason=reason)
        touch(ticket)
        timeline.record(ticket, "dispute.raised", by, assignment=assignment, note=reason, data={"dispute": dispute.pk})
        notify(ticket, "dispute_raised")
    return dispute


def decide_dispute(dispute: Dispute, by: User, *, reassign_to: Unit | None = None, note: str = "") -> Dispute:
    """Let the dispatch stand (``reassign_to=None``) or move the ticket to another level-2 unit."""
    note = clean_text(note, "note", max_chars=2000)
    if not is_center_reviewer(by):
        raise NotAllowed(_("only the center's dispatchers and supervisors decide on disputes"))
    if reassign_to is not None:
        check_level2(reassign_to, "reassign_to")
    with transaction.atomic():
        ticket, assignment = lock_assignment(dispute.assignment_id)
        dispute = Dispute.objects.select_for_update().get(pk=dispute.pk)
        if dispute.status != DisputeStatus.PENDING:
            raise IllegalTransition(
                _("this dispute is already decided (%(status)s)") % {"status": dispute.get_status_display()}
            )
        if reassign_to is None:
            dispute.decide(DisputeStatus.DISPATCH_STANDS, by, note)
            touch(ticket)
            timeline.record(ticket, "dispute.rejected", by, assignment=assignment, note=note)
            notify(ticket, "dispute_rejected", extra_units=(assignment.unit_id,))
        else:
            if assignment.unit_id == reassign_to.pk:
                raise InvalidInput(_("reassign to a different unit, or let the dispatch stand"), field="reassign_to")
            check_transition("reassign", ticket.status, by)
            dispute.decide(DisputeStatus.REASSIGNED, by, note)
            dispute.reassigned_to = reassign_to
            timeline.record(ticket, "dispute.accepted", by, assignment=assignment, note=note)
            reassign_locked(ticket, by, reassign_to, note, replacing=assignment)
        dispute.save(update_fields=[*Dispute.DECISION_FIELDS, "reassigned_to"])
    return dispute
