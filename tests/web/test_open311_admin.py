"""Open311 systems in the admin: a key made on "add" and shown once, revoked by an action, never deleted."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from hotline.models import Open311Client, Topic, User
from hotline.services import open311

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(seeded) -> Client:
    user = User.objects.create_superuser("open311_admin", password="x-Very-long-9")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def test_adding_a_system_shows_its_key_once_and_stores_only_the_hash(admin_client) -> None:
    response = admin_client.post(
        "/admin/hotline/open311client/add/",
        {"name": "湘潭城管通", "operator": "市城管局信息科", "channel_label": "城管通", "rate_limit_per_hour": "30"},
        follow=True,
    )
    text = response.content.decode()
    key = re.search(r"The API key of 湘潭城管通 is (\S+) — give it to the system now", text).group(1)
    system = Open311Client.objects.get(name="湘潭城管通")
    assert system.created_by.username == "open311_admin" and system.rate_limit_per_hour == 30
    assert key not in system.key_hash and open311.authenticate(key) == system
    page = admin_client.get(f"/admin/hotline/open311client/{system.pk}/change/").content.decode()
    assert key not in page and system.key_prefix in page


def test_the_revoke_action_refuses_the_key_from_then_on_and_nothing_is_deleted(admin_client) -> None:
    system, key = open311.create_client(name="s", operator="o", channel_label="c", rate_limit_per_hour=5, by=None)
    response = admin_client.post(
        "/admin/hotline/open311client/", {"action": "revoke", "_selected_action": [system.pk]}, follow=True
    )
    assert "1 key(s) revoked." in response.content.decode()
    system.refresh_from_db()
    assert system.revoked_at is not None and system.revoked_by.username == "open311_admin"
    with pytest.raises(Exception, match="revoked"):
        open311.authenticate(key)
    assert admin_client.get(f"/admin/hotline/open311client/{system.pk}/delete/").status_code == 403


def test_a_topics_extra_fields_are_checked_in_the_admin(admin_client) -> None:
    topic = Topic.objects.get(code="0203")
    data = {"code": "0203", "name": topic.name, "parent": topic.parent_id, "extra_fields": '[{"code": "a b"}]'}
    response = admin_client.post(f"/admin/hotline/topic/{topic.pk}/change/", data)
    text = response.content.decode()
    assert response.status_code == 200  # the form again, with the errors
    assert "the code must be 1–32 letters, digits, _ or -" in text
    assert "the datatype must be one of string, number" in text
    topic.refresh_from_db()
    assert topic.extra_fields == []
