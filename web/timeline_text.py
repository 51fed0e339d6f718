"""A ticket's timeline in words: "话务员 小王 受理登记", "雨湖区 签收", not ``assignment.accepted``.

Each entry becomes who + what. Who is the actor as the center knows them (a center user by
role and name, a unit's user by unit and name, "系统" for the scheduler and the bridge); what is
a phrase per action, filled from the entry's assignment and ``data``. An action without a
phrase here is named by the workflow's label, so a new action still reads as words.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from callback.models import Rating
from hotline.models import Role, TimelineEntry
from hotline.workflow import action_label

# Without details from the entry's data: the phrase alone.
PHRASES = {
    "ticket.registered": gettext_lazy("registered the ticket"),
    "report.held": gettext_lazy("held the report for the review of spam and abuse"),
    "report.released": gettext_lazy("released the held report to dispatch"),
    "report.marked_spam": gettext_lazy("marked the held report as spam or abuse"),
    "ticket.updated": gettext_lazy("corrected the ticket"),
    "ticket.reply_approved": gettext_lazy("approved the reply"),
    "ticket.sent_back": gettext_lazy("sent the reply back to be redone"),
    "ticket.closed": gettext_lazy("closed the ticket"),
    "ticket.reopened": gettext_lazy("reopened the ticket"),
    "ticket.resolved_on_call": gettext_lazy("answered the demand on the call"),
    "ticket.transferred_110": gettext_lazy("handed the call over to 110"),
    "ticket.discarded": gettext_lazy("moved the ticket to the recycle bin"),
    "ticket.restored": gettext_lazy("restored the ticket from the recycle bin"),
    "ticket.attachment_added": gettext_lazy("attached a file"),
    "ticket.reminder": gettext_lazy("sent a reminder"),
    "ticket.published": gettext_lazy("published the ticket with personal data hidden"),
    "ticket.publication_withdrawn": gettext_lazy("withdrew the published ticket"),
    "assignment.accepted": gettext_lazy("accepted"),
    "assignment.returned": gettext_lazy("returned the ticket"),
    "assignment.replied": gettext_lazy("replied"),
    "assignment.deadline_yellow": gettext_lazy("the deadline is near"),
    "assignment.deadline_red": gettext_lazy("the deadline has passed"),
    "assignment.accept_soon": gettext_lazy("the time to accept is nearly up"),
    "assignment.accept_overdue": gettext_lazy("the time to accept has passed"),
    "extension.requested": gettext_lazy("asked for an extension"),
    "extension.approved": gettext_lazy("approved the extension"),
    "extension.rejected": gettext_lazy("rejected the extension"),
    "dispute.raised": gettext_lazy("disputed the dispatch"),
    "dispute.accepted": gettext_lazy("accepted the dispute"),
    "dispute.upheld": gettext_lazy("accepted the dispute"),
    "dispute.rejected": gettext_lazy("rejected the dispute: the dispatch stands"),
    "revisit.done": gettext_lazy("revisited the caller"),
    "revisit.no_answer": gettext_lazy("revisit: the caller did not answer"),
    "revisit.unreachable": gettext_lazy("revisit: the caller could not be reached"),
    "revisit.cancelled": gettext_lazy("cancelled the revisit"),
    "revisit.changed": gettext_lazy("changed the revisit"),
    "revisit.appealed": gettext_lazy("appealed the revisit result"),
    "revisit.appeal_granted": gettext_lazy("granted the appeal: the revisit leaves the figures"),
    "revisit.appeal_upheld": gettext_lazy("granted the appeal: the revisit leaves the figures"),
    "revisit.appeal_rejected": gettext_lazy("rejected the appeal"),
    "call.recording_stopped": gettext_lazy("stopped recording the call at the caller's request"),
}


@dataclass(frozen=True)
class Line:
    at: datetime
    who: str
    what: str
    note: str
    action: str

    def __str__(self) -> str:
        stamp = timezone.localtime(self.at).strftime("%Y-%m-%d %H:%M")
        return f"{stamp} {self.who} {self.what}" + (f"：{self.note}" if self.note else "")


def who(entry: TimelineEntry) -> str:
    actor = entry.actor
    if actor is None:
        return _("system")
    name = actor.get_full_name() or actor.username
    unit = entry.actor_unit or getattr(actor, "unit", None)
    # Names often carry the role or the unit already ("话务员小李", "雨湖区经办人"): not twice.
    if actor.role == Role.UNIT_HANDLER and unit is not None:
        return name if name.startswith(unit.name) else f"{unit.name} {name}"
    role = str(actor.get_role_display())
    return name if name.startswith(role) else f"{role} {name}"


def _when(value: str | None) -> str:
    moment = parse_datetime(value) if value else None
    return timezone.localtime(moment).strftime("%m-%d %H:%M") if moment else ""


def what(entry: TimelineEntry) -> str:
    data = entry.data or {}
    unit = entry.assignment.unit.name if entry.assignment_id and entry.assignment else ""
    action = entry.action
    if action in ("ticket.dispatched", "ticket.reassigned"):
        text = (_("dispatched to %(lead)s") if action == "ticket.dispatched" else _("reassigned to %(lead)s")) % {
            "lead": data.get("lead") or unit or "—"
        }
        if data.get("assisting"):
            text += _(", assisted by %(units)s") % {"units": "、".join(data["assisting"])}
        if data.get("reply_by"):
            text += _(", reply by %(when)s") % {"when": _when(data["reply_by"])}
        if data.get("rule"):
            text += _(", automatically by the dispatch rule “%(rule)s”") % {"rule": data["rule"]}
        return text
    if action == "assignment.sub_dispatched":
        return _("sub-dispatched to %(unit)s, reply by %(when)s") % {
            "unit": data.get("to", unit),
            "when": _when(data.get("reply_by")),
        }
    if action == "assignment.withdrawn":
        text = _("%(unit)s's part was withdrawn") % {"unit": unit or "—"}
        return text + (_(" (overdue)") if data.get("overdue") else "")
    if action in ("extension.requested",) and data.get("until"):
        return _("asked for an extension to %(when)s") % {"when": _when(data["until"])}
    if action in ("extension.approved", "assignment.deadline_recomputed") and data.get("reply_by"):
        return _("moved %(unit)s's deadline from %(old)s to %(new)s") % {
            "unit": unit or "—",
            "old": _when(data.get("old_reply_by")),
            "new": _when(data["reply_by"]),
        }
    if action == "ticket.registered" and data.get("incident_110"):
        return _("registered the ticket from %(system)s, 110 incident %(incident)s") % {
            "system": data.get("system", "110"),
            "incident": data["incident_110"],
        }
    if action == "referral110.outcome_reported":
        return _("reported the outcome to %(system)s (110 incident %(incident)s)") % {
            "system": data.get("system", "110"),
            "incident": data.get("incident_110", "—"),
        }
    if action == "ticket.registered" and data.get("system"):
        return _("registered the ticket from %(system)s (Open311)") % {"system": data["system"]}
    if action == "ticket.call_transferred":
        if data.get("mode") == "attended":
            return _("transferred the call to %(to)s after talking to them first") % {"to": data.get("to", "—")}
        return _("transferred the call to %(to)s") % {"to": data.get("to", "—")}
    if action == "ticket.unit_answered_on_call":
        return _("%(unit)s answered on the call") % {"unit": data.get("unit", "—")}
    if action == "ticket.merged":
        return _("merged the ticket into %(number)s") % {"number": data.get("into", "—")}
    if action == "ticket.merge_received":
        return _("took in ticket %(number)s") % {"number": data.get("merged", "—")}
    if action == "revisit.done" and data.get("rating"):
        labels = dict(Rating.choices)
        text = _("revisited the caller: %(rating)s") % {"rating": labels.get(data["rating"], data["rating"])}
        if data.get("solved") is not None:
            text += "，" + (_("solved") if data["solved"] else _("not solved"))
        return text
    if action == "ticket.reminder" and unit:
        return _("reminded %(unit)s") % {"unit": unit}
    if action == "assignment.escalated":
        return _("%(unit)s is overdue: reported to the leader in charge %(leader)s") % {
            "unit": unit or data.get("unit", "—"),
            "leader": data.get("leader") or "",
        }
    if action == "supervision.opened":
        return _("opened supervision case #%(case)s (%(form)s), due %(when)s") % {
            "case": data.get("case", "—"),
            "form": data.get("form_label", ""),
            "when": _when(data.get("due_by")),
        }
    if action == "supervision.note":
        return _("followed up supervision case #%(case)s") % {"case": data.get("case", "—")}
    if action == "supervision.closed":
        return _("closed supervision case #%(case)s: %(outcome)s") % {
            "case": data.get("case", "—"),
            "outcome": data.get("outcome_label", ""),
        }
    if (action.startswith("assignment.deadline_") or action.startswith("assignment.accept_")) and unit:
        return f"{unit}：{PHRASES[action]}" if action in PHRASES else str(action_label(action))
    phrase = PHRASES.get(action)
    if phrase is not None:
        return str(phrase)
    return str(action_label(action.split(".", 1)[-1]))


def describe(entries) -> list[Line]:
    """The entries (with ``actor``, ``actor_unit`` and ``assignment__unit`` selected) as lines, in order."""
    return [Line(e.at, who(e), what(e), e.note, e.action) for e in entries]


def timeline_entries(ticket):
    return ticket.timeline.select_related("actor__unit", "actor_unit", "assignment__unit").order_by("at", "pk")
