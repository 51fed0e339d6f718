"""工单质检 end to end in headless Chromium against `manage.py serve` (seed_demo).

The last ten days are sampled with `manage.py quality_sample`; the demo's checker opens a registration
from the list, first leaves a required item out (refused, nothing typed lost), then scores it with one
failed item. The supervisor finds the agent's result in the dashboard's quality section, and the
agent finds the check, with the checker's comment, on their own quality page.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.browser.chromium import NEEDS_CHROMIUM, ROOT, SHOTS, login, query, served_demo, shot

pytestmark = NEEDS_CHROMIUM  # browser + slow
SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # The job loop's own weekly round picks no random share here, so the test's round has the registrations.
    env = {"QUALITY_SAMPLE_PERCENT": "0"}
    with served_demo(tmp_path_factory.mktemp("quality"), seed=["--tickets", "12", "--days", "5"], env=env) as server:
        yield server


def sample(server) -> None:
    today = datetime.now(SH).date()
    without_redis = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    subprocess.run(
        [sys.executable, "manage.py", "quality_sample", "--from", (today - timedelta(days=10)).isoformat(),
         "--to", (today + timedelta(days=1)).isoformat(), "--seed", "12345", "--percent", "100"],
        cwd=ROOT, env={**without_redis, "DATABASE_URL": f"sqlite:///{server['db']}", "DEBUG": "1"},
        check=True, timeout=120, stdout=subprocess.DEVNULL,
    )  # fmt: skip


def test_a_checker_scores_a_registration_and_the_dashboard_shows_it(browser, server):
    sample(server)
    rows = query(
        server,
        "select c.id, t.number, u.username from metrics_qualitycheck c join hotline_ticket t on t.id = c.ticket_id "
        "join hotline_user u on u.id = c.agent_id where c.target = 'registration' and c.status = 'pending' "
        "and u.username like 'agent%' order by c.id limit 1",
    )
    assert rows, "the demo's agents registered tickets in the last ten days"
    check_id, number, agent = rows[0]

    qc = login(browser, server, "quality")
    assert qc.url.endswith("/quality/")
    qc.click(f"[data-testid=check-{check_id}] a")
    qc.wait_for_selector("[data-testid=score-form]")
    assert number in qc.inner_text("h1")

    # A required item left out: refused, with what was typed still there.
    for code in ("reg-elements", "reg-category", "reg-language"):
        qc.fill(f"[data-testid=score-{code}]", "9")
    qc.fill("[data-testid=note-reg-address]", "只写了小区名，缺楼栋门牌")
    qc.fill("[data-testid=comment]", "整体规范，地址需具体到门牌。")
    qc.eval_on_selector("[data-testid=score-form]", "form => form.noValidate = true")  # past the browser's check
    qc.click("[data-testid=score-submit]")
    qc.wait_for_selector("[data-testid=errors]")
    assert "地址准确" in qc.inner_text("[data-testid=errors]")
    assert qc.input_value("[data-testid=note-reg-address]") == "只写了小区名，缺楼栋门牌"
    assert qc.input_value("[data-testid=score-reg-elements]") == "9"

    qc.fill("[data-testid=score-reg-address]", "3")
    qc.fill("[data-testid=score-reg-handling]", "8")
    shot(qc, "quality-check")
    qc.click("[data-testid=score-submit]")
    qc.wait_for_selector(".messages li.success")
    assert qc.url.endswith("/quality/")
    assert query(server, "select status, failed_items from metrics_qualitycheck where id = ?", check_id) == [
        ("done", 1)
    ]

    # And a unit's reply, the one a rule flagged if any.
    replies = query(
        server,
        "select c.id, u.code from metrics_qualitycheck c join hotline_unit u on u.id = c.unit_id "
        "where c.target = 'reply' and c.status = 'pending' order by c.reasons = '[\"random\"]', c.id limit 1",
    )
    assert replies, "the demo's units replied in the last ten days"
    reply_id, unit_code = replies[0]
    qc.click(f"[data-testid=check-{reply_id}] a")
    qc.wait_for_selector("[data-testid=reply]")
    for code, value in (
        ("reply-relevant", "8"),
        ("reply-basis", "5"),
        ("reply-substance", "4"),
        ("reply-contact", "9"),
    ):
        qc.fill(f"[data-testid=score-{code}]", value)
    qc.fill("[data-testid=note-reply-basis]", "未引用依据")
    qc.click("[data-testid=score-submit]")
    qc.wait_for_selector(".messages li.success")

    boss = login(browser, server, "supervisor")
    boss.goto(f"{server['base']}/dashboard/?period=week")  # this week, as the server's clock has it
    row = boss.locator(f"[data-testid=quality-agent-{agent}]")
    row.wait_for()
    cells = row.locator("td").all_inner_texts()
    assert cells[0] == "1" and cells[2] == "1" and "地址准确" in cells[3], cells
    unit_cells = boss.locator(f"[data-testid=quality-unit-{unit_code}] td").all_inner_texts()
    assert unit_cells[0] == "1" and unit_cells[2] == "2", unit_cells  # 依据明确 and 已解决有具体内容 failed
    boss.locator("[data-testid=quality-results]").screenshot(path=str(SHOTS / "quality-dashboard.png"))

    mine = login(browser, server, agent)
    mine.goto(f"{server['base']}/quality/")
    mine.click(f"[data-testid=check-{check_id}] a")
    mine.wait_for_selector("[data-testid=result]")
    assert "只写了小区名，缺楼栋门牌" in mine.inner_text("main")
    assert mine.locator("[data-testid=score-form]").count() == 0
