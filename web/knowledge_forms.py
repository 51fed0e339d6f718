"""Forms of the knowledge-base pages: a unit's proposal and the center's decision."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from hotline.models import KnowledgeProposal, Topic

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ProposalForm(forms.ModelForm):
    class Meta:
        model = KnowledgeProposal
        fields = [
            "title",
            "body",
            "topic",
            "classification",
            "keywords",
            "source",
            "legal_basis",
            "valid_from",
            "valid_until",
            "reason",
        ]
        widgets = {
            "body": forms.Textarea(attrs={"rows": 5}),
            "legal_basis": forms.Textarea(attrs={"rows": 2}),
            "reason": forms.Textarea(attrs={"rows": 2}),
            "valid_from": DATE,
            "valid_until": DATE,
        }
        labels = {"reason": _("Why the change")}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["topic"].queryset = Topic.objects.filter(parent__isnull=False).select_related("parent")

    def clean(self):
        data = super().clean()
        start, end = data.get("valid_from"), data.get("valid_until")
        if start and end and end < start:
            self.add_error("valid_until", _("The end of validity cannot be before its start."))
        return data


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("accept", _("Accept")), ("publish", _("Accept and publish")), ("reject", _("Reject"))]
    )
    note = forms.CharField(label=_("Note"), max_length=2000, required=False)


class MoveForm(forms.Form):
    state = forms.ChoiceField(
        choices=[
            ("reviewed", _("Mark reviewed")),
            ("published", _("Publish")),
            ("expired", _("Expire")),
            ("draft", _("Back to draft")),
        ]
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)
