"""Starting scripts (话术) for the agent console; each center edits its own in the admin.

The wording follows the usual 12345 service phrases (开头语、结束语、回访语); the matter scripts
list what an agent must ask so that a unit can act without calling the citizen again.
"""

from __future__ import annotations

from django.db import transaction

from hotline.models import Category, Script, ScriptKind, Topic

# (kind, category code, topic code, title, body)
SCRIPTS = [
    (
        ScriptKind.OPENING,
        "",
        "",
        "开头语",
        "您好，12345政务服务便民热线，{agent_no}号话务员为您服务，请问有什么可以帮您？",
    ),
    (
        ScriptKind.CLOSING,
        "",
        "",
        "结束语",
        "已为您登记，工单编号{number}，查询码{query_code}。相关部门将在{reply_by}前答复您，"
        "您也可以用查询码在网上查询办理进度。请问还有其他可以帮您的吗？感谢您的来电，再见。",
    ),
    (
        ScriptKind.REVISIT,
        "",
        "",
        "回访语",
        "您好，这里是12345政务服务便民热线。关于您{date}反映的“{title}”，{unit}答复：“{reply}”。"
        "请问您对办理结果是否满意？问题是否已经解决？",
    ),
    (
        ScriptKind.CALLBACK,
        "",
        "",
        "未接回拨语",
        "您好，这里是12345政务服务便民热线。您在{missed_at}来电时线路繁忙未能接通，现在回电给您，请问有什么可以帮您？",
    ),
    (
        ScriptKind.MATTER,
        "complaint",
        "",
        "投诉要素",
        "问清被投诉对象（单位或店名）、发生时间、具体地点、经过，以及来电人的具体诉求。",
    ),
    (
        ScriptKind.MATTER,
        "report",
        "",
        "举报要素",
        "问清被举报对象、违法行为、发生时间地点和线索；告知来电人可匿名，信息将保密。",
    ),
    (
        ScriptKind.MATTER,
        "consultation",
        "",
        "咨询",
        "先查知识库；能当场答复的当场答复并点“通话中办结”，不能答复的登记转办。",
    ),
    (
        ScriptKind.MATTER,
        "",
        "0201",
        "噪音扰民",
        "问清噪音来源（施工、商铺、住户、广场舞）、发生时段、持续多久、具体地址（小区、楼栋）。夜间施工请问清是否有夜间施工许可公示。",
    ),
    (
        ScriptKind.MATTER,
        "",
        "0501",
        "拖欠工资",
        "问清用人单位全称和地址、拖欠起止时间、涉及人数和金额、是否签订劳动合同；告知可同时向劳动保障监察部门投诉。",
    ),
    (
        ScriptKind.MATTER,
        "",
        "0901",
        "供水",
        "问清停水或水质问题的具体地址、开始时间、影响范围（一户、一栋还是整片）；先查是否有计划停水公告。",
    ),
    (
        ScriptKind.MATTER,
        "",
        "04",
        "市场监管",
        "问清商家名称和地址、消费时间、金额、凭证（小票、发票、聊天记录）和诉求（退款、赔偿、查处）。",
    ),
]


@transaction.atomic
def seed_scripts() -> int:
    """Add the starting scripts that are missing (matched by kind and title); returns how many."""
    categories = {c.code: c for c in Category.objects.all()}
    topics = {t.code: t for t in Topic.objects.all()}
    existing = set(Script.objects.values_list("kind", "title"))
    new = [
        Script(kind=kind, category=categories.get(cat), topic=topics.get(topic), title=title, body=body)
        for kind, cat, topic, title, body in SCRIPTS
        if (kind, title) not in existing
    ]
    Script.objects.bulk_create(new)
    return len(new)
