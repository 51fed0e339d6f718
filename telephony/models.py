"""Call records: one Call per caller call (keyed by PBX boot + Linkedid), raw AMI events for audit."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from telephony import lifecycle
from telephony.pbx import DEFAULT_PBX


class Outcome(models.TextChoices):
    ANSWERED = lifecycle.ANSWERED, _("answered")
    ABANDONED = lifecycle.ABANDONED, _("abandoned in queue")
    TIMEOUT = lifecycle.TIMEOUT, _("queue timeout")
    REFUSED = lifecycle.REFUSED, _("refused by the queue")
    TRANSFERRED_110 = lifecycle.TRANSFERRED_110, _("transferred to 110")
    IVR_110 = lifecycle.IVR_110, _("sent to 110 by the IVR")
    TRANSFERRED = lifecycle.TRANSFERRED, _("transferred")
    # Every call the center placed (a callback, a phone revisit, an IVR survey): Purpose says which.
    # The stored value is still the translator's "callback".
    OUTBOUND = lifecycle.CALLBACK, _("placed by the center")
    UNKNOWN = lifecycle.UNKNOWN, _("unknown")


class Purpose(models.TextChoices):
    """Why we placed an outbound call (HOTLINE_PURPOSE); blank for the callers' own calls or when unknown."""

    CALLBACK = lifecycle.PURPOSE_CALLBACK, _("callback")
    REVISIT = lifecycle.PURPOSE_REVISIT, _("revisit by an agent")
    REVISIT_IVR = lifecycle.PURPOSE_REVISIT_IVR, _("IVR revisit survey")


class WrapUpCode(models.Model):
    """话后小结: what a call was, chosen by the agent during wrap-up (咨询已解答, 已登记工单, 骚扰来电…).

    Data, edited in the admin; never deleted (calls point at it): a code no longer used is made
    inactive and leaves the console's choices. ``code`` is the stable key the statistics and the
    services use (``ticket`` is the default after a ticket was registered from the call).
    """

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=32)
    active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("wrap-up code")
        verbose_name_plural = _("wrap-up codes")
        ordering = ["order", "pk"]

    def __str__(self) -> str:
        return self.name


