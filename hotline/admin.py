"""Django admin for the back office: network, people, taxonomy, SLAs, calendar.

Tickets are read-only here: every change to a ticket goes through a service so
that it is checked, transactional and on the timeline.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from knox import admin as knox_admin  # noqa: F401  (registers knox's admin first, replaced below)
from knox.models import AuthToken

from hotline import audit
from hotline.access import is_auditor
from hotline.models import (
    Area,
    Assignment,
    AuditEntry,
    AuditSubject,
    CalendarDay,
    CalendarYear,
    Caller,
    Category,
    Extension,
    KnowledgeArticle,
    PublishedCase,
    Referral,
    SlaPolicy,
    SupervisionCase,
    SupervisionNote,
    Ticket,
    TimelineEntry,
    Topic,
    Unit,
    User,
)
from hotline.services.assignments import recompute_provisional_deadlines


@admin.register(Area)
class AreaAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "parent"]
    list_filter = [("parent", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "code"]


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "level",
        "kind",
        "parent",
        "leader_name",
        "liaison_name",
        "liaison_phone",
        "is_active",
    ]
    list_filter = ["level", "kind", "is_active"]
    search_fields = ["name", "code", "leader_name", "liaison_name"]
    filter_horizontal = ["service_areas"]
    autocomplete_fields = ["parent"]
    readonly_fields = ["level"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # deactivate instead: tickets keep pointing at their units


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "first_name", "role", "unit", "is_active", "last_login"]
    list_filter = ["role", "is_active", "unit__level"]
    fieldsets = (*BaseUserAdmin.fieldsets, (_("Hotline"), {"fields": ("role", "unit", "agent_extension")}))
    add_fieldsets = (*BaseUserAdmin.add_fieldsets, (_("Hotline"), {"fields": ("role", "unit", "agent_extension")}))
    autocomplete_fields = ["unit"]


class SlaInline(admin.TabularInline):
    model = SlaPolicy
    extra = 0


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "requires_revisit", "order"]
    inlines = [SlaInline]


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "parent", "level2_only"]
    list_filter = ["level2_only", ("parent", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "code"]


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = ["category", "urgency", "accept_hours", "reply_days", "revisit_days", "note"]
    list_filter = ["urgency"]


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin):
    list_display = ["year", "official", "source", "updated_at"]
    actions = ["mark_official"]

    def save_model(self, request, obj, form, change) -> None:
        with transaction.atomic():
            if obj.official and "official" in form.changed_data:
                obj.source = f"admin {request.user.username}"
            super().save_model(request, obj, form, change)
        if obj.official:
            self._recompute(request)

    @admin.action(description=_("Mark as official and recompute provisional deadlines"))
    def mark_official(self, request, queryset) -> None:
        queryset.update(official=True, source=f"admin {request.user.username}")
        self._recompute(request)

    def _recompute(self, request) -> None:
        changed = recompute_provisional_deadlines(request.user)
        self.message_user(request, _("%(n)d open deadlines recomputed.") % {"n": changed}, messages.SUCCESS)


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ["date", "kind", "name", "source"]
    list_filter = ["kind", "source"]
    date_hierarchy = "date"

    def save_model(self, request, obj, form, change) -> None:
        obj.source = "admin"  # an admin's entry is never overwritten by re-seeding
        super().save_model(request, obj, form, change)


@admin.register(Caller)
class CallerAdmin(admin.ModelAdmin):
    list_display = ["masked_phone", "name", "no_revisit", "no_messages", "created_at"]
    search_fields = ["phone", "name"]
    readonly_fields = ["phone", "created_at"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    # The admin shows callers' names in the list and the full number on the form: audited (§9).
    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:
            for caller in changelist.result_list:
                audit.note_read(
                    request.user, fields=["name" if caller.name else ""], phone=caller.phone, reason="admin"
                )
        if request.GET.get("q"):
            audit.note_read(request.user, fields=["phone"], phone=request.GET["q"], reason="admin", action=audit.SEARCH)
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        caller = self.get_object(request, object_id)
        if caller is not None:
            audit.note_read(
                request.user, fields=["phone", "name" if caller.name else ""], phone=caller.phone, reason="admin"
            )
        return super().change_view(request, object_id, form_url, extra_context)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records written by services only: viewable, never edited or deleted here."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class AssignmentInline(admin.TabularInline):
    model = Assignment
    fk_name = "ticket"
    fields = ["unit", "role", "parent", "status", "accept_by", "reply_by", "deadline_provisional", "replied_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class TimelineInline(admin.TabularInline):
    model = TimelineEntry
    fields = ["at", "action", "actor", "actor_unit", "from_status", "to_status", "note"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Ticket)
class TicketAdmin(ReadOnlyAdmin):
    list_display = ["number", "status", "category", "topic", "area", "urgency", "channel", "created_at"]
    list_filter = ["status", "category", "urgency", "channel"]
    search_fields = ["number", "content", "address"]
    date_hierarchy = "created_at"
    inlines = [AssignmentInline, TimelineInline]
    exclude = ["caller"]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        ticket = self.get_object(request, object_id)
        if ticket is not None and ticket.address:
            audit.note_read(request.user, fields=["address"], ticket=ticket, phone=ticket.caller.phone, reason="admin")
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(Extension)
class ExtensionAdmin(ReadOnlyAdmin):
    list_display = ["assignment", "requested_until", "status", "requested_at", "decided_at"]
    list_filter = ["status"]


@admin.register(Referral)
class ReferralAdmin(ReadOnlyAdmin):
    list_display = ["ticket", "target", "mode", "referred_by", "referred_at"]


class SupervisionNoteInline(admin.TabularInline):
    model = SupervisionNote
    fields = ["at", "author", "text"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SupervisionCase)
class SupervisionCaseAdmin(ReadOnlyAdmin):
    """督办件 are opened, followed and closed on /supervision/ (through the services, on the timeline)."""

    list_display = ["pk", "form", "title", "unit", "leader_name", "due_by", "status", "outcome", "opened_at"]
    list_filter = ["status", "form", "outcome"]
    search_fields = ["title", "reason", "tickets__number"]
    date_hierarchy = "opened_at"
    raw_id_fields = ["tickets"]
    inlines = [SupervisionNoteInline]


@admin.register(PublishedCase)
class PublishedCaseAdmin(ReadOnlyAdmin):
    """办件公开: published and withdrawn on the ticket's publish step (through the services, on the timeline)."""

    list_display = ["pk", "title", "topic", "area", "typical", "published_by", "published_at", "withdrawn_at"]
    list_filter = ["typical", ("withdrawn_at", admin.EmptyFieldListFilter)]
    search_fields = ["title", "ticket__number"]
    date_hierarchy = "published_at"
    raw_id_fields = ["ticket"]


