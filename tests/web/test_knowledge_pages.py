"""The knowledge base's pages: the agent sees date and source and says what helped; a unit
proposes; the center decides (issue 17, point 6)."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from hotline.models import KnowledgeArticle, KnowledgeProposal, Unit
from tests.hotline.test_knowledge_lifecycle import article


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_agent_sees_source_and_dates_before_reading_and_votes(agent):
    a = article(title="燃气费缴纳方式", legal_basis="《城镇燃气管理条例》")
    client = client_for(agent)
    html = client.get("/agent/knowledge/", {"q": "燃气费怎么缴纳"}).content.decode()
    assert "燃气公司服务指南" in html and a.valid_from.strftime("%Y-%m-%d") in html and f"v{a.version}" in html
    assert "城镇燃气管理条例" in html
    assert client.post(f"/agent/knowledge/{a.pk}/used/").status_code == 204
    voted = client.post(f"/agent/knowledge/{a.pk}/feedback/", {"useful": "1"})
    assert voted.status_code == 200 and 'data-testid="kb-thanks"' in voted.content.decode()
    assert client.post(f"/agent/knowledge/{a.pk}/feedback/", {"useful": "maybe"}).status_code == 400
    a.refresh_from_db()
    assert (a.use_count, a.useful_count) == (1, 1)
    draft = article(title="草稿", publish=False)
    assert client.post(f"/agent/knowledge/{draft.pk}/feedback/", {"useful": "1"}).status_code == 404


def test_a_unit_proposal_with_an_end_before_its_start_keeps_what_was_typed(yuhu):
    client = client_for(yuhu)
    today = timezone.localdate()
    form = {
        "title": "雨湖区垃圾清运时间",
        "body": "每日两次，早六点、晚六点。",
        "source": "雨湖区城管局通知",
        "valid_from": today.isoformat(),
        "valid_until": (today - timedelta(days=1)).isoformat(),
        "reason": "新增",
    }
    refused = client.post("/unit/knowledge/propose/", form)
    html = refused.content.decode()
    assert refused.status_code == 400 and "每日两次，早六点、晚六点。" in html
    assert not KnowledgeProposal.objects.exists()
    done = client.post("/unit/knowledge/propose/", {**form, "valid_until": ""}, follow=True)
    assert 'data-testid="proposal-row"' in done.content.decode()
    assert KnowledgeProposal.objects.get().unit == yuhu.unit


def test_a_unit_cannot_propose_for_another_units_article(yuhu):
    other = article(title="岳塘区的文章", source_unit=Unit.objects.get(code="YT"))
    client = client_for(yuhu)
    assert client.get("/unit/knowledge/", {"article": other.pk}).status_code == 404
    form = {"article": other.pk, "title": "x", "body": "y", "source": "z", "valid_from": "2026-01-01", "reason": "r"}
    assert client.post("/unit/knowledge/propose/", form).status_code == 404


def test_the_center_accepts_and_publishes_from_its_page(yuhu, dispatcher):
    client_for(yuhu).post(
        "/unit/knowledge/propose/",
        {
            "title": "雨湖区垃圾清运时间",
            "body": "每日两次。",
            "source": "雨湖区城管局",
            "valid_from": "2026-01-01",
            "reason": "新增",
        },
    )
    center = client_for(dispatcher)
    page = center.get("/knowledge/").content.decode()
    assert 'data-testid="proposal"' in page and "雨湖区垃圾清运时间" in page
    proposal = KnowledgeProposal.objects.get()
    center.post(f"/knowledge/proposals/{proposal.pk}/decide/", {"decision": "publish", "note": ""})
    made = KnowledgeArticle.objects.get(title="雨湖区垃圾清运时间")
    assert made.state == "published" and made.source_unit == yuhu.unit
    center.post(f"/knowledge/articles/{made.pk}/move/", {"state": "expired", "note": "政策到期"})
    made.refresh_from_db()
    assert made.state == "expired"
    refused = center.post(f"/knowledge/articles/{made.pk}/move/", {"state": "published"}, follow=True)
    assert "不能" in refused.content.decode() or "cannot" in refused.content.decode()
