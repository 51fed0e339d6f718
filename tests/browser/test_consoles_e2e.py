"""The consoles end to end in headless Chromium, against `manage.py serve` with the simulator and bridge.

The served app runs on its own temporary SQLite file and the in-memory channel layer (whatever
DATABASE_URL/REDIS_URL the test run has), seeded with `seed_demo --tickets 10`. Screenshots of
each screen are written to docs/screenshots/.
"""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.browser.chromium import NEEDS_CHROMIUM, VIEWPORT, login, query, served_demo, shot
from tests.servers import free_port

pytestmark = NEEDS_CHROMIUM


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    env = {"AMI_PORT": str(free_port()), "AMI_SIMULATOR_CALLS_PER_MINUTE": "40"}
    with served_demo(tmp_path_factory.mktemp("e2e"), seed=["--tickets", "10", "--days", "5"], env=env) as server:
        yield server


def wait_live(page) -> None:
    page.wait_for_selector("#ws-status.live", timeout=15_000)


def succeeded(page) -> None:
    """The page's flash message says the action worked (and what went wrong if not)."""
    page.wait_for_selector(".messages li")
    assert page.query_selector(".messages li.success"), page.inner_text(".messages")


def test_a_call_becomes_a_ticket_that_travels_the_network_and_back(browser, server):
    login_page = browser.new_context(viewport=VIEWPORT).new_page()
    login_page.goto(server["base"] + "/login/")
    shot(login_page, "login")

    # The handlers and the wallboard are open before the call, and must update without reload.
    yh = login(browser, server, "unit_yh")
    assert yh.url.endswith("/unit/")
    wait_live(yh)
    wall = login(browser, server, "supervisor")
    wall.goto(server["base"] + "/wallboard/")
    wait_live(wall)
    offered_before = wall.inner_text("[data-testid=wb-offered]")

    agent = login(browser, server, "agent1")
    assert agent.url.endswith("/agent/")
    wait_live(agent)
    agent.click("button[name=state][value=ready]")
    agent.wait_for_selector(".badge-ready[data-testid=agent-status]")
    # Ready puts 1001 in the queue; the simulator now rings the ready member.
    agent.wait_for_selector("[data-testid=pop-number]", timeout=60_000)
    number = agent.inner_text("[data-testid=pop-number]").strip()
    assert number.isdigit() and len(number) == 11  # the agent sees the number in full
    shot(agent, "agent-console")

    agent.click("[data-testid=register-from-call]")
    agent.wait_for_selector("#work[data-from-call]")  # the form opened from the pop, not the one already there
    assert agent.input_value("#work input[name=phone]")  # pre-filled from the call
    agent.select_option("#work select[name=category]", label="投诉")
    agent.select_option("#work select[name=topic]", label="城市管理 › 噪音扰民")
    agent.select_option("#work select[name=area]", label="雨湖区·城正街街道")
    agent.fill("#work textarea[name=content]", "楼下工地夜间施工，噪音扰民。")
    invalid = agent.evaluate("Array.from(document.querySelectorAll('#work :invalid')).map(e => e.name + '=' + e.value)")
    assert not invalid, invalid
    with agent.expect_response(lambda r: r.url.endswith("/agent/register/submit/")):
        agent.click("[data-testid=register]")
    agent.wait_for_selector("[data-testid=ticket-number]")
    ticket_number = agent.inner_text("[data-testid=ticket-number]").strip()
    # The result card has what the agent tells the caller, and the keyboard is on it.
    told = agent.inner_text("[data-testid=told-to-caller]")
    code = query(server, "select query_code from hotline_ticket where number=?", ticket_number)[0][0]
    assert code in told and datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-") in told
    assert agent.evaluate("document.activeElement.id") == "work-h"
    # The ticket is linked to the call it was registered from, and the caller is that call's number.
    linked = query(
        server,
        "select cl.phone, c.caller_number from hotline_ticket t join hotline_caller cl on cl.id = t.caller_id "
        "join telephony_call c on c.linkedid = t.call_linkedid where t.number = ?",
        ticket_number,
    )
    assert len(linked) == 1 and linked[0][0].endswith(linked[0][1]), linked
    agent.click("[data-testid=dispatch-YH]")
    agent.wait_for_selector("[data-testid=work-message]")

    # 雨湖区 sees it arrive live.
    yh.wait_for_selector(f"text={ticket_number}", timeout=15_000)
    shot(yh, "unit-workbench")
    yh.click(f"text={ticket_number}")
    yh.click("[data-testid=accept]")
    yh.wait_for_selector("[data-testid=sub-dispatch]")
    yh.select_option("select[name=to_unit]", label="城正街街道")
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    yh.fill("input[name=reply_by]", today)
    yh.click("[data-testid=sub-dispatch]")
    succeeded(yh)

    street = login(browser, server, "unit_yh01")
    street.click(f"text={ticket_number}")
    assert "****" in street.inner_text("[data-testid=ticket-phone]")  # units see the number masked
    street.click("[data-testid=accept]")
    street.fill("textarea[name=text]", "已到现场，工地停止夜间施工。")
    street.click("[data-testid=reply]")
    succeeded(street)

    yh.reload()
    yh.fill("textarea[name=text]", "城正街街道已处理完毕。")
    yh.click("[data-testid=reply]")
    succeeded(yh)

    dispatcher = login(browser, server, "dispatcher")
    assert dispatcher.url.endswith("/dispatch/")
    dispatcher.wait_for_selector(f"[data-testid=approve-{ticket_number}]")
    shot(dispatcher, "dispatch-queue")
    dispatcher.click(f"[data-testid=approve-{ticket_number}]")
    succeeded(dispatcher)
    # The number opens the center's ticket page, whose timeline reads as sentences.
    dispatcher.goto(
        server["base"]
        + f"/tickets/{query(server, 'select id from hotline_ticket where number=?', ticket_number)[0][0]}/"
    )
    timeline = dispatcher.inner_text("[data-testid=timeline]")
    assert "受理登记" in timeline and "城正街街道" in timeline and "ticket." not in timeline
    shot(dispatcher, "ticket-page")
    status = query(server, "select status from hotline_ticket where number=?", ticket_number)
    assert status[0][0] in ("revisit_pending", "closed")

    # The wallboard counted the calls that kept coming, without a reload.
    wall.wait_for_function(
        "before => document.querySelector('[data-testid=wb-offered]').innerText !== before",
        arg=offered_before,
        timeout=60_000,
    )
    shot(wall, "wallboard")


