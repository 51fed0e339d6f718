"""Demo data: the 湘潭 network's people and 60 days of tickets, made by the real services.

History is replayed step by step at past moments (time-machine moves the
clock), so every timeline, deadline and status is exactly what the services
would have produced. The same seed gives the same data.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import time_machine
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from hotline.errors import DomainError
from hotline.models import Area, Category, PublishedCase, Role, Ticket, Topic, Unit, User
from hotline.services import assignments, disclosure, dispatch, extensions, tickets
from routing.suggest import suggest_for_ticket
from telephony.models import AgentSkill
from web.twofactor import otp_required

DEMO_PASSWORD = "lianxin12345"

CENTER_STAFF = [
    ("admin", Role.ADMIN, "系统管理员", ""),
    ("agent1", Role.AGENT, "话务员小王", "1001"),
    ("agent2", Role.AGENT, "话务员小李", "1002"),
    ("agent3", Role.AGENT, "话务员小陈", "1003"),
    ("dispatcher", Role.DISPATCHER, "派单员老张", ""),
    ("supervisor", Role.SUPERVISOR, "督办科赵科长", ""),
    ("auditor", Role.AUDITOR, "审计员周女士", ""),
    ("quality", Role.QUALITY, "质检员钱女士", ""),
]


# 专席: agent3 speaks the local dialect and serves businesses too (a higher penalty: rung after the business
# specialist); agent2 is the business specialist. Every agent also takes the general desk (telephony.desks).
DEMO_SKILLS = [("agent2", "business", 0), ("agent3", "dialect", 0), ("agent3", "business", 5)]


def seed_skills() -> int:
    """The demo agents' desks, for the desks configured (AMI_DESK_BUSINESS, AMI_DESK_DIALECT); returns those made."""
    queues = {"business": settings.AMI_DESK_BUSINESS, "dialect": settings.AMI_DESK_DIALECT}
    made = 0
    for username, kind, penalty in DEMO_SKILLS:
        queue = queues[kind]
        user = User.objects.filter(username=username).first()
        if user is None or not queue or queue not in settings.AMI_QUEUES:
            continue
        made += AgentSkill.objects.get_or_create(user=user, queue=queue, defaults={"penalty": penalty})[1]
    return made


def unit_username(unit: Unit) -> str:
    return f"unit_{unit.code.lower()}"


@dataclass
class DemoUser:
    username: str
    role: str
    unit: str
    created: bool


def seed_users() -> list[DemoUser]:
    """One account per center role, and one unit handler for every level-2 and level-3 unit."""
    center = Unit.objects.get(level=1)
    password = make_password(DEMO_PASSWORD)  # hashed once: the hasher is slow on purpose
    made = []
    for username, role, name, extension in CENTER_STAFF:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"role": role, "unit": center, "first_name": name, "agent_extension": extension},
        )
        if created:
            user.password = password
            user.is_staff = role in (Role.ADMIN, Role.SUPERVISOR, Role.DISPATCHER, Role.AUDITOR)
            user.is_superuser = role == Role.ADMIN
            user.save()
        made.append(DemoUser(username, role, center.name, created))
    for unit in Unit.objects.filter(level__gt=1).order_by("level", "code"):
        user, created = User.objects.get_or_create(
            username=unit_username(unit),
            defaults={"role": Role.UNIT_HANDLER, "unit": unit, "first_name": f"{unit.name}经办人"},
        )
        if created:
            user.password = password
            user.save()
        made.append(DemoUser(user.username, Role.UNIT_HANDLER, unit.name, created))
    return made


def seed_second_factors() -> list[tuple[str, str]]:
    """DEMO ONLY: a confirmed TOTP device for each demo account whose role must use one.

    Returns (username, base32 secret) for seed_demo to print, so the demo's admin and supervisor
    can add the account to an authenticator app (or compute codes with `oathtool`). The secrets
    are random, kept only in the database, and never logged; a real deployment enrols each person
    at their first login instead (docs/security.md).
    """
    secrets = []
    for username, *_ in CENTER_STAFF:
        user = User.objects.get(username=username)
        if not otp_required(user):
            continue
        device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="demo", confirmed=True)
        secrets.append((username, base64.b32encode(device.bin_key).decode()))
    return secrets


