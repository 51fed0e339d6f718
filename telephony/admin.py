"""Admin: agents' presence (read-only: it changes through the phone system, telephony.presence) and their PBX."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from hotline.admin import ReadOnlyAdmin
from telephony import pbx as pbxs
from telephony.models import AgentState, AgentStatus, BridgeLease


class AgentStateForm(forms.ModelForm):
    """Only the PBX is chosen here (among AMI_PBXS), and only while the agent is offline."""

    pbx = forms.ChoiceField(label=_("PBX"), required=False)

    class Meta:
        model = AgentState
        fields = ["user", "pbx"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        default = pbxs.default_name()
        choices = [("", gettext("the first PBX (%(name)s)") % {"name": default})]
        self.fields["pbx"].choices = choices + [(name, name) for name in pbxs.names()]

    def clean_pbx(self) -> str:
        chosen = self.cleaned_data["pbx"]
        changed = self.instance.pk and chosen != self.instance.pbx
        if changed and self.instance.status != AgentStatus.OFFLINE:
            # The phone is in the old PBX's queues: it would stay there, ringing, with nobody watching it.
            raise forms.ValidationError(gettext("Log the agent off before moving their phone to another PBX."))
        return chosen


@admin.register(AgentState)
class AgentStateAdmin(admin.ModelAdmin):
    form = AgentStateForm
    list_display = ["user", "pbx", "status", "reason", "changed_at"]
    list_filter = ["status", "pbx"]
    readonly_fields = ["status", "reason", "changed_at"]
    raw_id_fields = ["user"]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "user"] if obj is not None else self.readonly_fields

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(BridgeLease)
class BridgeLeaseAdmin(ReadOnlyAdmin):
    """Which bridge process is active for each PBX, and its last heartbeat."""

    list_display = ["pbx", "holder", "beat", "acquired_at", "renewed_at"]
