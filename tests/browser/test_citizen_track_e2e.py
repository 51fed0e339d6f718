"""A citizen follows a ticket from the registration SMS on a 360-px phone, JavaScript off.

Against `manage.py serve` on its own SQLite file (as test_consoles_e2e.py). The center and the
unit act through the REST API as their demo accounts; the SMS is queued by `run_jobs --once`
exactly as in production and read from the outbox. Screenshots: docs/screenshots/citizen-track-*.png.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.browser.chromium import NEEDS_CHROMIUM, PASSWORD, ROOT, SHOTS, served_demo

pytestmark = NEEDS_CHROMIUM
PUBLIC = "https://12345.xiangtan.example"
PHONE = {"width": 360, "height": 640}
DESKTOP = {"width": 1366, "height": 768}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    env = {"PUBLIC_BASE_URL": PUBLIC}
    folder = tmp_path_factory.mktemp("citizen")
    with served_demo(folder, seed=["--tickets", "0", "--days", "1"], env=env, serve=["--no-services"]) as server:
        server["env"] = env
        yield server


def api(server, method: str, path: str, token: str | None = None, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        server["base"] + path,
        data=json.dumps(body or {}).encode() if method == "POST" else None,
        method=method,
        headers={"Content-Type": "application/json", **({"Authorization": f"Token {token}"} if token else {})},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"{}")


def token(server, username: str) -> str:
    return api(server, "POST", "/api/v1/auth/token/", body={"username": username, "password": PASSWORD})["token"]


def run_jobs_once(server) -> None:
    environ = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "EMBEDDED_SERVICES")}
    environ |= {"DATABASE_URL": f"sqlite:///{server['db']}", "DEBUG": "1", **server["env"]}
    subprocess.run([sys.executable, "manage.py", "run_jobs", "--once"], cwd=ROOT, env=environ, check=True, timeout=120)


def sms_to(server, ticket_id: int) -> str:
    for _ in range(20):
        try:
            with sqlite3.connect(server["db"]) as conn:
                row = conn.execute(
                    "select body from callback_smsmessage where ticket_id = ? and purpose = 'ticket_registered'",
                    (ticket_id,),
                ).fetchone()
                assert row, "no registered SMS was queued"
                return row[0]
        except sqlite3.OperationalError:  # locked for a moment by the served app
            time.sleep(0.2)
    raise AssertionError("the database stayed locked")


def screenshot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"citizen-track-{name}.png"), full_page=True)


def fits(page, width: int) -> None:
    """Nothing sticks out sideways: no horizontal scrolling on the phone."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_a_citizen_opens_the_sms_link_on_a_phone_and_later_sees_the_approved_reply(browser, server):
    agent, dispatcher, unit = token(server, "agent1"), token(server, "dispatcher"), token(server, "unit_yh")
    ticket = api(
        server,
        "POST",
        "/api/v1/tickets/",
        agent,
        {
            "phone": "13800138000",
            "category": "complaint",
            "topic": "0201",
            "area": "YH01",
            "address": "雨湖区城正街88号",
            "content": "小区楼下广场舞音乐太吵，晚上十点后仍未停止。",
        },
    )
    run_jobs_once(server)
    body = sms_to(server, ticket["id"])
    assert ticket["number"] in body and ticket["query_code"] in body
    link = re.search(re.escape(PUBLIC) + r"(/t/\d{13}\?c=\d{6})", body)
    assert link, body

    phone = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, java_script_enabled=False)
    page = phone.new_page()
    page.set_default_timeout(30_000)
    page.goto(server["base"] + link.group(1))  # the public address is the proxy's; the path is ours
    assert page.inner_text("[data-testid=status]") == "已受理"
    assert page.inner_text("[data-testid=number]") == ticket["number"]
    assert page.inner_text("[data-testid=phone]") == "138****8000"
    fits(page, PHONE["width"])
    screenshot(page, "received")

    # The center dispatches to 雨湖区, which accepts and replies; the page follows.
    number = ticket["number"]
    suggestion = api(server, "GET", f"/api/v1/tickets/{number}/suggestions/", dispatcher)[0]
    ticket = api(server, "POST", f"/api/v1/tickets/{number}/dispatch/", dispatcher, {"lead_unit": suggestion["unit"]})
    lead = ticket["assignments"][0]["id"]
    page.reload()
    assert page.inner_text("[data-testid=status]") == "已转办"
    assert "雨湖区" in page.inner_text("[data-testid=units]")
    assert page.inner_text("[data-testid=deadline]").startswith("答复期限")
    api(server, "POST", f"/api/v1/assignments/{lead}/accept/", unit)
    reply = "经现场核查，已约谈广场舞组织者，音量已调低，每晚九点半前结束。"
    api(server, "POST", f"/api/v1/assignments/{lead}/reply/", unit, {"text": reply})
    page.reload()
    assert page.inner_text("[data-testid=status]") == "已答复"
    assert not page.query_selector("[data-testid=reply]")  # not before the center approves it

    api(server, "POST", f"/api/v1/tickets/{number}/review/", dispatcher, {"decision": "approve"})
    page.reload()
    assert page.inner_text("[data-testid=status]") == "回访中"
    assert reply in page.inner_text("[data-testid=reply]")
    fits(page, PHONE["width"])
    screenshot(page, "replied")

    # 大字版 and English: plain form buttons, still without JavaScript, and the ticket stays open.
    page.click("[data-testid=text-large]")
    assert page.get_attribute("body", "class") == "large"
    assert reply in page.inner_text("[data-testid=reply]")
    fits(page, PHONE["width"])
    screenshot(page, "large")
    page.click("[data-testid=lang]")
    assert page.inner_text("[data-testid=status]") == "Follow-up"
    page.click("[data-testid=text-normal]")
    page.click("[data-testid=lang]")
    assert page.inner_text("[data-testid=status]") == "回访中"
    phone.close()


def test_the_form_on_a_phone_and_on_a_desktop_and_a_wrong_code(browser, server):
    for name, viewport in (("form", PHONE), ("desktop", DESKTOP)):
        context = browser.new_context(viewport=viewport, locale="zh-CN", java_script_enabled=False)
        page = context.new_page()
        page.goto(server["base"] + "/track/")
        fits(page, viewport["width"])
        if name == "form":
            screenshot(page, "form")
            page.fill("#n", "2026112900001")
            page.fill("#c", "000000")
            page.click("[data-testid=look-up]")
            assert "没有找到" in page.inner_text("[data-testid=error]")
            assert page.input_value("#n") == "2026112900001"  # the number is kept, the code is not
            assert page.input_value("#c") == ""
            screenshot(page, "not-found")
            page.click("[data-testid=forgot]")
            assert page.input_value("#n") == "2026112900001"
        else:
            screenshot(page, "desktop")
        context.close()
