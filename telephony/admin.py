"""Admin: agents' presence (read-only: it changes through the phone system, telephony.presence)."""

from __future__ import annotations

from django.contrib import admin

from hotline.admin import ReadOnlyAdmin
from telephony.models import AgentState


@admin.register(AgentState)
class AgentStateAdmin(ReadOnlyAdmin):
    list_display = ["user", "status", "reason", "changed_at"]
    list_filter = ["status"]
