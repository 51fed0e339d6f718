"""Headers (issue 11, point 12): a Content-Security-Policy without inline script or style that the
pages meet, the API docs behind login when they are not public, 401 with a challenge for the API."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.test import Client
from rest_framework.test import APIClient

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_DIRS = [ROOT / "web" / "templates", ROOT / "hotline" / "templates"]

pytestmark = pytest.mark.django_db


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


class InlineFinder(HTMLParser):
    """Inline scripts, event-handler attributes, <style> elements and style attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and not attrs.get("src") and attrs.get("type") != "application/json":
            self.found.append("inline <script>")
        if tag == "style":
            self.found.append("<style>")
        for name in attrs:
            if name.startswith("on") or name == "style":
                self.found.append(f"{tag} {name}=")
            if name.startswith("hx-on"):
                self.found.append(f"{tag} {name}= (htmx eval)")


def inline_in(html: str) -> list[str]:
    finder = InlineFinder()
    finder.feed(html)
    return finder.found


def test_the_policy_allows_no_inline_script_or_style_and_no_eval(seeded):
    rules = policy(Client().get("/login/"))
    assert rules["script-src"] == ["'self'"]
    assert rules["style-src"] == ["'self'"]
    assert rules["object-src"] == ["'none'"] and rules["frame-ancestors"] == ["'none'"]
    assert rules["base-uri"] == ["'none'"]


@pytest.mark.parametrize("path", sorted({str(p.relative_to(d)) for d in TEMPLATE_DIRS for p in d.rglob("*.html")}))
def test_no_template_has_inline_script_handlers_or_styles(path):
    source = next((d / path) for d in TEMPLATE_DIRS if (d / path).exists()).read_text()
    # Django tags out of the way: what is left is the markup a browser gets.
    markup = re.sub(r"{%.*?%}|{{.*?}}", "x", source, flags=re.S)
    assert inline_in(markup) == [], path


@pytest.mark.parametrize(
    ("who", "path"),
    [
        (None, "/login/"),
        ("agent", "/agent/"),
        ("yuhu", "/unit/"),
        ("dispatcher", "/dispatch/"),
        ("supervisor", "/wallboard/"),
        ("supervisor", "/dashboard/"),
        ("agent", "/login/enrol/"),
    ],
)
def test_every_console_page_meets_the_policy(request, who, path):
    client = Client()
    if who:
        client.force_login(request.getfixturevalue(who))
    response = client.get(path)
    assert response.status_code == 200
    assert "Content-Security-Policy" in response
    assert inline_in(response.content.decode()) == []


def test_the_api_docs_are_behind_login_unless_public(settings, dispatcher):
    settings.API_DOCS_PUBLIC = False
    schema = APIClient().get("/api/schema/")
    assert schema.status_code == 401 and schema["WWW-Authenticate"] == "Token"
    docs = Client().get("/api/docs/")
    assert docs.status_code == 302 and docs.url.startswith("/login/")
    assert APIClient().get("/api/docs/?script=").status_code == 401
    client = Client()
    client.force_login(dispatcher)
    assert client.get("/api/schema/").status_code == 200
    page = client.get("/api/docs/")
    assert page.status_code == 200 and inline_in(page.content.decode()) == []
    assert client.get("/api/docs/?script=")["Content-Type"].startswith("application/javascript")


def test_the_api_docs_are_public_when_configured(settings, seeded):
    settings.API_DOCS_PUBLIC = True
    assert Client().get("/api/schema/").status_code == 200
    assert Client().get("/api/docs/").status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/tickets/", "/api/v1/metrics/kpis/", "/api/v1/calls/"])
def test_an_anonymous_api_call_is_401_with_www_authenticate(seeded, path):
    response = APIClient().get(path)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json()["error"] == "not_authenticated"


def test_an_attachment_keeps_its_own_sandboxing_policy():
    """The middleware does not overwrite a policy a response set itself (web/api/attachments.py)."""
    from csp.middleware import CSPMiddleware
    from django.http import HttpResponse
    from django.test import RequestFactory

    response = HttpResponse()
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    request = RequestFactory().get("/api/v1/attachments/1/")
    middleware = CSPMiddleware(lambda r: response)
    assert middleware(request)["Content-Security-Policy"] == "sandbox; default-src 'none'"
