"""The center's forms on a ticket's page: dispatch by hand, reassign, close, reopen, merge, discard, restore."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from hotline.models import Unit


def level2_units():
    return Unit.objects.filter(level=2, is_active=True).order_by("kind", "code")


class HandDispatchForm(forms.Form):
    """Any level-2 unit, not only the rules' suggestions."""

    lead = forms.ModelChoiceField(label=_("Lead unit"), queryset=Unit.objects.none())
    assisting = forms.ModelMultipleChoiceField(
        label=_("Assisting units"), queryset=Unit.objects.none(), required=False, widget=forms.SelectMultiple
    )
    instructions = forms.CharField(
        label=_("Instructions"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lead"].queryset = self.fields["assisting"].queryset = level2_units()


class ReassignForm(forms.Form):
    to_unit = forms.ModelChoiceField(label=_("New lead unit"), queryset=Unit.objects.none())
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to_unit"].queryset = level2_units()


class MergeForm(forms.Form):
    into = forms.CharField(label=_("Merge into ticket number"), max_length=20)
    note = forms.CharField(label=_("Note"), max_length=2000, required=False)


class NoteForm(forms.Form):
    note = forms.CharField(label=_("Note"), max_length=2000, required=False)
