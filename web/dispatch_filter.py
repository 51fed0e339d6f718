"""Which waiting tickets the dispatch queue lists: the filter form behind its GET parameters.

The page and its live socket read the same parameters (the socket's URL carries the page's
query string), so a push re-renders the list the dispatcher is looking at, not the default one.
"""

from __future__ import annotations

from datetime import datetime

from django import forms
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from hotline.deadlines import WAITING_FOR_DISPATCH, dispatch_by
from hotline.models import Assignment, Channel, HoldStatus, Ticket, TicketStatus, Urgency
from hotline.services.calendar import load_calendar

PAGE_SIZE = 25
OLDEST, NEWEST = "oldest", "newest"


class DispatchQueueFilter(forms.Form):
    order = forms.ChoiceField(
        label=_("Order"), required=False, choices=[(OLDEST, _("Oldest first")), (NEWEST, _("Newest first"))]
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All")), (TicketStatus.REGISTERED, _("New")), (TicketStatus.RETURNED, _("Returned"))],
    )
    channel = forms.ChoiceField(label=_("Channel"), required=False, choices=[("", _("All")), *Channel.choices])
    urgency = forms.ChoiceField(label=_("Urgency"), required=False, choices=[("", _("All")), *Urgency.choices])
    late = forms.BooleanField(label=_("Past dispatch-by only"), required=False)


def read_filter(params: QueryDict | dict | None) -> DispatchQueueFilter:
    """A bound form; a parameter that does not validate is ignored, never a failed page."""
    form = DispatchQueueFilter(params or {})
    form.is_valid()
    return form


def waiting_tickets(form: DispatchQueueFilter, now: datetime) -> QuerySet[Ticket]:
    data = getattr(form, "cleaned_data", {})
    # A report held for the spam/abuse review (/dispatch/held/) waits there, not here.
    rows = Ticket.objects.filter(status__in=list(WAITING_FOR_DISPATCH)).exclude(held__status=HoldStatus.HELD)
    if data.get("status"):
        rows = rows.filter(status=data["status"])
    if data.get("channel"):
        rows = rows.filter(channel=data["channel"])
    if data.get("urgency"):
        rows = rows.filter(urgency=data["urgency"])
    if data.get("late"):
        rows = rows.filter(pk__in=_past_dispatch_by(rows, now))
    order = ("-created_at", "-pk") if data.get("order") == NEWEST else ("created_at", "pk")
    return rows.order_by(*order)


def _past_dispatch_by(rows: QuerySet[Ticket], now: datetime) -> list[int]:
    """The urgent ones whose 当日转办 has passed, by the per-ticket rule (``hotline.deadlines.dispatch_by``).

    Urgent tickets waiting for dispatch are few (a day's worth at most), so the rule is applied
    in Python rather than restated as SQL.
    """
    calendar = load_calendar()
    urgent = rows.filter(urgency=Urgency.URGENT).only("pk", "urgency", "created_at")
    return [t.pk for t in urgent if (due := dispatch_by(t, calendar)) is not None and now > due]


def last_returns(tickets: list[Ticket]) -> dict[int, Assignment]:
    """Each returned ticket's latest returned assignment: the dispatcher needs the unit's reason."""
    returned = [t.pk for t in tickets if t.status == TicketStatus.RETURNED]
    if not returned:
        return {}
    latest: dict[int, Assignment] = {}
    rows = (
        Assignment.objects.filter(ticket__in=returned, returned_at__isnull=False)
        .select_related("unit")
        .order_by("ticket_id", "-returned_at", "-pk")
    )
    for assignment in rows:
        latest.setdefault(assignment.ticket_id, assignment)
    return latest