def test_transfer_to_110_from_the_console(browser, server):
    agent = login(browser, server, "agent2")
    wait_live(agent)
    agent.on("dialog", lambda dialog: dialog.accept())
    agent.click("button[name=state][value=ready]")
    agent.wait_for_selector(".badge-ready[data-testid=agent-status]")
    agent.fill("[data-testid=transfer-reason]", "来电人称遭遇抢劫")
    # The bridge finds the agent's live call; between calls it says so, and the console shows that.
    for _ in range(30):
        agent.evaluate("document.getElementById('transfer-result').innerHTML = ''")
        agent.click("[data-testid=transfer-110]")
        agent.wait_for_selector("#transfer-result p")
        if agent.query_selector("[data-testid=transfer-ok]"):
            break
        assert agent.inner_text("[data-testid=transfer-error]")
        time.sleep(2)
    assert agent.query_selector("[data-testid=transfer-ok]")
    assert query(server, "select count(*) from hotline_referral where reason=?", "来电人称遭遇抢劫")[0][0] >= 1


def test_a_three_way_call_with_110_from_the_console(browser, server):
    agent = login(browser, server, "agent3")
    wait_live(agent)
    agent.on("dialog", lambda dialog: dialog.accept())
    agent.click("button[name=state][value=ready]")
    agent.wait_for_selector(".badge-ready[data-testid=agent-status]")
    agent.fill("[data-testid=transfer-reason]", "来电人称家中燃气泄漏")
    agent.check("input[name=three_way]")
    # Success is shown only once the simulated PBX has 110 in the room with the caller.
    for _ in range(30):
        agent.evaluate("document.getElementById('transfer-result').innerHTML = ''")
        agent.click("[data-testid=transfer-110]")
        agent.wait_for_selector("#transfer-result p", timeout=60_000)
        if agent.query_selector("[data-testid=transfer-ok]"):
            break
        assert agent.inner_text("[data-testid=transfer-error]")
        time.sleep(2)
    assert "110已与来电人接通" in agent.inner_text("[data-testid=transfer-ok]")
    rows = query(server, "select mode from hotline_referral where reason=?", "来电人称家中燃气泄漏")
    assert rows == [("three_way",)]


