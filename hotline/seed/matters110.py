"""The 12345↔110 list (非警务警情分流): the typical items of the lists cities publish — what 110
hands to 12345, what 12345 hands to 110, and what goes either way. Seeded once by migration
(and by ``seed_reference``), then the center's to edit in the admin."""

from __future__ import annotations

# (code, name, direction)
MATTERS = [
    ("nuo_che", "挪车", "from_110"),
    ("kai_suo", "开锁", "from_110"),
    ("zao_yin", "噪音扰民", "both"),
    ("ting_shui_dian", "停水停电", "from_110"),
    ("ran_qi", "燃气泄漏（非紧急）", "both"),
    ("dong_wu", "动物救助", "from_110"),
    ("dao_lu", "道路设施损坏", "from_110"),
    ("jing_gai", "井盖缺失", "both"),
    ("lin_li", "邻里纠纷", "both"),
    ("xiao_fei", "消费纠纷", "from_110"),
    ("lao_dong", "劳资欠薪", "from_110"),
    ("wei_jian", "违章搭建", "from_110"),
    ("jin_ji", "人身财产安全紧急求助", "to_110"),
    ("jiao_tong", "交通事故", "to_110"),
    ("zhi_an", "治安案件线索", "to_110"),
]


def seed_matters(model) -> None:
    """Add the missing items; an item the center edited is left as it is."""
    for order, (code, name, direction) in enumerate(MATTERS, 1):
        model.objects.get_or_create(code=code, defaults={"name": name, "direction": direction, "order": order})
