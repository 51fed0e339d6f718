"""Satisfaction revisits (回访) and rating appeals (不满意申诉).

A ticket in ``revisit_pending`` gets one open Revisit (a partial unique constraint
makes scheduling idempotent). The outcome decides the ticket: a satisfied rating
or an unreachable caller closes it; an unsatisfied one reopens it (发回重办) at the
same lead unit with the caller's words on the timeline. The answer and the close
or reopen it causes are one transaction, taken by whoever recorded the answer
(the system, ``by=None``, for SMS and IVR answers; the agent or reviewer otherwise,
through the workflow's ``reopen_on_revisit``).
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext

from callback import conf
from callback.dialer import try_dial, try_dial_survey
from callback.models import (
    OPEN_REVISIT_STATUSES,
    UNSATISFIED_RATINGS,
    AppealStatus,
    DoNotCall,
    Rating,
    Revisit,
    RevisitAppeal,
    RevisitAttempt,
    RevisitChannel,
    RevisitStatus,
    SmsPurpose,
)
from callback.sms.services import queue_sms
from hotline.access import is_center_reviewer, is_center_staff
from hotline.errors import IllegalTransition, InvalidInput, NotAllowed
from hotline.events import AGENTS_GROUP, CENTER_GROUP, agent_group, publish_on_commit
from hotline.models import Role, SlaPolicy, Ticket, TicketStatus, User
from hotline.services import timeline
from hotline.services.calendar import load_calendar
from hotline.services.common import clean_text, lock_ticket
from hotline.services.tickets import close_ticket, current_lead, reopen_ticket

R = RevisitStatus
# The survey's digits (SMS reply and IVR keypad): 1 satisfied, 2 basically satisfied, 3 unsatisfied.
SURVEY_DIGITS = {"1": Rating.SATISFIED, "2": Rating.BASICALLY_SATISFIED, "3": Rating.UNSATISFIED}
SURVEY_HELP = "请回复数字：1 满意，2 基本满意，3 不满意。"
_SURVEY_REPLY = re.compile(r"\s*([0-9])(?![0-9])[\s,.:;，。、：；]*(.*)", re.DOTALL)
RATING_LABELS = {
    Rating.VERY_SATISFIED: "非常满意",
    Rating.SATISFIED: "满意",
    Rating.BASICALLY_SATISFIED: "基本满意",
    Rating.UNSATISFIED: "不满意",
    Rating.VERY_UNSATISFIED: "非常不满意",
}


def _revisit_days(ticket: Ticket) -> int:
    policy = SlaPolicy.objects.filter(category_id=ticket.category_id, urgency=ticket.urgency).first()
    return policy.revisit_days if policy else 1


def revisit_time(ticket: Ticket, now: datetime | None = None) -> datetime:
    """Opening of calling hours on the Nth working day after today (N = the SLA's revisit_days)."""
    now = now or timezone.now()
    day, _ = load_calendar().add_working_days(timezone.localdate(now), _revisit_days(ticket))
    return conf.calling_hours().opening_on(day)


def _open_revisit(ticket: Ticket) -> Revisit | None:
    return Revisit.objects.filter(ticket=ticket, status__in=OPEN_REVISIT_STATUSES).first()


def schedule_revisit(ticket: Ticket, *, channel: str | None = None, now: datetime | None = None) -> Revisit | None:
    """Schedule the revisit of a ticket waiting for one. Running it twice changes nothing.

    A caller who asked not to be revisited (Caller.no_revisit, or the do-not-call
    list) is not contacted: the ticket is closed with a note instead.
    """
    channel = channel or settings.REVISIT_CHANNEL
    if channel not in RevisitChannel.values:
        raise InvalidInput(gettext("unknown revisit channel %(value)s") % {"value": repr(channel)}, field="channel")
    ticket = Ticket.objects.select_related("caller", "category").get(pk=ticket.pk)
    if ticket.status != TicketStatus.REVISIT_PENDING:
        return None
    existing = _open_revisit(ticket)
    if existing is not None:
        return existing
    if ticket.caller.no_revisit or DoNotCall.objects.filter(phone=ticket.caller.phone).exists():
        close_ticket(ticket, None, "市民要求不回访，直接归档")
        return None
    lead = current_lead(ticket)
    try:
        with transaction.atomic():
            revisit = Revisit.objects.create(
                ticket=ticket,
                assignment=lead,
                unit=lead.unit if lead else None,
                channel=channel,
                scheduled_for=revisit_time(ticket, now),
            )
            _announce(revisit)
            return revisit
    except IntegrityError:  # scheduled by a concurrent job run
        return _open_revisit(ticket)


def schedule_pending_revisits(now: datetime | None = None, limit: int = 500) -> int:
    """Job step: every ticket in revisit_pending without an open revisit gets one."""
    open_revisit = Revisit.objects.filter(ticket=OuterRef("pk"), status__in=OPEN_REVISIT_STATUSES)
    pending = Ticket.objects.filter(status=TicketStatus.REVISIT_PENDING).exclude(Exists(open_revisit))
    return sum(1 for ticket in pending.order_by("pk")[:limit] if schedule_revisit(ticket, now=now) is not None)


def _cancel(revisit: Revisit, why: str) -> bool:
    now = timezone.now()
    with transaction.atomic():
        done = Revisit.objects.filter(pk=revisit.pk, status__in=OPEN_REVISIT_STATUSES).update(
            status=R.CANCELLED, completed_at=now, note=why[:300], lease_until=None
        )
        if done:
            timeline.record(revisit.ticket, "revisit.cancelled", None, note=why, data={"revisit": revisit.pk})
            _announce(revisit)
    return bool(done)


def _announce(revisit: Revisit) -> None:
    """Agent consoles re-read their revisit lists: a phone revisit came, went or changed hands."""
    if revisit.channel == RevisitChannel.PHONE:
        publish_on_commit([AGENTS_GROUP], {"type": "revisit.changed", "revisit_id": revisit.pk})


def cancel_stale_revisits(limit: int = 500) -> int:
    """Job step: a ticket reopened (or closed) meanwhile no longer needs its open revisit."""
    stale = (
        Revisit.objects.filter(status__in=OPEN_REVISIT_STATUSES)
        .exclude(ticket__status=TicketStatus.REVISIT_PENDING)
        .select_related("ticket")
    )
    count = 0
    for revisit in stale[:limit]:
        status = revisit.ticket.get_status_display()
        count += _cancel(revisit, f"回访取消：工单已不在待回访状态（现为{status}）")
    return count


# --- claiming and recording ---------------------------------------------------------------


def revisits_for_agent(agent: User, now: datetime | None = None):
    """The phone revisits an agent holds, then those due (calling hours permitting)."""
    now = now or timezone.now()
    mine = Revisit.objects.filter(agent=agent, status=R.IN_PROGRESS, channel=RevisitChannel.PHONE)
    due = Revisit.objects.filter(status=R.SCHEDULED, channel=RevisitChannel.PHONE, scheduled_for__lte=now)
    if not conf.calling_hours().allows(now):
        due = due.none()
    return mine, due.select_related("ticket", "unit").order_by("scheduled_for", "pk")


def claim_revisit(revisit: Revisit, agent: User, now: datetime | None = None) -> Revisit:
    """An agent takes a due phone revisit; nobody else can take it while the claim lasts."""
    if not is_center_staff(agent):
        raise NotAllowed(gettext("only center staff revisit callers"))
    now = now or timezone.now()
    if not conf.calling_hours().allows(now):
        raise IllegalTransition(gettext("outside calling hours (%(hours)s)") % {"hours": settings.CALLBACK_HOURS})
    lease = now + timedelta(minutes=settings.REVISIT_CLAIM_MINUTES)
    claimed = Revisit.objects.filter(pk=revisit.pk, status=R.SCHEDULED, scheduled_for__lte=now).update(
        status=R.IN_PROGRESS, agent=agent, lease_until=lease
    )
    if claimed != 1:
        raise IllegalTransition(gettext("this revisit is not due or is taken by someone else"))
    revisit.refresh_from_db()
    _announce(revisit)  # gone from every other agent's list
    return revisit


def dial_revisit(revisit: Revisit, agent: User, now: datetime | None = None) -> Revisit:
    """Ring the agent, then the citizen, for a phone revisit (claiming it first if it is still due).

    The dial happens after the claim committed. Bridge down or the call not connected: the
    revisit goes back to due after ``CALLBACK_BRIDGE_RETRY_SECONDS`` (or a minute), nothing is
    lost and no attempt is counted; every dial is logged in ``RevisitAttempt``. A placed call
    keeps the revisit with the agent until they record the answer with :func:`record_result`.
    """
    if not is_center_staff(agent):
        raise NotAllowed(gettext("only center staff revisit callers"))
    if not agent.agent_extension:
        raise InvalidInput(gettext("this user has no phone extension to ring first"), field="agent_extension")
    now = now or timezone.now()
    revisit = Revisit.objects.select_related("ticket__caller").get(pk=revisit.pk)
    if revisit.channel != RevisitChannel.PHONE:
        raise IllegalTransition(gettext("only phone revisits are dialled by an agent"))
    if revisit.status == R.SCHEDULED:
        revisit = claim_revisit(revisit, agent, now)
    elif not (revisit.status == R.IN_PROGRESS and revisit.agent_id == agent.pk):
        raise IllegalTransition(gettext("this revisit is not due or is taken by someone else"))
    elif not conf.calling_hours().allows(now):
        raise IllegalTransition(gettext("outside calling hours (%(hours)s)") % {"hours": settings.CALLBACK_HOURS})
    number = revisit.ticket.caller.phone
    if DoNotCall.objects.filter(phone=number).exists():
        # Put on the list after the revisit was scheduled: same as a caller who asked not to be revisited.
        if _cancel(revisit, "回访取消：免打扰号码"):
            close_ticket(revisit.ticket, None, "市民要求不回访（免打扰号码），直接归档")
        raise IllegalTransition(gettext("this number is on the do-not-call list"))
    lease = now + timedelta(minutes=settings.REVISIT_CLAIM_MINUTES)
    if not Revisit.objects.filter(pk=revisit.pk, status=R.IN_PROGRESS, agent=agent).update(lease_until=lease):
        raise IllegalTransition(gettext("this revisit is no longer yours"))
    dialled = try_dial(
        agent_extension=agent.agent_extension, number=number, purpose="revisit", reference=f"revisit:{revisit.pk}"
    )
    with transaction.atomic():
        RevisitAttempt.objects.create(
            revisit=revisit, agent=agent, started_at=now, linkedid=dialled.linkedid, error=dialled.error
        )
        mine = Revisit.objects.filter(pk=revisit.pk, status=R.IN_PROGRESS, agent=agent)
        if dialled.placed:
            mine.update(linkedid=dialled.linkedid, last_error="")
        else:  # nobody was called: due again soon for any agent
            mine.update(
                status=R.SCHEDULED,
                agent=None,
                lease_until=None,
                last_error=dialled.error,
                scheduled_for=now + dialled.retry_after,
            )
            _announce(revisit)
    revisit.refresh_from_db()
    return revisit


def record_result(
    revisit: Revisit,
    by: User | None,
    *,
    reached: bool = True,
    rating: str = "",
    solved: bool | None = None,
    comment: str = "",
    channel: str | None = None,
) -> Revisit:
    """Record a revisit's answer in one step and move the ticket (close or reopen).

    ``reached=False`` counts an attempt; after REVISIT_MAX_ATTEMPTS the caller is
    unreachable (未联系上) and the ticket is closed. A ticket that was reopened
    meanwhile is not touched: the revisit is cancelled with a timeline note.
    """
    if by is not None and not is_center_staff(by):
        raise NotAllowed(gettext("only center staff record revisits"))
    comment = clean_text(comment, "comment", max_chars=2000, required=False)
    if (reached and rating not in Rating.values) or (reached and not rating):
        raise InvalidInput(gettext("unknown rating %(value)s") % {"value": repr(rating)}, field="rating")
    now = timezone.now()
    with transaction.atomic():
        # One lock, ticket first (the hotline order): the answer and the close or reopen it causes
        # are stored together or not at all.
        ticket = lock_ticket(revisit.ticket_id)
        revisit = Revisit.objects.select_for_update().get(pk=revisit.pk)
        if revisit.status not in OPEN_REVISIT_STATUSES:
            raise IllegalTransition(
                gettext("this revisit is already %(status)s") % {"status": revisit.get_status_display()}
            )
        if by is not None and revisit.status == R.SCHEDULED and revisit.scheduled_for > now:
            # The one rule with claim_revisit: staff take a revisit when it is due, not before. The
            # citizen's own answers (SMS reply, IVR key, survey link: by=None) count whenever they come.
            raise IllegalTransition(
                gettext("this revisit is not due until %(when)s")
                % {"when": timezone.localtime(revisit.scheduled_for).strftime("%Y-%m-%d %H:%M")}
            )
        held = revisit.status == R.IN_PROGRESS and revisit.lease_until is not None and revisit.lease_until > now
        if by is not None and held and revisit.agent_id not in (None, by.pk):
            raise IllegalTransition(gettext("another agent is doing this revisit"))
        stale = ticket.status != TicketStatus.REVISIT_PENDING
        if not stale:
            _store_result(
                ticket,
                revisit,
                by,
                now,
                reached=reached,
                rating=rating,
                solved=solved,
                comment=comment,
                channel=channel,
            )
    if stale:  # cancelled in a transaction of its own: the refusal below must not roll it back
        _cancel(revisit, f"回访取消：工单已不在待回访状态（现为{ticket.get_status_display()}）")
        raise IllegalTransition(gettext("the ticket was reopened or closed meanwhile; this revisit is cancelled"))
    return revisit


def _store_result(
    ticket: Ticket,
    revisit: Revisit,
    by: User | None,
    now: datetime,
    *,
    reached: bool,
    rating: str,
    solved: bool | None,
    comment: str,
    channel: str | None,
) -> None:
    """The answer, its timeline entry and the ticket's close or reopen, by the one who took the answer."""
    revisit.attempts += 1
    revisit.agent = by or revisit.agent
    revisit.lease_until = None
    revisit.channel = channel or revisit.channel
    revisit.comment = comment or revisit.comment
    fields = ["attempts", "agent", "lease_until", "channel", "comment", "status", "rating", "solved"]
    fields += ["completed_at", "scheduled_for"]
    if not reached:
        if revisit.attempts >= settings.REVISIT_MAX_ATTEMPTS:
            revisit.status, revisit.completed_at = R.UNREACHABLE, now
        else:
            revisit.status = R.SCHEDULED
            revisit.scheduled_for = _next_try(now)
        revisit.save(update_fields=fields)
        timeline.record(
            ticket,
            "revisit.unreachable" if revisit.status == R.UNREACHABLE else "revisit.no_answer",
            by,
            note=comment,
            data={"revisit": revisit.pk, "attempts": revisit.attempts},
        )
        if revisit.status == R.UNREACHABLE:
            close_ticket(ticket, by, f"回访未联系上（{revisit.attempts}次），归档")
        return
    revisit.status, revisit.rating, revisit.solved, revisit.completed_at = R.DONE, rating, solved, now
    revisit.save(update_fields=fields)
    label = RATING_LABELS[rating]
    timeline.record(
        ticket,
        "revisit.done",
        by,
        note=comment,
        data={"revisit": revisit.pk, "rating": rating, "solved": solved, "channel": revisit.channel},
    )
    if rating in UNSATISFIED_RATINGS:
        reopen_ticket(ticket, by, f"回访{label}：{comment}" if comment else f"回访{label}", on_revisit=True)
    else:  # a satisfied rating: very satisfied, satisfied or basically satisfied
        close_ticket(ticket, by, f"回访{label}" + (f"：{comment}" if comment else ""))
    if revisit.agent_id:
        publish_on_commit([agent_group(revisit.agent_id)], {"type": "revisit.done", "revisit_id": revisit.pk})


def _next_try(now: datetime) -> datetime:
    """Next attempt: a few hours later if calling hours allow, else the next opening."""
    return conf.calling_hours().next_allowed(now + timedelta(hours=3))


def record_digit(revisit: Revisit, digit: str, *, channel: str, comment: str = "") -> Revisit:
    """An SMS reply or an IVR key press: 1, 2 or 3. Anything else is InvalidInput and changes nothing."""
    rating = SURVEY_DIGITS.get((digit or "").strip())
    if rating is None:
        raise InvalidInput(
            gettext("unrecognised survey answer %(answer)s; %(help)s") % {"answer": repr(digit), "help": SURVEY_HELP},
            field="digit",
        )
    return record_result(revisit, None, rating=rating, comment=comment, channel=channel)


# --- SMS and IVR channels ------------------------------------------------------------------


def start_due_surveys(now: datetime | None = None, limit: int = 200) -> int:
    """Job step: send the SMS survey of due SMS revisits; give up on unanswered ones after N tries."""
    now = now or timezone.now()
    # A caller who opted out of messages (退订, Caller.no_messages) is revisited by phone instead.
    to_phone = Revisit.objects.filter(channel=RevisitChannel.SMS, status=R.SCHEDULED, ticket__caller__no_messages=True)
    if to_phone.update(channel=RevisitChannel.PHONE, note="市民已退订短信，改为电话回访"):
        publish_on_commit([AGENTS_GROUP], {"type": "revisit.changed"})
    hours = conf.calling_hours()
    if not hours.allows(now):
        return 0
    wait = timedelta(hours=settings.REVISIT_SMS_WAIT_HOURS)
    started = 0
    due = Revisit.objects.filter(channel=RevisitChannel.SMS, status=R.SCHEDULED, scheduled_for__lte=now)
    for revisit in due.select_related("ticket__caller")[:limit]:
        with transaction.atomic():
            token = revisit.token or secrets.token_urlsafe(12)
            claimed = Revisit.objects.filter(pk=revisit.pk, status=R.SCHEDULED).update(
                status=R.IN_PROGRESS, lease_until=now + wait, token=token
            )
            if claimed != 1:
                continue
            ticket = revisit.ticket
            link = settings.SMS_SURVEY_URL
            text = f"【12345】您反映的问题（工单{ticket.number}）已办理，请评价：{SURVEY_HELP}"
            if link:
                text += f" 也可点击 {link.rstrip('/')}/{token}"
            queue_sms(
                ticket.caller.phone,
                text,
                SmsPurpose.REVISIT_SURVEY,
                ticket=ticket,
                revisit=revisit,
                dedup_key=f"survey:{revisit.pk}:{revisit.attempts}",
            )
            started += 1
    # Unanswered surveys: count the attempt; unreachable after the last one.
    expired = Revisit.objects.filter(channel=RevisitChannel.SMS, status=R.IN_PROGRESS, lease_until__lt=now)
    for revisit in expired[:limit]:
        try:
            record_result(revisit, None, reached=False, comment="短信回访未回复")
        except IllegalTransition:
            continue
        started += 1
    return started


def start_due_ivr_surveys(now: datetime | None = None, limit: int = 50) -> int:
    """Job step: dial due IVR revisits straight into the survey (no agent); the key press comes back
    through the bridge to ``record_ivr_result``. A dial the PBX could not place returns the revisit to
    the schedule; a call nobody answered in time counts an attempt (unreachable after the last one).
    """
    now = now or timezone.now()
    wait = timedelta(minutes=settings.REVISIT_IVR_WAIT_MINUTES)
    done = 0
    if conf.calling_hours().allows(now):
        due = Revisit.objects.filter(channel=RevisitChannel.IVR, status=R.SCHEDULED, scheduled_for__lte=now)
        for revisit in due.select_related("ticket__caller")[:limit]:
            # Claim first, dial after: the claim is what stops a second worker dialling the same citizen.
            claimed = Revisit.objects.filter(pk=revisit.pk, status=R.SCHEDULED).update(
                status=R.IN_PROGRESS, lease_until=now + wait
            )
            if claimed != 1:
                continue
            dialled = try_dial_survey(number=revisit.ticket.caller.phone, reference=f"revisit:{revisit.pk}")
            if not dialled.placed:
                retry = now + timedelta(minutes=settings.CALLBACK_RETRY_MINUTES)
                Revisit.objects.filter(pk=revisit.pk, status=R.IN_PROGRESS).update(
                    status=R.SCHEDULED, scheduled_for=retry, lease_until=None, note=dialled.error
                )
            done += 1
    expired = Revisit.objects.filter(channel=RevisitChannel.IVR, status=R.IN_PROGRESS, lease_until__lt=now)
    for revisit in expired[:limit]:
        try:
            record_result(revisit, None, reached=False, comment="IVR回访未按键")
        except IllegalTransition:
            continue
        done += 1
    return done


def answer_survey(sender: str, body: str) -> tuple[Revisit, str] | None:
    """A citizen's SMS as a reply to their SMS survey: (the survey, the text to send back).

    None when this number has no survey waiting for an answer (the caller answers otherwise:
    ``callback.queries.reply_to_sms``). An unreadable reply changes nothing and says how to answer.
    """
    revisit = (
        Revisit.objects.filter(
            channel=RevisitChannel.SMS, status=R.IN_PROGRESS, ticket__caller__phone=sender, token__gt=""
        )
        .select_related("ticket")
        .order_by("-scheduled_for")
        .first()
    )
    if revisit is None:
        return None
    text = (body or "").strip()
    # Full-width digits and spaces folded; "1满意" and "1，很满意" read as 1 with a comment.
    answer = _SURVEY_REPLY.match(unicodedata.normalize("NFKC", text[:600]))
    digit, rest = (answer.group(1), answer.group(2)) if answer else text.partition(" ")[::2]
    try:
        record_digit(revisit, digit, channel=RevisitChannel.SMS, comment=rest.strip()[:500])
    except InvalidInput:
        return revisit, f"【12345】未能识别您的回复“{text[:20]}”。{SURVEY_HELP}"
    except IllegalTransition:
        return revisit, "【12345】该工单已重新办理，感谢您的反馈。"
    return revisit, "【12345】感谢您的评价！"


def answer_by_token(token: str, digit: str, comment: str = "") -> Revisit:
    """The survey link: the token identifies the revisit."""
    revisit = Revisit.objects.filter(token=token, token__gt="", status=R.IN_PROGRESS).first() if token else None
    if revisit is None:
        raise InvalidInput(gettext("this survey link is not valid any more"), field="token")
    return record_digit(revisit, digit, channel=RevisitChannel.SMS, comment=comment)


def record_ivr(revisit: Revisit, digit: str) -> Revisit:
    """The IVR survey's key press (1 satisfied, 2 basically satisfied, 3 unsatisfied)."""
    return record_digit(revisit, digit, channel=RevisitChannel.IVR)


def record_ivr_result(value: str) -> Revisit:
    """The bridge's entry point for the IVR survey: the dialplan's ``HOTLINE_SURVEY_RESULT``, ``revisit:<id>:<digit>``.

    ``<id>`` is the ``HOTLINE_REFERENCE`` the survey was originated with. An unknown revisit or a
    bad digit is InvalidInput and changes nothing; an answer that comes twice is IllegalTransition.
    """
    kind, _, rest = (value or "").strip().partition(":")
    pk, _, digit = rest.partition(":")
    if kind != "revisit" or not pk.isdigit():
        raise InvalidInput(
            gettext("not a revisit survey result: %(value)s") % {"value": repr(value)}, field="reference"
        )
    revisit = Revisit.objects.filter(pk=int(pk), channel=RevisitChannel.IVR).first()
    if revisit is None:
        raise InvalidInput(gettext("no IVR revisit %(id)s") % {"id": pk}, field="reference")
    return record_ivr(revisit, digit)


def release_expired_claims(now: datetime | None = None) -> int:
    """Job step: a phone revisit claimed by an agent who went away is due again."""
    now = now or timezone.now()
    released = Revisit.objects.filter(channel=RevisitChannel.PHONE, status=R.IN_PROGRESS, lease_until__lt=now).update(
        status=R.SCHEDULED, agent=None, lease_until=None
    )
    if released:
        publish_on_commit([AGENTS_GROUP], {"type": "revisit.changed", "released": released})
    return released


# --- appeals ---------------------------------------------------------------------------------


def raise_appeal(revisit: Revisit, by: User, reason: str) -> RevisitAppeal:
    """不满意申诉: the judged unit says an unsatisfied rating was not its fault."""
    reason = clean_text(reason, "reason", max_chars=2000)
    if by.role != Role.UNIT_HANDLER or by.unit_id is None or by.unit_id != revisit.unit_id:
        raise NotAllowed(gettext("only the unit that was rated may appeal"))
    if revisit.status != R.DONE or revisit.rating not in UNSATISFIED_RATINGS:
        raise IllegalTransition(gettext("only an unsatisfied rating can be appealed"))
    if revisit.excluded_from_kpi:
        raise IllegalTransition(gettext("this rating is already excluded"))
    with transaction.atomic():
        if RevisitAppeal.objects.filter(revisit=revisit, status=AppealStatus.PENDING).exists():
            raise IllegalTransition(gettext("an appeal of this rating is already pending"))
        appeal = RevisitAppeal.objects.create(revisit=revisit, unit_id=revisit.unit_id, raised_by=by, reason=reason)
        timeline.record(revisit.ticket, "revisit.appealed", by, note=reason, data={"appeal": appeal.pk})
        publish_on_commit([CENTER_GROUP], {"type": "revisit.appealed", "appeal_id": appeal.pk})
    return appeal


def decide_appeal(appeal: RevisitAppeal, by: User, *, grant: bool, note: str) -> RevisitAppeal:
    """The center decides; a granted appeal takes the rating out of the unit's KPI."""
    note = clean_text(note, "note", max_chars=2000)
    if not is_center_reviewer(by):
        raise NotAllowed(gettext("only the center's reviewers decide appeals"))
    with transaction.atomic():
        appeal = RevisitAppeal.objects.select_for_update().select_related("revisit").get(pk=appeal.pk)
        if appeal.status != AppealStatus.PENDING:
            raise IllegalTransition(
                gettext("this appeal is already %(status)s") % {"status": appeal.get_status_display()}
            )
        appeal.decide(AppealStatus.GRANTED if grant else AppealStatus.REJECTED, by, note)
        appeal.save(update_fields=appeal.DECISION_FIELDS)
        if grant:
            Revisit.objects.filter(pk=appeal.revisit_id).update(excluded_from_kpi=True)
        timeline.record(
            appeal.revisit.ticket,
            "revisit.appeal_granted" if grant else "revisit.appeal_rejected",
            by,
            note=note,
            data={"appeal": appeal.pk, "revisit": appeal.revisit_id},
        )
    return appeal
