"""Forms of the consoles. They parse input; the hotline services decide what is allowed."""

from __future__ import annotations

import secrets

from django import forms
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from hotline.models import Area, Category, Topic, Unit, Urgency

PAUSE_REASONS = [("break", _("Break")), ("training", _("Training")), ("wrap-up", _("Wrap-up"))]


class AgentStateForm(forms.Form):
    state = forms.ChoiceField(choices=[("ready", _("Ready")), ("paused", _("Paused")), ("offline", _("Log off"))])
    reason = forms.ChoiceField(choices=PAUSE_REASONS, required=False)


class TopicChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Topic) -> str:
        return str(obj)


# Choosing what the call is about loads its scripts (话术) beside the form.
MATTER_SCRIPT_ATTRS = {
    "hx-get": reverse_lazy("web:agent-script"),
    "hx-trigger": "change",
    "hx-target": "#script-matter",
    "hx-swap": "innerHTML",  # not the form's outerHTML, which it would inherit
    "hx-include": "#work [name=category], #work [name=topic]",
}


class RegisterForm(forms.Form):
    # Alt+Shift+T (the browser's accesskey chord) jumps to the number from anywhere on the console.
    phone = forms.CharField(
        label=_("Phone"), max_length=32, widget=forms.TextInput(attrs={"accesskey": "t", "inputmode": "tel"})
    )
    caller_name = forms.CharField(label=_("Caller name"), max_length=50, required=False)
    # 退订: the caller asked for no SMS notifications (Caller.no_messages); unticking does not lift it.
    no_messages = forms.BooleanField(label=_("No SMS notifications (caller asked)"), required=False)
    # 同意公开: asked on the call; the closed ticket may then be published with personal data hidden.
    consent_public = forms.BooleanField(label=_("Caller agrees to publication"), required=False)
    category = forms.ModelChoiceField(
        label=_("Category"), queryset=Category.objects.all(), widget=forms.Select(attrs=MATTER_SCRIPT_ATTRS)
    )
    topic = TopicChoiceField(
        label=_("Topic"),
        queryset=Topic.objects.filter(parent__isnull=False).select_related("parent"),
        required=False,
        widget=forms.Select(attrs=MATTER_SCRIPT_ATTRS),
    )
    area = forms.ModelChoiceField(
        label=_("Area"), queryset=Area.objects.select_related("parent").order_by("code"), required=False
    )
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    content = forms.CharField(label=_("Demand"), widget=forms.Textarea(attrs={"rows": 3}))
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Urgency.choices, initial=Urgency.NORMAL)
    resolution = forms.CharField(
        label=_("Answer given on the call"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    call_linkedid = forms.CharField(widget=forms.HiddenInput, required=False)
    # One token per form shown: a double click or a resent POST registers one ticket (idempotency key).
    form_token = forms.CharField(
        widget=forms.HiddenInput, required=False, max_length=64, initial=lambda: secrets.token_urlsafe(24)
    )


class TransferForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=1000)
    three_way = forms.BooleanField(required=False)
    ticket = forms.IntegerField(required=False, widget=forms.HiddenInput)
    # The item of the 12345↔110 list, optional: counted per month (docs/referrals-110.md).
    matter = forms.CharField(required=False, max_length=32)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class SubDispatchForm(forms.Form):
    to_unit = forms.ModelChoiceField(label=_("Unit"), queryset=Unit.objects.none())
    reply_by = forms.DateField(label=_("Inner deadline"), widget=forms.DateInput(attrs={"type": "date"}))
    instructions = forms.CharField(label=_("Instructions"), required=False, max_length=2000)

    def __init__(self, *args, unit: Unit, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to_unit"].queryset = Unit.objects.filter(parent=unit, is_active=True).order_by("code")


class ReplyForm(forms.Form):
    text = forms.CharField(label=_("Reply"), widget=forms.Textarea(attrs={"rows": 4}))
    file = forms.FileField(label=_("Attachment (image)"), required=False)
    contacted_caller = forms.BooleanField(label=_("We contacted the caller"), required=False)


class ExtensionForm(forms.Form):
    until = forms.DateField(label=_("New deadline"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=_("Reason"), max_length=2000)


class DecisionForm(forms.Form):
    approve = forms.BooleanField(required=False)
    note = forms.CharField(label=_("Note"), max_length=2000, required=False)
    # Reviews only: approve although assisting units have not replied.
    confirm_outstanding = forms.BooleanField(required=False)


class PublishForm(forms.Form):
    """办件公开: the texts as they will be published (the automatic redaction, edited by the reviewer)."""

    title = forms.CharField(label=_("Title"), max_length=100)
    content = forms.CharField(label=_("Demand"), widget=forms.Textarea(attrs={"rows": 5}))
    reply = forms.CharField(label=_("Reply"), widget=forms.Textarea(attrs={"rows": 5}))
    typical = forms.BooleanField(label=_("Typical case (典型案例)"), required=False)


class CaseSearchForm(forms.Form):
    """The public case library's search: words, topic, area, typical only. Every part optional."""

    q = forms.CharField(label=_("Words"), max_length=100, required=False)
    topic = TopicChoiceField(
        label=_("Topic"), queryset=Topic.objects.select_related("parent").order_by("code"), required=False
    )
    area = forms.ModelChoiceField(
        label=_("Area"), queryset=Area.objects.select_related("parent").order_by("code"), required=False
    )
    typical = forms.BooleanField(label=_("Typical cases only"), required=False)
