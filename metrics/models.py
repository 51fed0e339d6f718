"""Evaluation schemes (综合考评方案): how a city turns a unit's indicators into one score.

A scheme is data, edited in the admin and versioned by period: a ``code`` may have several
versions, each valid from one day (``valid_from``) until another (``valid_until``, inclusive,
empty = open); the version valid on a period's first day judges that period. Its indicators come
from a fixed registry of indicators ``metrics.scores`` can compute; its deductions from a fixed
registry of rules. The formulas and the seeded examples are in docs/metrics.md.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hotline.models import Area, SupervisionCase, Ticket, Topic, Unit
from hotline.models.network import KINDS_BY_LEVEL, UnitKind

# The unit kinds a scheme may judge: every kind below the center.
SCORED_KINDS = [kind for level in (2, 3) for kind in UnitKind if kind in KINDS_BY_LEVEL[level]]


class Indicator(models.TextChoices):
    """The registry of computable indicators (``metrics.scores.INDICATORS`` computes each)."""

    ANSWER_RATE = "answer_rate", _("answer rate (center only)")
    ON_TIME_RATE = "on_time_rate", _("on-time completion rate")
    SATISFACTION_RATE = "satisfaction_rate", _("satisfaction rate")
    REOPEN_RATE = "reopen_rate", _("reopen rate (lower is better)")
    REPEAT_RATE = "repeat_rate", _("repeat complaint rate (lower is better)")
    RESPONSE_RATE = "response_rate", _("response rate (the unit contacted the caller)")
    SOLVED_RATE = "solved_rate", _("solved rate (per the caller)")
    SATISFIED_RATE = "satisfied_rate", _("satisfied rate (basically satisfied weighted)")


class DeductionRule(models.TextChoices):
    OVERDUE = "overdue", _("per overdue assignment")
    DISPUTE_REJECTED = "dispute_rejected", _("per dispute decided against the unit (dispatch stands)")


class EvaluationScheme(models.Model):
    code = models.SlugField(_("code"), max_length=40, help_text=_("Versions of one scheme share the code."))
    name = models.CharField(_("name"), max_length=100)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True, help_text=_("Inclusive; empty: open."))
    unit_kinds = models.JSONField(
        _("unit kinds"), default=list, blank=True, help_text=_("The kinds of unit judged; empty: every kind.")
    )
    basically_satisfied_weight = models.DecimalField(
        _("weight of 'basically satisfied'"),
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.9"),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(1))],
        help_text=_("How much a 'basically satisfied' rating counts in the satisfied rate (1 = fully)."),
    )
    basis = models.TextField(_("basis"), blank=True, help_text=_("Where the weights come from."))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("evaluation scheme")
        verbose_name_plural = _("evaluation schemes")
        ordering = ["code", "-valid_from"]
        constraints = [models.UniqueConstraint(fields=["code", "valid_from"], name="scheme_version_unique")]

    def __str__(self) -> str:
        until = self.valid_until.isoformat() if self.valid_until else "…"
        return f"{self.name} ({self.valid_from.isoformat()} – {until})"

    def kinds(self) -> list[str]:
        return list(self.unit_kinds) or list(SCORED_KINDS)

    def clean(self) -> None:
        if self.valid_until and self.valid_until < self.valid_from:
            raise ValidationError({"valid_until": _("A scheme cannot end before it starts.")})
        if not isinstance(self.unit_kinds, list) or any(k not in SCORED_KINDS for k in self.unit_kinds):
            raise ValidationError({"unit_kinds": _("Choose among the kinds of unit below the center.")})
        others = EvaluationScheme.objects.filter(code=self.code, is_active=True).exclude(pk=self.pk)
        if self.valid_until:
            others = others.filter(valid_from__lte=self.valid_until)
        others = others.filter(Q(valid_until__isnull=True) | Q(valid_until__gte=self.valid_from))
        if self.is_active and others.exists():
            raise ValidationError(_("Another version of this scheme is valid for part of the same days."))


class SchemeIndicator(models.Model):
    scheme = models.ForeignKey(EvaluationScheme, on_delete=models.CASCADE, related_name="indicators")
    indicator = models.CharField(_("indicator"), max_length=24, choices=Indicator.choices)
    weight = models.DecimalField(
        _("weight"), max_digits=6, decimal_places=3, validators=[MinValueValidator(Decimal("0.001"))]
    )

    class Meta:
        verbose_name = _("scheme indicator")
        verbose_name_plural = _("scheme indicators")
        ordering = ["scheme", "-weight", "indicator"]
        constraints = [models.UniqueConstraint(fields=["scheme", "indicator"], name="scheme_indicator_unique")]

    def __str__(self) -> str:
        return f"{self.get_indicator_display()} × {self.weight}"


class SchemeDeduction(models.Model):
    scheme = models.ForeignKey(EvaluationScheme, on_delete=models.CASCADE, related_name="deductions")
    rule = models.CharField(_("rule"), max_length=24, choices=DeductionRule.choices)
    points = models.DecimalField(
        _("points each"), max_digits=6, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    cap = models.DecimalField(
        _("at most"),
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0))],
        help_text=_("The most points this rule deducts in a period; empty: no cap."),
    )

    class Meta:
        verbose_name = _("scheme deduction")
        verbose_name_plural = _("scheme deductions")
        ordering = ["scheme", "rule"]
        constraints = [models.UniqueConstraint(fields=["scheme", "rule"], name="scheme_deduction_unique")]

    def __str__(self) -> str:
        return f"{self.get_rule_display()}: {self.points}"


# --- hot spots (热点预警, metrics.hotspots, docs/hotspots.md) ----------------------------------------


class HotSpotStatus(models.TextChoices):
    ACTIVE = "active", _("active")  # spiking now: on the wallboard and the dashboard
    SUPERVISED = "supervised", _("supervised")  # turned into a supervision case
    ENDED = "ended", _("ended")  # no new ticket within the window


class HotSpot(models.Model):
    """A cluster of tickets about one problem in one district, more than its usual number in a window.

    Written only by ``metrics.hotspots`` (the scan step and ``supervise``); the wallboard and the
    dashboard read these rows and never recompute. Rows are never deleted.
    """

    district = models.ForeignKey(Area, verbose_name=_("district"), on_delete=models.PROTECT, related_name="+")
    topic = models.ForeignKey(Topic, verbose_name=_("topic"), null=True, blank=True, on_delete=models.PROTECT)
    title = models.CharField(_("title"), max_length=200)
    keywords = models.CharField(_("keywords"), max_length=200, blank=True)
    tickets = models.ManyToManyField(Ticket, verbose_name=_("tickets"), related_name="hot_spots")
    ticket_count = models.PositiveIntegerField(_("tickets in the window"))
    baseline = models.FloatField(_("usual tickets per window"))
    window_hours = models.PositiveSmallIntegerField(_("window (hours)"))
    first_at = models.DateTimeField(_("first ticket at"))
    last_at = models.DateTimeField(_("latest ticket at"), db_index=True)
    detected_at = models.DateTimeField(_("detected at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    status = models.CharField(
        _("status"), max_length=12, choices=HotSpotStatus.choices, default=HotSpotStatus.ACTIVE, db_index=True
    )
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("responsible unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The unit most of its tickets were dispatched to, else the dispatch rules' first suggestion."),
    )
    case = models.ForeignKey(
        SupervisionCase,
        verbose_name=_("supervision case"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("hot spot")
        verbose_name_plural = _("hot spots")
        ordering = ["-last_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.district.name} {self.title}"


class HotSpotScan(models.Model):
    """One row: when the hot-spot scan last ran. The step claims a run by a conditional update of it,
    so several job workers scan once per ``HOTSPOT_SCAN_MINUTES``, not once each."""

    last_at = models.DateTimeField()

    class Meta:
        verbose_name = "hot-spot scan"

    def __str__(self) -> str:
        return f"hot-spot scan {self.last_at:%Y-%m-%d %H:%M}"
