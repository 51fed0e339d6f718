"""Missed-call callbacks, satisfaction revisits (回访), rating appeals, SMS and the do-not-call list.

Every row that a background job acts on carries its own due time and a lease
(``lease_until``): a worker claims it with a conditional UPDATE, and a worker
that dies mid-job leaves a lease that simply runs out, so the row is taken again
once — never twice at the same time (docs/jobs.md).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hotline.lib.phones import mask_phone
from hotline.models.tickets import DecidedRequest


class DoNotCall(models.Model):
    """A number that asked never to be called back or revisited by phone or SMS."""

    phone = models.CharField(_("phone"), max_length=20, unique=True, help_text=_("E.164, e.g. +8613800138000"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("added by")
    )
    added_at = models.DateTimeField(_("added at"), default=timezone.now)

    class Meta:
        verbose_name = _("do-not-call number")
        verbose_name_plural = _("do-not-call list")

    def __str__(self) -> str:
        return mask_phone(self.phone)


class CallbackStatus(models.TextChoices):
    DUE = "due", _("due")
    OFFERED = "offered", _("offered to an agent")
    DIALING = "dialing", _("dialing")
    DONE = "done", _("done")
    FAILED = "failed", _("gave up")
    CANCELLED = "cancelled", _("cancelled")


OPEN_CALLBACK_STATUSES = (CallbackStatus.DUE, CallbackStatus.OFFERED, CallbackStatus.DIALING)


class CallbackOutcome(models.TextChoices):
    REACHED = "reached", _("reached")
    NO_ANSWER = "no_answer", _("no answer")
    BUSY = "busy", _("busy")
    WRONG_NUMBER = "wrong_number", _("wrong number")


class CallbackTask(models.Model):
    """回拨: one missed call (abandoned or timed out in the queue) that the center must call back."""

    call = models.OneToOneField(
        "telephony.Call", null=True, blank=True, on_delete=models.PROTECT, related_name="callback_task"
    )
    caller = models.ForeignKey("hotline.Caller", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    number = models.CharField(_("number"), max_length=32)
    missed_at = models.DateTimeField(_("missed at"), db_index=True)
    status = models.CharField(
        _("status"), max_length=10, choices=CallbackStatus.choices, default=CallbackStatus.DUE, db_index=True
    )
    outcome = models.CharField(_("last outcome"), max_length=16, choices=CallbackOutcome.choices, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), db_index=True)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="callback_tasks",
        verbose_name=_("agent"),
    )
    offered_at = models.DateTimeField(_("offered at"), null=True, blank=True)
    # An offer or a dial that nobody finishes expires here and the task is due again.
    lease_until = models.DateTimeField(_("lease until"), null=True, blank=True)
    linkedid = models.CharField(_("callback call id"), max_length=64, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    manual = models.BooleanField(_("dialled manually"), default=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("callback")
        verbose_name_plural = _("callbacks")
        ordering = ["missed_at", "pk"]
        indexes = [models.Index(fields=["status", "missed_at", "id"], name="callback_due_order")]

    def __str__(self) -> str:
        return f"{mask_phone(self.number)} {self.status}"


class CallbackAttempt(models.Model):
    """One dial of a callback by an agent, with its outcome."""

    task = models.ForeignKey(CallbackTask, on_delete=models.CASCADE, related_name="attempt_log")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("agent")
    )
    started_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=16, choices=CallbackOutcome.choices, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    linkedid = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["started_at", "pk"]

    def __str__(self) -> str:
        return f"{self.task_id} {self.outcome or self.error[:20]}"


class RevisitStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("scheduled")
    IN_PROGRESS = "in_progress", _("in progress")
    DONE = "done", _("done")
    UNREACHABLE = "unreachable", _("unreachable")
    CANCELLED = "cancelled", _("cancelled")


OPEN_REVISIT_STATUSES = (RevisitStatus.SCHEDULED, RevisitStatus.IN_PROGRESS)


class Rating(models.TextChoices):
    """好差评, GB/T 39735-2020."""

    VERY_SATISFIED = "very_satisfied", _("very satisfied")
    SATISFIED = "satisfied", _("satisfied")
    BASICALLY_SATISFIED = "basically_satisfied", _("basically satisfied")
    UNSATISFIED = "unsatisfied", _("unsatisfied")
    VERY_UNSATISFIED = "very_unsatisfied", _("very unsatisfied")
    NONE = "", _("no rating")


SATISFIED_RATINGS = frozenset({Rating.VERY_SATISFIED, Rating.SATISFIED, Rating.BASICALLY_SATISFIED})
UNSATISFIED_RATINGS = frozenset({Rating.UNSATISFIED, Rating.VERY_UNSATISFIED})


class RevisitChannel(models.TextChoices):
    PHONE = "phone", _("agent phone call")
    SMS = "sms", _("SMS survey")
    IVR = "ivr", _("IVR survey")


class Revisit(models.Model):
    """回访: asking the caller whether the lead unit's reply solved the demand.

    The fields ticket, assignment, unit, status, rating, solved, completed_at and
    excluded_from_kpi are a contract with ``metrics``: keep their names and values.
    """

    ticket = models.ForeignKey(
        "hotline.Ticket", on_delete=models.PROTECT, related_name="revisits", verbose_name=_("ticket")
    )
    assignment = models.ForeignKey(
        "hotline.Assignment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="revisits",
        verbose_name=_("assignment"),
    )
    unit = models.ForeignKey(
        "hotline.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="revisits", verbose_name=_("unit")
    )
    status = models.CharField(
        _("status"), max_length=12, choices=RevisitStatus.choices, default=RevisitStatus.SCHEDULED, db_index=True
    )
    rating = models.CharField(_("rating"), max_length=20, choices=Rating.choices, blank=True, default="")
    solved = models.BooleanField(_("solved"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True, db_index=True)
    excluded_from_kpi = models.BooleanField(_("excluded from KPI"), default=False)
    channel = models.CharField(_("channel"), max_length=8, choices=RevisitChannel.choices, default=RevisitChannel.PHONE)
    scheduled_for = models.DateTimeField(_("scheduled for"), db_index=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    comment = models.TextField(_("caller's words"), blank=True)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="revisits",
        verbose_name=_("agent"),
    )
    lease_until = models.DateTimeField(_("lease until"), null=True, blank=True)
    # The SMS survey's link token; replies by digits are matched through the number instead.
    token = models.CharField(_("survey token"), max_length=32, blank=True, db_index=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    # The last dial of a phone revisit (telephony's Linkedid) and why the last one failed, if it did.
    linkedid = models.CharField(_("revisit call id"), max_length=64, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("revisit")
        verbose_name_plural = _("revisits")
        ordering = ["scheduled_for", "pk"]
        constraints = [
            # At most one open revisit per ticket: the scheduling job can run twice, or in two workers.
            models.UniqueConstraint(
                fields=["ticket"],
                condition=Q(status__in=["scheduled", "in_progress"]),
                name="revisit_one_open_per_ticket",
            )
        ]

    def __str__(self) -> str:
        return f"{self.ticket} {self.status} {self.rating}"


class RevisitAttempt(models.Model):
    """One dial of a phone revisit by an agent: the call placed (``linkedid``) or why it was not (``error``)."""

    revisit = models.ForeignKey(
        Revisit, on_delete=models.CASCADE, related_name="attempt_log", verbose_name=_("revisit")
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("agent")
    )
    started_at = models.DateTimeField(default=timezone.now)
    linkedid = models.CharField(max_length=64, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)

    class Meta:
        ordering = ["started_at", "pk"]

    def __str__(self) -> str:
        return f"{self.revisit_id} {self.linkedid or self.error[:20]}"


class AppealStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    GRANTED = "granted", _("granted")  # the unit wins: the rating leaves its KPI
    REJECTED = "rejected", _("rejected")


class RevisitAppeal(DecidedRequest):
    """不满意申诉: a unit argues that an unsatisfied rating should not count against it."""

    revisit = models.ForeignKey(Revisit, on_delete=models.PROTECT, related_name="appeals", verbose_name=_("revisit"))
    unit = models.ForeignKey("hotline.Unit", on_delete=models.PROTECT, related_name="+", verbose_name=_("unit"))
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("raised by")
    )
    raised_at = models.DateTimeField(_("raised at"), default=timezone.now)
    status = models.CharField(_("status"), max_length=8, choices=AppealStatus.choices, default=AppealStatus.PENDING)

    class Meta:
        verbose_name = _("rating appeal")
        verbose_name_plural = _("rating appeals")
        ordering = ["-raised_at"]
        constraints = [
            models.UniqueConstraint(fields=["revisit"], condition=Q(status="pending"), name="appeal_one_pending")
        ]

    def __str__(self) -> str:
        return f"{self.revisit.ticket}: {self.reason[:20]}"


class SmsPurpose(models.TextChoices):
    TICKET_REGISTERED = "ticket_registered", _("ticket registered")
    REPLY_AVAILABLE = "reply_available", _("reply available")
    REVISIT_SURVEY = "revisit_survey", _("revisit survey")
    SURVEY_ANSWER = "survey_answer", _("answer to a survey reply")
    QUERY_ANSWER = "query_answer", _("answer to a query")
    REVISIT_DUE = "revisit_due", _("revisit coming")
    OPTED_OUT = "opted_out", _("opt-out confirmed")
    UNIT_REMINDER = "unit_reminder", _("reminder to a unit's liaison")
    LEADER_NOTICE = "leader_notice", _("notice to a unit's leader")
    INBOUND = "inbound", _("received")
    CITIZEN_OTP = "citizen_otp", _("one-time code for a citizen")


class SmsStatus(models.TextChoices):
    QUEUED = "queued", _("queued")
    SENDING = "sending", _("sending")
    SENT = "sent", _("sent")
    DELIVERED = "delivered", _("delivered")
    FAILED = "failed", _("failed")
    RECEIVED = "received", _("received")


class Delivery(models.Model):
    """How a message to a citizen goes out and is retried: queued, claimed under a lease, sent,
    failed with its provider's code. SMS and WeChat share it (callback/sms, callback/wechat)."""

    status = models.CharField(
        _("status"), max_length=10, choices=SmsStatus.choices, default=SmsStatus.QUEUED, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now, db_index=True)
    lease_until = models.DateTimeField(_("leased until"), null=True, blank=True)
    error_code = models.CharField(_("error code"), max_length=16, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        abstract = True


class SmsMessage(Delivery):
    """Every SMS sent or received, with its delivery status."""

    direction = models.CharField(
        _("direction"), max_length=3, choices=[("out", _("out")), ("in", _("in"))], default="out"
    )
    to = models.CharField(_("to"), max_length=32)
    sender = models.CharField(_("from"), max_length=32, blank=True)
    body = models.TextField(_("text"))
    purpose = models.CharField(_("purpose"), max_length=20, choices=SmsPurpose.choices)
    ticket = models.ForeignKey(
        "hotline.Ticket", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("ticket")
    )
    revisit = models.ForeignKey(
        Revisit, null=True, blank=True, on_delete=models.PROTECT, related_name="sms", verbose_name=_("revisit")
    )
    # One message per purpose and subject: asking twice to send it (a rerun job) stores and sends it once.
    dedup_key = models.CharField(max_length=80, null=True, blank=True, unique=True)
    backend = models.CharField(_("backend"), max_length=32, blank=True)
    provider_id = models.CharField(_("provider id"), max_length=64, blank=True, db_index=True)

    class Meta:
        verbose_name = _("SMS message")
        verbose_name_plural = _("SMS messages")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.direction} {mask_phone(self.to)} {self.purpose} {self.status}"


