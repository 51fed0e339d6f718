"""Callers, tickets, assignments and everything that hangs off a ticket."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hotline.lib.attributes import definition_errors
from hotline.lib.phones import mask_phone
from hotline.models.network import Area, Unit


class Channel(models.TextChoices):
    PHONE = "phone", _("phone")
    WECHAT = "wechat", _("WeChat")
    APP = "app", _("app")
    WEB = "web", _("web")
    PHOTO = "photo", _("photo report")
    # Another system's report through the Open311 GeoReport v2 API (web/open311/, docs/open311.md).
    OPEN311 = "open311", _("Open311")
    # 110转12345: a referral from the police's 110 platform, by its API or an agent taking the
    # transfer on the phone (hotline/services/referrals110.py, docs/referrals-110.md).
    POLICE_110 = "110", _("110 referral")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("normal")
    URGENT = "urgent", _("urgent")


class Caller(models.Model):
    """A citizen, keyed by the normalised (E.164) phone number."""

    phone = models.CharField(_("phone"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=50, blank=True)
    no_revisit = models.BooleanField(_("asked not to be revisited"), default=False)
    # 退订: no notifications (registered, reply, revisit coming); answers to their own texts still go.
    no_messages = models.BooleanField(_("asked for no messages"), default=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    # The center's latest flag (恶意来电/缠访, hotline.services.callers), kept here so the screen pop
    # reads it with the caller in one query; whether it is still in force is decided on reading.
    flag = models.ForeignKey(
        "hotline.CallerFlag",
        verbose_name=_("flag"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )

    class Meta:
        verbose_name = _("caller")
        verbose_name_plural = _("callers")

    def __str__(self) -> str:
        return self.masked_phone

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    def flag_in_force(self, now=None):
        """The center's flag if it is in force now (not lifted, not expired), else None."""
        flag = self.flag if self.flag_id else None
        return flag if flag is not None and flag.in_force(now) else None


