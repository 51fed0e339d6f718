"""A starting dispatch catalogue built from the units' responsibility lists (三定方案)."""

from __future__ import annotations

from django.db import transaction

from hotline.models import Area, Topic, Unit
from routing.models import DispatchRule

# topic code -> municipal department code responsible city-wide.
DEPARTMENT_DUTIES = {
    "0101": "ZJJ", "0102": "ZJJ", "0103": "CGJ", "0104": "ZJJ",
    "0201": "CGJ", "0202": "CGJ", "0203": "CGJ", "0204": "CGJ",
    "0301": "STJ", "0302": "STJ", "0303": "STJ",
    "0401": "SJJ", "0402": "SJJ", "0403": "SJJ",
    "0501": "RSJ", "0502": "RSJ", "0503": "RSJ",
    "0601": "JTJ", "0602": "JTJ", "0603": "JTJ",
    "0701": "JYJ", "0702": "JYJ",
    "0801": "WJW", "0802": "WJW",
    "0901": "ZLS", "0902": "GDJ", "0903": "ZJJ",
    "1001": "SJZ", "1002": "FGW", "1003": "XFJ",
}  # fmt: skip

# Local matters the county/district government handles in its own area first.
LOCAL_TOPICS = ["0101", "0103", "0201", "0202", "0203", "0303", "0104"]

KEYWORD_RULES = [
    ("广场舞、装修噪音", "广场舞 装修 噪音 喇叭", "CGJ"),
    ("欠薪", "欠薪 拖欠工资 讨薪 工资", "RSJ"),
    ("停水", "停水 水压 水质 自来水", "ZLS"),
    ("停电", "停电 电压 跳闸", "GDJ"),
    ("油烟", "油烟 烧烤", "STJ"),
]


@transaction.atomic
def seed_dispatch_rules() -> int:
    if DispatchRule.objects.exists():
        return 0
    units = {u.code: u for u in Unit.objects.filter(level=2)}
    topics = {t.code: t for t in Topic.objects.all()}
    rules = []
    for topic_code, unit_code in DEPARTMENT_DUTIES.items():
        topic, unit = topics[topic_code], units[unit_code]
        rules.append(DispatchRule(name=f"{topic.name} → {unit.name}", topic=topic, unit=unit, priority=50,
                                  basis=f"{unit.name}职责清单"))  # fmt: skip
    for area in Area.objects.filter(parent__isnull=True):
        district = units.get(area.code)
        if district is None:
            continue
        for topic_code in LOCAL_TOPICS:
            topic = topics[topic_code]
            rules.append(DispatchRule(name=f"{area.name}{topic.name}", topic=topic, area=area, unit=district,
                                      priority=60, basis="属地管理"))  # fmt: skip
    for name, words, unit_code in KEYWORD_RULES:
        rules.append(
            DispatchRule(name=name, keywords=words, unit=units[unit_code], priority=40, basis="派单目录关键词")
        )
    DispatchRule.objects.bulk_create(rules)
    return len(rules)
