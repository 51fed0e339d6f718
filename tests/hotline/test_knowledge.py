"""The knowledge base answers the way callers speak, and the console can search it."""

from __future__ import annotations

import pytest
from django.test import Client

from hotline.models import KnowledgeArticle, Topic
from hotline.seed.knowledge import ARTICLES, seed_knowledge
from hotline.services.knowledge import search


@pytest.fixture
def articles(seeded):
    seed_knowledge()


def test_seeding_is_idempotent(articles):
    assert seed_knowledge() == 0
    assert KnowledgeArticle.objects.count() == len(ARTICLES)


def test_a_question_in_a_callers_words_finds_the_article(articles):
    hits = search("请问办理居住证需要带什么材料")
    assert hits[0].article.title == "居住证办理需要哪些材料"
    assert "居住证" in hits[0].matched


def test_the_callers_topic_breaks_ties_and_unpublished_articles_stay_hidden(articles):
    wage = KnowledgeArticle.objects.get(title="被拖欠工资怎么办")
    assert search("工资", topic=Topic.objects.get(code="0501"))[0].article == wage
    KnowledgeArticle.objects.filter(pk=wage.pk).update(state="draft")
    assert wage not in [h.article for h in search("拖欠工资")]


def test_nothing_matches_nonsense_or_an_empty_query(articles):
    assert search("") == []
    assert search("zzzz 无关内容完全不匹配qq") == []


def test_the_agent_console_searches_the_knowledge_base(articles, agent, yuhu):
    client = Client()
    client.force_login(agent)
    page = client.get("/agent/knowledge/", {"q": "公积金怎么提取"}).content.decode()
    assert "住房公积金提取条件和办理渠道" in page and 'data-testid="kb-use"' in page
    client.force_login(yuhu)
    assert client.get("/agent/knowledge/", {"q": "公积金"}).status_code == 403


def test_the_api_searches_the_knowledge_base_for_center_staff_only(articles, agent, yuhu):
    from tests.conftest import api_as

    hits = api_as(agent).get("/api/v1/knowledge/", {"q": "医保异地就医怎么备案"}).json()
    assert hits[0]["title"] == "医保异地就医备案" and hits[0]["score"] > 0
    assert api_as(yuhu).get("/api/v1/knowledge/", {"q": "医保"}).status_code == 403