class Category(models.Model):
    """Demand category (GB/T 39666): consultation, help request, complaint, ..."""

    code = models.SlugField(_("code"), max_length=24, unique=True)
    name = models.CharField(_("name"), max_length=32)
    requires_revisit = models.BooleanField(_("revisit after reply"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.name


class Topic(models.Model):
    """Two-level topic taxonomy (e.g. 城乡建设 › 噪音扰民)."""

    code = models.CharField(_("code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=64)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent topic"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    level2_only = models.BooleanField(
        _("level-2 departments only"),
        default=False,
        help_text=_("Never sub-dispatched down to towns/streets (国办函〔2025〕66号)."),
    )
    # What a report of this topic must say besides the text: Open311 service attributes
    # (hotline/open311.py checks the shape: code, datatype, required, description, values).
    extra_fields = models.JSONField(
        _("extra fields"),
        default=list,
        blank=True,
        help_text=_(
            'A list of {"code", "description", "datatype", "required", "values"}; datatype is one of '
            "string, number, datetime, text, singlevaluelist, multivaluelist."
        ),
    )

    class Meta:
        verbose_name = _("topic")
        verbose_name_plural = _("topics")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.parent.name} › {self.name}" if self.parent_id else self.name

    def clean(self) -> None:
        errors = definition_errors(self.extra_fields)
        if errors:
            raise ValidationError({"extra_fields": errors})

    @property
    def is_level2_only(self) -> bool:
        return self.level2_only or bool(self.parent_id and self.parent.level2_only)


class SlaPolicy(models.Model):
    """How long a unit has to accept and to reply, per category and urgency."""

    category = models.ForeignKey(Category, verbose_name=_("category"), on_delete=models.CASCADE, related_name="slas")
    urgency = models.CharField(_("urgency"), max_length=8, choices=Urgency.choices, default=Urgency.NORMAL)
    accept_hours = models.PositiveSmallIntegerField(_("accept within (working hours)"))
    reply_days = models.PositiveSmallIntegerField(_("reply within (working days)"))
    revisit_days = models.PositiveSmallIntegerField(_("revisit after (working days)"), default=1)
    note = models.CharField(_("basis"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        constraints = [models.UniqueConstraint(fields=["category", "urgency"], name="sla_unique_category_urgency")]

    def __str__(self) -> str:
        return f"{self.category} / {self.get_urgency_display()}"


class TicketStatus(models.TextChoices):
    REGISTERED = "registered", _("registered")
    DISPATCHED = "dispatched", _("dispatched")
    IN_PROGRESS = "in_progress", _("in progress")
    RETURNED = "returned", _("returned")
    REPLIED = "replied", _("replied")
    REVISIT_PENDING = "revisit_pending", _("revisit pending")
    CLOSED = "closed", _("closed")
    TRANSFERRED_110 = "transferred_110", _("transferred to 110")
    MERGED = "merged", _("merged")
    DISCARDED = "discarded", _("in recycle bin")


OPEN_STATUSES = frozenset(
    {
        TicketStatus.REGISTERED,
        TicketStatus.DISPATCHED,
        TicketStatus.IN_PROGRESS,
        TicketStatus.RETURNED,
        TicketStatus.REPLIED,
        TicketStatus.REVISIT_PENDING,
    }
)


class TicketCounter(models.Model):
    """Per-day sequence behind ticket numbers; its row is locked while numbering."""

    day = models.DateField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.day}: {self.last}"


class Ticket(models.Model):
    number = models.CharField(_("ticket number"), max_length=16, unique=True, editable=False)
    query_code = models.CharField(_("query code"), max_length=6, editable=False)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices, default=Channel.PHONE)
    category = models.ForeignKey(Category, verbose_name=_("category"), on_delete=models.PROTECT)
    topic = models.ForeignKey(Topic, verbose_name=_("topic"), null=True, blank=True, on_delete=models.PROTECT)
    caller = models.ForeignKey(Caller, verbose_name=_("caller"), on_delete=models.PROTECT, related_name="tickets")
    title = models.CharField(_("title"), max_length=100, blank=True)
    content = models.TextField(_("content"))
    address = models.CharField(_("address"), max_length=200, blank=True)
    area = models.ForeignKey(Area, verbose_name=_("area"), null=True, blank=True, on_delete=models.PROTECT)
    # Where it is, in WGS-84 (GPS; docs/open311.md says why not GCJ-02). Blank when nobody gave a point.
    lat = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    lng = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    urgency = models.CharField(_("urgency"), max_length=8, choices=Urgency.choices, default=Urgency.NORMAL)
    status = models.CharField(
        _("status"), max_length=16, choices=TicketStatus.choices, default=TicketStatus.REGISTERED, db_index=True
    )
    # Bumped by every transition; a client that sends a stale version gets 409.
    version = models.PositiveIntegerField(_("version"), default=1)
    resolved_on_call = models.BooleanField(_("resolved on call"), default=False)
    # 同意公开: the caller agreed that the closed ticket may be published, personal data hidden
    # (hotline.services.disclosure). Asked at registration; without it nothing is published.
    consent_public = models.BooleanField(_("agrees to publication"), default=False)
    resolution = models.TextField(_("resolution"), blank=True)
    merged_into = models.ForeignKey(
        "self", verbose_name=_("merged into"), null=True, blank=True, on_delete=models.PROTECT, related_name="merged"
    )
    # Marked when registered (hotline.services.repeats): the latest earlier ticket of the same
    # caller, or of the same address and topic, within HOTLINE_REPEAT_WINDOW_DAYS.
    repeat_of = models.ForeignKey(
        "self", verbose_name=_("repeats"), null=True, blank=True, on_delete=models.PROTECT, related_name="repeats"
    )
    status_before_discard = models.CharField(max_length=16, choices=TicketStatus.choices, blank=True, editable=False)
    call_linkedid = models.CharField(_("call id"), max_length=64, blank=True, db_index=True)
    reopen_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("registered by"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("registered at"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["caller", "created_at"]),
            models.Index(fields=["area", "topic", "created_at"]),
            # Repeat detection (same address and topic within the window).
            models.Index(fields=["topic", "address", "created_at"]),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class AssignmentRole(models.TextChoices):
    LEAD = "lead", _("lead unit")
    ASSISTING = "assisting", _("assisting unit")


class AssignmentStatus(models.TextChoices):
    PENDING = "pending", _("waiting to be accepted")
    ACCEPTED = "accepted", _("accepted")
    REPLIED = "replied", _("replied")
    RETURNED = "returned", _("returned")
    WITHDRAWN = "withdrawn", _("withdrawn")


ACTIVE_ASSIGNMENT_STATUSES = frozenset({AssignmentStatus.PENDING, AssignmentStatus.ACCEPTED})


class Assignment(models.Model):
    """One unit's part of a ticket, with its own accept-by and reply-by deadlines."""

    ticket = models.ForeignKey(Ticket, verbose_name=_("ticket"), on_delete=models.PROTECT, related_name="assignments")
    unit = models.ForeignKey(Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="assignments")
    role = models.CharField(_("role"), max_length=10, choices=AssignmentRole.choices, default=AssignmentRole.LEAD)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("sub-dispatched from"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    reopen_of = models.ForeignKey(
        "self", verbose_name=_("redo of"), null=True, blank=True, on_delete=models.PROTECT, related_name="redos"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=AssignmentStatus.choices, default=AssignmentStatus.PENDING, db_index=True
    )
    instructions = models.TextField(_("instructions"), blank=True)
    dispatched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("dispatched by"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    dispatched_at = models.DateTimeField(_("dispatched at"), default=timezone.now)
    accept_by = models.DateTimeField(_("accept by"))
    reply_by = models.DateTimeField(_("reply by"), help_text=_("The deadline that counts (after approved extensions)."))
    original_reply_by = models.DateTimeField(_("original reply by"))
    deadline_provisional = models.BooleanField(
        _("provisional deadline"),
        default=False,
        help_text=_("Counted on a year whose official holiday schedule is not entered yet."),
    )
    # Kept so a provisional deadline can be recomputed when the year's schedule arrives.
    accept_hours = models.PositiveSmallIntegerField(default=0, editable=False)
    reply_days = models.PositiveSmallIntegerField(default=0, editable=False)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True, db_index=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reply_text = models.TextField(_("reply"), blank=True)
    # The unit says on its reply that it contacted the caller (响应: the response rate of an evaluation scheme).
    contacted_caller = models.BooleanField(_("contacted the caller"), default=False)
    returned_at = models.DateTimeField(_("returned at"), null=True, blank=True)
    return_reason = models.TextField(_("return reason"), blank=True)
    # An assignment withdrawn after its deadline passed still counts, late (docs/metrics.md).
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        ordering = ["dispatched_at", "pk"]
        indexes = [
            models.Index(fields=["unit", "status", "reply_by"]),
            # The KPIs select assignments by the deadline or the redo date that falls in a period.
            models.Index(fields=["reply_by"]),
            models.Index(fields=["accept_by"]),
            models.Index(
                fields=["dispatched_at"], condition=Q(reopen_of__isnull=False), name="assignment_redo_dispatched_at"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket} → {self.unit}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_ASSIGNMENT_STATUSES


class DecidedRequest(models.Model):
    """A unit's request that someone above it decides on (延期, 派单异议, 不满意申诉): the reason, then the decision.

    The request side is named by each model (requested_by, raised_by); the decision side is shared.
    """

    DECISION_FIELDS = ["status", "decided_by", "decided_at", "decision_note"]

    reason = models.TextField(_("reason"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    class Meta:
        abstract = True

    def decide(self, status: str, by, note: str) -> None:
        """Set the outcome and who decided it, when; the caller saves ``DECISION_FIELDS``."""
        self.status, self.decided_by, self.decided_at, self.decision_note = status, by, timezone.now(), note


class ExtensionStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    APPROVED = "approved", _("approved")
    REJECTED = "rejected", _("rejected")


class Extension(DecidedRequest):
    """延期: a unit asks for a later reply-by; whoever dispatched to it decides."""

    assignment = models.ForeignKey(
        Assignment, on_delete=models.PROTECT, related_name="extensions", verbose_name=_("assignment")
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("requested by")
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    requested_until = models.DateTimeField(_("requested deadline"))
    status = models.CharField(
        _("status"), max_length=8, choices=ExtensionStatus.choices, default=ExtensionStatus.PENDING
    )

    class Meta:
        verbose_name = _("extension request")
        verbose_name_plural = _("extension requests")
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"{self.assignment} → {self.requested_until:%Y-%m-%d}"


class DisputeStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    # The center decided the unit is responsible after all (the dispute is rejected).
    DISPATCH_STANDS = "dispatch_stands", _("dispatch stands")
    # The unit was right: the ticket went to another unit (the dispute is accepted).
    REASSIGNED = "reassigned", _("reassigned")


class Dispute(DecidedRequest):
    """派单异议: a unit says a dispatch is not its responsibility; the center reviews."""

    assignment = models.ForeignKey(
        Assignment, on_delete=models.PROTECT, related_name="disputes", verbose_name=_("assignment")
    )
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("raised by")
    )
    raised_at = models.DateTimeField(_("raised at"), default=timezone.now)
    status = models.CharField(_("status"), max_length=16, choices=DisputeStatus.choices, default=DisputeStatus.PENDING)
    reassigned_to = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("reassigned to")
    )

    class Meta:
        verbose_name = _("dispatch dispute")
        verbose_name_plural = _("dispatch disputes")
        ordering = ["-raised_at"]

    def __str__(self) -> str:
        return f"{self.assignment}: {self.reason[:20]}"


class Referral(models.Model):
    """移交110: a case handed to the police (or another emergency line)."""

    # Blank when the agent transferred the call before registering anything.
    ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.PROTECT, related_name="referrals", verbose_name=_("ticket")
    )
    target = models.CharField(_("referred to"), max_length=16, default="110")
    mode = models.CharField(
        _("mode"),
        max_length=16,
        choices=[("transfer", _("one-click transfer")), ("three_way", _("three-way call"))],
        default="transfer",
    )
    call_linkedid = models.CharField(_("call id"), max_length=64, blank=True)
    reason = models.TextField(_("reason"))
    # The item of the 12345↔110 list, for the monthly counts both ways (docs/referrals-110.md).
    matter = models.ForeignKey(
        "hotline.Matter110", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("matter")
    )
    referred_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("referred by")
    )
    referred_at = models.DateTimeField(_("referred at"), default=timezone.now)

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")

    def __str__(self) -> str:
        return f"{self.ticket or self.call_linkedid} → {self.target}"


# The image types an attachment is verified to be, and the extension its stored file gets.
IMAGE_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp"}


def attachment_path(instance: Attachment, filename: str) -> str:
    """A generated, unguessable name with the extension of the verified type, never the uploader's
    (a GIF named poc.html was served as a page)."""
    token = secrets.token_urlsafe(24)
    return f"tickets/{instance.ticket.created_at:%Y/%m}/{token}.{IMAGE_EXTENSIONS[instance.content_type]}"


class Attachment(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="attachments", verbose_name=_("ticket"))
    assignment = models.ForeignKey(
        Assignment,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="attachments",
        verbose_name=_("assignment"),
    )
    file = models.ImageField(_("file"), upload_to=attachment_path)
    content_type = models.CharField(max_length=32)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.download_name

    @property
    def download_name(self) -> str:
        """The name it is downloaded under: the uploader's name is never echoed back."""
        return f"attachment-{self.pk}.{IMAGE_EXTENSIONS[self.content_type]}"


class TimelineEntry(models.Model):
    """Append-only audit trail of a ticket: who did what, when, from which status to which."""

    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="timeline", verbose_name=_("ticket"))
    assignment = models.ForeignKey(
        Assignment, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("assignment")
    )
    action = models.CharField(_("action"), max_length=40, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("timeline entry")
        verbose_name_plural = _("timeline")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.ticket} {self.action}"
