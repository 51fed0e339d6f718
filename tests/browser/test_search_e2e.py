"""工单查询 end to end in headless Chromium (issue 14, point 1): search → open the ticket's page.

Against `manage.py serve --no-services` on its own SQLite file, seeded with `seed_demo`. The
dispatcher's results open the center's ticket page; 雨湖区's handler's open the unit's page.
The screenshot is written to docs/screenshots/search.png.
"""

from __future__ import annotations

import re
import sqlite3

import pytest

from tests.browser.chromium import NEEDS_CHROMIUM, login, served_demo, shot

pytestmark = NEEDS_CHROMIUM


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("search")
    with served_demo(folder, seed=["--tickets", "40", "--days", "10"], serve=["--no-services"]) as server:
        yield server


def a_word_of(server, sql: str) -> tuple[str, str]:
    """Four characters from the middle of a seeded ticket's content, and that ticket's number."""
    with sqlite3.connect(server["db"]) as conn:
        number, content = conn.execute(sql).fetchone()
    word = re.sub(r"[^\w]", "", content)[2:6]
    return word, number


def test_the_dispatcher_searches_a_word_and_opens_the_ticket(browser, server):
    word, number = a_word_of(server, "select number, content from hotline_ticket order by id desc limit 1")
    page = login(browser, server, "dispatcher")
    page.click("nav >> text=搜索")
    page.fill("[data-testid=search-q]", word)
    page.click("[data-testid=search-submit]")
    page.wait_for_selector("[data-testid=search-row]")
    assert page.locator("[data-testid=search-row]").count() >= 1
    assert number in page.inner_text("table"), f"{number} not found by {word}"
    shot(page, "search")
    page.click(f"[data-testid=search-row] >> text={number}")
    page.wait_for_selector("[data-testid=ticket-status]")
    assert re.search(r"/tickets/\d+/$", page.url)
    assert number in page.inner_text("h1")


def test_a_unit_handler_opens_its_own_ticket_page_from_the_search(browser, server):
    sql = (
        "select t.number, t.content from hotline_ticket t join hotline_assignment a on a.ticket_id = t.id"
        " join hotline_unit u on u.id = a.unit_id where u.code = 'YH' and a.status <> 'withdrawn' limit 1"
    )
    word, number = a_word_of(server, sql)
    page = login(browser, server, "unit_yh")
    page.goto(server["base"] + "/search/?q=" + word)
    page.wait_for_selector("[data-testid=search-row]")
    assert "****" in page.inner_text("table")  # numbers masked for a unit
    page.click(f"[data-testid=search-row] >> text={number}")
    page.wait_for_load_state("networkidle")
    assert re.search(r"/unit/tickets/\d+/$", page.url)
    assert number in page.content()


def test_search_open_dispatch_by_hand_reassign_and_close(browser, server):
    """The center's day on one screen: find a waiting ticket, send it to a unit no rule suggested,
    move it to another, and close a ticket whose revisit is done — each step on the timeline."""
    with sqlite3.connect(server["db"]) as conn:
        waiting = conn.execute(
            "select number from hotline_ticket where status in ('registered', 'returned') limit 1"
        ).fetchone()[0]
        finished = conn.execute("select number from hotline_ticket where status = 'revisit_pending' limit 1").fetchone()
    assert finished, "the demo has a ticket waiting for its revisit"
    page = login(browser, server, "dispatcher")

    page.goto(server["base"] + "/search/")
    page.fill("[data-testid=search-q]", waiting)
    page.click("[data-testid=search-submit]")
    page.click(f"[data-testid=search-row] >> text={waiting}")
    page.wait_for_selector("[data-testid=hand-dispatch]")
    page.select_option("[data-testid=hand-dispatch] select[name=lead]", label="雨湖区")
    page.fill("[data-testid=hand-dispatch] textarea[name=instructions]", "请雨湖区核实处理")
    page.click("[data-testid=hand-dispatch] button")
    page.wait_for_selector(".messages li.success")
    assert "雨湖区" in page.inner_text("[data-testid=assignment-row]")
    assert "派单至 雨湖区" in page.inner_text("[data-testid=timeline]")

    page.select_option("[data-testid=reassign] select[name=to_unit]", label="岳塘区")
    page.fill("[data-testid=reassign] textarea[name=reason]", "属地在岳塘区")
    page.click("[data-testid=reassign] button")
    page.wait_for_selector(".messages li.success")
    rows = page.locator("[data-testid=assignment-row]").all_inner_texts()
    assert any("岳塘区" in row for row in rows), rows
    assert "属地在岳塘区" in page.inner_text("[data-testid=timeline]")

    page.goto(server["base"] + "/search/?q=" + finished[0])
    page.click(f"[data-testid=search-row] >> text={finished[0]}")
    page.fill("[data-testid=close] input[name=note]", "回访已完成")
    page.click("[data-testid=close] button")
    page.wait_for_selector(".messages li.success")
    assert "已办结" in page.inner_text("[data-testid=ticket-status]") or "归档" in page.inner_text(
        "[data-testid=ticket-status]"
    )
    assert "回访已完成" in page.inner_text("[data-testid=timeline]")
