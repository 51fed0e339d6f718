"""办件公开 in a real browser: the center publishes a closed ticket; a citizen searches the cases on a phone.

Against `manage.py serve` on its own SQLite file, seeded with a short demo history (whose dispatcher
has published some closed tickets). The ticket to publish is driven to closed through the REST API
by the demo's agent, dispatcher and unit. Screenshots: docs/screenshots/cases-*.png.
"""

from __future__ import annotations

import json
import urllib.request

import pytest

from tests.browser.chromium import NEEDS_CHROMIUM, PASSWORD, SHOTS, login, served_demo

pytestmark = NEEDS_CHROMIUM
PHONE = {"width": 360, "height": 640}
CONTENT = "我是张伟，手机13807321234。楼下湘C12345的车每晚停在消防通道上，3栋1302室门口进不去。"
REPLY = "已联系张先生，交警已对湘C12345依法处理，并在消防通道加装了隔离桩。"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cases")
    with served_demo(folder, seed=["--tickets", "60", "--days", "10"], serve=["--no-services"]) as server:
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


def closed_ticket(server) -> dict:
    """Registered with the caller's consent, dispatched to 雨湖区, replied, approved and closed."""
    agent, dispatcher, unit = token(server, "agent1"), token(server, "dispatcher"), token(server, "unit_yh")
    body = {
        "phone": "13807321234",
        "caller_name": "张伟",
        "category": "complaint",
        "topic": "0202",
        "area": "YH01",
        "address": "雨湖区城正街88号",
        "content": CONTENT,
        "consent_public": True,
    }
    ticket = api(server, "POST", "/api/v1/tickets/", agent, body)
    assert ticket["consent_public"] is True
    number = ticket["number"]
    units = api(server, "GET", "/api/v1/units/?level=2", dispatcher)
    yuhu = next(u["id"] for u in (units["results"] if isinstance(units, dict) else units) if u["code"] == "YH")
    ticket = api(server, "POST", f"/api/v1/tickets/{number}/dispatch/", dispatcher, {"lead_unit": yuhu})
    part = ticket["assignments"][0]["id"]
    api(server, "POST", f"/api/v1/assignments/{part}/accept/", unit)
    api(server, "POST", f"/api/v1/assignments/{part}/reply/", unit, {"text": REPLY})
    ticket = api(server, "POST", f"/api/v1/tickets/{number}/review/", dispatcher, {"decision": "approve"})
    if ticket["status"] != "closed":
        ticket = api(server, "POST", f"/api/v1/tickets/{number}/close/", dispatcher, {"note": "回访满意"})
    assert ticket["status"] == "closed"
    return ticket


def fits(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def shot(page, name: str, full_page: bool = True) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


def test_the_center_publishes_a_closed_ticket_with_the_callers_data_hidden(browser, server):
    ticket = closed_ticket(server)
    page = login(browser, server, "dispatcher")
    page.goto(f"{server['base']}/tickets/{ticket['id']}/")
    assert page.inner_text("[data-testid=consent]") == "来电人同意公开"
    page.click("[data-testid=publish-link]")
    page.wait_for_load_state("networkidle")
    marked = page.locator("[data-testid=original-content] mark").all_inner_texts()
    assert marked == ["张伟", "13807321234", "湘C12345"]
    content = page.input_value("textarea[name=content]")
    assert content.startswith("我是某某，手机[电话]。楼下[车牌号]") and "3栋1302室" in content
    shot(page, "cases-publish", full_page=False)

    # The reviewer writes a phone number back in: refused, and the edits are still there.
    page.fill("input[name=title]", "消防通道被车辆长期占用")
    page.fill("textarea[name=reply]", "请联系物业 0731-58581234。")
    page.click("[data-testid=publish-go]")
    assert "电话号码" in page.inner_text("[data-testid=publish-error]")
    assert page.input_value("textarea[name=reply]") == "请联系物业 0731-58581234。"
    assert page.input_value("input[name=title]") == "消防通道被车辆长期占用"

    page.fill("textarea[name=reply]", "已联系某先生，交警已依法处理违停车辆，并在消防通道加装了隔离桩。")
    page.check("input[name=typical]")
    page.click("[data-testid=publish-go]")
    page.wait_for_load_state("networkidle")
    assert "/cases/" in page.url
    assert page.inner_text("h1").startswith("消防通道被车辆长期占用")
    text = page.inner_text("[data-testid=case]")
    for secret in ("张伟", "13807321234", "湘C12345", "0731", ticket["number"], "城正街88号"):
        assert secret not in text
    assert "典型案例" in text and "3栋1302室" in text

    # The ticket's timeline says who published it; the step now offers to withdraw.
    page.goto(f"{server['base']}/tickets/{ticket['id']}/")
    assert page.locator("[data-testid=timeline] li[data-action='ticket.published']").count() == 1
    page.goto(f"{server['base']}/tickets/{ticket['id']}/publish/")
    assert page.locator("[data-testid=withdraw]").count() == 1
    page.context.close()


def test_a_citizen_searches_the_cases_on_a_phone(browser, server):
    context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(server["base"] + "/cases/")
    total = page.inner_text("[data-testid=case-count]")
    assert page.locator("[data-testid=case-row]").count() == 10 and "共" in total
    fits(page, PHONE["width"])
    shot(page, "cases-list")

    page.click("[data-testid=case-pager] a[rel=next]")
    assert "第 2 页" in page.inner_text("[data-testid=case-pager]")

    page.fill("#id_q", "😀😀")
    page.click("[data-testid=case-search-go]")
    assert "没有可查找的" in page.inner_text("[data-testid=case-error]")
    page.goto(server["base"] + "/cases/?page=99")
    assert "没有第 99 页" in page.inner_text("[data-testid=case-error]")

    page.goto(server["base"] + "/cases/")
    first_title = page.locator("[data-testid=case-row] a").first.inner_text()
    word = first_title[:4]
    page.fill("#id_q", word)
    page.click("[data-testid=case-search-go]")
    rows = page.locator("[data-testid=case-row]")
    assert rows.count() >= 1 and all(word in t for t in rows.all_inner_texts())
    fits(page, PHONE["width"])
    shot(page, "cases-search")
    rows.first.locator("a").click()
    assert page.locator("[data-testid=case-content]").count() == 1 and page.locator("[data-testid=case-reply]").count()
    fits(page, PHONE["width"])
    shot(page, "cases-case")
    context.close()


def test_an_agent_sees_the_published_case_beside_the_knowledge_base(browser, server):
    page = login(browser, server, "agent1")
    page.select_option("#work select[name=topic]", label="城市管理 › 占道经营")
    page.fill("[data-testid=kb-search]", "楼下的车把消防通道堵了")
    page.wait_for_selector("[data-testid=kb-case]")
    titles = page.locator("[data-testid=kb-case] a").all_inner_texts()
    assert titles[0] == "消防通道被车辆长期占用"  # published by the first test, of the chosen topic
    page.context.close()
