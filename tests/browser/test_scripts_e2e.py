"""话术 in headless Chromium (issue 17, point 3): the agent reads the opening line, chooses the
matter and reads what to ask, registers, and reads the closing line with the number and code.

Against `manage.py serve --no-services` (no calls needed: the agent registers by hand). The
screenshot is docs/screenshots/agent-scripts.png.
"""

from __future__ import annotations

import pytest

from tests.browser.chromium import NEEDS_CHROMIUM, login, served_demo, shot

pytestmark = NEEDS_CHROMIUM


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with served_demo(
        tmp_path_factory.mktemp("scripts"), seed=["--tickets", "5", "--days", "2"], serve=["--no-services"]
    ) as server:
        yield server


def test_the_agent_reads_the_scripts_of_the_call(browser, server):
    page = login(browser, server, "agent1")
    opening = page.locator("[data-testid=script-opening]")
    assert "话务员为您服务" in opening.inner_text()

    page.select_option("#work select[name=category]", label="投诉")
    page.locator("[data-testid=script-matter]", has_text="投诉要素").wait_for()
    page.select_option("#work select[name=topic]", label="城市管理 › 噪音扰民")
    page.locator("[data-testid=script-matter]", has_text="噪音来源").wait_for()
    assert page.locator("[data-testid=script-matter]").count() == 2
    shot(page, "agent-scripts")

    page.fill("#work input[name=phone]", "13800138000")
    page.fill("#work textarea[name=content]", "楼下烧烤店每晚十二点后仍很吵")
    page.click("[data-testid=register]")
    closing = page.locator("[data-testid=script-closing]")
    closing.wait_for()
    number = page.inner_text("[data-testid=ticket-number]")
    assert f"工单编号{number}" in closing.inner_text() and "查询码" in closing.inner_text()