CONTENTS = {
    "0101": "小区物业长期不打扫楼道，电梯经常故障无人维修。",
    "0102": "新买的房子墙体开裂渗水，开发商推诿不处理。",
    "0103": "邻居在楼顶私自加盖房屋，存在安全隐患。",
    "0104": "路口井盖破损，晚上有行人踩空的危险。",
    "0201": "小区楼下广场舞音乐太吵，晚上十点后仍未停止。",
    "0202": "菜市场门口流动摊贩占道经营，车辆无法通行。",
    "0203": "街道垃圾桶满了好几天没人清运，气味很大。",
    "0204": "渣土车夜间运输沿路撒漏，道路满是泥土。",
    "0301": "附近工厂夜间排放刺鼻气体。",
    "0302": "河道有不明污水排入，水面发黑发臭。",
    "0303": "楼下烧烤店油烟直排，无法开窗。",
    "0401": "在超市买到过期食品，商家拒绝退换。",
    "0402": "健身房突然关门，预付卡无法退款。",
    "0403": "加油站价格明显高于公示价格。",
    "0501": "在工地干了三个月，老板拖欠工资不给。",
    "0502": "单位一直没有给我缴纳社保。",
    "0503": "想咨询灵活就业人员的创业补贴政策。",
    "0601": "希望增开到九华工业园的公交线路。",
    "0602": "出租车司机拒载并且态度恶劣。",
    "0603": "道路坑洼严重，下雨天积水。",
    "0701": "孩子入学划片问题，想咨询具体政策。",
    "0702": "校外培训机构收费后跑路。",
    "0801": "医院挂号难，排队时间过长。",
    "0802": "想了解老人接种疫苗的地点和时间。",
    "0901": "小区已经停水两天，没有任何通知。",
    "0902": "家里频繁停电，电器损坏。",
    "0903": "燃气费突然大幅上涨，想了解原因。",
    "1001": "办理居住证需要哪些材料？",
    "1002": "想咨询新出台的购房补贴政策。",
    "1003": "某窗口工作人员态度差，办事推诿。",
}

# Where a demo ticket ends up, with weights summing to 100.
OUTCOMES = [
    ("closed", 42),
    ("revisit_pending", 8),
    ("resolved", 10),
    ("in_progress", 9),
    ("reopened", 5),
    ("sub_dispatched", 5),
    ("replied", 5),
    ("dispatched", 4),
    ("returned", 3),
    ("registered", 3),
    ("transferred_110", 2),
    ("merged", 2),
    ("discarded", 2),
]


class Replay:
    """Runs service calls at chosen past moments, stopping at the present."""

    def __init__(self, start: datetime, rng: random.Random) -> None:
        self.at = start
        self.rng = rng

    def step(self, hours: tuple[float, float], action: Callable[[], object]) -> bool:
        self.at += timedelta(hours=self.rng.uniform(*hours))
        if self.at >= timezone.now() - timedelta(minutes=5):
            return False
        with time_machine.travel(self.at, tick=False):
            action()
        return True


