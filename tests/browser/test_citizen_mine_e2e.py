"""我的工单 in a real browser: a citizen proves a mobile number with the SMS code and sees that phone's tickets.

Against `manage.py serve` on its own SQLite file (as test_citizen_track_e2e.py), JavaScript off, at
360×640 and at 1366×768. The code is read from the SMS outbox, as it would reach the phone.
Screenshots: docs/screenshots/citizen-mine-*.png.
"""

from __future__ import annotations

import re
import sqlite3
import time

import pytest

from tests.browser.chromium import NEEDS_CHROMIUM, SHOTS, served_demo
from tests.browser.test_citizen_track_e2e import DESKTOP, PHONE, api, fits, token

pytestmark = NEEDS_CHROMIUM
MINE, ANOTHER = "13700137001", "13700137002"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # The same phone signs in at both sizes, one right after the other: no minute's wait between codes.
    env = {"CITIZEN_OTP_RESEND_SECONDS": "0"}
    folder = tmp_path_factory.mktemp("citizen-mine")
    with served_demo(folder, seed=["--tickets", "0", "--days", "1"], env=env, serve=["--no-services"]) as server:
        yield server


def register(server, agent: str, phone: str, content: str) -> dict:
    body = {"phone": phone, "category": "complaint", "topic": "0201", "area": "YH01", "content": content}
    return api(server, "POST", "/api/v1/tickets/", agent, body | {"address": "雨湖区城正街88号"})


def last_code(server, phone: str) -> str:
    for _ in range(50):
        try:
            with sqlite3.connect(server["db"]) as conn:
                row = conn.execute(
                    "select body from callback_smsmessage where \"to\" = ? and purpose = 'citizen_otp' "
                    "order by id desc limit 1",
                    (f"+86{phone}",),
                ).fetchone()
            if row:
                return re.search(r"验证码为(\d{6})", row[0]).group(1)
        except sqlite3.OperationalError:  # locked for a moment by the served app
            pass
        time.sleep(0.2)
    raise AssertionError("no code was queued")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["360", "1366"])
def test_my_tickets_with_an_sms_code_lists_the_two_tickets_of_that_phone_and_none_of_another(browser, server, viewport):
    agent = token(server, "agent1")
    if "tickets" not in server:
        server["tickets"] = [
            register(server, agent, MINE, "小区楼下广场舞音乐太吵。"),
            register(server, agent, ANOTHER, "另一位市民：垃圾未清运。"),
            register(server, agent, MINE, "路灯不亮，晚上很黑。"),
        ]
    first, strangers, second = server["tickets"]

    context = browser.new_context(
        viewport=viewport, locale="zh-CN", is_mobile=viewport is PHONE, java_script_enabled=False
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(server["base"] + "/track/")
    page.click("[data-testid=mine]")
    page.fill("#phone", "137 0013 7001")
    page.click("[data-testid=send-otp]")
    assert "137****7001" in page.inner_text("[data-testid=sent]")
    fits(page, viewport["width"])
    SHOTS.mkdir(parents=True, exist_ok=True)
    if viewport is PHONE:
        page.screenshot(path=str(SHOTS / "citizen-mine-code.png"), full_page=True)
    page.fill("#code", last_code(server, MINE))
    page.click("[data-testid=verify]")

    numbers = page.locator("[data-testid=my-ticket-number]").all_inner_texts()
    assert numbers == [second["number"], first["number"]]  # newest first
    assert strangers["number"] not in page.content()
    fits(page, viewport["width"])
    page.screenshot(path=str(SHOTS / f"citizen-mine-{viewport['width']}.png"), full_page=True)

    page.click(f"text={first['number']}")
    assert page.inner_text("[data-testid=status]") == "已受理"
    assert page.inner_text("[data-testid=phone]") == "137****7001"
    page.click("[data-testid=back-mine]")
    page.click("[data-testid=leave]")
    assert page.locator("[data-testid=my-tickets]").count() == 0
    context.close()
