"""Demo data: a hot spot to see — one morning's burst of calls about one water cut, and a quieter neighbour.

江南小区 in 城正街街道 (雨湖区) has had no water since last night: nine callers say so in their
own words within a day. Two callers of 雨湖路街道, in the same district and under the same topic
(供水), complain of yellow tap water — another problem, which must not join the burst. The
tickets are registered and dispatched through the real services at past moments, like the rest
of the demo history; then the hot-spot scan runs once, so the dashboard and the wallboard show it
at once. The same texts are part of the labelled sample of docs/hotspots.md.
"""

from __future__ import annotations

from datetime import timedelta

import time_machine
from django.db import transaction
from django.utils import timezone

from hotline.models import Area, Category, Ticket, Topic, User
from hotline.services import dispatch, tickets
from routing.suggest import suggest_for_ticket

# (label, area code, topic code, address, hours ago, text)
BURSTS = [
    (
        "jiangnan-water-cut",
        "YH01",
        "0901",
        "江南小区",
        20.0,
        "江南小区从昨天晚上开始停水，到现在还没来水，也没有任何通知。",
    ),
    (
        "jiangnan-water-cut",
        "YH01",
        "0901",
        "江南小区3栋",
        18.5,
        "城正街江南小区停水快一天了，老人小孩没水喝，请尽快恢复供水。",
    ),
    (
        "jiangnan-water-cut",
        "YH01",
        "0901",
        "江南小区5栋",
        16.0,
        "我家住江南小区5栋，今天一早就没水了，物业说是自来水公司的问题。",
    ),
    ("jiangnan-water-cut", "YH01", "0901", "江南小区", 12.0, "江南小区整栋楼都停水了，打自来水公司电话一直占线。"),
    (
        "jiangnan-water-cut",
        "YH01",
        "0901",
        "城正街江南小区",
        9.5,
        "反映江南小区突然停水，没有提前公告，居民生活很不方便。",
    ),
    ("jiangnan-water-cut", "YH01", "0901", "江南小区8栋", 7.0, "江南小区停水已经十几个小时，什么时候能恢复供水？"),
    (
        "jiangnan-water-cut",
        "YH01",
        "0901",
        "江南小区",
        5.0,
        "江南小区没水了，做饭洗澡都成问题，希望自来水公司尽快处理。",
    ),
    ("jiangnan-water-cut", "YH01", "0901", "江南小区北门", 3.0, "江南小区停水，北门外的水管好像爆了，一直在冒水。"),
    ("jiangnan-water-cut", "YH01", "0901", "江南小区", 1.5, "江南小区自来水停了一天了，没有任何人来解释停水原因。"),
    ("yuhulu-yellow-water", "YH02", "0901", "雨湖路56号", 14.0, "雨湖路一带自来水发黄，还有一股异味，不敢喝。"),
    ("yuhulu-yellow-water", "YH02", "0901", "雨湖路102号", 6.0, "家里水龙头放出来的水是黄的，有铁锈味，怀疑水管老化。"),
]
MARKER = "江南小区"


def seed_hotspot_burst(now=None) -> int:
    """Register (and dispatch) the burst's tickets; nothing if they are there already. Returns how many."""
    now = now or timezone.now()
    if Ticket.objects.filter(content__contains=MARKER).exists():
        return 0
    agent = User.objects.filter(role="agent").order_by("username").first()
    dispatcher = User.objects.get(username="dispatcher")
    complaint = Category.objects.get(code="complaint")
    made = 0
    for n, (_label, area, topic, address, hours, text) in enumerate(BURSTS):
        at = now - timedelta(hours=hours)
        with transaction.atomic(), time_machine.travel(at, tick=False):
            ticket = tickets.register_ticket(
                by=agent,
                phone=f"1397320{n:04d}",
                content=text,
                category=complaint,
                topic=Topic.objects.get(code=topic),
                area=Area.objects.get(code=area),
                address=address,
            )
        made += 1
        suggestions = suggest_for_ticket(ticket)
        if suggestions and hours > 2:  # the latest calls still wait for the dispatcher
            with time_machine.travel(at + timedelta(minutes=30), tick=False):
                dispatch.dispatch_ticket(Ticket.objects.get(pk=ticket.pk), dispatcher, suggestions[0].unit)
    return made
