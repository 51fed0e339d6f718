"""Issue 11: the authorization matrix, walked from one table (tests/security/matrix.py).

Every row × every persona × own/other unit is one case. Each case builds its own target through
the services inside the test's transaction (rolled back after), asks the URL as that persona
(a knox token on the API, a session on the pages) and checks the outcome; for a POST it also
checks the target: changed when allowed, untouched when refused. A guard fails when the URL conf
has a pattern (or, on the API, a method) the table does not cover, and another when
docs/authorization.md is not the table's rendering.
"""

from __future__ import annotations

import os
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import resolve

from hotline.models import Unit
from tests.security import matrix as M
from tests.security import world as W

DOC = Path(__file__).resolve().parents[2] / "docs" / "authorization.md"
CASES = [(row, persona, scope) for row in M.ROWS for persona, scope in row.cells()]


def case_id(case) -> str:
    row, persona, scope = case
    return f"{row.key}-{persona}{'.' + scope if scope else ''}"


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The personas and their tokens, made once for the module and rolled back at its end."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield W.make_world()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture(autouse=True)
def _production_like(settings, tmp_path):
    settings.API_DOCS_PUBLIC = False
    settings.SMS_INBOUND_TOKEN = "matrix-inbound-token"
    settings.CALLBACK_HOURS = "00:00-23:59:59"
    settings.MEDIA_ROOT = str(tmp_path)
    settings.ATTACHMENTS_X_ACCEL_PREFIX = ""
    cache.clear()  # throttles and lockouts count per address: one case must not spend the next one's
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _phone_system_says_yes():
    """The AMI bridge runs in another process; here it accepts every command (as tests/factories does)."""
    answer = {"ok": True, "success": True, "linkedid": "matrix.bridge", "pbx_epoch": 0}
    with mock.patch("telephony.control.call_bridge", return_value=answer):
        yield


def ask(row: M.Row, target: W.Target, body: dict | None, world: W.World, persona: str):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    actor = world.users.get(persona)
    headers = {}
    if actor is not None:
        if row.page or row.session:
            client.force_login(actor)
        else:
            headers["Authorization"] = f"Token {world.tokens[persona]}"
    path = row.path(target) if callable(row.path) else row.path
    assert resolve(path.split("?")[0]).view_name == row.name, f"{path} is not {row.name}"
    if row.method == "GET":
        return client.get(path, headers=headers)
    if row.fmt == "json":
        return client.post(path, body or {}, content_type="application/json", headers=headers)
    if row.fmt == "form":
        from urllib.parse import urlencode

        data = urlencode(body or {})
        return client.post(path, data, content_type="application/x-www-form-urlencoded", headers=headers)
    return client.post(path, body or {}, headers=headers)  # multipart


def outcome(response, row: M.Row, anonymous: bool) -> str:
    status = response.status_code
    if status == 401:
        return M.LOGIN if response.has_header("WWW-Authenticate") else "401 without WWW-Authenticate"
    location = response.get("Location", "")
    if status in (301, 302, 303) and location.startswith(LOGIN_PAGES):
        # The admin sends a logged-in non-staff user to log in again: a refusal, not a way in.
        return M.LOGIN if anonymous or row.fixed == M.LOGIN else M.DENIED
    if status in (403, 404):
        return M.DENIED
    if 200 <= status < 400:
        return M.OK
    return f"status {status}"


def listed(response, row: M.Row, target: W.Target) -> bool:
    """Whether a list (JSON or the workbench page) shows the target."""
    if row.page:
        if row.listing is not None:  # a file, such as an exported workbook
            return target.data["number"] in row.listing(response)
        return target.data["number"] in response.content.decode()
    body = response.json()
    if row.listing is not None:
        return target.key in row.listing(body)
    items = body["results"] if isinstance(body, dict) else body
    return any(item["id"] == target.key for item in items)


LOGIN_PAGES = (resolve_url(settings.LOGIN_URL), "/admin/login/")


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_the_matrix(case, world, db):
    row, persona, scope = case
    actor = world.users.get(persona)
    unit = Unit.objects.get(code=W.SCOPE_UNITS.get((persona, scope), W.DEFAULT_UNIT))
    target = row.target(world, unit, actor) if row.target else W.Target()
    body = row.body(target, world, actor) if row.body else None
    before = target.state()
    response = ask(row, target, body, world, persona)
    expected = row.expected(persona, scope)
    got = outcome(response, row, actor is None)
    content = b"(a file)" if response.streaming else response.content[:300]
    detail = f"{response.status_code} {response.get('Location', '')} {content!r}"
    if row.is_list and got == M.OK and not listed(response, row, target):
        got = M.HIDDEN
    if expected == M.SOFT and got == M.OK:
        got = M.SOFT  # answered with a message on the page; the state check below shows nothing changed
    assert got == expected, f"{case_id(case)}: expected {expected}, got {got}: {detail}"
    if row.method == "POST" and row.effect and row.target is not None:
        after = target.state()
        if expected == M.OK:  # M.SOFT and the refusals must leave it alone
            assert after != before, f"{case_id(case)}: answered {response.status_code} but changed nothing: {detail}"
        else:
            assert after == before, f"{case_id(case)}: refused, yet the target changed: {before} → {after}"


def test_every_url_pattern_and_api_method_has_a_row():
    """A new URL (or a new method on an API view) fails here until the table says who may use it."""
    covered = {(row.name, row.method) for row in M.ROWS}
    named = {row.name for row in M.ROWS}
    missing = []
    for name, entries in M.routes().items():
        if any(name.startswith(family) for family in M.FAMILIES):
            continue
        if name not in named:
            missing.append(f"{name} ({entries[0][0]})")
            continue
        for route, callback in entries:
            for method in api_methods(callback):
                if (name, method) not in covered:
                    missing.append(f"{name} {method} ({route})")
    assert not missing, "URL patterns the authorization matrix does not cover:\n" + "\n".join(sorted(set(missing)))
    for family, stand_in in M.FAMILIES.items():
        assert stand_in in {row.key for row in M.ROWS}, family


def api_methods(callback) -> set[str]:
    """The methods a DRF view answers (OPTIONS and HEAD aside); a Django view's are in the table."""
    actions = getattr(callback, "actions", None)
    if actions:  # DRF adds "head" to a GET route's actions once it has served one
        return {method.upper() for method in actions} - {"HEAD", "OPTIONS"}
    cls = getattr(callback, "cls", None)
    if cls is None:
        return set()
    return {m.upper() for m in ("get", "post", "put", "patch", "delete") if hasattr(cls, m)}


def test_every_row_names_a_real_pattern_once():
    keys = [row.key for row in M.ROWS]
    assert len(keys) == len(set(keys)), "two rows for one pattern and method need a label"
    known = M.routes()
    assert not [row.name for row in M.ROWS if row.name not in known]


def test_the_doc_is_the_table():
    """docs/authorization.md shows this table; LIANXIN_WRITE_DOCS=1 rewrites it after a change."""
    rendered = "\n" + M.render_markdown() + "\n"
    text = DOC.read_text(encoding="utf-8")
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    if os.environ.get("LIANXIN_WRITE_DOCS") == "1":
        text = text[:start] + rendered + text[end:]
        DOC.write_text(text, encoding="utf-8")
        start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    assert text[start:end] == rendered, (
        "docs/authorization.md is not the table: run LIANXIN_WRITE_DOCS=1 pytest tests/security -k test_the_doc"
    )


BEGIN = "<!-- matrix: generated from tests/security/matrix.py -->"
END = "<!-- end of matrix -->"