def seed_history(count: int = 300, days: int = 60, seed: int = 12345) -> int:
    """Replay ``count`` tickets over the last ``days`` days; skipped if tickets already exist."""
    if Ticket.objects.exists():
        return 0
    rng = random.Random(seed)
    agents = list(User.objects.filter(role=Role.AGENT).order_by("username"))
    dispatcher = User.objects.get(username="dispatcher")
    handlers = {u.unit_id: u for u in User.objects.filter(role=Role.UNIT_HANDLER)}
    topics = list(Topic.objects.filter(parent__isnull=False).order_by("code"))
    areas = list(Area.objects.filter(parent__isnull=False).order_by("code"))
    categories = {c.code: c for c in Category.objects.all()}
    phones = [f"13{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}" for _ in range(int(count * 0.75))]
    now = timezone.now()
    made = 0
    for index in range(count):
        outcome = rng.choices([o for o, _ in OUTCOMES], [w for _, w in OUTCOMES])[0]
        start = now - timedelta(days=days * (count - index) / count, hours=rng.uniform(0, 8))
        start = start.replace(hour=rng.randint(8, 20), minute=rng.randint(0, 59))
        if start >= now - timedelta(hours=1):
            start = now - timedelta(hours=2)
        topic = rng.choice(topics)
        category = categories[_category_for(topic, outcome, rng)]
        replay = Replay(start, rng)
        agent = rng.choice(agents)
        # Drawn in the order they always were, so the same seed replays the same history.
        phone = rng.choice(phones)
        caller_name = rng.choice(["", "", "王先生", "李女士", "张师傅", "刘阿姨"])
        area = rng.choice(areas)
        address = f"{rng.choice(areas).name}{rng.randint(1, 200)}号"
        urgency = "urgent" if rng.random() < 0.08 else "normal"
        channel = rng.choice(["phone"] * 6 + ["wechat", "app", "web", "photo"])
        with transaction.atomic(), time_machine.travel(start, tick=False):
            ticket = tickets.register_ticket(
                by=agent,
                phone=phone,
                caller_name=caller_name,
                content=CONTENTS[topic.code],
                category=category,
                topic=topic,
                area=area,
                address=address,
                urgency=urgency,
                channel=channel,
                **_located(area, channel, index),
                # 同意公开: two callers in three agree; from the index, so the replay's randomness stays as it was.
                consent_public=index % 3 != 2,
            )
        made += 1
        try:
            _play(ticket, outcome, replay, agent, dispatcher, handlers, rng)
        except DomainError as exc:  # pragma: no cover - a bug in the script, not in the data
            raise RuntimeError(f"demo history broke on {ticket.number} ({outcome}): {exc}") from exc
    return made


def _located(area: Area, channel: str, index: int) -> dict:
    """A phone's GPS point for the channels that send one (WeChat, the app, a photo report): near
    the area's centroid, spread by the ticket's index so the demo's random sequence stays as it was."""
    if channel not in ("wechat", "app", "photo") or area.lat is None:
        return {}
    east, north = ((index * 37) % 21 - 10) / 1000, ((index * 53) % 21 - 10) / 1000
    return {"lat": f"{float(area.lat) + north:.6f}", "lng": f"{float(area.lng) + east:.6f}"}


def seed_cases(limit: int = 24) -> int:
    """办件公开 for the demo: the dispatcher publishes recent closed tickets whose callers agreed,
    every sixth as a typical case; one in five is left for the reader to publish by hand."""
    if PublishedCase.objects.exists():
        return 0
    dispatcher = User.objects.get(username="dispatcher")
    closed = Ticket.objects.filter(status="closed", consent_public=True).select_related("caller").order_by("-closed_at")
    made = 0
    for ticket in closed[: limit * 2]:
        if made >= limit:
            break
        if ticket.pk % 5 == 0:
            continue
        texts = {p.field: p.redacted.text for p in disclosure.draft(ticket).parts}
        if not all(texts.values()):
            continue
        disclosure.publish_case(ticket, dispatcher, **texts, typical=ticket.pk % 6 == 0)
        made += 1
    return made


def _category_for(topic: Topic, outcome: str, rng: random.Random) -> str:
    if outcome == "resolved" or topic.code in ("1001", "1002", "0503", "0701", "0802"):
        return "consultation"
    return rng.choice(["complaint", "complaint", "help", "help", "report", "suggestion"])


