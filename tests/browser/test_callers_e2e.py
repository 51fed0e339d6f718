"""恶意来电/缠访 end to end in headless Chromium against `manage.py serve` with the simulator and bridge.

An agent on a real (simulated) call reports abusive language from the pop; the supervisor finds the
caller on the review list, is refused an expiry in the past, flags the caller; the agent's console
then shows the flag with its reason. An agent never gets the flag form.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.browser.chromium import NEEDS_CHROMIUM, login, served_demo, shot
from tests.servers import free_port

pytestmark = NEEDS_CHROMIUM


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    env = {"AMI_PORT": str(free_port()), "AMI_SIMULATOR_CALLS_PER_MINUTE": "40"}
    with served_demo(tmp_path_factory.mktemp("callers"), seed=["--tickets", "5", "--days", "2"], env=env) as server:
        yield server


def today():
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


def test_the_agent_reports_the_supervisor_flags_and_the_pop_shows_it(browser, server):
    agent = login(browser, server, "agent1")
    agent.wait_for_selector("#ws-status.live", timeout=15_000)
    agent.click("button[name=state][value=ready]")
    agent.wait_for_selector(".badge-ready[data-testid=agent-status]")
    agent.wait_for_selector("[data-testid=pop-number]", timeout=60_000)
    number = agent.inner_text("[data-testid=pop-number]").strip()

    # The report is offered once the call is answered (the abuse happens on the line).
    agent.wait_for_selector("[data-testid=report-abuse]", timeout=60_000)
    agent.click("[data-testid=report-abuse] summary")
    agent.fill("[data-testid=report-abuse] input[name=note]", "来电人辱骂话务员")
    agent.click("[data-testid=report-abuse-submit]")
    result = agent.wait_for_selector("[data-testid=report-message], [data-testid=report-error]")
    assert result.get_attribute("data-testid") == "report-message", result.inner_text()
    assert "已报告中心审核" in result.inner_text()
    # The agent has no door to the flag.
    assert agent.goto(f"{server['base']}/callers/").status == 403

    boss = login(browser, server, "supervisor")
    boss.click("nav >> text=来电人")
    row = boss.locator("[data-testid=caller-row]", has_text=number[-4:])
    row.first.wait_for()
    row.first.locator("a").click()
    boss.wait_for_selector("[data-testid=caller-history]")
    assert "来电人辱骂话务员" in boss.inner_text("[data-testid=caller-reports]")

    form = "[data-testid=flag-form]"
    boss.select_option(f"{form} select[name=kind]", "abuse")
    boss.fill(f"{form} textarea[name=reason]", "多次辱骂话务员，经核实")
    boss.fill(f"{form} input[name=expires_on]", (today() - timedelta(days=1)).isoformat())
    boss.click(f"{form} button")
    assert "到期时间必须晚于现在" in boss.inner_text(".messages li.error")
    assert boss.locator("[data-testid=caller-flag]").count() == 0

    boss.select_option(f"{form} select[name=kind]", "abuse")
    boss.fill(f"{form} textarea[name=reason]", "多次辱骂话务员，经核实")
    boss.fill(f"{form} input[name=expires_on]", (today() + timedelta(days=30)).isoformat())
    boss.click(f"{form} button")
    boss.wait_for_selector(".messages li.success")
    assert "辱骂" in boss.inner_text("[data-testid=caller-flag]")
    assert "已标记" in boss.inner_text("[data-testid=caller-reports]")
    shot(boss, "caller-record")

    agent.goto(f"{server['base']}/agent/")
    flag = agent.wait_for_selector("[data-testid=pop-flag]")
    assert "多次辱骂话务员，经核实" in flag.inner_text()
    shot(agent, "agent-flagged-caller")