@admin.register(KnowledgeArticle)
class KnowledgeArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "topic", "source_unit", "is_published", "reviewed_at", "updated_at"]
    list_filter = ["is_published", ("topic", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["title", "keywords", "body"]
    autocomplete_fields = ["topic", "source_unit"]


# --- API tokens (django-rest-knox): listed and revoked here, issued only by POST /api/v1/auth/token/ ---
admin.site.unregister(AuthToken)  # knox's own admin, which would also mint tokens


@admin.register(AuthToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["user", "token_key", "created", "expiry"]
    list_filter = ["created", "expiry"]
    search_fields = ["user__username", "token_key"]
    readonly_fields = ["user", "token_key", "created", "expiry"]
    fields = readonly_fields
    ordering = ["-created"]
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser or super().has_delete_permission(request, obj)

    @admin.action(description=_("Revoke the selected tokens"), permissions=["delete"])
    def revoke(self, request, queryset) -> None:
        count, _deleted = queryset.delete()
        self.message_user(request, _("%(count)d token(s) revoked.") % {"count": count}, messages.SUCCESS)


class AuditSubjectInline(admin.TabularInline):
    model = AuditSubject
    fields = ["ticket", "phone_token"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """The audit log: read by the auditor role only, changed by nobody (docs/security.md §9).

    No add, change or delete permission for anyone, superusers included: an administrator
    must not be able to cover their own tracks (三权分立)."""

    list_display = ["at", "username", "action", "screen", "reason", "fields", "ip"]
    list_filter = ["action"]
    search_fields = ["username", "screen", "reason"]
    date_hierarchy = "at"
    readonly_fields = ["at", "user", "username", "action", "screen", "path", "reason", "fields", "ip", "data"]
    inlines = [AuditSubjectInline]
    actions = None

    def has_module_permission(self, request) -> bool:
        return is_auditor(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return is_auditor(request.user)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