def _play(ticket, outcome, replay: Replay, agent, dispatcher, handlers, rng) -> None:
    def fresh():
        return Ticket.objects.get(pk=ticket.pk)

    if outcome == "registered":
        return
    if outcome == "resolved":
        replay.step((0.05, 0.1), lambda: tickets.resolve_on_call(fresh(), agent, "已在电话中解答相关政策。"))
        return
    if outcome == "transferred_110":
        replay.step((0.01, 0.05), lambda: tickets.transfer_to_110(fresh(), agent, "涉及治安警情，转110处理"))
        return
    if outcome == "discarded":
        replay.step((0.5, 3), lambda: tickets.discard_ticket(fresh(), dispatcher, "无效来电：内容不完整"))
        return
    if outcome == "merged":
        earlier = Ticket.objects.filter(topic=ticket.topic, created_at__lt=ticket.created_at).exclude(pk=ticket.pk)
        earlier = earlier.exclude(status__in=["merged", "discarded", "transferred_110"]).order_by("-created_at").first()
        if earlier is not None:
            replay.step((0.1, 1), lambda: tickets.merge_ticket(fresh(), earlier, agent, "同一诉求重复来电，并单处理"))
            return
    suggestions = suggest_for_ticket(ticket)
    lead = suggestions[0].unit if suggestions else Unit.objects.get(code="XFJ")
    if not replay.step((0.2, 2), lambda: dispatch.dispatch_ticket(fresh(), agent, lead)):
        return
    if outcome == "dispatched":
        return
    assignment = assignments.current_lead(fresh())
    handler = handlers[lead.pk]
    if outcome == "returned":
        replay.step((0.2, 1), lambda: dispatch.return_assignment(assignment, handler, "不属于本单位职责范围"))
        return
    if not replay.step((0.5, 8), lambda: dispatch.accept_assignment(assignment, handler)):
        return
    if outcome == "in_progress":
        if rng.random() < 0.3:
            until = assignment.reply_by + timedelta(days=5)
            replay.step((4, 24), lambda: extensions.request_extension(assignment, handler, until, "需协调多个部门"))
        return
    children = list(lead.children.filter(is_active=True))
    if lead.level == 2 and children and (outcome == "sub_dispatched" or rng.random() < 0.4):
        child_unit = _child_for(ticket, children, rng)
        if child_unit is not None:
            holder = {}

            def send():
                holder["child"] = dispatch.sub_dispatch(assignment, handler, child_unit, instructions="请核实处理")

            if not replay.step((0.5, 6), send):
                return
            child = holder["child"]
            child_handler = handlers[child_unit.pk]
            if not replay.step((0.5, 6), lambda: dispatch.accept_assignment(child, child_handler)):
                return
            if outcome == "sub_dispatched":
                return
            if not replay.step(
                (12, 72),
                lambda: dispatch.reply_assignment(
                    child, child_handler, "已现场核查处理完毕。", contacted_caller=ticket.pk % 10 != 0
                ),
            ):
                return
    text = "经核查，已责成相关责任方整改，问题已解决。"
    # Most units call the citizen before replying (响应率); one in ten does not. Taken from the
    # ticket's id, not from rng, so the rest of the replay stays as it was.
    contacted = ticket.pk % 10 != 0
    if not replay.step(
        (12, 96), lambda: dispatch.reply_assignment(assignment, handler, text, contacted_caller=contacted)
    ):
        return
    if outcome == "replied":
        return
    if not replay.step((1, 12), lambda: tickets.review_reply(fresh(), dispatcher, approve=True)):
        return
    if fresh().status == "closed" or outcome == "revisit_pending":
        return
    if outcome == "reopened":
        replay.step((12, 36), lambda: tickets.reopen_ticket(fresh(), dispatcher, "回访不满意：市民反映问题仍未解决"))
        return
    replay.step((12, 36), lambda: tickets.close_ticket(fresh(), dispatcher, "回访满意"))


def _child_for(ticket: Ticket, children: list[Unit], rng: random.Random) -> Unit | None:
    allowed = [c for c in children if not (ticket.topic and ticket.topic.is_level2_only and c.kind == "town")]
    if ticket.area_id:
        local = [c for c in allowed if c.service_areas.filter(pk=ticket.area_id).exists()]
        if local:
            return local[0]
    return rng.choice(allowed) if allowed else None
