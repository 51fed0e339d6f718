"""The center's forms for 恶意来电/缠访: flag a caller, lift a flag, decline the reports."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from hotline.models import FlagKind
from hotline.services.callers import REASON_MAX


class FlagForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=FlagKind.choices)
    reason = forms.CharField(label=_("Reason"), max_length=REASON_MAX, widget=forms.Textarea(attrs={"rows": 3}))
    expires_on = forms.DateField(
        label=_("Expires on"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("The flag ends at the end of this day."),
    )


class LiftForm(forms.Form):
    reason = forms.CharField(label=_("Why lift it now"), max_length=REASON_MAX)


class DeclineForm(forms.Form):
    note = forms.CharField(label=_("Why no flag"), max_length=REASON_MAX)
