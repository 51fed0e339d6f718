"""话术: scripts kept as data, checked when saved, picked for the matter and filled in."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from hotline import scripts
from hotline.models import Category, Script, ScriptKind, Topic
from hotline.seed.scripts import SCRIPTS, seed_scripts


def test_fill_names_the_values_and_marks_missing_ones():
    body = "工单编号{number}，查询码{query_code}，{reply_by}前答复；{unknown}"
    text = scripts.fill(body, {"number": "20261129001", "query_code": "4821", "reply_by": None})
    assert text == "工单编号20261129001，查询码4821，—前答复；{unknown}"


def test_seeding_is_idempotent(seeded):
    assert Script.objects.count() == len(SCRIPTS)  # seed_reference includes them
    assert seed_scripts() == 0


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"kind": ScriptKind.OPENING, "body": "您好，{number}"}, "body", "{number}"),
        ({"kind": ScriptKind.CALLBACK, "body": "您在{missed_at}来电，{agent}"}, "body", "{agent}"),
        ({"kind": ScriptKind.MATTER, "body": "问清地址"}, "topic", "category"),
        ({"kind": ScriptKind.OPENING, "body": "您好", "topic_code": "0201"}, "kind", "matter"),
    ],
)
def test_a_script_with_a_value_its_kind_lacks_or_a_misplaced_matter_is_refused(seeded, fields, field, words):
    topic = Topic.objects.get(code=fields.pop("topic_code")) if "topic_code" in fields else None
    script = Script(title="t", topic=topic, **fields)
    with pytest.raises(ValidationError) as refused:
        script.full_clean()
    assert words in " ".join(refused.value.message_dict[field])


def test_the_category_and_then_the_topic_or_its_parent(seeded):
    complaint = Category.objects.get(code="complaint")
    noise = Topic.objects.get(code="0201")
    lines = scripts.for_matter(complaint, noise)
    assert [line.title for line in lines] == ["投诉要素", "噪音扰民"]
    food = Topic.objects.get(code="0401")  # no script of its own: its parent 市场监管 has one
    assert [line.title for line in scripts.for_matter(None, food)] == ["市场监管"]
    Script.objects.filter(title="噪音扰民").update(is_active=False)
    assert [line.title for line in scripts.for_matter(complaint, noise)] == ["投诉要素"]
    assert scripts.for_matter(None, None) == []


def test_the_line_in_use_is_the_last_edited(seeded):
    Script.objects.create(kind=ScriptKind.OPENING, title="新开头语", body="您好，{agent_no}号为您服务")
    assert scripts.line(ScriptKind.OPENING, agent_no="1001").text == "您好，1001号为您服务"
    Script.objects.filter(kind=ScriptKind.OPENING).update(is_active=False)
    assert scripts.line(ScriptKind.OPENING, agent_no="1001") is None
