"""The Content-Security-Policy in a real browser: no screen violates it (issue 11, point 12).

Headless Chromium against `manage.py serve` (seed_demo, simulator and bridge running, so the live
sockets push while the pages are open). Each page records every `securitypolicyviolation` event
and every console message about the policy; the test asserts there are none. Also the two-factor
login of the demo's supervisor and admin, through the real pages.
"""

from __future__ import annotations

import pytest

from tests.browser.chromium import NEEDS_CHROMIUM, PASSWORD, VIEWPORT, login, served_demo, totp_code
from tests.servers import free_port

pytestmark = NEEDS_CHROMIUM

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(
    e.violatedDirective + " " + (e.blockedURI || "inline") + " " + e.sourceFile + ":" + e.lineNumber
  );
});
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    env = {"AMI_PORT": str(free_port()), "AMI_SIMULATOR_CALLS_PER_MINUTE": "40"}
    with served_demo(tmp_path_factory.mktemp("csp"), seed=["--tickets", "10", "--days", "5"], env=env) as server:
        yield server


def watched(page) -> list[str]:
    """Console messages about the policy, collected from now on."""
    messages: list[str] = []
    page.on(
        "console",
        lambda m: messages.append(m.text) if "Content Security Policy" in m.text or "Refused to" in m.text else None,
    )
    page.context.add_init_script(RECORD_VIOLATIONS)
    return messages


def violations(page, messages: list[str]) -> list[str]:
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(1500)  # let the live socket's first pushes land and be swapped in
    return messages + page.evaluate("window.__cspViolations || []")


@pytest.mark.parametrize(
    ("username", "path", "ready"),
    [
        ("agent1", "/agent/", "#ws-status.live"),
        ("unit_yh", "/unit/", "#ws-status.live"),
        ("dispatcher", "/dispatch/", "#ws-status.live"),
        ("supervisor", "/wallboard/", "#ws-status.live"),
        ("supervisor", "/dashboard/", "#kpi-trend[data-rendered=true]"),
        ("admin", "/admin/", "#content"),
        ("dispatcher", "/api/docs/", ".swagger-ui .info"),
    ],
)
def test_no_screen_violates_the_content_security_policy(browser, server, username, path, ready):
    page = login(browser, server, username)
    messages = watched(page)
    response = page.goto(server["base"] + path)
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_selector(ready, timeout=20_000)
    if path == "/dashboard/":  # the chart's tooltip, drawn on hover
        box = page.locator("#kpi-trend").bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    if path == "/agent/":  # the knowledge base: results swapped in by htmx, "use this answer" fills the field
        page.fill("[data-testid=kb-search]", "公积金")
        page.wait_for_selector("[data-testid=kb-use]", timeout=10_000)
        page.click("[data-testid=kb-use]")
        assert page.input_value("#work [name=resolution]")
    assert violations(page, messages) == [], path
    page.context.close()


def test_the_login_pages_meet_the_policy_and_the_supervisor_needs_the_code(browser, server):
    page = browser.new_context(viewport=VIEWPORT, locale="zh-CN").new_page()
    messages = watched(page)
    page.goto(server["base"] + "/login/")
    page.fill("input[name=username]", "supervisor")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/login/verify/")
    assert violations(page, messages) == []
    page.fill("input[name=otp]", "000000" if totp_code(server, "supervisor") != "000000" else "111111")
    page.click("button[type=submit]")
    page.wait_for_selector("[role=alert]")
    page.wait_for_timeout(2000)  # django-otp throttles the next try for a moment after a wrong code
    page.fill("input[name=otp]", totp_code(server, "supervisor"))
    page.click("button[type=submit]")
    page.wait_for_url("**/wallboard/")
    page.goto(server["base"] + "/login/enrol/")  # the enrolment page with its QR code
    page.wait_for_selector("[data-testid=otp-qr] svg")
    assert violations(page, messages) == []
    page.context.close()


def test_the_report_page_meets_the_policy_with_its_script(browser, server):
    """/report/ (anonymous, on a phone): its script from web/static, "use my location" working."""
    context = browser.new_context(
        viewport={"width": 360, "height": 640}, locale="zh-CN", permissions=["geolocation"],
        geolocation={"latitude": 27.86, "longitude": 112.9},
    )  # fmt: skip
    page = context.new_page()
    messages = watched(page)
    response = page.goto(server["base"] + "/report/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.click("[data-testid=locate]")
    page.wait_for_function("document.getElementById('lat').value !== ''")
    assert violations(page, messages) == []
    context.close()
