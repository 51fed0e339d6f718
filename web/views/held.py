"""待审核: public reports held as possible spam or abuse, and the center's decision on each.

Dispatchers, supervisors and administrators (the reviewers who also discard tickets): a held report
is registered but not dispatched (``hotline/services/abuse.py`` says when a report is held). Per item:
release it to the dispatch queue — the automatic dispatch then runs as for a new report — or mark it
spam/abuse (the ticket goes to the recycle bin, kept and not counted by the KPIs), optionally blocking
the phone from filing online for a while. Phones are masked: the decision does not need them.
"""

from __future__ import annotations

import logging

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from hotline.errors import DomainError
from hotline.lib.phones import mask_phone
from hotline.models import HeldReport, Role
from hotline.services import abuse
from routing.auto import auto_dispatch
from web.views import form_errors, role_required

log = logging.getLogger(__name__)
reviewers = role_required([Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN])
BLOCK_CHOICES = [
    (0, gettext_lazy("do not block")),
    (7, gettext_lazy("7 days")),
    (30, gettext_lazy("30 days")),
    (90, gettext_lazy("90 days")),
]


class ReleaseForm(forms.Form):
    note = forms.CharField(required=False, max_length=abuse.NOTE_MAX)


class SpamForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("Why"), max_length=abuse.NOTE_MAX)
    block_days = forms.TypedChoiceField(
        label=gettext_lazy("Block the phone from filing online"), choices=BLOCK_CHOICES, coerce=int, initial=0
    )


@reviewers
def held_list(request: HttpRequest) -> HttpResponse:
    rows = abuse.pending()
    photos = abuse.photo_counts([h.ticket_id for h in rows])
    for held in rows:
        held.masked_phone = mask_phone(held.caller.phone)
        held.photos = photos.get(held.ticket_id, 0)
    ctx = {"rows": rows, "spam_form": SpamForm(), "block_choices": BLOCK_CHOICES}
    return render(request, "web/held/list.html", ctx)


def _held(pk: int) -> HeldReport:
    return get_object_or_404(HeldReport.objects.select_related("ticket", "caller"), pk=pk)


@reviewers
@require_POST
def release(request: HttpRequest, pk: int) -> HttpResponse:
    held = _held(pk)
    form = ReleaseForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors(form))
        return redirect("web:held")
    try:
        ticket = abuse.release(held, request.user, form.cleaned_data["note"])
    except DomainError as exc:
        messages.error(request, f"{held.ticket.number}: {exc.message}")
        return redirect("web:held")
    rule = auto_dispatch(ticket)  # as for a new report: a rule may send it straight to its unit
    if rule is not None:
        ok = _("%(number)s released and dispatched automatically to %(unit)s.")
        messages.success(request, ok % {"number": ticket.number, "unit": rule.unit.name})
    else:
        messages.success(request, _("%(number)s released to the dispatch queue.") % {"number": ticket.number})
    return redirect("web:held")


@reviewers
@require_POST
def mark_spam(request: HttpRequest, pk: int) -> HttpResponse:
    held = _held(pk)
    form = SpamForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"{held.ticket.number}: {form_errors(form)}")
        return redirect("web:held")
    data = form.cleaned_data
    try:
        ticket = abuse.mark_spam(held, request.user, data["note"], data["block_days"])
    except DomainError as exc:
        messages.error(request, f"{held.ticket.number}: {exc.message}")
        return redirect("web:held")
    messages.success(request, _("%(number)s marked as spam or abuse.") % {"number": ticket.number})
    return redirect("web:held")