class Call(models.Model):
    """A call of the hotline queues, from offer to hangup. ``outcome`` stays blank while it is live."""

    # Which PBX the call came from (telephony.pbx): Linkedids and boots are each PBX's own.
    pbx = models.CharField(_("PBX"), max_length=32, default=DEFAULT_PBX)
    linkedid = models.CharField(_("call id"), max_length=64)
    # Boot time of the PBX (unix seconds): Uniqueids restart with Asterisk, this tells repeats apart.
    pbx_epoch = models.BigIntegerField(_("PBX boot"), default=0)
    caller = models.ForeignKey(
        "hotline.Caller",
        verbose_name=_("caller"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls",
    )
    caller_number = models.CharField(_("caller number"), max_length=32, blank=True)
    caller_name = models.CharField(_("caller name"), max_length=50, blank=True)
    # The Uniqueid of the caller's channel in the queue: the callid of Asterisk's queue_log, by which a
    # call that ended while the bridge was away is matched on reconnect (telephony.queue_log).
    caller_uniqueid = models.CharField(_("caller channel id"), max_length=64, blank=True)
    queue = models.CharField(_("queue"), max_length=64, blank=True)
    # The desk (专席, telephony.desks) the IVR or the caller's history sent the call to: the first queue it
    # was offered to. ``queue`` is where it ended; they differ when the desk overflowed to the general one.
    desk = models.CharField(_("desk"), max_length=64, blank=True, db_index=True)
    agent_interface = models.CharField(_("agent interface"), max_length=128, blank=True)
    agent_name = models.CharField(_("agent member name"), max_length=64, blank=True)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("agent"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls",
    )
    offered_at = models.DateTimeField(_("offered at"), null=True, blank=True, db_index=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    wait_seconds = models.PositiveIntegerField(_("wait (s)"), null=True, blank=True)
    talk_seconds = models.PositiveIntegerField(_("talk (s)"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, blank=True, db_index=True)
    ivr_choice = models.CharField(_("IVR choice"), max_length=16, blank=True)
    purpose = models.CharField(_("purpose"), max_length=16, choices=Purpose.choices, blank=True)
    ticket = models.ForeignKey(
        "hotline.Ticket",
        verbose_name=_("ticket"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls",
    )
    # 话后小结 (telephony.wrapup): chosen by the agent during wrap-up; blank = 未选择.
    # Call controls as the PBX confirmed them (telephony/call_controls.py); the console shows these.
    on_hold = models.BooleanField(_("on hold"), default=False)
    muted = models.BooleanField(_("agent muted"), default=False)
    consulting = models.CharField(_("consulting"), max_length=32, blank=True)
    transferred_to = models.CharField(_("transferred to"), max_length=64, blank=True)
    wrapup_code = models.ForeignKey(
        WrapUpCode, verbose_name=_("wrap-up code"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    wrapup_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("wrap-up code chosen by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    wrapup_at = models.DateTimeField(_("wrap-up code chosen at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        ordering = ["-offered_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["pbx", "pbx_epoch", "linkedid"], name="call_unique_pbx_boot_linkedid")
        ]
        indexes = [
            models.Index(fields=["linkedid"]),
            models.Index(fields=["agent", "offered_at"]),
            models.Index(fields=["pbx", "pbx_epoch", "caller_uniqueid"], name="call_pbx_boot_caller_uniqueid"),
        ]

    def __str__(self) -> str:
        return f"{self.linkedid} {self.outcome or 'live'}"


class CallEvent(models.Model):
    """A raw AMI event of a call, kept for audit. Pruned after TELEPHONY_EVENT_RETENTION_DAYS."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="events")
    name = models.CharField(max_length=64)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    # sha1 of the payload: the same event delivered twice is stored once.
    fingerprint = models.CharField(max_length=40)
    payload = models.JSONField()

    class Meta:
        verbose_name = _("call event")
        verbose_name_plural = _("call events")
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["call", "fingerprint"], name="callevent_unique_fingerprint")]

    def __str__(self) -> str:
        return self.name


class AgentStatus(models.TextChoices):
    OFFLINE = "offline", _("offline")
    READY = "ready", _("ready")
    PAUSED = "paused", _("paused")
    # Never stored: shown while the agent's answered call is live (the console derives it from the Call).
    ON_CALL = "on_call", _("on a call")


class AgentState(models.Model):
    """示闲/示忙: what the agent last chose on the phone system. Changed only by ``telephony.presence``."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="agent_state",
        verbose_name=_("user"),
    )
    status = models.CharField(_("status"), max_length=8, choices=AgentStatus.choices, default=AgentStatus.OFFLINE)
    # The pause reason code given to the PBX (break, training, wrap-up…); blank unless paused.
    reason = models.CharField(_("reason"), max_length=32, blank=True)
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)
    # The PBX the agent's phone is registered on (telephony.pbx); blank = the first configured PBX.
    pbx = models.CharField(_("PBX"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("agent state")
        verbose_name_plural = _("agent states")

    def __str__(self) -> str:
        return f"{self.user} {self.status}"


class BridgeLease(models.Model):
    """Who is the active bridge of a PBX (telephony.lease): the holder bumps ``beat`` every second.

    A standby takes the row over only when ``beat`` has not moved for AMI_BRIDGE_LEASE_SECONDS by its
    own clock, so the two hosts' clocks never have to agree.
    """

    pbx = models.CharField(_("PBX"), max_length=32, primary_key=True)
    holder = models.CharField(_("holder"), max_length=128)
    beat = models.BigIntegerField(_("heartbeat"), default=0)
    acquired_at = models.DateTimeField(_("acquired at"), default=timezone.now)
    renewed_at = models.DateTimeField(_("renewed at"), default=timezone.now)

    class Meta:
        verbose_name = _("bridge lease")
        verbose_name_plural = _("bridge leases")

    def __str__(self) -> str:
        return f"{self.pbx}: {self.holder}"


class Recording(models.Model):
    """The PBX's recording of a call (MixMonitor, both legs mixed): one per call, linked to its ticket by the call.

    ``name`` is the file's path under the PBX's monitor directory (``MIXMONITOR_FILENAME`` less
    ``RECORDINGS_PBX_DIR``), the same path under ``RECORDINGS_DIR`` here. The row outlives the
    file: the retention job deletes the file and sets ``purged_at``.
    """

    call = models.OneToOneField(Call, verbose_name=_("call"), on_delete=models.CASCADE, related_name="recording")
    name = models.CharField(_("file"), max_length=255)
    started_at = models.DateTimeField(_("recording started at"), default=timezone.now)
    # The caller asked not to be recorded: StopMixMonitor ran, the file holds the part before it.
    stopped_at = models.DateTimeField(_("recording stopped at"), null=True, blank=True)
    stopped_on_request = models.BooleanField(_("stopped at the caller's request"), default=False)
    stopped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("stopped by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # RECORDINGS_FETCH_URL: when the file was copied here from the PBX (null while it is not).
    fetched_at = models.DateTimeField(_("fetched at"), null=True, blank=True)
    fetch_error = models.CharField(_("fetch error"), max_length=200, blank=True)
    purged_at = models.DateTimeField(_("file deleted at"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("call recording")
        verbose_name_plural = _("call recordings")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return self.name


class AgentSkill(models.Model):
    """An agent's desk (专席): the queue their phone joins on Ready, with its penalty (0 rings first).

    Every agent also joins the general desk (the first of AMI_QUEUES); a skill naming it sets the
    penalty there. Edited in the admin; read by ``telephony.desks.agent_queues``.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("agent"), on_delete=models.CASCADE, related_name="skills"
    )
    queue = models.CharField(_("desk"), max_length=64)
    penalty = models.PositiveSmallIntegerField(
        _("penalty"), default=0, help_text=_("0 is rung first; agents with a higher penalty only when none is free.")
    )

    class Meta:
        verbose_name = _("agent skill")
        verbose_name_plural = _("agent skills")
        ordering = ["user_id", "queue"]
        constraints = [models.UniqueConstraint(fields=["user", "queue"], name="agentskill_unique_user_queue")]

    def __str__(self) -> str:
        return f"{self.user} {self.queue}"


class CallerDesk(models.Model):
    """A caller marked for a desk (e.g. one who needs the dialect desk): their calls are routed there."""

    caller = models.OneToOneField(
        "hotline.Caller", verbose_name=_("caller"), on_delete=models.CASCADE, related_name="desk_routing"
    )
    queue = models.CharField(_("desk"), max_length=64)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("caller's desk")
        verbose_name_plural = _("callers' desks")

    def __str__(self) -> str:
        return f"{self.caller} {self.queue}"
