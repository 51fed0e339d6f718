"""110 → 12345 end to end in headless Chromium against `manage.py serve`: the admin sets up a 110
system and gets its key once; the 110 system posts a referral to the API over real HTTP; the
dispatcher finds it on the monthly counts page, opens the ticket and reads the incident on its
timeline; an agent registers a 110 transfer taken on the phone, and the same incident again is
not registered twice."""

from __future__ import annotations

import json
import re
import urllib.request

import pytest

from tests.browser.chromium import NEEDS_CHROMIUM, login, served_demo
from tests.servers import free_port

pytestmark = NEEDS_CHROMIUM


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    env = {"AMI_PORT": str(free_port()), "AMI_SIMULATOR_CALLS_PER_MINUTE": "0"}
    with served_demo(tmp_path_factory.mktemp("r110"), seed=["--tickets", "2", "--days", "1"], env=env) as server:
        yield server


def test_a_110_referral_through_the_api_is_a_ticket_the_center_sees(browser, server):
    admin = login(browser, server, "admin")
    admin.goto(f"{server['base']}/admin/hotline/system110/add/")
    admin.fill("input[name=name]", "湘潭市公安局110指挥中心")
    admin.fill("input[name=code]", "xt110")
    admin.fill("input[name=operator]", "市公安局指挥中心")
    admin.click("input[name=_save]")
    message = admin.inner_text(".messagelist")
    key = re.search(r"API 密钥为 (\S+)", message)
    assert key, message
    key = key.group(1)

    body = {
        "incident_number": "XT110-20261129-0042",
        "matter": "nuo_che",
        "content": "小区门口白色轿车堵住消防通道，联系不上车主",
        "phone": "13800138000",
        "address": "雨湖区城正街12号",
    }
    request = urllib.request.Request(
        f"{server['base']}/api/110/v1/referrals",
        data=json.dumps(body, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert answer.status == 201
        number = json.loads(answer.read())["ticket_number"]

    boss = login(browser, server, "dispatcher")
    boss.click("nav >> text=110互转统计")
    boss.wait_for_selector("[data-testid=r110-table]")
    assert boss.inner_text("[data-testid=r110-total-in]").strip() == "1"
    row = boss.locator("[data-testid=r110-recent]", has_text="XT110-20261129-0042")
    assert "挪车" in row.inner_text()
    row.locator("a", has_text=number).click()
    boss.wait_for_load_state("networkidle")
    page = boss.inner_text("main")
    assert number in page and "110 警情 XT110-20261129-0042" in page and "湘潭市公安局110指挥中心" in page

    agent = login(browser, server, "agent1")
    agent.click("#from110 summary")
    form = "[data-testid=from110-form]"
    agent.fill(f"{form} [data-testid=from110-incident]", "XT110-7788")
    agent.select_option(f"{form} [data-testid=from110-matter]", label="噪音扰民")
    agent.fill(f"{form} [data-testid=from110-phone]", "13900139000")
    agent.fill(f"{form} [data-testid=from110-content]", "楼上KTV深夜噪音")
    agent.click("[data-testid=from110-submit]")
    ok = agent.wait_for_selector("[data-testid=from110-ok], [data-testid=from110-error]")
    assert ok.get_attribute("data-testid") == "from110-ok", ok.inner_text()
    assert "已登记为工单" in ok.inner_text()
    agent.click("[data-testid=from110-submit]")
    agent.wait_for_selector("#from110-result >> text=未重复登记")
