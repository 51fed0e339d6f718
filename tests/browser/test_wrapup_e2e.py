"""话后小结 end to end in headless Chromium, against `manage.py serve` with the simulator and bridge.

The agent goes ready, the simulator rings them, they hang up; the state panel turns to wrap-up
and asks what the call was; they click a code and it is stored on the call, with who and when.
"""

from __future__ import annotations

import pytest

from tests.browser.chromium import NEEDS_CHROMIUM, login, query, served_demo, shot
from tests.servers import free_port

pytestmark = NEEDS_CHROMIUM


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # A long wrap-up time: the test must never race the panel's own end of wrap-up.
    env = {"AMI_PORT": str(free_port()), "AMI_SIMULATOR_CALLS_PER_MINUTE": "40", "AGENT_WRAPUP_SECONDS": "300"}
    with served_demo(tmp_path_factory.mktemp("wrapup"), seed=["--tickets", "3", "--days", "2"], env=env) as server:
        yield server


def test_the_agent_ends_a_call_with_a_wrap_up_code(browser, server):
    agent = login(browser, server, "agent1")
    agent.wait_for_selector("#ws-status.live", timeout=15_000)
    agent.click("button[name=state][value=ready]")
    agent.wait_for_selector(".badge-ready[data-testid=agent-status]")
    agent.wait_for_selector("[data-testid=hang-up]", timeout=60_000)
    agent.click("[data-testid=hang-up]")

    # The call ended: wrap-up, with the codes to choose from and none chosen yet.
    panel = agent.locator("[data-testid=wrapup]")
    panel.wait_for(timeout=30_000)
    assert agent.locator("[data-testid=agent-status]").inner_text() == "话后处理"
    codes = agent.locator("[data-testid=wrapup-code]").all_inner_texts()
    assert codes == ["咨询已解答", "已登记工单", "转110", "无效来电", "骚扰来电", "其他"]
    assert agent.locator("[data-testid=wrapup-code][aria-pressed=true]").count() == 0

    agent.click("[data-testid=wrapup-code][data-code=answered]")
    agent.wait_for_selector("[data-testid=wrapup-code][data-code=answered][aria-pressed=true]")
    assert "咨询已解答" in agent.inner_text("[data-testid=wrapup-chosen]")
    shot(agent, "agent-wrapup")
    rows = query(
        server,
        "select c.code, u.username, w.wrapup_at is not null from telephony_call w "
        "join telephony_wrapupcode c on c.id = w.wrapup_code_id join hotline_user u on u.id = w.wrapup_by_id",
    )
    assert rows == [("answered", "agent1", 1)]

    # A second click within the wrap-up time corrects it.
    agent.click("[data-testid=wrapup-code][data-code=invalid]")
    agent.wait_for_selector("[data-testid=wrapup-code][data-code=invalid][aria-pressed=true]")
    assert query(
        server, "select c.code from telephony_call w join telephony_wrapupcode c on c.id = w.wrapup_code_id"
    ) == [("invalid",)]
