"""督办件: a supervision case on one ticket or a set of tickets (a hot problem), and its follow-up notes.

The 湘潭 center chases slow and hard cases in several forms: 通报督办, 书面督办, 专题督办 and
要件呈批, plus 领导批示 and 会议督办 for hot and hard problems (and by phone or on site for the
everyday overdue case). A case names the responsible unit and leader, the deadline the center
demands and the reason; notes record the follow-up; closing records the result. Rows are never
deleted: a closed case stays, and a ticket keeps the mark of having been supervised.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hotline.models.network import Unit
from hotline.models.tickets import Ticket


class SupervisionForm(models.TextChoices):
    BULLETIN = "bulletin", _("bulletin supervision")  # 通报督办
    WRITTEN = "written", _("written supervision")  # 书面督办
    SPECIAL_TOPIC = "special_topic", _("special-topic supervision")  # 专题督办
    LEADER_FILE = "leader_file", _("leader's file")  # 要件呈批
    LEADER_INSTRUCTION = "leader_instruction", _("leader instruction")  # 领导批示
    MEETING = "meeting", _("meeting supervision")  # 会议督办
    PHONE = "phone", _("phone supervision")  # 电话督办
    ON_SITE = "on_site", _("on-site supervision")  # 现场督办


class SupervisionStatus(models.TextChoices):
    OPEN = "open", _("open")
    CLOSED = "closed", _("closed")


class SupervisionOutcome(models.TextChoices):
    SOLVED = "solved", _("solved")
    PARTLY = "partly", _("partly solved")
    UNSOLVED = "unsolved", _("not solved")


class SupervisionCase(models.Model):
    form = models.CharField(_("form"), max_length=20, choices=SupervisionForm.choices)
    title = models.CharField(_("title"), max_length=200)
    reason = models.TextField(_("reason"))
    tickets = models.ManyToManyField(Ticket, verbose_name=_("tickets"), related_name="supervisions")
    unit = models.ForeignKey(
        Unit, verbose_name=_("responsible unit"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    leader_name = models.CharField(_("responsible leader"), max_length=50, blank=True)
    due_by = models.DateTimeField(_("demanded deadline"))
    status = models.CharField(
        _("status"), max_length=8, choices=SupervisionStatus.choices, default=SupervisionStatus.OPEN, db_index=True
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("opened by"), on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now, db_index=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    outcome = models.CharField(_("supervision outcome"), max_length=10, choices=SupervisionOutcome.choices, blank=True)
    result = models.TextField(_("result"), blank=True)

    class Meta:
        verbose_name = _("supervision case")
        verbose_name_plural = _("supervision cases")
        ordering = ["-opened_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_form_display()} #{self.pk} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status == SupervisionStatus.OPEN

    def is_late(self, now=None) -> bool:
        return self.is_open and (now or timezone.now()) > self.due_by


class SupervisionNote(models.Model):
    """A follow-up on a case: what the unit said, what the meeting decided, what the leader wrote."""

    case = models.ForeignKey(SupervisionCase, on_delete=models.PROTECT, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("at"), default=timezone.now)
    text = models.TextField(_("note"))

    class Meta:
        verbose_name = _("follow-up note")
        verbose_name_plural = _("follow-up notes")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"#{self.case_id} {self.at:%Y-%m-%d}"
