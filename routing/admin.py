from django.contrib import admin

from routing.models import DispatchRule


@admin.register(DispatchRule)
class DispatchRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "topic", "area", "keywords", "unit", "priority", "is_active", "auto_dispatch"]
    list_filter = ["is_active", "auto_dispatch", ("unit", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "keywords", "basis"]
    autocomplete_fields = ["unit", "topic", "area"]
