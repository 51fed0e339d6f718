"""派单异议 end to end in headless Chromium (issue 14, point 2): a unit whose return is refused
because the time to return has passed raises a dispute from the refusal, and the center decides it
in the dispatch queue by sending the ticket to another unit.

Against `manage.py serve --no-services` seeded with `seed_demo`. The center dispatches a waiting
ticket to 雨湖区 by hand; its accept-by is then moved into the past, as if the unit had let it lie.
"""

from __future__ import annotations

import sqlite3

import pytest

from tests.browser.chromium import NEEDS_CHROMIUM, login, query, served_demo

pytestmark = NEEDS_CHROMIUM


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with served_demo(
        tmp_path_factory.mktemp("dispute"), seed=["--tickets", "40", "--days", "10"], serve=["--no-services"]
    ) as server:
        yield server


def test_a_refused_return_leads_to_a_dispute_the_center_decides(browser, server):
    ticket_id, number = query(server, "select id, number from hotline_ticket where status = 'registered' limit 1")[0]
    center = login(browser, server, "dispatcher")
    center.goto(f"{server['base']}/tickets/{ticket_id}/")
    center.select_option("[data-testid=hand-dispatch] select[name=lead]", label="雨湖区")
    center.click("[data-testid=hand-dispatch] button")
    dispatched = center.locator(".messages li").first
    dispatched.wait_for(timeout=60_000)
    assert "success" in (dispatched.get_attribute("class") or ""), dispatched.inner_text()
    # 雨湖区 lets it lie past its accept-by: returning it is no longer allowed.
    with sqlite3.connect(server["db"]) as conn:
        conn.execute(
            "update hotline_assignment set accept_by = datetime('now', '-1 hour') where ticket_id = ?", (ticket_id,)
        )

    unit = login(browser, server, "unit_yh")
    unit.goto(f"{server['base']}/unit/tickets/{ticket_id}/")
    give_back = unit.locator("form[action$='/return/']")
    give_back.locator("[name=reason]").fill("不属于本单位职责")
    give_back.locator("button").click()
    refusal = unit.locator(".messages li.error")
    refusal.wait_for()
    assert "派单异议" in refusal.inner_text()
    form = unit.locator("[data-testid=dispute-form]")
    assert form.is_visible()
    form.locator("[name=reason]").fill("该路段属岳塘区管辖，请改派")
    form.locator("[data-testid=dispute]").click()
    unit.wait_for_selector("[data-testid=dispute-pending]")

    center.goto(server["base"] + "/dispatch/")
    row = center.locator("[data-testid=dispute-row]", has_text=number)
    row.wait_for()
    assert "该路段属岳塘区管辖" in row.inner_text()
    row.locator("select[name=reassign_to]").select_option(label="岳塘区")
    row.locator("input[name=note]").fill("同意改派")
    row.locator("[data-testid=decide-dispute]").click()
    outcome = center.locator(".messages li").first
    outcome.wait_for(timeout=60_000)
    assert "success" in (outcome.get_attribute("class") or ""), outcome.inner_text()
    assert center.locator("[data-testid=dispute-row]", has_text=number).count() == 0

    center.goto(f"{server['base']}/tickets/{ticket_id}/")
    rows = center.locator("[data-testid=assignment-row]").all_inner_texts()
    assert any("岳塘区" in r for r in rows), rows
    timeline = center.inner_text("[data-testid=timeline]")
    assert "该路段属岳塘区管辖" in timeline and "同意改派" in timeline
