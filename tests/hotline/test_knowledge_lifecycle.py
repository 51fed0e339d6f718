"""The knowledge base kept to standard (issue 17, point 6): owner, source, validity, review
states, versions, agents' feedback, units' proposals decided by the center."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from hotline.errors import IllegalTransition, InvalidInput, NotAllowed
from hotline.models import KnowledgeArticle, KnowledgeProposal, KnowledgeVersion, Unit
from hotline.services import knowledge

TODAY = timezone.localdate


def article(title="燃气费缴纳方式", body="可在营业厅或网上缴纳。", source="燃气公司服务指南", publish=True, **extra):
    made = KnowledgeArticle(title=title, body=body, source=source, **extra)
    knowledge.save_article(made, None)
    if publish:
        knowledge.move(made, "reviewed", None)
        knowledge.move(made, "published", None)
    made.refresh_from_db()
    return made


def titles(query: str) -> list[str]:
    return [hit.article.title for hit in knowledge.search(query)]


def test_an_end_before_the_start_is_refused_everywhere(seeded):
    bad = KnowledgeArticle(title="t", body="b", valid_from=TODAY(), valid_until=TODAY() - timedelta(days=1))
    with pytest.raises(InvalidInput):
        knowledge.save_article(bad, None)
    with pytest.raises(ValidationError) as refused:
        bad.full_clean()
    assert "valid_until" in refused.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        bad.save()  # and the database says no too


def test_only_a_published_article_inside_its_validity_is_offered(seeded):
    draft = article(title="燃气费缴纳草稿", publish=False)
    assert "燃气费缴纳草稿" not in titles("燃气费缴纳")
    with pytest.raises(IllegalTransition):
        knowledge.move(draft, "published", None)  # a draft is reviewed first
    knowledge.move(draft, "reviewed", None)
    knowledge.move(draft, "published", None)
    assert "燃气费缴纳草稿" in titles("燃气费缴纳")
    later = article(title="燃气费新办法", valid_from=TODAY() + timedelta(days=3))
    assert later.title not in titles("燃气费")


def test_publishing_needs_a_source_and_a_validity_that_has_not_ended(seeded):
    unsourced = article(title="无来源", source="", publish=False)
    knowledge.move(unsourced, "reviewed", None)
    with pytest.raises(InvalidInput):
        knowledge.move(unsourced, "published", None)


def test_the_job_expires_answers_whose_validity_ended_and_each_change_is_a_version(seeded):
    old = article(title="旧燃气政策", valid_until=TODAY() + timedelta(days=1))
    assert knowledge.expire_due(TODAY()) == 0
    assert knowledge.expire_due(TODAY() + timedelta(days=2)) == 1
    old.refresh_from_db()
    assert old.state == "expired"
    versions = list(KnowledgeVersion.objects.filter(article=old).order_by("version").values_list("version", "state"))
    assert versions == [(1, "draft"), (2, "reviewed"), (3, "published"), (4, "expired")]
    old.body = "新的答复"
    knowledge.save_article(old, None)
    assert KnowledgeVersion.objects.get(article=old, version=5).body == "新的答复"


def test_words_in_another_order_still_find_the_matter(seeded):
    article()
    assert titles("燃气费怎么缴纳") == ["燃气费缴纳方式"]  # no substring in common with the title
    assert titles("今天天气不错") == []


def test_agents_use_and_feedback_rank_and_one_vote_each(seeded, agent, dispatcher):
    a = article(title="燃气开户办理", body="带身份证到营业厅办理燃气开户。")
    b = article(title="燃气过户办理", body="带房产证到营业厅办理燃气过户。")
    assert titles("燃气办理") == ["燃气开户办理", "燃气过户办理"]  # a tie: by title
    for _ in range(4):
        knowledge.note_use(b)
    knowledge.give_feedback(b, agent, True)
    assert titles("燃气办理")[0] == "燃气过户办理"
    b = knowledge.give_feedback(b, agent, True)  # the same vote again counts once
    assert (b.useful_count, b.not_useful_count) == (1, 0)
    b = knowledge.give_feedback(b, agent, False)  # changed: moves from one side to the other
    assert (b.useful_count, b.not_useful_count) == (0, 1)
    assert a.pk != b.pk


def test_a_unit_proposes_for_its_own_articles_and_the_center_decides_once(seeded, yuhu, dispatcher):
    other = article(title="别人的文章", source_unit=Unit.objects.get(code="YT"))
    fields = {"title": "雨湖区垃圾清运时间", "body": "每日两次。", "source": "雨湖区城管局", "valid_from": TODAY()}
    with pytest.raises(NotAllowed):
        knowledge.propose(yuhu.unit, yuhu, fields, article=other, reason="改")
    with pytest.raises(InvalidInput):
        knowledge.propose(yuhu.unit, yuhu, {**fields, "source": " "}, reason="新增")
    proposal = knowledge.propose(yuhu.unit, yuhu, fields, reason="新增")
    with pytest.raises(InvalidInput):
        knowledge.decide(proposal, dispatcher, accept=False, note="")  # a rejection says why
    knowledge.decide(proposal, dispatcher, accept=True, publish=True)
    proposal.refresh_from_db()
    made = proposal.article
    assert (made.state, made.source_unit, made.body) == ("published", yuhu.unit, "每日两次。")
    assert "雨湖区垃圾清运时间" in titles("垃圾清运时间")
    with pytest.raises(IllegalTransition):
        knowledge.decide(proposal, dispatcher, accept=True)

    change = knowledge.propose(yuhu.unit, yuhu, {**fields, "body": "每日三次。"}, article=made, reason="加密清运")
    knowledge.decide(change, dispatcher, accept=True)
    made.refresh_from_db()
    assert (made.state, made.body) == ("published", "每日三次。")  # a published answer takes the new words
    assert KnowledgeProposal.objects.filter(article=made).count() == 2
