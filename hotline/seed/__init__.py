"""Reference data every installation starts with: categories, topics, SLAs, the calendar, scripts."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from hotline.models import Category, Matter110, SlaPolicy, Topic, Urgency
from hotline.seed.matters110 import seed_matters
from hotline.seed.scripts import seed_scripts
from hotline.services.calendar import SeedReport, seed_year

# GB/T 39666-2020 names the demand types; whether a type is revisited follows
# common practice: praise and suggestions are acknowledged, not surveyed, and
# consultations are mostly answered on the call.
CATEGORIES = [
    ("consultation", "咨询", False),
    ("help", "求助", True),
    ("complaint", "投诉", True),
    ("report", "举报", True),
    ("suggestion", "建议", False),
    ("praise", "表扬", False),
]

# (category, urgency, accept within working hours, reply within working days, revisit after days).
# Basis (each default with its source in docs/metrics.md): municipal 12345 rules commonly give
# units one working day to accept (9 h = one day of the default office hours) and 3/5/10/15
# working days to reply by type; urgent cases follow 湖南's 当日转办、次日反馈、三日办结: the center
# dispatches the same working day (hotline.deadlines.dispatch_by), the unit accepts — its first
# feedback — by the next working day (9 h; a consultation keeps its shorter 4 h) and is done in 3.
ONE_WORKING_DAY_HOURS = 9
URGENT_REPLY_DAYS = 3
SLAS = [
    ("consultation", Urgency.NORMAL, 4, 3, 1),
    ("consultation", Urgency.URGENT, 4, URGENT_REPLY_DAYS, 1),
    ("help", Urgency.NORMAL, ONE_WORKING_DAY_HOURS, 5, 1),
    ("help", Urgency.URGENT, ONE_WORKING_DAY_HOURS, URGENT_REPLY_DAYS, 1),
    ("complaint", Urgency.NORMAL, ONE_WORKING_DAY_HOURS, 10, 1),
    ("complaint", Urgency.URGENT, ONE_WORKING_DAY_HOURS, URGENT_REPLY_DAYS, 1),
    ("report", Urgency.NORMAL, ONE_WORKING_DAY_HOURS, 15, 1),
    ("report", Urgency.URGENT, ONE_WORKING_DAY_HOURS, URGENT_REPLY_DAYS, 1),
    ("suggestion", Urgency.NORMAL, ONE_WORKING_DAY_HOURS, 15, 1),
    ("suggestion", Urgency.URGENT, ONE_WORKING_DAY_HOURS, URGENT_REPLY_DAYS, 1),
    ("praise", Urgency.NORMAL, ONE_WORKING_DAY_HOURS, 5, 1),
    ("praise", Urgency.URGENT, ONE_WORKING_DAY_HOURS, URGENT_REPLY_DAYS, 1),
]
SLA_BASIS = "常见市级12345办理时限；紧急件参照湖南“当日转办、次日反馈、三日办结”"

# Two-level topics, loosely after GB/T 39666-2020. level2_only marks matters
# that belong to municipal/county departments and are never pushed down to towns.
TOPICS = [
    ("01", "城乡建设", False, [("0101", "物业管理"), ("0102", "房屋质量"), ("0103", "违章建筑"), ("0104", "市政设施")]),
    ("02", "城市管理", False, [("0201", "噪音扰民"), ("0202", "占道经营"), ("0203", "环境卫生"), ("0204", "渣土运输")]),
    ("03", "生态环境", False, [("0301", "大气污染"), ("0302", "水污染"), ("0303", "餐饮油烟")]),
    ("04", "市场监管", True, [("0401", "食品安全"), ("0402", "消费纠纷"), ("0403", "价格投诉")]),
    ("05", "劳动社保", True, [("0501", "拖欠工资"), ("0502", "社保缴纳"), ("0503", "就业创业")]),
    ("06", "交通运输", False, [("0601", "公交线路"), ("0602", "出租车"), ("0603", "道路养护")]),
    ("07", "教育", True, [("0701", "招生入学"), ("0702", "校外培训")]),
    ("08", "卫生健康", True, [("0801", "医疗服务"), ("0802", "疫苗接种")]),
    ("09", "公用事业", False, [("0901", "供水"), ("0902", "供电"), ("0903", "燃气")]),
    ("10", "政务服务", False, [("1001", "办事咨询"), ("1002", "政策咨询"), ("1003", "工作作风")]),
]

# What a report of some topics must say besides its text (Open311 service attributes, also asked
# by any form that reads Topic.extra_fields). Codes are ASCII: they travel as attribute[code].
EXTRA_FIELDS = {
    "0104": [
        {
            "code": "facility",
            "description": "设施类型",
            "datatype": "singlevaluelist",
            "required": True,
            "values": [
                {"key": "streetlight", "name": "路灯"},
                {"key": "manhole", "name": "井盖"},
                {"key": "road", "name": "道路破损"},
                {"key": "railing", "name": "护栏"},
            ],
        }
    ],
    "0201": [
        {
            "code": "noise_time",
            "description": "噪音出现的时段",
            "datatype": "singlevaluelist",
            "required": True,
            "values": [
                {"key": "day", "name": "白天"},
                {"key": "night", "name": "夜间（22时至次日6时）"},
                {"key": "all_day", "name": "全天"},
            ],
        },
        {"code": "source", "description": "噪音来源（如工地、商铺、住户）", "datatype": "string", "required": False},
    ],
    "0601": [{"code": "route", "description": "公交线路号", "datatype": "string", "required": True}],
}


def seed_categories() -> None:
    for order, (code, name, revisit) in enumerate(CATEGORIES):
        Category.objects.update_or_create(
            code=code, defaults={"name": name, "requires_revisit": revisit, "order": order}
        )
    categories = {c.code: c for c in Category.objects.all()}
    for code, urgency, accept_hours, reply_days, revisit_days in SLAS:
        SlaPolicy.objects.get_or_create(
            category=categories[code],
            urgency=urgency,
            defaults={
                "accept_hours": accept_hours,
                "reply_days": reply_days,
                "revisit_days": revisit_days,
                "note": SLA_BASIS,
            },
        )


def seed_topics() -> None:
    for code, name, level2_only, children in TOPICS:
        parent, _ = Topic.objects.update_or_create(code=code, defaults={"name": name, "level2_only": level2_only})
        for child_code, child_name in children:
            Topic.objects.update_or_create(
                code=child_code,
                defaults={"name": child_name, "parent": parent, "extra_fields": EXTRA_FIELDS.get(child_code, [])},
            )


def seed_calendar(years: range | None = None) -> list[SeedReport]:
    this_year = timezone.localdate().year
    years = years or range(this_year - 1, this_year + 2)
    return [seed_year(year) for year in years]


@transaction.atomic
def seed_reference() -> list[SeedReport]:
    seed_categories()
    seed_topics()
    seed_scripts()
    seed_matters(Matter110)
    return seed_calendar()