def test_an_expert_on_the_line_answers_and_the_agent_resolves_with_the_answer(browser, server):
    agent = login(browser, server, "agent1")
    wait_live(agent)
    agent.click("button[name=state][value=ready]")
    # agent1 may still be on the first test's call: ready or on a call, either takes the next step.
    agent.wait_for_selector(
        ".badge-ready[data-testid=agent-status], .badge-on_call[data-testid=agent-status]", timeout=60_000
    )
    agent.fill("#work input[name=phone]", "13700001111")
    agent.select_option("#work select[name=category]", label="咨询")
    agent.select_option("#work select[name=area]", label="雨湖区·城正街街道")
    agent.fill("#work textarea[name=content]", "咨询小区加装电梯的补贴政策。")
    agent.click("[data-testid=register]")
    agent.wait_for_selector("[data-testid=expert-call]")
    agent.select_option("[data-testid=expert-unit]", label="雨湖区")
    # The unit's duty phone joins the agent's live call (the simulator rings the ready agent).
    for _ in range(30):
        agent.evaluate("document.getElementById('expert-result').innerHTML = ''")
        agent.click("[data-testid=expert-call]")
        agent.wait_for_selector("#expert-result p", timeout=60_000)
        if agent.query_selector("[data-testid=expert-ok]"):
            break
        assert agent.inner_text("[data-testid=expert-error]")
        time.sleep(2)
    assert "雨湖区已与来电人接通" in agent.inner_text("[data-testid=expert-ok]")
    agent.locator("#work").scroll_into_view_if_needed()
    shot(agent, "agent-expert-on-the-line")
    agent.fill("[data-testid=expert-answer]", "雨湖区住建局：符合条件的小区每台补贴十万元。")
    agent.click("[data-testid=expert-resolve]")
    message = agent.wait_for_selector("[data-testid=work-message]:has-text('雨湖区')")
    assert "已以雨湖区的答复直接办结" in message.inner_text()
    number = agent.inner_text("[data-testid=ticket-number]").strip()
    notes = query(
        server,
        "select e.action, e.note from hotline_timelineentry e join hotline_ticket t on t.id = e.ticket_id "
        "where t.number = ? order by e.id",
        number,
    )
    assert ("ticket.unit_answered_on_call", "雨湖区住建局：符合条件的小区每台补贴十万元。") in notes


def test_a_unit_cannot_open_another_units_ticket_nor_connect_from_a_foreign_origin(browser, server):
    yt = login(browser, server, "unit_yt")
    ticket_id = query(
        server,
        "select t.id from hotline_ticket t join hotline_assignment a on a.ticket_id=t.id "
        "join hotline_unit u on u.id=a.unit_id where u.code='YH' limit 1",
    )[0][0]
    response = yt.goto(f"{server['base']}/unit/tickets/{ticket_id}/")
    assert response.status == 403
    assert "403" in yt.inner_text("h1")

    # A page on another origin opens a socket to us with the handler's cookies: refused.
    ws_url = server["base"].replace("http://", "ws://") + "/ws/unit/"
    script = (
        f"<script>var ws = new WebSocket('{ws_url}'); document.title = 'pending';"
        "ws.onopen = function(){ document.title = 'opened'; };"
        "ws.onclose = function(){ if (document.title === 'pending') document.title = 'refused'; };</script>"
    )
    yt.route("http://evil.example/**", lambda route: route.fulfill(status=200, content_type="text/html", body=script))
    yt.goto("http://evil.example/attack.html")
    yt.wait_for_function("document.title !== 'pending'")
    assert yt.title() == "refused"
    # The same socket from our own page opens.
    yt.goto(server["base"] + "/unit/")
    wait_live(yt)


def test_a_new_pop_moves_an_untouched_register_form_to_the_new_caller(browser, server):
    """The register form never keeps the last caller's name for the next call (issue 14, point 8)."""
    agent = login(browser, server, "agent2")
    wait_live(agent)
    agent.fill("#work input[name=phone]", "13900000001")
    agent.fill("#work input[name=caller_name]", "上一位来电人")

    def pop(linkedid: str, phone: str, name: str) -> None:
        # What the bridge's pop does to the page: the #pop panel swapped in with the new call.
        agent.evaluate(
            """([linkedid, phone, name]) => {
                const pop = document.getElementById("pop");
                pop.setAttribute("data-linkedid", linkedid);
                pop.setAttribute("data-phone", phone);
                pop.setAttribute("data-caller-name", name);
                document.body.dispatchEvent(new CustomEvent("htmx:oobAfterSwap", {bubbles: true}));
            }""",
            [linkedid, phone, name],
        )

    pop("call-2", "13800000002", "")
    assert agent.input_value("#work input[name=phone]") == "13800000002"
    assert agent.input_value("#work input[name=caller_name]") == ""
    assert agent.input_value("#work input[name=call_linkedid]") == "call-2"

    agent.fill("#work textarea[name=content]", "正在记录的诉求")
    pop("call-3", "13800000003", "王女士")
    assert agent.input_value("#work input[name=phone]") == "13800000002"  # kept: the agent was writing
    assert agent.is_visible("[data-testid=stale-form]")
