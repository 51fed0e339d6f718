"""催办 and 督办 end to end in headless Chromium against `manage.py serve` (seed_demo).

A dispatcher reminds 雨湖区 from the center's ticket page while 雨湖区's workbench is open: the
reminder appears on its inbox row without a reload. The supervisor then opens a supervision case
on the ticket, and the workbench row carries the mark, again live.
"""

from __future__ import annotations

import pytest

from tests.browser.chromium import NEEDS_CHROMIUM, login, query, served_demo, shot

pytestmark = NEEDS_CHROMIUM  # browser + slow


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with served_demo(tmp_path_factory.mktemp("supervision"), seed=["--tickets", "10", "--days", "5"]) as server:
        yield server


def test_a_reminder_from_the_ticket_page_reaches_the_open_workbench_live(browser, server):
    rows = query(
        server,
        "select t.id, t.number from hotline_ticket t join hotline_assignment a on a.ticket_id = t.id "
        "join hotline_unit u on u.id = a.unit_id where t.status = 'in_progress' and a.parent_id is null "
        "and a.role = 'lead' and a.status in ('pending', 'accepted') and u.code != 'YH' limit 1",
    )
    assert rows, "the demo has a ticket in progress at another unit"
    ticket_id, number = rows[0]

    yh = login(browser, server, "unit_yh")
    assert yh.url.endswith("/unit/")
    yh.wait_for_selector("#ws-status.live", timeout=15_000)

    # The dispatcher reassigns it to 雨湖区 from the ticket page; it arrives on the open workbench.
    center = login(browser, server, "dispatcher")
    center.goto(f"{server['base']}/tickets/{ticket_id}/")
    center.select_option("[data-testid=reassign] select[name=to_unit]", label="雨湖区")
    center.fill("[data-testid=reassign] textarea[name=reason]", "属地管理，改派雨湖区")
    center.click("[data-testid=reassign] button")
    center.wait_for_selector(".messages li.success")
    row = yh.locator("[data-testid=inbox-row]", has_text=number)
    row.wait_for(timeout=15_000)
    assert row.locator("[data-testid=reminder]").count() == 0

    center.fill("[data-testid=remind] textarea[name=note]", "请今天内联系群众并签收")
    center.click("[data-testid=remind] button")
    center.wait_for_selector(".messages li.success")
    assert "请今天内联系群众并签收" in center.inner_text("[data-testid=timeline]")

    # No reload: the socket re-rendered the inbox with the reminder on the row.
    row.locator("[data-testid=reminder]", has_text="请今天内联系群众并签收").wait_for(timeout=15_000)
    shot(yh, "unit-reminder")

    boss = login(browser, server, "supervisor")
    boss.goto(f"{server['base']}/tickets/{ticket_id}/")
    boss.click("[data-testid=supervise] summary")
    boss.select_option("[data-testid=supervise] select[name=form]", "leader_instruction")
    boss.fill("[data-testid=supervise] textarea[name=reason]", "市领导批示：限期三日办结")
    boss.fill("[data-testid=supervise] input[name=due_by]", "2099-12-31")
    boss.click("[data-testid=supervise] button")
    boss.wait_for_selector("[data-testid=supervised]")
    row.locator("[data-testid=supervised]").wait_for(timeout=15_000)
    boss.goto(f"{server['base']}/supervision/")
    boss.wait_for_selector("[data-testid=case-row]")
    assert number in boss.inner_text("[data-testid=case-row]")
    shot(boss, "supervision")
