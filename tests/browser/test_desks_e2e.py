"""专席 on the wallboard, end to end: an agent with the business skill presses Ready in the console, the
simulator's business callers ring at the business desk, and the supervisor's wallboard shows each desk
without a reload. Screenshot: docs/screenshots/wallboard-desks.png.
"""

from __future__ import annotations

import pytest

from tests.browser.chromium import NEEDS_CHROMIUM, login, served_demo, shot
from tests.browser.test_consoles_e2e import query, wait_live
from tests.servers import free_port

pytestmark = NEEDS_CHROMIUM

BUSINESS = "[data-testid='wb-desk-12345-business']"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # Short calls and no wrap-up: the two ready agents keep up with the general callers, so the business
    # specialist is free for business callers now and then; half the callers go to a desk.
    env = {
        "AMI_PORT": str(free_port()),
        "AMI_SIMULATOR_CALLS_PER_MINUTE": "30",
        "AMI_SIMULATOR_TALK": "2-4",
        "AGENT_WRAPUP_SECONDS": "0",
        "AMI_SIMULATOR_DESK_PERCENT": "50",
        "AMI_DESK_WAIT_SECONDS": "15",
    }
    with served_demo(tmp_path_factory.mktemp("desks"), seed=["--tickets", "5", "--days", "2"], env=env) as server:
        yield server


def test_the_wallboard_shows_each_desk_and_the_skilled_agent_in_it(browser, server):
    wall = login(browser, server, "supervisor")
    wall.goto(server["base"] + "/wallboard/")
    wait_live(wall)
    rows = wall.locator("[data-testid=wb-desks] tbody tr")
    assert rows.count() == 3
    assert "涉企服务专席" in wall.inner_text(BUSINESS) and "方言专席" in wall.inner_text("[data-testid=wb-desks]")

    # agent2 has the business skill (seed_demo): Ready puts 1002 in the general and the business desk;
    # agent1 has none: the general desk only.
    for username in ("agent1", "agent2"):
        agent = login(browser, server, username)
        wait_live(agent)
        agent.click("button[name=state][value=ready]")
        agent.wait_for_selector(".badge-ready[data-testid=agent-status], .badge-on_call[data-testid=agent-status]")
        desks = agent.inner_text("[data-testid=agent-desks]")
        assert "综合席" in desks and ("涉企服务专席" in desks) == (username == "agent2"), desks
    wall.wait_for_function(
        f"""() => {{
            const row = document.querySelector("{BUSINESS}");
            const n = s => parseInt(row.querySelector(s).innerText || "0", 10);
            return n("[data-testid=wb-desk-ready]") + n("[data-testid=wb-desk-busy]") === 1;
        }}""",
        timeout=30_000,
    )
    # Business callers are answered at the business desk and recorded with it.
    wall.wait_for_function(
        f"""() => parseInt(document.querySelector("{BUSINESS} [data-testid=wb-desk-answered]").innerText, 10) > 0""",
        timeout=180_000,
    )
    # Answered at the desk: by the skilled agent only (those that overflowed were answered in 12345, by either).
    rows = query(
        server,
        "select agent_interface from telephony_call where desk = '12345-business' and queue = desk and answered_at",
    )
    assert rows and all(r[0] == "Local/1002@agents" for r in rows), rows
    # The dialect desk has nobody: its callers overflow to the general desk, answered there, none lost.
    wall.wait_for_function(
        """() => parseInt(document.querySelector("[data-testid='wb-desk-12345-dialect'] """
        """[data-testid=wb-desk-overflowed]").innerText, 10) > 0""",
        timeout=120_000,
    )
    general = "[data-testid='wb-desk-12345']"
    assert (
        int(wall.inner_text(f"{general} [data-testid=wb-desk-ready]") or 0)
        + int(wall.inner_text(f"{general} [data-testid=wb-desk-busy]") or 0)
        == 2
    )
    lost = query(server, "select count(*) from telephony_call where desk = '12345-dialect' and outcome = 'refused'")
    assert lost[0][0] == 0
    shot(wall, "wallboard-desks")
