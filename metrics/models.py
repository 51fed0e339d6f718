"""Evaluation schemes (综合考评方案): how a city turns a unit's indicators into one score.

A scheme is data, edited in the admin and versioned by period: a ``code`` may have several
versions, each valid from one day (``valid_from``) until another (``valid_until``, inclusive,
empty = open); the version valid on a period's first day judges that period. Its indicators come
from a fixed registry of indicators ``metrics.scores`` can compute; its deductions from a fixed
registry of rules. The formulas and the seeded examples are in docs/metrics.md.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
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


# --- 工单质检: quality checks (docs/quality.md) -----------------------------------------------------


class CheckTarget(models.TextChoices):
    """What a check judges: an agent's registration of a ticket, or a unit's reply to its assignment."""

    REGISTRATION = "registration", _("agent's registration")
    REPLY = "reply", _("unit's reply")


class ChecklistItem(models.Model):
    """One line of a checklist: scored 0…``max_score``; below ``pass_score`` it counts as failed.

    Edited in the admin. A check copies the weight and the scale of each item it scores, so
    editing an item later does not change a check already made; an item is retired, not deleted.
    """

    target = models.CharField(_("checks"), max_length=16, choices=CheckTarget.choices)
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    guidance = models.TextField(_("what to look for"), blank=True)
    weight = models.DecimalField(
        _("weight"), max_digits=6, decimal_places=2, default=Decimal(1), validators=[MinValueValidator(Decimal("0.01"))]
    )
    max_score = models.PositiveSmallIntegerField(_("highest score"), default=10, validators=[MinValueValidator(1)])
    pass_score = models.PositiveSmallIntegerField(
        _("pass mark"), default=6, help_text=_("A score below it is a failed item.")
    )
    required = models.BooleanField(
        _("required"), default=True, help_text=_("A check cannot be saved without a score for it.")
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")
        ordering = ["target", "order", "code"]

    def __str__(self) -> str:
        return f"{self.get_target_display()}: {self.name}"

    def clean(self) -> None:
        if self.pass_score is not None and self.max_score is not None and self.pass_score > self.max_score:
            raise ValidationError({"pass_score": _("The pass mark cannot be above the highest score.")})


class QualityRound(models.Model):
    """One sampling of one period: what was picked is reproducible from the seed, the rate and the rows."""

    kind = models.CharField(_("period"), max_length=8)
    first = models.DateField(_("first day"))
    last = models.DateField(_("last day"))
    seed = models.BigIntegerField(_("random seed"))
    percent = models.PositiveSmallIntegerField(_("random sample (%)"))
    short_reply_chars = models.PositiveSmallIntegerField(_("short reply under (characters)"))
    created_at = models.DateTimeField(_("sampled at"), default=timezone.now)

    class Meta:
        verbose_name = _("quality sampling round")
        verbose_name_plural = _("quality sampling rounds")
        ordering = ["-first"]
        constraints = [models.UniqueConstraint(fields=["kind", "first"], name="quality_round_once_per_period")]

    def __str__(self) -> str:
        return f"{self.kind} {self.first.isoformat()} – {self.last.isoformat()}"


class CheckReason(models.TextChoices):
    RANDOM = "random", _("random sample")
    SHORT_REPLY = "short_reply", _("short reply")
    EMPTY_SOLVED = "empty_solved", _("says solved without substance")
    REOPENED = "reopened", _("reopened or sent back")
    DISSATISFIED = "dissatisfied", _("caller dissatisfied")


class CheckStatus(models.TextChoices):
    PENDING = "pending", _("to check")
    DONE = "done", _("checked")


class QualityCheck(models.Model):
    """One sampled registration or reply, the reasons it was picked and, once scored, its result.

    A registration is checked once (per ticket) and a reply once (per assignment): the sampling
    never picks an item twice, whatever the number of reasons. Scored once; never deleted.
    """

    round = models.ForeignKey(QualityRound, verbose_name=_("round"), on_delete=models.PROTECT, related_name="checks")
    target = models.CharField(_("checks"), max_length=16, choices=CheckTarget.choices)
    ticket = models.ForeignKey("hotline.Ticket", verbose_name=_("ticket"), on_delete=models.PROTECT, related_name="+")
    assignment = models.ForeignKey(
        "hotline.Assignment", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Whose work it is: the agent who registered, or the unit that replied.
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("agent"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    unit = models.ForeignKey(
        "hotline.Unit", verbose_name=_("unit"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reasons = models.JSONField(_("picked because"), default=list)
    status = models.CharField(
        _("status"), max_length=8, choices=CheckStatus.choices, default=CheckStatus.PENDING, db_index=True
    )
    checker = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("checker"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True, db_index=True)
    score = models.DecimalField(_("score"), max_digits=5, decimal_places=2, null=True, blank=True)
    failed_items = models.PositiveSmallIntegerField(_("failed items"), default=0)
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        verbose_name = _("quality check")
        verbose_name_plural = _("quality checks")
        ordering = ["status", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket"], condition=Q(target="registration"), name="quality_registration_once"
            ),
            models.UniqueConstraint(fields=["assignment"], condition=Q(target="reply"), name="quality_reply_once"),
        ]

    def __str__(self) -> str:
        return f"{self.get_target_display()} {self.ticket_id}"

    def reason_labels(self) -> list[str]:
        return [str(CheckReason(code).label) for code in self.reasons if code in CheckReason.values]


class CheckScore(models.Model):
    """The score of one checklist item in one check, with the weight and scale it had then."""

    quality_check = models.ForeignKey(QualityCheck, on_delete=models.PROTECT, related_name="scores")
    item = models.ForeignKey(ChecklistItem, verbose_name=_("item"), on_delete=models.PROTECT, related_name="+")
    score = models.PositiveSmallIntegerField(_("score"))
    max_score = models.PositiveSmallIntegerField(_("highest score"))
    weight = models.DecimalField(_("weight"), max_digits=6, decimal_places=2)
    passed = models.BooleanField(_("passed"))
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        verbose_name = _("item score")
        verbose_name_plural = _("item scores")
        ordering = ["quality_check", "item__order", "item__code"]
        constraints = [models.UniqueConstraint(fields=["quality_check", "item"], name="quality_item_scored_once")]

    def __str__(self) -> str:
        return f"{self.item}: {self.score}/{self.max_score}"


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
