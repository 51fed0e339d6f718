"""The dispatch catalogue (派单目录): rules kept as data, evaluated by priority; and the deadline warnings sent."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hotline.models import Area, Topic, Unit


class DispatchRule(models.Model):
    """If a ticket's topic, area and words match, suggest this unit.

    Empty conditions match anything; each condition that does match adds to the
    score, so a rule for "noise in 雨湖区" outranks one for "noise anywhere".
    """

    name = models.CharField(_("name"), max_length=100)
    topic = models.ForeignKey(Topic, verbose_name=_("topic"), null=True, blank=True, on_delete=models.CASCADE)
    area = models.ForeignKey(Area, verbose_name=_("area"), null=True, blank=True, on_delete=models.CASCADE)
    keywords = models.CharField(
        _("keywords"), max_length=300, blank=True, help_text=_("Separated by spaces or commas; any one matches.")
    )
    unit = models.ForeignKey(Unit, verbose_name=_("suggested unit"), on_delete=models.CASCADE, related_name="+")
    priority = models.PositiveSmallIntegerField(_("priority"), default=50, help_text=_("Higher wins ties."))
    basis = models.CharField(
        _("basis"), max_length=200, blank=True, help_text=_("The responsibility list entry this rule comes from.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    # 芜湖's auto-routing: a citizen's photo report (随手拍) of this topic in this area goes straight
    # to the unit, without waiting in the dispatch queue (routing/auto.py; needs a topic and an area).
    auto_dispatch = models.BooleanField(
        _("dispatch photo reports automatically"),
        default=False,
        help_text=_("Photo reports of this topic in this area are dispatched to the unit without the center."),
    )

    class Meta:
        verbose_name = _("dispatch rule")
        verbose_name_plural = _("dispatch catalogue")
        ordering = ["-priority", "pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def keyword_list(self) -> list[str]:
        return [k for k in self.keywords.replace("，", ",").replace(",", " ").split() if k]


class DeadlineWarning(models.Model):
    """A reminder already sent for an assignment: each kind is sent once per deadline.

    ``kind`` is one of ``routing.warnings.KINDS``; ``deadline`` is the accept-by or reply-by it was
    about, so an approved extension (a new reply-by) makes the next reminder a new one.
    """

    assignment = models.ForeignKey("hotline.Assignment", on_delete=models.CASCADE, related_name="+")
    level = models.CharField(max_length=16)
    deadline = models.DateTimeField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["assignment", "level", "deadline"], name="deadline_warning_once")
        ]

    def __str__(self) -> str:
        return f"{self.assignment_id} {self.level}"
