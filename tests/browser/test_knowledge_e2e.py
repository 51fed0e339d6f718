"""知识库 in headless Chromium (issue 17, point 6): 雨湖区 proposes an answer, the center accepts
and publishes it, and an agent finds it with its source and date and says it helped.

Against `manage.py serve --no-services` seeded with `seed_demo`. Screenshots:
docs/screenshots/knowledge-center.png and knowledge-agent.png.
"""

from __future__ import annotations

import pytest

from tests.browser.chromium import NEEDS_CHROMIUM, login, served_demo, shot

pytestmark = NEEDS_CHROMIUM


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with served_demo(
        tmp_path_factory.mktemp("kb"), seed=["--tickets", "5", "--days", "2"], serve=["--no-services"]
    ) as server:
        yield server


def test_a_units_proposal_is_published_and_read_on_the_console(browser, server):
    unit = login(browser, server, "unit_yh")
    unit.click("nav >> text=知识库")
    form = unit.locator("[data-testid=proposal-form]")
    form.locator("[name=title]").fill("雨湖区生活垃圾清运时间")
    form.locator("[name=body]").fill("雨湖区城区生活垃圾每日清运两次：早上六点和晚上六点。")
    form.locator("[name=keywords]").fill("垃圾 清运 收垃圾")
    form.locator("[name=source]").fill("雨湖区城管局2026年第3号通知")
    form.locator("[name=reason]").fill("清运时间调整")
    form.locator("[data-testid=propose]").click()
    unit.wait_for_selector(".messages li.success")
    assert "待" in unit.inner_text("[data-testid=proposal-row]")

    center = login(browser, server, "dispatcher")
    center.click("nav >> text=知识库")
    proposal = center.locator("[data-testid=proposal]", has_text="雨湖区生活垃圾清运时间")
    assert "雨湖区城管局2026年第3号通知" in proposal.inner_text()
    shot(center, "knowledge-center")
    proposal.locator("[data-testid=accept-publish]").click()
    center.wait_for_selector(".messages li.success")

    agent = login(browser, server, "agent1")
    agent.fill("[data-testid=kb-search]", "收垃圾是几点")
    hit = agent.locator("[data-testid=kb-hit]", has_text="雨湖区生活垃圾清运时间")
    hit.wait_for()
    assert "雨湖区城管局2026年第3号通知" in hit.locator("[data-testid=kb-source]").inner_text()
    hit.locator("[data-testid=kb-useful]").click()
    agent.wait_for_selector("[data-testid=kb-thanks]")
    assert "有用 1" in hit.locator("[data-testid=kb-useful]").inner_text()
    shot(agent, "knowledge-agent")
