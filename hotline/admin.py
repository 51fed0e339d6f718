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
from hotline.errors import DomainError
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
    InboundReferral,
    KnowledgeArticle,
    KnowledgeProposal,
    KnowledgeState,
    KnowledgeVersion,
    Matter110,
    Open311Client,
    Open311Request,
    PublishedCase,
    Referral,
    Script,
    ScriptKind,
    SlaPolicy,
    SupervisionCase,
    SupervisionNote,
    System110,
    Ticket,
    TimelineEntry,
    Topic,
    Unit,
    User,
)
from hotline.models.knowledge import PLACEHOLDERS
from hotline.services import apikeys, knowledge
from hotline.services.assignments import recompute_provisional_deadlines


@admin.register(Area)
class AreaAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "parent", "lat", "lng"]
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


class UnitLevelFilter(admin.SimpleListFilter):
    """``unit__level`` would be titled "Unit  level" in every language."""

    title = _("unit level")
    parameter_name = "unit__level"

    def lookups(self, request, model_admin):
        return Unit._meta.get_field("level").choices

    def queryset(self, request, queryset):
        return queryset.filter(unit__level=self.value()) if self.value() else queryset


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "first_name", "role", "unit", "is_active", "last_login"]
    list_filter = ["role", "is_active", UnitLevelFilter]
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
    list_display = ["code", "name", "parent", "level2_only", "has_extra_fields"]
    list_filter = ["level2_only", ("parent", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "code"]

    @admin.display(boolean=True, description=_("extra fields"))
    def has_extra_fields(self, topic: Topic) -> bool:
        return bool(topic.extra_fields)


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
    list_display = ["phone_masked", "name", "no_revisit", "no_messages", "created_at"]
    search_fields = ["phone", "name"]

    @admin.display(description=_("phone"), ordering="phone")
    def phone_masked(self, caller: Caller) -> str:
        return caller.masked_phone

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


class KnowledgeVersionInline(admin.TabularInline):
    model = KnowledgeVersion
    fields = ["version", "state", "title", "valid_from", "valid_until", "changed_by", "changed_at", "note"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["-version"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


def _knowledge_move(state: str, label):
    """An admin action moving the chosen articles through the life cycle (each in its own transaction)."""

    def action(modeladmin, request, queryset):
        for article in queryset:
            try:
                knowledge.move(article, state, request.user)
            except DomainError as exc:
                modeladmin.message_user(request, f"{article}: {exc.message}", messages.ERROR)

    action.__name__ = f"make_{state}"
    return admin.action(description=label)(action)


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
    """Edits go through ``hotline.services.knowledge``: each is a new version, never an overwrite."""

    list_display = [
        "title",
        "state",
        "topic",
        "source_unit",
        "valid_from",
        "valid_until",
        "version",
        "use_count",
        "useful_count",
        "not_useful_count",
    ]
    list_filter = ["state", ("topic", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["title", "keywords", "body", "source"]
    autocomplete_fields = ["topic", "source_unit"]
    readonly_fields = ["state", "version", "reviewed_at", "use_count", "useful_count", "not_useful_count"]
    inlines = [KnowledgeVersionInline]
    actions = [
        _knowledge_move(KnowledgeState.REVIEWED, _("Mark reviewed")),
        _knowledge_move(KnowledgeState.PUBLISHED, _("Publish")),
        _knowledge_move(KnowledgeState.EXPIRED, _("Expire")),
        _knowledge_move(KnowledgeState.DRAFT, _("Back to draft")),
    ]

    def save_model(self, request, obj, form, change) -> None:
        knowledge.save_article(obj, request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # expire it instead: what agents read stays on record


@admin.register(KnowledgeProposal)
class KnowledgeProposalAdmin(ReadOnlyAdmin):
    list_display = ["title", "unit", "status", "proposed_at", "decided_at"]
    list_filter = ["status"]


def _placeholder_help() -> str:
    lines = []
    for kind, names in PLACEHOLDERS.items():
        if names:
            values = "; ".join(f"{{{name}}} {meaning}" for name, meaning in names.items())
            lines.append(f"{ScriptKind(kind).label}: {values}")
    return " · ".join(lines)


@admin.register(Script)
class ScriptAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "category", "topic", "is_active", "updated_at"]
    list_filter = ["kind", "is_active", "category"]
    search_fields = ["title", "body"]
    autocomplete_fields = ["topic"]

    def get_fieldsets(self, request, obj=None):
        return [
            (None, {"fields": ["kind", "category", "topic", "title", "body", "is_active"]}),
            (_("Values a script may name in braces"), {"description": _placeholder_help(), "fields": []}),
        ]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # take a script out of use instead; what agents read stays on record


# --- API tokens (django-rest-knox): listed and revoked here, issued only by POST /api/v1/auth/token/ ---
class ApiKeyHolderAdmin(admin.ModelAdmin):
    """A system that calls our APIs with its own key (Open311, 110): the key is made on adding and
    shown once, only its hash is kept; keys are revoked, never deleted (``hotline.services.apikeys``)."""

    readonly_fields = ["key_prefix", "created_at", "created_by", "revoked_at", "revoked_by", "last_used_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    actions = ["revoke"]

    def get_fields(self, request, obj=None):
        return self.fields if obj is None else [*self.fields, *self.readonly_fields]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(boolean=True, description=_("active"))
    def active(self, holder) -> bool:
        return holder.is_active

    def save_model(self, request, obj, form, change) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        raw = obj.new_key()
        obj.created_by = request.user
        super().save_model(request, obj, form, change)
        self.message_user(
            request,
            _("The API key of %(name)s is %(key)s — give it to the system now: it is not shown again.")
            % {"name": obj.name, "key": raw},
            messages.WARNING,
        )

    @admin.action(description=_("Revoke the keys of the selected systems"))
    def revoke(self, request, queryset) -> None:
        count = sum(apikeys.revoke(holder, request.user) for holder in queryset)
        self.message_user(request, _("%(count)d key(s) revoked.") % {"count": count}, messages.SUCCESS)


@admin.register(Open311Client)
class Open311ClientAdmin(ApiKeyHolderAdmin):
    """Integrating systems of the Open311 API (docs/open311.md): a key each, shown once, revocable.

    Nothing is deleted: a revoked system's reports keep naming it. The key is made here on "add"
    and shown in the message after saving; only its hash is stored.
    """

    list_display = ["name", "operator", "channel_label", "rate_limit_per_hour", "key_prefix", "active", "last_used_at"]
    search_fields = ["name", "operator", "channel_label", "key_prefix"]
    fields = ["name", "operator", "channel_label", "rate_limit_per_hour"]


@admin.register(Open311Request)
class Open311RequestAdmin(ReadOnlyAdmin):
    list_display = ["ticket", "client", "service_code", "received_at"]
    list_filter = [("client", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["ticket__number"]
    exclude = ["email", "device_id", "account_id"]


admin.site.unregister(AuthToken)  # knox's own admin, which would also mint tokens


@admin.register(AuthToken)
class ApiTokenAdmin(admin.ModelAdmin):
    # knox's fields have no translatable names; these columns carry ours.
    list_display = ["token_user", "token_prefix", "created_at", "expires_at"]
    list_filter = ["created", "expiry"]
    search_fields = ["user__username", "token_key"]
    readonly_fields = ["user", "token_key", "created", "expiry"]
    fields = readonly_fields
    ordering = ["-created"]
    actions = ["revoke"]

    @admin.display(description=_("user"), ordering="user")
    def token_user(self, token: AuthToken):
        return token.user

    @admin.display(description=_("token prefix"), ordering="token_key")
    def token_prefix(self, token: AuthToken) -> str:
        return token.token_key

    @admin.display(description=_("created at"), ordering="created")
    def created_at(self, token: AuthToken):
        return token.created

    @admin.display(description=_("expires at"), ordering="expiry")
    def expires_at(self, token: AuthToken):
        return token.expiry

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


@admin.register(Matter110)
class Matter110Admin(admin.ModelAdmin):
    """The 12345↔110 list (docs/referrals-110.md): switched off, never deleted (referrals name it)."""

    list_display = ["name", "code", "direction", "active", "order"]
    list_editable = ["direction", "active", "order"]
    list_filter = ["direction", "active"]
    search_fields = ["name", "code"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(System110)
class System110Admin(ApiKeyHolderAdmin):
    """110 platforms that refer to 12345: a key each, shown once, revocable (as Open311 systems)."""

    list_display = ["name", "code", "operator", "callback_url", "key_prefix", "active", "last_used_at"]
    search_fields = ["name", "code", "operator", "key_prefix"]
    fields = ["name", "code", "operator", "rate_limit_per_hour", "callback_url", "callback_token"]


@admin.register(InboundReferral)
class InboundReferralAdmin(ReadOnlyAdmin):
    list_display = ["incident_number", "system", "matter", "ticket", "via", "received_at"]
    list_filter = [("system", admin.RelatedOnlyFieldListFilter), "via", "matter"]
    search_fields = ["incident_number", "ticket__number"]
