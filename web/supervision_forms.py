"""The center's forms for 催办 and 督办件: remind a unit, open a case, follow it up, close it."""

from __future__ import annotations

import re
from datetime import datetime, time

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hotline.models import Assignment, SupervisionForm, SupervisionOutcome, Unit
from hotline.models.tickets import ACTIVE_ASSIGNMENT_STATUSES
from web.ticket_forms import level2_units


def end_of_day(day) -> datetime:
    """A deadline picked as a date ends at 23:59:59 local time of that day."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=timezone.get_current_timezone())


class RemindForm(forms.Form):
    assignment = forms.ModelChoiceField(
        label=_("Unit"),
        queryset=Assignment.objects.none(),
        required=False,
        empty_label=_("every unit the center dispatched to"),
    )
    note = forms.CharField(label=_("Reminder"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, ticket_id: int | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["assignment"]
        field.queryset = (
            Assignment.objects.filter(ticket_id=ticket_id, status__in=ACTIVE_ASSIGNMENT_STATUSES)
            .select_related("unit")
            .order_by("pk")
        )
        field.label_from_instance = lambda a: f"{a.unit.name} · {a.get_role_display()} · {a.get_status_display()}"


class CaseForm(forms.Form):
    form = forms.ChoiceField(label=_("Form"), choices=SupervisionForm.choices)
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    due_by = forms.DateField(label=_("Demanded deadline"), widget=forms.DateInput(attrs={"type": "date"}))
    unit = forms.ModelChoiceField(label=_("Responsible unit"), queryset=Unit.objects.none(), required=False)
    leader_name = forms.CharField(
        label=_("Responsible leader"),
        max_length=50,
        required=False,
        help_text=_("Empty: the unit's leader in charge."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = level2_units()


class CaseOnTicketsForm(CaseForm):
    """A hot problem: a case on several tickets at once, named by their numbers."""

    numbers = forms.CharField(
        label=_("Ticket numbers"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Separated by spaces, commas or new lines."),
    )
    field_order = ["numbers"]

    def clean_numbers(self) -> list[str]:
        numbers = [n for n in re.split(r"[\s,，、;；]+", self.cleaned_data["numbers"]) if n]
        if not numbers:
            raise forms.ValidationError(_("Name at least one ticket."))
        return list(dict.fromkeys(numbers))


class CaseNoteForm(forms.Form):
    text = forms.CharField(label=_("Follow-up"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class CloseCaseForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=SupervisionOutcome.choices)
    result = forms.CharField(label=_("Result"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class CaseFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("open", _("open")), ("closed", _("closed")), ("all", _("all"))],
    )
    form = forms.ChoiceField(label=_("Form"), required=False, choices=[("", _("any")), *SupervisionForm.choices])
    late = forms.BooleanField(label=_("past the demanded deadline"), required=False)