class CitizenOtp(models.Model):
    """A six-digit one-time code sent by SMS: proof that a citizen holds a phone (callback/otp.py).

    Only a keyed hash of the code is kept, bound to the phone it was sent to; the client
    address is kept hashed too, to count requests per address.
    """

    phone = models.CharField(_("phone"), max_length=20, db_index=True)
    code_hash = models.CharField(max_length=64)
    address_hash = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    expires_at = models.DateTimeField(_("expires at"))
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("citizen one-time code")
        verbose_name_plural = _("citizen one-time codes")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{mask_phone(self.phone)} {self.created_at:%Y-%m-%d %H:%M}"


class CitizenSession(models.Model):
    """A phone proven by a one-time code: the page's cookie and the API's bearer token (hashed here)."""

    token_hash = models.CharField(max_length=64, unique=True)
    phone = models.CharField(_("phone"), max_length=20, db_index=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    last_seen_at = models.DateTimeField(_("last seen at"), default=timezone.now)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)

    class Meta:
        verbose_name = _("citizen session")
        verbose_name_plural = _("citizen sessions")

    def __str__(self) -> str:
        return mask_phone(self.phone)


class WechatBinding(models.Model):
    """A WeChat user (openid of the official account) bound to a phone proven by a one-time code."""

    openid = models.CharField(_("openid"), max_length=64, unique=True)
    phone = models.CharField(_("phone"), max_length=20, db_index=True)
    bound_at = models.DateTimeField(_("bound at"), default=timezone.now)

    class Meta:
        verbose_name = _("WeChat binding")
        verbose_name_plural = _("WeChat bindings")

    def __str__(self) -> str:
        return f"{self.openid[:6]}… {mask_phone(self.phone)}"


