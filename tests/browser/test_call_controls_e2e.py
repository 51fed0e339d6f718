"""Hold, take back and a consult transfer from the agent console, in headless Chromium.

Against `manage.py serve` with the PBX simulator (which plays the recorded Asterisk 22.10.1 hold and
consult transfer, telephony/traces/) and the bridge: the console shows 保持中 only once the PBX
reported the music on hold, and the transfer only once the PBX reported it.
"""

from __future__ import annotations

import pytest

from tests.browser.chromium import NEEDS_CHROMIUM, login, query, served_demo, shot
from tests.servers import free_port

pytestmark = NEEDS_CHROMIUM


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    env = {"AMI_PORT": str(free_port()), "AMI_SIMULATOR_CALLS_PER_MINUTE": "40", "AMI_SIMULATOR_TALK": "300-400"}
    with served_demo(tmp_path_factory.mktemp("controls"), seed=["--tickets", "3", "--days", "2"], env=env) as server:
        yield server


def _live_call(server):
    return query(server, "select on_hold, muted, consulting, transferred_to, outcome from telephony_call "
                 "where answered_at is not null and agent_id = (select id from hotline_user where username='agent1') "
                 "order by id desc limit 1")[0]  # fmt: skip


def test_the_agent_holds_takes_back_and_consult_transfers_a_call(browser, server):
    agent = login(browser, server, "agent1")
    agent.wait_for_selector("#ws-status.live", timeout=15_000)
    agent.click("button[name=state][value=ready]")
    agent.wait_for_selector(".badge-ready[data-testid=agent-status]")
    agent.wait_for_selector("[data-testid=hold]", timeout=60_000)
    assert agent.locator("[data-testid=pop-held]").count() == 0

    # 保持: the badge comes with the answer, after the PBX reported the caller's music on hold.
    with agent.expect_response(lambda r: r.url.endswith("/agent/call/hold/")):
        agent.click("[data-testid=hold]")
    agent.wait_for_selector("[data-testid=pop-held]")
    assert agent.inner_text("[data-testid=pop-held]") == "保持中"
    assert agent.locator("[data-testid=unhold]").inner_text() == "取回"
    assert agent.locator("[data-testid=transfer-consult]").count() == 0  # no transfer while the caller is held
    assert _live_call(server)[0] == 1
    shot(agent, "agent-call-held")

    # 取回: the caller is bridged with the agent again.
    with agent.expect_response(lambda r: r.url.endswith("/agent/call/hold/")):
        agent.click("[data-testid=unhold]")
    agent.wait_for_selector("[data-testid=hold]")
    assert agent.locator("[data-testid=pop-held]").count() == 0
    assert _live_call(server)[0] == 0

    # 咨询转接 to 雨湖区's duty phone: the caller hears music while the agent talks to the unit.
    agent.select_option("[data-testid=transfer-unit]", label=_unit_label(agent, "雨湖区"))
    with agent.expect_response(lambda r: r.url.endswith("/agent/call/transfer/"), timeout=60_000):
        agent.click("[data-testid=transfer-consult]")
    agent.wait_for_selector("[data-testid=pop-consulting]")
    assert agent.inner_text("[data-testid=pop-consulting]").startswith("正在咨询 ")
    assert "来电人处于保持状态" in agent.inner_text("[data-testid=control-message]")
    shot(agent, "agent-call-consult")
    with agent.expect_response(lambda r: r.url.endswith("/agent/call/transfer/end/")) as answer:
        agent.click("[data-testid=transfer-complete]")
    assert "来电已转接至 雨湖区" in answer.value.text()
    _, _, consulting, transferred_to, _ = _live_call(server)
    assert consulting == "" and transferred_to.startswith("雨湖区 ")
    # One call: the consulted leg is no call of its own, and the transfer counts as answered.
    agent.wait_for_function(
        "() => !document.querySelector('[data-testid=hold]')", timeout=30_000
    )  # the controls are gone: the agent's part of the call is over
    assert query(server, "select count(*) from telephony_call where caller_number like '0731%'")[0][0] == 0


def _unit_label(page, name: str) -> str:
    labels = page.locator("[data-testid=transfer-unit] option").all_inner_texts()
    return next(label for label in labels if label.startswith(name + " "))
