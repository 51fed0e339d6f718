"""热点预警 → 专题督办: the one-step case from a hot spot the dashboard shows (metrics.hotspots).

The panel itself is ``{% hot_spot_panel %}`` (web/templatetags/hotspots.py), so the dashboard's
view stays as it is; the wallboard shows the same rows through its own fragment.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from hotline.errors import DomainError
from hotline.models import Unit
from hotline.models.network import REVIEWING_ROLES
from metrics import hotspots
from metrics.models import HotSpot
from web.supervision_forms import end_of_day
from web.ticket_forms import level2_units
from web.views import form_errors, role_required


class HotSpotCaseForm(forms.Form):
    """Everything optional: the button alone opens the case with the hot spot's own defaults."""

    due_by = forms.DateField(
        label=gettext_lazy("Demanded deadline"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    unit = forms.ModelChoiceField(label=gettext_lazy("Responsible unit"), queryset=Unit.objects.none(), required=False)
    reason = forms.CharField(
        label=gettext_lazy("Reason"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = level2_units()

    def clean_due_by(self):
        day = self.cleaned_data.get("due_by")
        if day is not None and day < timezone.localdate():
            raise forms.ValidationError(_("The demanded deadline must not be in the past."))
        return day


@role_required(REVIEWING_ROLES)
@require_POST
def supervise(request: HttpRequest, pk: int) -> HttpResponse:
    spot = get_object_or_404(HotSpot, pk=pk)
    back = request.POST.get("back") or ""
    back = back if back.startswith("/dashboard/") else "/dashboard/"  # only back to the dashboard
    form = HotSpotCaseForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors(form))
        return redirect(back)
    data = form.cleaned_data
    try:
        case = hotspots.supervise(
            spot,
            request.user,
            due_by=end_of_day(data["due_by"]) if data["due_by"] else None,
            reason=data["reason"],
            unit=data["unit"],
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    messages.success(
        request,
        _("Special-topic supervision case #%(id)s opened on %(n)s tickets.")
        % {"id": case.pk, "n": case.tickets.count()},
    )
    return redirect("web:supervision-case", pk=case.pk)
