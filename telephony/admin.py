"""Admin: agents' presence (read-only: it changes through the phone system, telephony.presence) and their PBX;
their desks (专席 skills) and callers marked for a desk (telephony.desks)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from hotline.access import is_center_staff
from hotline.admin import ReadOnlyAdmin
from telephony import desks
from telephony import pbx as pbxs
from telephony.models import AgentSkill, AgentState, AgentStatus, BridgeLease, CallerDesk, WrapUpCode


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


class DeskField(forms.ChoiceField):
    """A desk among AMI_QUEUES; a queue the PBX does not have is refused with the list of those it has."""

    def __init__(self, **kwargs) -> None:
        super().__init__(label=_("desk"), **kwargs)
        self.choices = desks.choices()

    def validate(self, value) -> None:
        forms.Field.validate(self, value)  # required; the choice check is ours, with a clearer message
        if value not in desks.queues():
            raise forms.ValidationError(
                gettext("%(value)s is no desk of the phone system; the desks are: %(desks)s")
                % {"value": value, "desks": "、".join(desks.queues())}
            )


class AgentSkillForm(forms.ModelForm):
    queue = DeskField()

    class Meta:
        model = AgentSkill
        fields = ["user", "queue", "penalty"]

    def clean_user(self):
        user = self.cleaned_data["user"]
        if not is_center_staff(user) or not user.agent_extension:
            raise forms.ValidationError(gettext("Only center staff with a phone extension take calls at a desk."))
        return user

    def clean_penalty(self) -> int:
        penalty = self.cleaned_data["penalty"]
        if penalty > 100:
            raise forms.ValidationError(gettext("A penalty is 0 to 100 (0 is rung first)."))
        return penalty


@admin.register(AgentSkill)
class AgentSkillAdmin(admin.ModelAdmin):
    """Which desks an agent's phone joins on Ready (with the general desk, always). Takes effect at the next Ready."""

    form = AgentSkillForm
    list_display = ["user", "desk_label", "queue", "penalty"]
    list_filter = ["queue"]
    raw_id_fields = ["user"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]

    @admin.display(description=_("desk"))
    def desk_label(self, obj: AgentSkill) -> str:
        return desks.label(obj.queue)


class CallerDeskForm(forms.ModelForm):
    queue = DeskField()

    class Meta:
        model = CallerDesk
        fields = ["caller", "queue", "note"]


@admin.register(CallerDesk)
class CallerDeskAdmin(admin.ModelAdmin):
    """Callers whose calls go to a desk first (e.g. one who needs the dialect desk)."""

    form = CallerDeskForm
    list_display = ["caller", "desk_label", "note", "created_at"]
    list_filter = ["queue"]
    raw_id_fields = ["caller"]
    readonly_fields = ["created_at"]

    @admin.display(description=_("desk"))
    def desk_label(self, obj: CallerDesk) -> str:
        return desks.label(obj.queue)


@admin.register(WrapUpCode)
class WrapUpCodeAdmin(admin.ModelAdmin):
    """话后小结 codes. Never deleted (calls keep theirs): untick 'active' and the console no longer offers it."""

    list_display = ["name", "code", "active", "order"]
    list_editable = ["active", "order"]
    list_filter = ["active"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
