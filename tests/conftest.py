"""Shared fixtures: the 湘潭 network seeded once, and named personas.

The reference data (categories, topics, SLAs, calendar, units, dispatch rules)
is created once per test session with the same seeding code the demo uses.
Ordinary tests roll back to it; transactional tests (which flush the database)
re-seed through the ``seeded`` fixture.
"""

from __future__ import annotations

import pytest
from django.db import connection
from rest_framework.test import APIClient

from hotline.models import Area, Category, Role, Topic, Unit, User
from hotline.seed import seed_reference
from hotline.seed.xiangtan import seed_network
from routing.seed import seed_dispatch_rules

PASSWORD = "correct-horse-12345"


def pytest_configure(config) -> None:
    from django.conf import settings

    # The real hasher is slow on purpose; personas are made in nearly every test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Personas log in with force_login, which has no second factor; the two-factor tests
    # (tests/web/test_auth_twofactor.py) put the production default back.
    settings.OTP_REQUIRED_ROLES = []
    # Call recordings (and the simulator's) never land in the checkout's var/.
    import tempfile
    from pathlib import Path

    settings.RECORDINGS_DIR = Path(tempfile.mkdtemp(prefix="lianxin-recordings-"))


def seed_everything() -> None:
    seed_reference()
    seed_network()
    seed_dispatch_rules()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        seed_everything()


@pytest.fixture
def seeded(db):
    """The reference data, present even after a transactional test flushed it."""
    if not Unit.objects.exists():
        seed_everything()


def unit(code: str) -> Unit:
    return Unit.objects.get(code=code)


def make_user(username: str, role: str, unit_code: str | None = None, **extra) -> User:
    user = User.objects.create_user(
        username, password=PASSWORD, role=role, unit=unit(unit_code) if unit_code else None, **extra
    )
    return user


@pytest.fixture
def agent(seeded) -> User:
    """Xiao Wang, a phone agent at the 12345 center."""
    return make_user("agent_wang", Role.AGENT, "XT12345", agent_extension="1001")


@pytest.fixture
def dispatcher(seeded) -> User:
    return make_user("dispatcher_li", Role.DISPATCHER, "XT12345")


@pytest.fixture
def supervisor(seeded) -> User:
    return make_user("supervisor_zhao", Role.SUPERVISOR, "XT12345")


@pytest.fixture
def yuhu(seeded) -> User:
    """A unit handler of 雨湖区 (level 2)."""
    return make_user("handler_yuhu", Role.UNIT_HANDLER, "YH")


@pytest.fixture
def chengzheng(seeded) -> User:
    """A unit handler of 城正街街道, a street under 雨湖区 (level 3)."""
    return make_user("handler_chengzheng", Role.UNIT_HANDLER, "YH01")


@pytest.fixture
def yuetang(seeded) -> User:
    """An outsider: a handler of 岳塘区, who must be refused 雨湖区's tickets."""
    return make_user("handler_yuetang", Role.UNIT_HANDLER, "YT")


@pytest.fixture
def zhujian(seeded) -> User:
    """A handler of 市住房和城乡建设局 (a municipal department)."""
    return make_user("handler_zhujian", Role.UNIT_HANDLER, "ZJJ")


@pytest.fixture
def complaint(seeded) -> Category:
    return Category.objects.get(code="complaint")


@pytest.fixture
def noise(seeded) -> Topic:
    return Topic.objects.get(code="0201")


@pytest.fixture
def yuhu_area(seeded) -> Area:
    return Area.objects.get(code="YH01")


def api_as(user: User, language: str = "en") -> APIClient:
    """An API client of ``user``; its error messages come in ``language`` (Accept-Language)."""
    client = APIClient(HTTP_ACCEPT_LANGUAGE=language)
    client.force_authenticate(user)
    return client


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def pytest_collection_modifyitems(config, items) -> None:
    """``redis`` and ``postgres`` tests need the real service: they are skipped on the embedded default.

    CI (``LIANXIN_REQUIRE_SERVICES=1``, see pytest_sessionstart) has both, so there they all run.
    """
    from django.conf import settings

    missing = {
        "redis": "needs Redis (REDIS_URL): the in-memory channel layer cannot show this",
        "postgres": "needs PostgreSQL (DATABASE_URL)",
    }
    if settings.REDIS_URL:
        missing.pop("redis")
    if "postgresql" in settings.DATABASES["default"]["ENGINE"]:
        missing.pop("postgres")
    for item in items:
        for marker, reason in missing.items():
            if marker in item.keywords:
                item.add_marker(pytest.mark.skip(reason=reason))


def pytest_sessionstart(session) -> None:
    """In CI the real services are required: fail at once rather than skip quietly."""
    import os

    if os.environ.get("LIANXIN_REQUIRE_SERVICES") != "1":
        return
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        raise pytest.UsageError(f"CI requires PostgreSQL, got {engine}")
    if not settings.REDIS_URL:
        raise pytest.UsageError("CI requires REDIS_URL")


@pytest.fixture(autouse=True)
def _english_outside_requests():
    """Services raise messages in the active language; tests match their English msgids.

    Requests (test client, consumers) still choose their own language, as in production:
    the consoles' pages and fragments are checked in Chinese.
    """
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    """A new channel layer object per test.

    Each test runs its own event loop, and channels_redis binds its receive lock to the loop
    that first waited on it; a layer shared across tests fails in the next loop. (A server
    process has one loop for its life, so production keeps one layer.) It also keeps one
    test's undelivered messages out of the next on the in-memory layer.
    """
    from channels.layers import channel_layers

    from web.consumers import WallboardConsumer

    channel_layers.backends.clear()
    WallboardConsumer.today.clear()  # a figure cached by the last test is not this test's
    WallboardConsumer.overdue.clear()
    yield
    channel_layers.backends.clear()
