"""The people and the things of the authorization matrix, all made through the real services.

Personas are the roles of ``hotline.models.Role`` as the demo makes them (``web/demo.py``): staff
flags and all. The two unit handlers are the level-2 district 雨湖区 (YH) and its level-3 street
城正街街道 (YH01). A row's target is built for a *unit*: the persona's own unit, the unit below
it, the unit above it or another unit (``SCOPE_UNITS``), so the same builder serves every cell.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from captcha.models import CaptchaStore
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from knox.models import AuthToken
from PIL import Image

from callback import callbacks, revisits
from callback.models import CallbackTask, Revisit, RevisitAppeal
from hotline.access import is_center_staff
from hotline.models import (
    Area,
    Assignment,
    Attachment,
    Category,
    Dispute,
    Extension,
    PublishedCase,
    Role,
    SupervisionCase,
    SupervisionNote,
    Ticket,
    TimelineEntry,
    Topic,
    Unit,
    User,
)
from hotline.models.network import CENTER_ROLES
from hotline.services import (
    attachments,
    callers,
    disclosure,
    dispatch,
    disputes,
    extensions,
    reports,
    supervision,
    tickets,
)
from hotline.services.assignments import current_lead
from metrics.models import HotSpot
from telephony import lifecycle as lc
from telephony import presence
from telephony import services as call_records
from telephony.models import Call
from tests.conftest import PASSWORD

CENTER = "XT12345"

# persona → (role, unit code, is_staff, is_superuser); None is the anonymous visitor.
PERSONAS: dict[str, tuple[str, str | None, bool, bool] | None] = {
    "anonymous": None,
    "agent": (Role.AGENT, CENTER, False, False),
    "dispatcher": (Role.DISPATCHER, CENTER, True, False),
    "supervisor": (Role.SUPERVISOR, CENTER, True, False),
    "admin": (Role.ADMIN, CENTER, True, False),
    "superuser": (Role.ADMIN, CENTER, True, True),  # the demo's "admin" account
    "auditor": (Role.AUDITOR, CENTER, True, False),  # reads the audit log, and nothing else
    "quality": (Role.QUALITY, CENTER, False, False),  # scores quality checks; sees no console
    "unit_l2": (Role.UNIT_HANDLER, "YH", False, False),
    "unit_l3": (Role.UNIT_HANDLER, "YH01", False, False),
    # The model's clean() refuses it, but code and the shell can make one: it must get nothing (and no 500).
    "unit_none": (Role.UNIT_HANDLER, None, False, False),
}
UNIT_PERSONAS = ("unit_l2", "unit_l3")

# The unit a target belongs to, for each cell. Center staff and the anonymous visitor get
# 雨湖区's object: the center sees every ticket, so "own" and "other" mean nothing to it.
SCOPE_UNITS = {
    ("unit_l2", "own"): "YH",
    ("unit_l2", "sub"): "YH01",  # a street under 雨湖区: in its subtree
    ("unit_l2", "other"): "YT",  # 岳塘区, another district
    ("unit_l3", "own"): "YH01",
    ("unit_l3", "up"): "YH",  # the district above the street: not the street's
    ("unit_l3", "other"): "YH02",  # a sibling street
}
SCOPES = {"unit_l2": ("own", "sub", "other"), "unit_l3": ("own", "up", "other")}
DEFAULT_UNIT = "YH"

# Members of the units the targets pass through (they accept, reply, sub-dispatch for the setup).
WORKER_UNITS = ("YH", "YH01", "YH02", "YT", "YT01")


@dataclass
class Target:
    """What a row acts on: ``key`` goes into the URL, ``state`` fingerprints what a POST may change."""

    key: Any = None
    obj: Any = None
    state: Callable[[], Any] = lambda: None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class World:
    users: dict[str, User]
    tokens: dict[str, str]
    workers: dict[str, User]

    @property
    def agent(self) -> User:
        return self.users["agent"]

    @property
    def dispatcher(self) -> User:
        return self.users["dispatcher"]

    def worker(self, unit: Unit) -> User:
        return self.workers[unit.code]


def make_world() -> World:
    users, tokens, workers = {}, {}, {}
    for n, (name, spec) in enumerate(PERSONAS.items()):
        if spec is None:
            continue
        role, unit_code, staff, superuser = spec
        user = User.objects.create_user(
            f"matrix_{name}",
            password=PASSWORD,
            role=role,
            unit=Unit.objects.get(code=unit_code) if unit_code else None,
            is_staff=staff,
            is_superuser=superuser,
            # Every center member may call citizens back: the phone rings first at their extension.
            agent_extension=f"19{n:02d}" if unit_code == CENTER and role in CENTER_ROLES else "",
        )
        users[name] = user
        tokens[name] = AuthToken.objects.create(user=user)[1]
    for code in WORKER_UNITS:
        workers[code] = User.objects.create_user(
            f"matrix_worker_{code.lower()}", password=PASSWORD, role=Role.UNIT_HANDLER, unit=Unit.objects.get(code=code)
        )
    return World(users, tokens, workers)


# --- fingerprints --------------------------------------------------------------------------------


def ticket_state(pk: int) -> Callable[[], Any]:
    def state():
        ticket = Ticket.objects.get(pk=pk)
        return ticket.status, ticket.version, TimelineEntry.objects.filter(ticket_id=pk).count()

    return state


def row_state(model, pk: int, *fields: str) -> Callable[[], Any]:
    return lambda: tuple(model.objects.filter(pk=pk).values_list(*fields).get())


def count_state(*querysets: Callable[[], Any]) -> Callable[[], Any]:
    return lambda: tuple(qs().count() for qs in querysets)


# --- tickets along the lifecycle -----------------------------------------------------------------


_phones = iter(range(10_000, 100_000))


def new_phone() -> str:
    """A fresh caller each time: no repeat-call or merge hint links one case's ticket to another's."""
    return f"1380013{next(_phones) % 10000:04d}"


def registered(w: World, **extra) -> Ticket:
    return tickets.register_ticket(
        by=w.agent,
        phone=extra.pop("phone", None) or new_phone(),
        content="小区楼下广场舞音乐太吵，晚上十点后仍未停止。",
        category=Category.objects.get(code="complaint"),
        topic=Topic.objects.get(code="0201"),
        area=Area.objects.get(code="YH01"),
        address="雨湖区城正街88号",
        **extra,
    )


def level2(unit: Unit) -> Unit:
    return unit if unit.level == 2 else unit.parent


def pending_at(w: World, unit: Unit, **extra) -> Assignment:
    """A fresh ticket whose part for ``unit`` waits to be accepted (a street's part comes from its district)."""
    ticket = registered(w, **extra)
    district = level2(unit)
    dispatch.dispatch_ticket(ticket, w.dispatcher, district)
    part = current_lead(Ticket.objects.get(pk=ticket.pk))
    if unit.level == 2:
        return part
    dispatch.accept_assignment(part, w.worker(district))
    inner = part.reply_by - (part.reply_by - timezone.now()) / 2
    return dispatch.sub_dispatch(Assignment.objects.get(pk=part.pk), w.worker(district), unit, reply_by=inner)


def accepted_at(w: World, unit: Unit, **extra) -> Assignment:
    part = pending_at(w, unit, **extra)
    dispatch.accept_assignment(part, w.worker(unit))
    return Assignment.objects.get(pk=part.pk)


def replied_ticket(w: World, unit: Unit, **extra) -> Ticket:
    """The ticket's lead (and, for a street, the street first) has replied: waiting for the review."""
    part = accepted_at(w, unit, **extra)
    dispatch.reply_assignment(part, w.worker(unit), "已联系城管部门现场处理，噪音已停止。")
    if part.parent_id:
        dispatch.reply_assignment(Assignment.objects.get(pk=part.parent_id), w.worker(part.parent.unit), "街道已办结。")
    return Ticket.objects.get(pk=part.ticket_id)


def revisit_pending(w: World, unit: Unit, **extra) -> Ticket:
    ticket = replied_ticket(w, unit, **extra)
    return tickets.review_reply(ticket, w.dispatcher, approve=True)


def due_revisit(w: World, unit: Unit, channel: str = "phone") -> Revisit:
    """The ticket's revisit, scheduled a month ago: due now."""
    ticket = revisit_pending(w, unit)
    return revisits.schedule_revisit(ticket, channel=channel, now=timezone.now() - timedelta(days=30))


def unsatisfied_revisit(w: World, unit: Unit) -> Revisit:
    revisit = due_revisit(w, unit)
    return revisits.record_result(revisit, w.agent, rating="unsatisfied", solved=False, comment="还是很吵")


def pending_appeal(w: World, unit: Unit) -> RevisitAppeal:
    revisit = unsatisfied_revisit(w, unit)
    return revisits.raise_appeal(revisit, w.worker(revisit.unit), "施工噪音属于夜间特许作业，非我单位职责。")


def png(name: str = "photo.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


# --- targets: one builder per kind of thing a row acts on ----------------------------------------
# Each takes (world, unit, actor) and returns a Target; ``unit`` is the unit the thing belongs to.


def t_registered(w: World, unit: Unit, actor: User | None) -> Target:
    ticket = registered(w)
    return Target(ticket.pk, ticket, ticket_state(ticket.pk), {"version": ticket.version, "number": ticket.number})


def t_registered_pair(w: World, unit: Unit, actor: User | None) -> Target:
    """A ticket and an earlier one of the same caller, to merge into."""
    earlier = registered(w)
    ticket = registered(w, phone=earlier.caller.phone)
    return Target(ticket.pk, ticket, ticket_state(ticket.pk), {"version": ticket.version, "into": earlier})


def t_held(w: World, unit: Unit, actor: User | None) -> Target:
    """A citizen's report held for the spam/abuse review (a flagged caller's, say)."""
    ticket = reports.file_report(
        phone=new_phone(),
        content="加微信领补贴 http://a.example/x http://b.example/y",
        category=Category.objects.get(code="complaint"),
    )
    held = ticket.held
    return Target(held.pk, held, ticket_state(ticket.pk), {"number": ticket.number})


def t_captcha(w: World, unit: Unit, actor: User | None) -> Target:
    """A CAPTCHA challenge, as /report/ makes one after suspicious volume."""
    key = CaptchaStore.generate_key()
    return Target(key, None, lambda: None, {})


def t_discarded(w: World, unit: Unit, actor: User | None) -> Target:
    ticket = tickets.discard_ticket(registered(w), w.dispatcher, "重复来电，内容为空。")
    return Target(ticket.pk, ticket, ticket_state(ticket.pk), {"version": ticket.version})


def _ticket_target(ticket: Ticket) -> Target:
    ticket = Ticket.objects.get(pk=ticket.pk)
    return Target(ticket.pk, ticket, ticket_state(ticket.pk), {"version": ticket.version, "number": ticket.number})


def t_dispatched(w: World, unit: Unit, actor: User | None) -> Target:
    return _ticket_target(pending_at(w, unit).ticket)


def t_replied(w: World, unit: Unit, actor: User | None) -> Target:
    return _ticket_target(replied_ticket(w, unit))


def t_revisit_pending(w: World, unit: Unit, actor: User | None) -> Target:
    return _ticket_target(revisit_pending(w, unit))


def _assignment_target(part: Assignment) -> Target:
    part = Assignment.objects.select_related("ticket", "unit").get(pk=part.pk)
    child = Unit.objects.filter(parent=part.unit, is_active=True).order_by("code").first()
    return Target(
        part.pk,
        part,
        lambda: (*row_state(Assignment, part.pk, "status")(), *ticket_state(part.ticket_id)()),
        {
            "version": part.ticket.version,
            "number": part.ticket.number,
            "child": child or part.unit,
            "reply_by": part.reply_by,
        },
    )


def t_pending(w: World, unit: Unit, actor: User | None) -> Target:
    return _assignment_target(pending_at(w, unit))


def t_accepted(w: World, unit: Unit, actor: User | None) -> Target:
    return _assignment_target(accepted_at(w, unit))


def t_extension(w: World, unit: Unit, actor: User | None) -> Target:
    part = accepted_at(w, unit)
    until = part.parent.reply_by if part.parent_id else part.reply_by + timedelta(days=7)
    made = extensions.request_extension(part, w.worker(unit), until, "需协调多个部门联合执法。")
    return Target(made.pk, made, row_state(Extension, made.pk, "status"))


def t_dispute(w: World, unit: Unit, actor: User | None) -> Target:
    part = pending_at(w, level2(unit))
    made = disputes.raise_dispute(part, w.worker(part.unit), "该路段属岳塘区管辖。")
    return Target(made.pk, made, row_state(Dispute, made.pk, "status"), {"reassign_to": Unit.objects.get(code="YT")})


def t_attachment(w: World, unit: Unit, actor: User | None) -> Target:
    from django.test import TestCase

    part = pending_at(w, unit)
    with TestCase.captureOnCommitCallbacks(execute=True):  # the file is written when the upload commits
        made = attachments.add_attachment(part.ticket, w.agent, png())
    return Target(made.pk, made, count_state(lambda: Attachment.objects.filter(pk=made.pk)))


def t_supervisable(w: World, unit: Unit, actor: User | None) -> Target:
    """A ticket a unit is working on: 催办 adds an entry to its timeline, 督办 a case on it."""
    ticket = Ticket.objects.get(pk=pending_at(w, unit).ticket_id)
    return Target(
        ticket.pk,
        ticket,
        lambda: (*ticket_state(ticket.pk)(), SupervisionCase.objects.filter(tickets=ticket).count()),
        {"version": ticket.version, "number": ticket.number},
    )


def t_case(w: World, unit: Unit, actor: User | None) -> Target:
    """An open supervision case, opened by the dispatcher on a ticket ``unit`` is working on."""
    ticket = pending_at(w, unit).ticket
    case = supervision.open_case(
        w.dispatcher,
        [ticket],
        "written",
        "群众反复投诉，久拖未决。",
        timezone.now() + timedelta(days=5),
        unit=level2(unit),
    )
    return Target(
        case.pk,
        case,
        lambda: (
            *row_state(SupervisionCase, case.pk, "status", "outcome")(),
            SupervisionNote.objects.filter(case_id=case.pk).count(),
        ),
        {"number": ticket.number},
    )


def t_hotspot(w: World, unit: Unit, actor: User | None) -> Target:
    """An active hot spot (as the scan records one) on a ticket ``unit`` is working on."""
    ticket = pending_at(w, unit).ticket
    spot = HotSpot.objects.create(
        district_id=ticket.area.parent_id or ticket.area_id,
        topic=ticket.topic,
        title=ticket.title,
        ticket_count=1,
        baseline=0.0,
        window_hours=24,
        first_at=ticket.created_at,
        last_at=ticket.created_at,
        unit=level2(unit),
    )
    spot.tickets.set([ticket])
    return Target(
        spot.pk,
        spot,
        lambda: (
            *row_state(HotSpot, spot.pk, "status", "case_id")(),
            SupervisionCase.objects.filter(tickets=ticket).count(),
        ),
        {"number": ticket.number},
    )


def closed_consented(w: World, unit: Unit) -> Ticket:
    """Closed after the revisit, its caller having agreed to publication (办件公开)."""
    ticket = revisit_pending(w, unit, consent_public=True)
    return tickets.close_ticket(ticket, w.dispatcher, "市民满意。")


def publish_texts(ticket: Ticket) -> dict[str, str]:
    return {p.field: p.redacted.text for p in disclosure.draft(ticket).parts}


def t_closed_consented(w: World, unit: Unit, actor: User | None) -> Target:
    ticket = closed_consented(w, unit)
    return Target(
        ticket.pk,
        ticket,
        lambda: (*ticket_state(ticket.pk)(), PublishedCase.objects.filter(ticket_id=ticket.pk).count()),
        {"texts": publish_texts(ticket)},
    )


def t_published_case(w: World, unit: Unit, actor: User | None) -> Target:
    ticket = closed_consented(w, unit)
    case = disclosure.publish_case(ticket, w.dispatcher, **publish_texts(ticket))
    return Target(case.pk, case, row_state(PublishedCase, case.pk, "withdrawn_at", "withdrawn_by_id"))


def t_due_revisit(w: World, unit: Unit, actor: User | None) -> Target:
    revisit = due_revisit(w, unit)
    return Target(revisit.pk, revisit, row_state(Revisit, revisit.pk, "status", "agent_id", "attempts", "last_error"))


def t_claimed_revisit(w: World, unit: Unit, actor: User | None) -> Target:
    """A due revisit, claimed by the actor when the actor may claim it (recording needs the claim)."""
    revisit = due_revisit(w, unit)
    claimer = _center_actor(w, actor)
    revisit = revisits.claim_revisit(revisit, claimer)
    return Target(revisit.pk, revisit, row_state(Revisit, revisit.pk, "status", "rating", "attempts"))


def t_unsatisfied_revisit(w: World, unit: Unit, actor: User | None) -> Target:
    revisit = unsatisfied_revisit(w, unit)
    return Target(
        revisit.pk, revisit, count_state(lambda: RevisitAppeal.objects.filter(revisit_id=revisit.pk)), {"unit": unit}
    )


def t_appeal(w: World, unit: Unit, actor: User | None) -> Target:
    appeal = pending_appeal(w, unit)
    return Target(appeal.pk, appeal, row_state(RevisitAppeal, appeal.pk, "status"))


def t_sms_revisit(w: World, unit: Unit, actor: User | None) -> Target:
    """An SMS survey sent and waiting for the citizen's answer: the link's token is the key."""
    revisit = due_revisit(w, unit, channel="sms")
    revisits.start_due_surveys()
    revisit.refresh_from_db()
    return Target(revisit.token, revisit, row_state(Revisit, revisit.pk, "status", "rating"))


def _center_actor(w: World, actor: User | None) -> User:
    """The actor when it is center staff (callbacks are offered to the one who asks), else the agent."""
    return actor if is_center_staff(actor) else w.agent


_linkedids = iter(range(1, 1_000_000))


def missed_call(minutes_ago: int = 5) -> Call:
    """A caller who gave up in the queue, recorded as the bridge records it (``apply_lifecycle``)."""
    linkedid, at = f"matrix.{next(_linkedids)}", (timezone.now() - timedelta(minutes=minutes_ago)).timestamp()
    number = new_phone()
    call_records.apply_lifecycle(lc.CallOffered(linkedid=linkedid, at=at, queue="12345", caller_number=number))
    fields = {"queue": "12345", "caller_number": number, "caller_name": "", "interface": "", "member_name": ""}
    end = lc.CallEnded(
        linkedid=linkedid,
        at=at + 40,
        outcome="abandoned",
        offered_at=at,
        answered_at=None,
        wait_seconds=40,
        talk_seconds=None,
        ivr_choice="",
        **fields,
    )
    return call_records.apply_lifecycle(end)


def answered_call(agent: User) -> Call:
    """A call ``agent`` is talking on now."""
    linkedid, at = f"matrix.{next(_linkedids)}", timezone.now().timestamp()
    number = new_phone()
    call_records.apply_lifecycle(lc.CallOffered(linkedid=linkedid, at=at - 20, queue="12345", caller_number=number))
    answered = lc.CallAnswered(
        linkedid=linkedid,
        at=at,
        queue="12345",
        interface=f"PJSIP/{agent.agent_extension}",
        member_name=agent.username,
        caller_number=number,
        wait_seconds=20,
        ring_seconds=3,
    )
    return call_records.apply_lifecycle(answered)


def _missed_task(w: World) -> CallbackTask:
    return callbacks.task_for_call(missed_call())


def t_due_callback(w: World, unit: Unit, actor: User | None) -> Target:
    task = _missed_task(w)
    presence.set_agent_state(_center_actor(w, actor), "ready")
    return Target(task.pk, task, row_state(CallbackTask, task.pk, "status", "agent_id", "attempts", "last_error"))


def t_offered_callback(w: World, unit: Unit, actor: User | None) -> Target:
    target = t_due_callback(w, unit, actor)
    offered = callbacks.offer_next_callback(_center_actor(w, actor))
    assert offered is not None and offered.pk == target.key
    return target


def t_dialling_callback(w: World, unit: Unit, actor: User | None) -> Target:
    task = _missed_task(w)
    task = callbacks.manual_dial(_center_actor(w, actor), task=task)
    return Target(task.pk, task, row_state(CallbackTask, task.pk, "status", "outcome"))


def t_call(w: World, unit: Unit, actor: User | None) -> Target:
    call = missed_call()
    return Target(call.pk, call)


def t_current_call(w: World, unit: Unit, actor: User | None) -> Target:
    """The actor (or the agent) is talking to a caller, whose ticket is registered: hang-up and 110 act here."""
    call = answered_call(_center_actor(w, actor))
    ticket = registered(w, phone=call.caller_number, call_linkedid=call.linkedid)
    return Target(call.pk, call, ticket_state(ticket.pk), {"ticket": ticket})


def t_recording(w: World, unit: Unit, actor: User | None) -> Target:
    """A finished call the agent took, on a ticket, with its recording's file in RECORDINGS_DIR."""
    from django.conf import settings

    from telephony.models import Recording
    from telephony.simulator.recorder import write_clip

    call = answered_call(w.agent)
    call.ended_at = timezone.now()
    call.ticket = registered(w, phone=call.caller_number, call_linkedid=call.linkedid)
    call.save(update_fields=["ended_at", "ticket"])
    recording = Recording.objects.create(call=call, name=f"matrix/{call.linkedid}.wav")
    write_clip(settings.RECORDINGS_DIR / recording.name, 0.2)
    return Target(recording.pk, recording)


# --- 恶意来电/缠访: callers under review ---------------------------------------------------------


def caller_state(caller_id: int) -> Callable[[], Any]:
    """The caller's flags (and whether each is lifted) and reports (and their decisions)."""
    from hotline.models import CallerFlag, CallerReport

    return lambda: (
        tuple(CallerFlag.objects.filter(caller_id=caller_id).order_by("pk").values_list("pk", "lifted_at")),
        tuple(CallerReport.objects.filter(caller_id=caller_id).order_by("pk").values_list("pk", "status")),
    )


def t_caller(w: World, unit: Unit, actor: User | None) -> Target:
    """A caller with a registered ticket, nobody's report and no flag."""
    ticket = registered(w)
    return Target(ticket.caller_id, ticket.caller, caller_state(ticket.caller_id), {"number": ticket.number})


def t_reported_caller(w: World, unit: Unit, actor: User | None) -> Target:
    """A caller the agent reported for abusive language on their ticket, waiting for the center."""
    ticket = registered(w)
    callers.report_caller(ticket.caller, w.agent, "辱骂话务员。", ticket=ticket)
    return Target(ticket.caller_id, ticket.caller, caller_state(ticket.caller_id), {"number": ticket.number})


def t_flagged_caller(w: World, unit: Unit, actor: User | None) -> Target:
    """A caller under a flag of the center."""
    target = t_reported_caller(w, unit, actor)
    supervisor = w.users["supervisor"]
    callers.set_flag(target.obj, supervisor, "abuse", "多次辱骂话务员。", timezone.now() + timedelta(days=30))
    return target


def t_call_to_report(w: World, unit: Unit, actor: User | None) -> Target:
    """The actor (or the agent) is on a call with an abusive caller."""
    call = answered_call(_center_actor(w, actor))

    def state():
        from hotline.models import CallerReport

        return CallerReport.objects.filter(call_linkedid=call.linkedid).count()

    return Target(call.pk, call, state, {"linkedid": call.linkedid})


def t_reference(model_name: str) -> Callable:
    def build(w: World, unit: Unit, actor: User | None) -> Target:
        from hotline import models

        return Target(getattr(models, model_name).objects.order_by("pk").values_list("pk", flat=True).first())

    return build


def t_new_callbacks(w: World, unit: Unit, actor: User | None) -> Target:
    return Target(None, None, count_state(lambda: CallbackTask.objects.all()))


def t_unit(w: World, unit: Unit, actor: User | None) -> Target:
    return Target(unit.pk, unit)


def t_public_ticket(w: World, unit: Unit, actor: User | None) -> Target:
    ticket = registered(w)
    return Target(ticket.number, ticket, data={"code": ticket.query_code, "phone": ticket.caller.phone})


def t_open311_request(w: World, unit: Unit, actor: User | None) -> Target:
    from hotline.services import open311

    client, _key = open311.create_client(
        name=f"matrix system {new_phone()}", operator="matrix", channel_label="matrix", rate_limit_per_hour=5, by=None
    )
    made = open311.submit(
        client, service_code="0203", address_string="雨湖区", description="垃圾未清运", phone=new_phone()
    )
    return Target(made.ticket.number, made.ticket, data={"token": made.token})


def t_agent_state(w: World, unit: Unit, actor: User | None) -> Target:
    from telephony.models import AgentState

    pk = actor.pk if actor else 0
    return Target(None, None, lambda: tuple(AgentState.objects.filter(user_id=pk).values_list("status", "reason")))


def t_new_tickets(w: World, unit: Unit, actor: User | None) -> Target:
    return Target(None, None, count_state(lambda: Ticket.objects.all()))


def t_my_tokens(w: World, unit: Unit, actor: User | None) -> Target:
    user = actor or w.workers["YT01"]
    return Target(
        None,
        user,
        lambda: sorted(AuthToken.objects.filter(user=user).values_list("digest", flat=True)),
        {"username": user.username},
    )


def t_pending_device(w: World, unit: Unit, actor: User | None) -> Target:
    """An authenticator app being set up: the POST carries its current code."""
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from web import twofactor

    if actor is None:
        return Target(None, None, lambda: 0, {"otp": "000000"})
    device = twofactor.pending_device(actor)
    code = f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"
    return Target(
        None, device, count_state(lambda: TOTPDevice.objects.filter(user=actor, confirmed=True)), {"otp": code}
    )


# --- 知识库 ---------------------------------------------------------------------------------------


def _article(state: str) -> Any:
    from hotline.models import KnowledgeArticle
    from hotline.services import knowledge

    article = KnowledgeArticle(title=f"矩阵测试文章{next(_phones)}", body="按规定办理。", source="测试依据")
    knowledge.save_article(article, None)
    if state != "draft":
        knowledge.move(article, "reviewed", None)
        knowledge.move(article, "published", None)
    return article


def t_article(w: World, unit: Unit, actor: User | None) -> Target:
    """A published article: using it and saying whether it helped change its counts."""
    from hotline.models import KnowledgeArticle

    article = _article("published")
    return Target(article.pk, article, row_state(KnowledgeArticle, article.pk, "use_count", "useful_count"))


def t_draft_article(w: World, unit: Unit, actor: User | None) -> Target:
    from hotline.models import KnowledgeArticle

    article = _article("draft")
    return Target(article.pk, article, row_state(KnowledgeArticle, article.pk, "state", "version"))


def t_proposals(w: World, unit: Unit, actor: User | None) -> Target:
    from hotline.models import KnowledgeProposal

    return Target(None, None, count_state(lambda: KnowledgeProposal.objects.all()))


def t_proposal(w: World, unit: Unit, actor: User | None) -> Target:
    """A unit's pending proposal of a new article."""
    from hotline.models import KnowledgeProposal
    from hotline.services import knowledge

    handler = w.worker(Unit.objects.get(code="YH"))
    made = knowledge.propose(
        handler.unit,
        handler,
        {
            "title": "新增：夜间施工许可查询",
            "body": "可向住建部门查询。",
            "source": "住建局公告",
            "valid_from": timezone.localdate(),
        },
        reason="新政策",
    )
    return Target(made.pk, made, row_state(KnowledgeProposal, made.pk, "status"))


# --- 工单质检: quality checks ----------------------------------------------------------------------


def _quality_round():
    from metrics.models import ChecklistItem, QualityRound
    from metrics.seed import seed_checklist

    seed_checklist(ChecklistItem)  # a transactional test elsewhere may have flushed the migration's rows
    today = timezone.localdate()
    return QualityRound.objects.get_or_create(
        kind="week", first=today, defaults={"last": today, "seed": 1, "percent": 5, "short_reply_chars": 30}
    )[0]


def t_quality_registration(w: World, unit: Unit, actor: User | None) -> Target:
    """A registration by the agent persona, waiting for a checker."""
    from metrics.models import QualityCheck

    ticket = registered(w)
    check = QualityCheck.objects.create(
        round=_quality_round(), target="registration", ticket=ticket, agent=w.agent, reasons=["random"]
    )
    return Target(check.pk, check, row_state(QualityCheck, check.pk, "status", "checker_id"), {"number": ticket.number})


def t_quality_reply(w: World, unit: Unit, actor: User | None) -> Target:
    """``unit``'s reply, picked as short and scored by the quality persona."""
    from metrics import quality
    from metrics.models import ChecklistItem, QualityCheck

    part = accepted_at(w, unit)
    dispatch.reply_assignment(part, w.worker(unit), "已解决。")
    check = QualityCheck.objects.create(
        round=_quality_round(),
        target="reply",
        ticket_id=part.ticket_id,
        assignment=part,
        unit=unit,
        reasons=["short_reply"],
    )
    items = ChecklistItem.objects.filter(target="reply", is_active=True)
    quality.score_check(check.pk, w.users["quality"], {item.pk: 5 for item in items})
    return Target(check.pk, check, data={"number": part.ticket.number})


def t_wrapup_call(w: World, unit: Unit, actor: User | None) -> Target:
    """A call the actor just answered and ended: in its wrap-up time, so the actor (if an agent) may code it."""
    from telephony.models import Call

    now = timezone.now()
    call = Call.objects.create(
        linkedid=f"matrix-wrapup-{Call.objects.count()}",
        agent=actor,
        offered_at=now,
        answered_at=now,
        ended_at=now,
        outcome="answered",
    )
    return Target(
        call.pk, call, lambda: tuple(Call.objects.filter(pk=call.pk).values_list("wrapup_code_id", flat=True))
    )
