"""The audit log (等保 2.0 level 3, PIPL): append-only rows of who read or changed what, when.

One ``AuditEntry`` per act (a request that showed personal data, a login, a role change, an
export); the citizens and tickets it concerns are its ``AuditSubject`` rows, so a list page
that showed fifty tickets is one entry with fifty subjects, searchable by ticket and by phone.

Nothing in the application may change or remove a row: the model refuses ``save()`` of an
existing row and ``delete()``, the manager's querysets refuse ``update()`` and ``delete()``,
the admin has no add/change/delete permission, and on PostgreSQL a trigger refuses UPDATE and
DELETE (migration 0011). Phones are stored only as keyed tokens (``hotline.lib.tokens``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AppendOnlyError(RuntimeError):
    """An attempt to change or delete an audit row."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("the audit log is append-only")

    def delete(self):
        raise AppendOnlyError("the audit log is append-only")

    def bulk_update(self, objs, fields, batch_size=None):
        raise AppendOnlyError("the audit log is append-only")

    def update_or_create(self, *args, **kwargs):
        raise AppendOnlyError("the audit log is append-only")


class AppendOnly(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise AppendOnlyError("the audit log is append-only")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("the audit log is append-only")


class AuditAction(models.TextChoices):
    PERSONAL_DATA_READ = "personal_data.read", _("personal data shown")
    PHONE_SEARCH = "personal_data.search", _("search by phone")
    EXPORT = "export", _("export")
    LOGIN = "auth.login", _("login")
    LOGIN_FAILED = "auth.login_failed", _("failed login")
    LOGOUT = "auth.logout", _("logout")
    PASSWORD_CHANGED = "auth.password_changed", _("password changed")
    OTP_ENROLLED = "auth.otp_enrolled", _("two-factor device enrolled")
    OTP_REMOVED = "auth.otp_removed", _("two-factor device removed")
    USER_CREATED = "user.created", _("user created")
    USER_CHANGED = "user.changed", _("role, unit or permissions changed")
    CITIZEN_EXPORT = "citizen.export", _("citizen's data exported")
    CITIZEN_CORRECTED = "citizen.corrected", _("citizen's data corrected")
    ANONYMISED = "retention.anonymised", _("personal data anonymised")
    QUALITY_CHECKED = "quality.checked", _("quality check scored")
    RECORDING_PLAYED = "recording.played", _("call recording played")
    RECORDING_STOPPED = "recording.stopped", _("call recording stopped at the caller's request")
    RECORDING_PURGED = "recording.purged", _("call recordings deleted after the retention period")
    CALLER_REPORTED = "caller.reported", _("abusive caller reported")
    CALLER_FLAGGED = "caller.flagged", _("caller flagged")
    CALLER_FLAG_LIFTED = "caller.flag_lifted", _("caller's flag lifted")
    CALLER_REPORTS_DECLINED = "caller.reports_declined", _("reports on a caller declined")
    CASE_PUBLISHED = "case.published", _("ticket published")
    CASE_WITHDRAWN = "case.withdrawn", _("published ticket withdrawn")
    REPORT_RELEASED = "report.released", _("held report released to dispatch")
    REPORT_SPAM = "report.spam", _("held report marked as spam or abuse")


class AuditEntry(AppendOnly):
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    # No database constraint: a row outlives anything it names, and the username is kept beside it.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    username = models.CharField(_("username"), max_length=150, blank=True, db_index=True)
    action = models.CharField(_("action"), max_length=32, choices=AuditAction.choices, db_index=True)
    # The screen or endpoint (URL name), or the command or job step, and the path asked for.
    screen = models.CharField(_("screen"), max_length=100, blank=True)
    path = models.CharField(_("path"), max_length=300, blank=True)
    reason = models.CharField(_("why"), max_length=300, blank=True)
    # Which personal data was shown or changed: "phone,name,address".
    fields = models.CharField(_("personal data"), max_length=100, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["user", "at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.username} {self.action}"


class AuditSubject(AppendOnly):
    """A ticket and/or citizen an audit entry concerns (the phone as its token only)."""

    entry = models.ForeignKey(AuditEntry, on_delete=models.DO_NOTHING, related_name="subjects")
    ticket = models.ForeignKey(
        "hotline.Ticket", null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    phone_token = models.CharField(max_length=20, blank=True, db_index=True)

    class Meta:
        verbose_name = _("audit subject")
        verbose_name_plural = _("audit subjects")
        indexes = [models.Index(fields=["ticket", "entry"])]

    def __str__(self) -> str:
        return f"{self.entry_id}: {self.ticket_id or ''} {self.phone_token}"