class WechatPurpose(models.TextChoices):
    REGISTERED = "registered", _("ticket registered")
    REPLIED = "replied", _("reply available")
    REVISIT = "revisit", _("revisit due")


class WechatMessage(Delivery):
    """A template message to a bound WeChat user, queued and retried like an SMS (callback/wechat/notify.py)."""

    openid = models.CharField(_("openid"), max_length=64)
    purpose = models.CharField(_("purpose"), max_length=12, choices=WechatPurpose.choices)
    ticket = models.ForeignKey("hotline.Ticket", on_delete=models.PROTECT, related_name="+", verbose_name=_("ticket"))
    template_id = models.CharField(_("template id"), max_length=64)
    url = models.CharField(_("link"), max_length=300, blank=True)
    data = models.JSONField(default=dict)
    # One message per purpose, ticket (and reply round) and openid: a rerun step stores it once.
    dedup_key = models.CharField(max_length=120, unique=True)
    msgid = models.CharField(_("message id"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("WeChat message")
        verbose_name_plural = _("WeChat messages")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.purpose} {self.ticket_id} {self.status}"


class Outcome110Delivery(Delivery):
    """The outcome of a 110 referral POSTed to its 110 system's webhook, retried with backoff
    (callback/outcomes110.py, docs/referrals-110.md). One per referral."""

    referral = models.OneToOneField(
        "hotline.InboundReferral",
        on_delete=models.PROTECT,
        related_name="outcome_delivery",
        verbose_name=_("referral from 110"),
    )
    url = models.URLField(_("webhook"), max_length=300)
    payload = models.JSONField(_("payload"), default=dict)
    http_status = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)

    class Meta:
        verbose_name = _("outcome sent to 110")
        verbose_name_plural = _("outcomes sent to 110")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.referral} {self.status}"
