"""Admin: callbacks, revisits, appeals, SMS and WeChat messages (read-only: they are records), do-not-call list."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import ValidationError

from callback.models import (
    CallbackTask,
    DoNotCall,
    Outcome110Delivery,
    Revisit,
    RevisitAppeal,
    SmsMessage,
    WechatBinding,
    WechatMessage,
)
from hotline.admin import ReadOnlyAdmin
from hotline.lib.phones import InvalidPhone, normalize_phone


@admin.register(CallbackTask)
class CallbackTaskAdmin(ReadOnlyAdmin):
    list_display = ["id", "number", "missed_at", "status", "outcome", "attempts", "next_attempt_at", "agent", "manual"]
    list_filter = ["status", "outcome", "manual"]
    search_fields = ["number"]
    date_hierarchy = "missed_at"


@admin.register(Revisit)
class RevisitAdmin(ReadOnlyAdmin):
    list_display = ["id", "ticket", "unit", "channel", "status", "rating", "solved", "scheduled_for", "attempts"]
    list_filter = ["status", "rating", "channel", "excluded_from_kpi"]
    search_fields = ["ticket__number"]
    list_select_related = ["ticket", "unit"]


@admin.register(RevisitAppeal)
class RevisitAppealAdmin(ReadOnlyAdmin):
    list_display = ["id", "revisit", "unit", "status", "raised_at", "decided_at"]
    list_filter = ["status"]


@admin.register(SmsMessage)
class SmsMessageAdmin(ReadOnlyAdmin):
    list_display = ["id", "direction", "to", "sender", "purpose", "status", "backend", "attempts", "created_at"]
    list_filter = ["direction", "status", "purpose", "backend"]
    search_fields = ["to", "sender", "provider_id", "ticket__number"]
    date_hierarchy = "created_at"


class DoNotCallForm(admin.ModelAdmin.form):
    def clean_phone(self):
        try:
            return normalize_phone(self.cleaned_data["phone"])
        except InvalidPhone as exc:
            raise ValidationError(str(exc)) from None


@admin.register(DoNotCall)
class DoNotCallAdmin(admin.ModelAdmin):
    form = DoNotCallForm
    list_display = ["phone", "reason", "added_by", "added_at"]
    search_fields = ["phone"]
    readonly_fields = ["added_by", "added_at"]

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            obj.added_by = request.user
        super().save_model(request, obj, form, change)


# Citizens (docs/citizens.md): WeChat template messages with their delivery status, and bindings.


@admin.register(WechatMessage)
class WechatMessageAdmin(ReadOnlyAdmin):
    list_display = ["id", "purpose", "ticket", "status", "attempts", "error_code", "msgid", "created_at", "sent_at"]
    list_filter = ["status", "purpose"]
    search_fields = ["ticket__number", "msgid"]
    date_hierarchy = "created_at"


@admin.register(WechatBinding)
class WechatBindingAdmin(ReadOnlyAdmin):
    list_display = ["id", "__str__", "bound_at"]


@admin.register(Outcome110Delivery)
class Outcome110DeliveryAdmin(ReadOnlyAdmin):
    """Outcomes told back to 110's webhooks (callback/outcomes110.py): status, attempts, last error."""

    list_display = ["referral", "status", "attempts", "http_status", "next_attempt_at", "sent_at"]
    list_filter = ["status"]
    search_fields = ["referral__incident_number", "referral__ticket__number"]
