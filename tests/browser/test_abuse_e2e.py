"""Abuse control in a real browser at 360×640: after suspicious volume /report/ asks for a CAPTCHA; a
wrong answer is refused with the reason and everything typed (and the photo) stays; the right letters
file the report, held for the center, which releases it from /dispatch/held/.

Against `manage.py serve` on its own SQLite file, the CAPTCHA after two submissions from one address
(ABUSE_CAPTCHA_AFTER_PER_ADDRESS=2). The answer is read from django-simple-captcha's table, as its own
tests do; the SMS code from the outbox. No Content-Security-Policy violation on the way.
Screenshots: docs/screenshots/report-captcha.png, docs/screenshots/held-reports.png.
"""

from __future__ import annotations

import pytest

from tests.browser.chromium import NEEDS_CHROMIUM, SHOTS, login, query, served_demo
from tests.browser.test_citizen_track_e2e import PHONE, fits
from tests.browser.test_csp_e2e import violations, watched
from tests.browser.test_report_e2e import MOBILE, last_code, photo

pytestmark = NEEDS_CHROMIUM


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    env = {"CITIZEN_OTP_RESEND_SECONDS": "0", "ABUSE_CAPTCHA_AFTER_PER_ADDRESS": "2"}
    folder = tmp_path_factory.mktemp("abuse")
    with served_demo(folder, seed=["--tickets", "0", "--days", "1"], env=env, serve=["--no-services"]) as server:
        yield server


def answer(server, page) -> str:
    key = page.get_attribute("input[name=captcha_0]", "value")
    ((response,),) = query(server, "select response from captcha_captchastore where hashkey = ?", key)
    return response


def test_after_suspicious_volume_a_citizen_solves_the_captcha_and_the_center_releases_the_report(browser, server):
    context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    messages = watched(page)
    page.goto(server["base"] + "/report/")
    assert page.locator("[data-testid=captcha]").count() == 0  # below the threshold: no CAPTCHA
    page.fill("#content", "小区门口有人乱发小广告，墙上贴满了。")
    page.fill("#phone", MOBILE)
    with page.expect_navigation():
        page.click("[data-testid=send-code]")  # one
    assert page.is_visible("[data-testid=sent]")
    code = last_code(server)
    page.fill("#code", "000000")
    page.select_option("#topic", "0201")
    page.set_input_files("#photos", [photo()])
    with page.expect_navigation():
        page.click("[data-testid=submit]")  # two: a wrong code — and now the CAPTCHA
    assert page.is_visible("[data-testid=captcha]")
    assert page.is_visible("[data-testid=kept]")  # the photo is kept for the next try
    assert "12345" in page.inner_text("[data-testid=captcha-phone]")
    assert page.evaluate("document.querySelector('[data-testid=captcha-image]').naturalWidth") > 0
    # a wrong answer: refused with the reason, everything typed stays
    page.fill("#code", code)
    page.fill("[data-testid=captcha-answer]", "ZZZZ")
    with page.expect_navigation():
        page.click("[data-testid=submit]")
    assert "图中字母不对" in page.inner_text("[data-testid=error]")
    assert "小广告" in page.input_value("#content") and page.input_value("#code") == code
    assert page.is_visible("[data-testid=kept]") and page.input_value("#topic") == "0201"
    # "another picture": a new challenge, nothing lost
    old = page.get_attribute("input[name=captcha_0]", "value")
    with page.expect_navigation():
        page.click("[data-testid=captcha-refresh]")
    assert page.get_attribute("input[name=captcha_0]", "value") != old
    assert "小广告" in page.input_value("#content") and page.is_visible("[data-testid=kept]")
    page.fill("[data-testid=captcha-answer]", answer(server, page).lower())  # any case will do
    fits(page, PHONE["width"])
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("[data-testid=captcha]").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "report-captcha.png"))
    assert violations(page, messages) == []
    with page.expect_navigation():
        page.press("[data-testid=captcha-answer]", "Enter")  # Enter sends the report, not "another picture"
    number = page.inner_text("[data-testid=number]")
    ((status, held),) = query(
        server,
        "select t.status, h.status from hotline_ticket t join hotline_heldreport h on h.ticket_id = t.id"
        " where t.number = ?",
        number,
    )
    assert (status, held) == ("registered", "held")

    center = login(browser, server, "dispatcher")
    center.goto(server["base"] + "/dispatch/held/")
    assert center.inner_text("[data-testid=nav-held] .count") == "1"
    row = center.locator("[data-testid=held-row]", has_text=number)
    assert "137****7077" in row.inner_text() and "13700137077" not in row.inner_text()
    center.screenshot(path=str(SHOTS / "held-reports.png"))
    with center.expect_navigation():
        row.locator("[data-testid=held-release]").click()
    assert number in center.inner_text(".messages")
    assert center.locator("[data-testid=held-row]").count() == 0
    ((status,),) = query(server, "select h.status from hotline_heldreport h join hotline_ticket t on t.id = h.ticket_id"
                         " where t.number = ?", number)  # fmt: skip
    assert status == "released"
    context.close()
    center.context.close()
