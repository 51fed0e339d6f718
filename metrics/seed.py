"""The two example evaluation schemes, seeded by metrics migration 0002 (idempotently: an existing version is left
as the admin edited it). They are configurable examples, not law: docs/metrics.md."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

SCHEMES = [
    {
        "code": "xiangtan-five",
        "name": "湘潭 five KPIs",
        "valid_from": date(2020, 1, 1),
        "unit_kinds": [],
        "basically_satisfied_weight": Decimal("1"),
        "basis": "Example weights over the five KPIs of DESIGN §8 (湘潭): on-time 40, satisfaction 30, reopen 15, "
        "repeat 15 (the answer rate, weight 10, is the center's own and gives units no data); 0.5 point per "
        "overdue assignment (at most 10) and 1 point per dispute decided against the unit (at most 5). "
        "A configurable example, not law.",
        "indicators": {
            "answer_rate": "10",
            "on_time_rate": "40",
            "satisfaction_rate": "30",
            "reopen_rate": "15",
            "repeat_rate": "15",
        },
        "deductions": {"overdue": ("0.5", "10"), "dispute_rejected": ("1", "5")},
    },
    {
        "code": "jiesu-jiban",
        "name": "接诉即办 three rates",
        "valid_from": date(2020, 1, 1),
        "unit_kinds": [],
        "basically_satisfied_weight": Decimal("0.9"),
        "basis": "Beijing 接诉即办's common public formula: 0.1 × response rate + 0.5 × solved rate + 0.4 × satisfied "
        "rate, 'basically satisfied' counted 0.9. A configurable example, not law.",
        "indicators": {"response_rate": "0.1", "solved_rate": "0.5", "satisfied_rate": "0.4"},
        "deductions": {},
    },
]


def seed_schemes(scheme_model, indicator_model, deduction_model) -> int:
    """Create the example schemes that do not exist yet (by code and valid_from); returns how many were made."""
    made = 0
    for spec in SCHEMES:
        fields = {k: v for k, v in spec.items() if k not in ("indicators", "deductions", "code", "valid_from")}
        scheme, created = scheme_model.objects.get_or_create(
            code=spec["code"], valid_from=spec["valid_from"], defaults=fields
        )
        if not created:
            continue
        made += 1
        for key, weight in spec["indicators"].items():
            indicator_model.objects.create(scheme=scheme, indicator=key, weight=Decimal(weight))
        for rule, (points, cap) in spec["deductions"].items():
            deduction_model.objects.create(scheme=scheme, rule=rule, points=Decimal(points), cap=Decimal(cap))
    return made


# The default checklists of the quality checks (docs/quality.md), seeded by metrics migration 0003:
# (target, code, name, guidance, weight, required). Scored 0–10, pass mark 6; edited in the admin.
CHECKLIST = [
    ("registration", "reg-elements", "诉求要素完整", "时间、地点、事由、诉求人期望齐全，可据以办理。", "30", True),
    ("registration", "reg-category", "分类准确", "诉求类型与事项分类与内容相符。", "20", True),
    ("registration", "reg-address", "地址准确", "地址具体到路、小区或门牌，区域与地址一致。", "20", True),
    ("registration", "reg-language", "规范用语", "文字通顺、客观，无口语化、情绪化或错别字。", "15", True),
    ("registration", "reg-handling", "处置恰当", "当场解答或派单、转办的选择恰当。", "15", False),
    ("reply", "reply-relevant", "答复针对诉求", "逐项回应市民的诉求，不答非所问。", "35", True),
    ("reply", "reply-basis", "依据明确", "引用政策、法规或核查事实，说明办理依据。", "25", True),
    (
        "reply",
        "reply-substance",
        "已解决有具体内容",
        "称已解决、已办结的，写明怎么解决、何时解决、结果如何。",
        "25",
        True,
    ),
    ("reply", "reply-contact", "联系市民", "写明是否、何时联系了市民，以及市民的意见。", "15", False),
]


def seed_checklist(item_model) -> int:
    """Create the default checklist items that do not exist yet (by code); returns how many were made."""
    made = 0
    for order, (target, code, name, guidance, weight, required) in enumerate(CHECKLIST, start=1):
        _, created = item_model.objects.get_or_create(
            code=code,
            defaults={
                "target": target,
                "name": name,
                "guidance": guidance,
                "weight": Decimal(weight),
                "required": required,
                "order": order,
            },
        )
        made += created
    return made
