"""The API's permission classes (web/api/permissions.py): who gets past them, who is refused."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from hotline.models import Role
from tests.conftest import make_user
from web.api.permissions import IsCenterOrUnitHandler, IsCenterStaff


def allowed(permission_class, user) -> bool:
    request = Request(APIRequestFactory().get("/api/v1/"))
    request.user = user
    return permission_class().has_permission(request, view=None)


def test_center_staff_only_lets_the_center_in(agent, dispatcher, supervisor, yuhu):
    assert allowed(IsCenterStaff, agent)
    assert allowed(IsCenterStaff, dispatcher)
    assert allowed(IsCenterStaff, supervisor)
    assert not allowed(IsCenterStaff, yuhu)
    assert not allowed(IsCenterStaff, AnonymousUser())


def test_center_staff_admits_a_superuser_whatever_the_role(seeded):
    root = make_user("root", Role.UNIT_HANDLER, is_superuser=True)
    assert allowed(IsCenterStaff, root)


def test_center_or_unit_handler_lets_in_the_center_and_a_unit_member(agent, supervisor, yuhu, chengzheng):
    assert allowed(IsCenterOrUnitHandler, agent)
    assert allowed(IsCenterOrUnitHandler, supervisor)
    assert allowed(IsCenterOrUnitHandler, yuhu)
    assert allowed(IsCenterOrUnitHandler, chengzheng)
    assert not allowed(IsCenterOrUnitHandler, AnonymousUser())


def test_center_or_unit_handler_refuses_a_handler_without_a_unit(seeded):
    assert not allowed(IsCenterOrUnitHandler, make_user("handler_nowhere", Role.UNIT_HANDLER))


@pytest.mark.parametrize(
    ("url", "center", "handler"),
    [
        ("/api/v1/calls/", 200, 403),
        ("/api/v1/callbacks/", 200, 403),
        ("/api/v1/agent-state/", 200, 403),
        ("/api/v1/metrics/callcenter/", 200, 403),
        ("/api/v1/metrics/kpis/", 200, 200),
    ],
)
def test_the_endpoints_use_them(client, supervisor, yuhu, url, center, handler):
    """Mounted as the project mounts them: the classes are the ones the views check."""
    assert client.get(url).status_code == 401  # anonymous: knox answers first, with WWW-Authenticate: Token
    client.force_login(supervisor)
    assert client.get(url).status_code == center
    client.force_login(yuhu)
    assert client.get(url).status_code == handler
