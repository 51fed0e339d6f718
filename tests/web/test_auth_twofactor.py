"""Two-factor authentication, password policy and session timeout (issue 11, point 11)."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings as django_settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from hotline.models import Role
from tests.conftest import PASSWORD, make_user
from web import demo

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def production_roles(settings):
    settings.OTP_REQUIRED_ROLES = ["admin", "supervisor"]


def code(device: TOTPDevice, steps_ahead: int = 0) -> str:
    device.refresh_from_db()
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift + steps_ahead):06d}"


def enrolled(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def password_step(client: Client, user, next_url: str = "") -> object:
    data = {"username": user.username, "password": PASSWORD}
    if next_url:
        data["next"] = next_url
    return client.post("/login/", data)


def test_the_password_alone_does_not_log_in_a_user_with_a_device(supervisor):
    device = enrolled(supervisor)
    client = Client()
    response = password_step(client, supervisor)
    assert response.status_code == 302 and response.url == "/login/verify/"
    assert client.get("/wallboard/").status_code == 302  # not logged in yet
    assert client.post("/login/verify/", {"otp": "000000" if code(device) != "000000" else "111111"}).status_code == 400
    with time_machine.travel(timezone.now() + timedelta(seconds=5)):  # django-otp throttles after a failure
        response = client.post("/login/verify/", {"otp": code(device)})
        assert response.status_code == 302 and response.url == "/"
        assert client.get("/wallboard/").status_code == 200


def test_a_voluntary_device_makes_the_code_part_of_every_login(agent):
    """Available to everyone: an agent who enrolled is asked for the code too."""
    enrolled(agent)
    response = password_step(Client(), agent)
    assert response.url == "/login/verify/"


def test_a_user_without_a_device_and_not_required_logs_in_with_the_password(agent):
    response = password_step(Client(), agent)
    assert response.status_code == 302 and response.url == "/"


def test_too_many_wrong_codes_send_the_user_back_to_the_password(supervisor):
    device = enrolled(supervisor)
    client = Client()
    password_step(client, supervisor)
    wrong = "123456" if code(device) != "123456" else "654321"
    for _ in range(5):
        client.post("/login/verify/", {"otp": wrong})
    assert client.post("/login/verify/", {"otp": code(device)}).url == "/login/"


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.ADMIN])
def test_a_required_role_without_a_device_enrols_before_anything_else(seeded, role):
    user = make_user(f"new_{role}", role, "XT12345", is_staff=True)
    client = Client()
    response = password_step(client, user, next_url="/admin/")
    assert response.url == "/login/enrol/"
    assert client.get("/admin/").status_code == 302
    page = client.get("/login/enrol/")
    html = page.content.decode()
    assert "<svg" in html and 'data-testid="otp-secret"' in html
    secret = re.search(r'data-testid="otp-secret">([A-Z2-7 ]+)<', html)[1].replace(" ", "")
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert base64.b32decode(secret) == device.bin_key
    response = client.post("/login/enrol/", {"otp": code(device)})
    assert response.status_code == 302 and response.url == "/admin/"
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/admin/").status_code == 200


def test_a_superuser_counts_as_an_admin(seeded):
    from hotline.models import User

    root = User.objects.create_superuser("root", password=PASSWORD, role=Role.AGENT)
    assert password_step(Client(), root).url == "/login/enrol/"


def test_a_session_opened_without_the_code_is_ended_when_the_role_requires_it(dispatcher):
    """A dispatcher promoted to supervisor (or a session from before the requirement) logs in again."""
    client = Client()
    client.force_login(dispatcher)
    assert client.get("/dispatch/").status_code == 200
    dispatcher.role = Role.SUPERVISOR
    dispatcher.save()
    response = client.get("/dispatch/")
    assert response.status_code == 302 and response.url.startswith("/login/")
    api = client.get("/api/v1/tickets/")
    assert api.status_code == 401


def test_the_admins_own_login_form_is_not_a_way_around(supervisor):
    response = Client().get("/admin/login/?next=/admin/")
    assert response.status_code == 302 and response.url.startswith("/login/")


def test_anybody_logged_in_may_enrol_an_app(agent):
    client = Client()
    client.force_login(agent)
    assert client.get("/login/enrol/").status_code == 200
    device = TOTPDevice.objects.get(user=agent, confirmed=False)
    assert client.post("/login/enrol/", {"otp": code(device)}).status_code == 302
    assert client.get("/agent/").status_code == 200  # this session is the verified one
    assert password_step(Client(), agent).url == "/login/verify/"


def test_a_token_for_a_required_role_needs_the_code(supervisor):
    api = APIClient()
    form = {"username": supervisor.username, "password": PASSWORD}
    assert api.post("/api/v1/auth/token/", form).status_code == 403  # no device: enrol at the console first
    device = enrolled(supervisor)
    missing = api.post("/api/v1/auth/token/", form)
    assert missing.status_code == 400 and "otp" in missing.json()["fields"]
    assert api.post("/api/v1/auth/token/", {**form, "otp": code(device)}).status_code == 200


def test_the_demo_seeds_devices_for_the_required_roles_only(seeded):
    demo.seed_users()
    secrets = dict(demo.seed_second_factors())
    assert set(secrets) == {"admin", "supervisor"}
    assert demo.seed_second_factors() == list(secrets.items())  # idempotent: the same devices


def test_passwords_follow_the_policy(agent):
    for weak in ["Short1!", "password12345", "12345678901234", "agent_wang_2024"]:
        with pytest.raises(ValidationError):
            validate_password(weak, agent)
    validate_password("horse-battery-staple-93", agent)
    validate_password(demo.DEMO_PASSWORD, agent)
    assert django_settings.PASSWORD_MIN_LENGTH == 12
    with pytest.raises(ValidationError):
        validate_password("elevenchars", agent)  # 11 characters


def test_a_session_ends_after_session_cookie_age(agent):
    client = Client()
    client.force_login(agent)
    with time_machine.travel(timezone.now() + timedelta(seconds=django_settings.SESSION_COOKIE_AGE + 60)):
        response = client.get("/agent/")
    assert response.status_code == 302 and response.url.startswith("/login/")


def test_the_session_timeout_and_idle_expiry_come_from_the_environment():
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env |= {"SESSION_COOKIE_AGE": "900", "SESSION_SAVE_EVERY_REQUEST": "1", "DJANGO_SETTINGS_MODULE": "config.settings"}
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings as s; "
            "print(s.SESSION_COOKIE_AGE, s.SESSION_SAVE_EVERY_REQUEST)",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out == ["900", "True"]


@pytest.mark.django_db(transaction=True)
def test_a_console_socket_needs_the_second_factor_too(seeded, settings):
    """A supervisor's session without the code cannot open the wallboard's socket; with it, it can."""
    from asgiref.sync import async_to_sync

    from tests.web.test_consumers import communicator

    settings.OTP_REQUIRED_ROLES = ["admin", "supervisor"]
    boss = make_user("supervisor_qin", Role.SUPERVISOR, "XT12345")
    device = enrolled(boss)
    unverified, verified = Client(), Client()
    unverified.force_login(boss)  # a session opened without the code (e.g. before the requirement)
    password_step(verified, boss)
    assert verified.post("/login/verify/", {"otp": code(device)}).status_code == 302

    async def opens(client: Client) -> bool:
        comm = communicator("/ws/wallboard/", client.cookies[django_settings.SESSION_COOKIE_NAME].value)
        connected, _ = await comm.connect(timeout=5)
        await comm.disconnect()
        return connected

    assert async_to_sync(opens)(unverified) is False
    assert async_to_sync(opens)(verified) is True
