"""Admin for the evaluation schemes (data, edited here and versioned by its validity) and the hot spots (read-only)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from hotline.admin import ReadOnlyAdmin
from hotline.models.network import UnitKind
from metrics.models import (
    SCORED_KINDS,
    ChecklistItem,
    EvaluationScheme,
    HotSpot,
    QualityCheck,
    QualityRound,
    SchemeDeduction,
    SchemeIndicator,
)


class SchemeForm(forms.ModelForm):
    unit_kinds = forms.MultipleChoiceField(
        label=_("unit kinds"),
        choices=[(kind.value, kind.label) for kind in UnitKind if kind in SCORED_KINDS],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The kinds of unit judged; none ticked: every kind."),
    )

    class Meta:
        model = EvaluationScheme
        fields = [
            "code",
            "name",
            "valid_from",
            "valid_until",
            "unit_kinds",
            "basically_satisfied_weight",
            "basis",
            "is_active",
        ]


class IndicatorInline(admin.TabularInline):
    model = SchemeIndicator
    extra = 0


class DeductionInline(admin.TabularInline):
    model = SchemeDeduction
    extra = 0


@admin.register(EvaluationScheme)
class EvaluationSchemeAdmin(admin.ModelAdmin):
    form = SchemeForm
    list_display = ["name", "code", "valid_from", "valid_until", "is_active"]
    list_filter = ["is_active", "code"]
    search_fields = ["name", "code"]
    inlines = [IndicatorInline, DeductionInline]

    def has_delete_permission(self, request, obj=None) -> bool:
        """A scheme that judged a period stays on record: end it (valid until) or deactivate it instead."""
        return False


@admin.register(ChecklistItem)
class ChecklistItemAdmin(admin.ModelAdmin):
    """The quality checklists (docs/quality.md): edited here; a check keeps the weight and scale it scored with."""

    list_display = ["name", "target", "weight", "max_score", "pass_score", "required", "order", "is_active"]
    list_filter = ["target", "is_active", "required"]
    list_editable = ["weight", "order", "is_active"]
    search_fields = ["name", "code"]

    def has_delete_permission(self, request, obj=None) -> bool:
        """Checks point at their items: retire an item (active off) instead."""
        return False


class ReadOnly(admin.ModelAdmin):
    """Sampled and scored by the job and the checkers, never by hand."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(QualityRound)
class QualityRoundAdmin(ReadOnly):
    list_display = ["__str__", "seed", "percent", "short_reply_chars", "created_at"]


@admin.register(QualityCheck)
class QualityCheckAdmin(ReadOnly):
    list_display = ["ticket", "target", "agent", "unit", "reasons", "status", "score", "checker", "checked_at"]
    list_filter = ["target", "status"]
    raw_id_fields = ["ticket", "assignment", "agent", "unit", "checker"]


@admin.register(HotSpot)
class HotSpotAdmin(ReadOnlyAdmin):
    """热点: written by the scan and by 专题督办 from the dashboard (metrics.hotspots); viewable here only."""

    list_display = ["pk", "district", "topic", "title", "ticket_count", "baseline", "status", "case", "last_at"]
    list_filter = ["status", ("district", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["title", "keywords", "tickets__number"]
    date_hierarchy = "last_at"
    raw_id_fields = ["tickets"]
