"""The three-level network (三级网络): areas, units and the people in them."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class Area(models.Model):
    """A place a ticket can be about: a county/district, or a town/street inside one."""

    name = models.CharField(_("name"), max_length=64)
    code = models.CharField(_("code"), max_length=32, unique=True)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent area"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    # WGS-84. A point, not a boundary: coordinates resolve to the nearest town/street's centroid
    # (hotline/geo.py); the seed's are approximate (hotline/seed/xiangtan.py says whence).
    lat = models.DecimalField(_("centroid latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    lng = models.DecimalField(_("centroid longitude"), max_digits=9, decimal_places=6, null=True, blank=True)

    class Meta:
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.parent.name}·{self.name}" if self.parent_id else self.name


class UnitKind(models.TextChoices):
    CENTER = "center", _("12345 center")
    DEPARTMENT = "department", _("municipal department")
    DISTRICT = "district", _("county/district government")
    COUNTY_DEPARTMENT = "county_department", _("county department")
    TOWN = "town", _("town/street")


# Which kinds may sit at which level (DESIGN §5).
KINDS_BY_LEVEL = {
    1: {UnitKind.CENTER},
    2: {UnitKind.DEPARTMENT, UnitKind.DISTRICT},
    3: {UnitKind.COUNTY_DEPARTMENT, UnitKind.TOWN},
}


class Unit(models.Model):
    """A network unit. Level 1 is the center, 2 its direct units, 3 theirs."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    code = models.CharField(_("code"), max_length=32, unique=True)
    kind = models.CharField(_("kind"), max_length=24, choices=UnitKind.choices)
    level = models.PositiveSmallIntegerField(_("level"), editable=False)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent unit"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    leader_name = models.CharField(_("leader in charge"), max_length=50, blank=True)
    leader_phone = models.CharField(_("leader's phone"), max_length=20, blank=True)
    liaison_name = models.CharField(_("liaison"), max_length=50, blank=True)
    liaison_phone = models.CharField(_("liaison's phone"), max_length=20, blank=True)
    # 专家在线: the number an agent conferences into a live call (a three-way call, like the one with 110).
    duty_phone = models.CharField(
        _("duty phone"),
        max_length=20,
        blank=True,
        validators=[RegexValidator(r"^\d{3,20}$", _("Digits only, as dialled (e.g. 073155558888)."))],
        help_text=_("Dialled into a live call when an agent puts the unit's expert on the line."),
    )
    service_areas = models.ManyToManyField(Area, verbose_name=_("service areas"), blank=True, related_name="units")
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        ordering = ["level", "code"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        self.level = 1 if self.parent_id is None else self.parent.level + 1
        super().save(*args, **kwargs)

    def clean(self) -> None:
        level = 1 if self.parent_id is None else self.parent.level + 1
        if level > 3:
            raise ValidationError({"parent": _("The network has exactly three levels.")})
        if self.kind not in KINDS_BY_LEVEL[level]:
            raise ValidationError({"kind": _("This kind of unit cannot sit at level %(level)s.") % {"level": level}})
        if level == 1 and Unit.objects.filter(level=1).exclude(pk=self.pk).exists():
            raise ValidationError({"parent": _("There is only one 12345 center.")})

    def subtree_ids(self) -> list[int]:
        """This unit and every unit below it (at most two levels down)."""
        ids = [self.pk]
        children = list(Unit.objects.filter(parent_id=self.pk).values_list("pk", flat=True))
        ids += children
        ids += list(Unit.objects.filter(parent_id__in=children).values_list("pk", flat=True))
        return ids


class Role(models.TextChoices):
    AGENT = "agent", _("agent")
    DISPATCHER = "dispatcher", _("dispatcher")
    SUPERVISOR = "supervisor", _("supervisor")
    UNIT_HANDLER = "unit_handler", _("unit handler")
    ADMIN = "admin", _("administrator")
    # Reads the audit log, and nothing else: not center staff, sees no ticket (等保: 审计管理员).
    AUDITOR = "auditor", _("auditor")
    # 质检员: scores samples of agents' registrations and units' replies and listens to call recordings
    # (docs/quality.md). Not center staff: sees the sampled tickets with the caller masked, and no console.
    QUALITY = "quality", _("quality checker")


CENTER_ROLES = frozenset({Role.AGENT, Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN})
# The center staff who review, decide and correct (every center role but the agent on the phone).
REVIEWING_ROLES = CENTER_ROLES - {Role.AGENT}


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.AGENT)
    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), null=True, blank=True, on_delete=models.PROTECT, related_name="members"
    )
    agent_extension = models.CharField(
        _("agent phone extension"), max_length=16, blank=True, help_text=_("Queue member interface, e.g. 1001.")
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def clean(self) -> None:
        super().clean()
        if self.role == Role.UNIT_HANDLER and not self.unit_id:
            raise ValidationError({"unit": _("A unit handler must belong to a unit.")})
