"""API tokens (issue 11, hole 5): they expire, die at logout, password change and deactivation,
one live token per account, and the admin lists and revokes them."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from tests.conftest import PASSWORD

TOKEN, TICKETS = "/api/v1/auth/token/", "/api/v1/tickets/"

pytestmark = pytest.mark.django_db


def issue(user) -> str:
    response = APIClient().post(TOKEN, {"username": user.username, "password": PASSWORD})
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"token", "expiry"}
    return body["token"]


def status_with(token: str) -> int:
    return APIClient().get(TICKETS, HTTP_AUTHORIZATION=f"Token {token}").status_code


def test_a_token_expires_after_the_configured_hours(dispatcher):
    token = issue(dispatcher)
    assert status_with(token) == 200
    with time_machine.travel(timezone.now() + timedelta(hours=settings.API_TOKEN_TTL_HOURS, minutes=1)):
        assert status_with(token) == 401


def test_the_response_says_when_the_token_expires(dispatcher):
    body = APIClient().post(TOKEN, {"username": dispatcher.username, "password": PASSWORD}).json()
    expiry = timezone.datetime.fromisoformat(body["expiry"])
    left = expiry - timezone.now()
    assert timedelta(hours=settings.API_TOKEN_TTL_HOURS - 1) < left <= timedelta(hours=settings.API_TOKEN_TTL_HOURS)


def test_api_logout_revokes_the_token_it_carries(dispatcher, settings):
    settings.API_TOKENS_PER_USER = 2
    first, second = issue(dispatcher), issue(dispatcher)
    response = APIClient().post("/api/v1/auth/logout/", HTTP_AUTHORIZATION=f"Token {first}")
    assert response.status_code == 204
    assert status_with(first) == 401
    assert status_with(second) == 200


def test_api_logoutall_revokes_every_token(dispatcher, settings):
    settings.API_TOKENS_PER_USER = 2
    first, second = issue(dispatcher), issue(dispatcher)
    assert APIClient().post("/api/v1/auth/logoutall/", HTTP_AUTHORIZATION=f"Token {first}").status_code == 204
    assert status_with(first) == 401 and status_with(second) == 401


def test_console_logout_revokes_the_accounts_tokens(dispatcher):
    token = issue(dispatcher)
    console = Client()
    assert console.post("/login/", {"username": dispatcher.username, "password": PASSWORD}).status_code == 302
    console.post("/logout/")
    assert status_with(token) == 401


def test_a_password_change_revokes_the_tokens(dispatcher):
    token = issue(dispatcher)
    dispatcher.set_password("another-long-passphrase-77")
    dispatcher.save()
    assert status_with(token) == 401


def test_deactivation_revokes_the_tokens(dispatcher):
    token = issue(dispatcher)
    dispatcher.is_active = False
    dispatcher.save()
    dispatcher.is_active = True
    dispatcher.save()
    assert status_with(token) == 401


def test_a_new_token_replaces_the_older_one(dispatcher):
    first = issue(dispatcher)
    second = issue(dispatcher)
    assert status_with(first) == 401
    assert status_with(second) == 200


def test_the_admin_lists_and_revokes_tokens(dispatcher, seeded):
    from knox.models import AuthToken

    from hotline.models import User

    token = issue(dispatcher)
    admin = User.objects.create_superuser("root", password=PASSWORD, role="admin")
    client = Client()
    client.force_login(admin)
    listing = client.get("/admin/knox/authtoken/")
    assert listing.status_code == 200 and dispatcher.username in listing.content.decode()
    assert client.get("/admin/knox/authtoken/add/").status_code == 403  # tokens are issued by the endpoint only
    digest = AuthToken.objects.get(user=dispatcher).digest
    response = client.post(
        "/admin/knox/authtoken/", {"action": "revoke", "_selected_action": [digest], "index": 0}, follow=True
    )
    assert response.status_code == 200
    assert status_with(token) == 401


def test_an_unauthenticated_api_call_is_401_with_a_token_challenge(seeded):
    response = APIClient().get(TICKETS)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
