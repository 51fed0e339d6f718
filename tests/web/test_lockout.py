"""Login lockout (django-axes) on both doors: the console's /login/ and the API's /api/v1/auth/token/.

Failures count per username and per client address. The address is the TCP peer that
`manage.py serve` (uvicorn) sees: X-Forwarded-For is believed only from TRUSTED_PROXIES, so
the header neither spreads guesses over fresh addresses nor unlocks a locked account.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient

from tests.conftest import PASSWORD, make_user
from web.management.commands.serve import server_config

LOGIN, TOKEN = "/login/", "/api/v1/auth/token/"


def logged_in(path: str, response) -> bool:
    if path == LOGIN:
        return response.status_code == 302 and response.url == "/"
    return response.status_code == 200 and "token" in response.json()


def attempt(path: str, username: str, password: str, address: str):
    client = Client() if path == LOGIN else APIClient()
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=address)


@pytest.mark.django_db
@pytest.mark.parametrize("path", [LOGIN, TOKEN])
def test_a_username_is_locked_whatever_the_address(agent, path):
    for n in range(settings.AXES_FAILURE_LIMIT):
        assert not logged_in(path, attempt(path, agent.username, "wrong", f"198.51.100.{n}"))
    assert not logged_in(path, attempt(path, agent.username, PASSWORD, "203.0.113.9"))


@pytest.mark.django_db
@pytest.mark.parametrize("path", [LOGIN, TOKEN])
def test_an_address_is_locked_whatever_the_username(seeded, path):
    for n in range(settings.AXES_FAILURE_LIMIT):
        attempt(path, f"nobody{n}", "wrong", "198.51.100.1")
    user = make_user("dispatcher_sun", "dispatcher", "XT12345")
    assert not logged_in(path, attempt(path, user.username, PASSWORD, "198.51.100.1"))
    assert logged_in(path, attempt(path, user.username, PASSWORD, "198.51.100.2"))


@pytest.mark.django_db
def test_another_accounts_login_from_the_same_address_does_not_clear_a_usernames_failures(agent, dispatcher):
    """A valid login resets only its own username's failures from its address, nobody else's."""
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt(LOGIN, agent.username, "wrong", "198.51.100.1")
    assert logged_in(LOGIN, attempt(LOGIN, dispatcher.username, PASSWORD, "198.51.100.1"))
    attempt(LOGIN, agent.username, "wrong", "198.51.100.1")
    assert not logged_in(LOGIN, attempt(LOGIN, agent.username, PASSWORD, "198.51.100.3"))


@pytest.mark.django_db
def test_a_valid_login_clears_its_own_earlier_failures(agent):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt(LOGIN, agent.username, "wrong", "198.51.100.1")
    assert logged_in(LOGIN, attempt(LOGIN, agent.username, PASSWORD, "198.51.100.1"))
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt(LOGIN, agent.username, "wrong", "198.51.100.1")
    assert logged_in(LOGIN, attempt(LOGIN, agent.username, PASSWORD, "198.51.100.1"))


# --- Through the server `manage.py serve` runs (uvicorn and its proxy-header handling) -----------


class Served:
    """HTTP requests into the ASGI app as `serve` wraps it, arriving from one TCP peer."""

    def __init__(self, peer: str = "127.0.0.1") -> None:
        config = server_config("127.0.0.1", 8000)
        config.load()
        self.app = config.loaded_app
        self.peer = peer
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None, forwarded_for: str = ""):
        headers = [(b"host", b"testserver")]
        body = urlencode(form or {}).encode()
        if form is not None:
            headers.append((b"content-type", b"application/x-www-form-urlencoded"))
            headers.append((b"content-length", str(len(body)).encode()))
        if forwarded_for:
            headers.append((b"x-forwarded-for", forwarded_for.encode()))
        if self.cookies:
            headers.append((b"cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()).encode()))
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": headers,
            "client": (self.peer, 50000),
            "server": ("127.0.0.1", 8000),
        }
        return async_to_sync(self._exchange)(scope, body)

    async def _exchange(self, scope: dict, body: bytes) -> tuple[int, dict[str, str], bytes]:
        comm = ApplicationCommunicator(self.app, scope)
        await comm.send_input({"type": "http.request", "body": body, "more_body": False})
        start = await comm.receive_output(timeout=10)
        headers: dict[str, str] = {}
        for name, value in start["headers"]:
            headers[name.decode().lower()] = value.decode()
            if name.lower() == b"set-cookie":
                cookie = re.match(r"([^=]+)=([^;]*)", value.decode())
                self.cookies[cookie[1]] = cookie[2]
        content = b""
        while True:
            message = await comm.receive_output(timeout=10)
            content += message.get("body", b"")
            if not message.get("more_body"):
                break
        await comm.wait(timeout=10)
        return start["status"], headers, content

    def log_in(self, path: str, username: str, password: str, forwarded_for: str = "") -> bool:
        form = {"username": username, "password": password}
        if path == LOGIN:
            self.request("GET", LOGIN)
            form["csrfmiddlewaretoken"] = self.cookies[settings.CSRF_COOKIE_NAME]
        status, headers, content = self.request("POST", path, form, forwarded_for)
        if path == LOGIN:
            return status == 302 and headers.get("location") == "/"
        return status == 200 and b'"token"' in content


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", [LOGIN, TOKEN])
def test_rotating_x_forwarded_for_does_not_spread_guesses_over_fresh_addresses(seeded, path):
    user = make_user("agent_qian", "agent", "XT12345")
    served = Served()
    for n in range(settings.AXES_FAILURE_LIMIT):
        assert not served.log_in(path, f"nobody{n}", "wrong", forwarded_for=f"198.51.100.{n}")
    # the address that made those guesses is locked, whatever it now claims to forward for
    assert not served.log_in(path, user.username, PASSWORD, forwarded_for="203.0.113.77")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", [LOGIN, TOKEN])
def test_x_forwarded_for_cannot_unlock_a_locked_account(seeded, path):
    user = make_user("agent_qian", "agent", "XT12345")
    served = Served()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        served.log_in(path, user.username, "wrong")
    assert not served.log_in(path, user.username, PASSWORD, forwarded_for="203.0.113.77")


@pytest.mark.django_db(transaction=True)
def test_x_forwarded_for_from_a_trusted_proxy_names_the_client(seeded, settings):
    """Behind a proxy listed in TRUSTED_PROXIES the forwarded client is the address that is counted."""
    settings.TRUSTED_PROXIES = ["10.0.0.5"]
    user = make_user("agent_qian", "agent", "XT12345")
    proxy = Served(peer="10.0.0.5")
    for n in range(settings.AXES_FAILURE_LIMIT):
        proxy.log_in(TOKEN, f"nobody{n}", "wrong", forwarded_for="198.51.100.1")
    assert not proxy.log_in(TOKEN, user.username, PASSWORD, forwarded_for="198.51.100.1")
    assert proxy.log_in(TOKEN, user.username, PASSWORD, forwarded_for="spoofed, 198.51.100.2")
