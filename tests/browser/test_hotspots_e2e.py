"""热点预警 → 专题督办 end to end in headless Chromium, against `manage.py serve` (seed_demo).

seed_demo registers a morning's burst of calls about one water cut in 江南小区 (雨湖区) and runs
the hot-spot scan once. The supervisor sees the warning on the wallboard, finds the hot spot with
its tickets on the dashboard, clicks once, and a special-topic supervision case covering those
tickets exists and is listed on /supervision/; the open wallboard shows the case without a reload.
The dashboard draws the hot spot on its offline map (ECharts scatter over the areas' centroids),
and a click on it finds its entry. Screenshots: docs/screenshots/hotspot-dashboard.png and hotspot-wallboard.png.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from tests.browser.chromium import NEEDS_CHROMIUM, login, query, served_demo, shot

pytestmark = NEEDS_CHROMIUM  # browser + slow


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hotspots")
    # No simulator, bridge or job loop: the hot spot on the boards is the one seed_demo's scan recorded.
    with served_demo(folder, seed=["--tickets", "10", "--days", "5"], serve=["--no-services"]) as server:
        yield server


def test_the_supervisor_turns_the_hot_spot_into_a_special_topic_case_in_one_click(browser, server):
    spots = query(server, "select id, ticket_count from metrics_hotspot where status = 'active'")
    assert len(spots) == 1, spots
    spot_id, count = spots[0]
    numbers = [
        n
        for (n,) in query(
            server,
            "select t.number from hotline_ticket t join metrics_hotspot_tickets h on h.ticket_id = t.id "
            "where h.hotspot_id = ? order by t.number",
            spot_id,
        )
    ]
    assert count == len(numbers) >= 5

    # The wallboard (the supervisor's home page) warns, naming the tickets.
    wall = login(browser, server, "supervisor")
    assert wall.url.endswith("/wallboard/")
    wall.wait_for_selector("#ws-status.live", timeout=15_000)
    warning = wall.locator("[data-testid=wb-hotspot]")
    assert "江南小区" in warning.inner_text() and "雨湖区" in warning.inner_text()
    assert all(n in wall.inner_text("[data-testid=wb-hotspot-tickets]") for n in numbers)
    shot(wall, "hotspot-wallboard")

    # The dashboard shows the hot spot with its tickets.
    boss = login(browser, server, "supervisor")
    outside = []  # any request that leaves this machine (a tile server, a CDN) fails the test
    boss.on(
        "request", lambda r: None if urlsplit(r.url).hostname in ("127.0.0.1", "localhost") else outside.append(r.url)
    )
    boss.click("nav >> text=考核看板")
    card = boss.locator("[data-testid=hotspot]")
    card.wait_for()
    assert card.locator("[data-testid=hotspot-warning]").is_visible()
    shown = card.locator("[data-testid=hotspot-ticket] td:first-child").all_inner_texts()
    assert sorted(shown) == numbers
    assert "停水" in card.inner_text()

    # The map above it: the areas in grey, the hot spot in red, all drawn from the page (no tiles).
    boss.wait_for_selector("#hotspot-map[data-rendered=true]")
    option = boss.evaluate(
        """() => {
        const o = echarts.getInstanceByDom(document.getElementById("hotspot-map")).getOption();
        return o.series.map(s => ({name: s.name, data: s.data.map(d => ({name: d.name, spot: d.spot || null}))}));
    }"""
    )
    areas, spots = option
    assert areas["name"] == "areas" and {"雨湖区", "韶山市"} <= {d["name"] for d in areas["data"]}
    assert [(d["spot"]["id"], d["spot"]["count"], d["spot"]["district"]) for d in spots["data"]] == [
        (spot_id, count, "雨湖区")
    ]
    shot(boss, "hotspot-dashboard")
    # Clicking the red point scrolls to and marks its entry in the panel.
    boss.locator("#hotspot-map").scroll_into_view_if_needed()
    x, y = boss.evaluate(
        """(id) => {
        const el = document.getElementById("hotspot-map");
        const chart = echarts.getInstanceByDom(el);
        const d = chart.getOption().series[1].data[0];
        const [px, py] = chart.convertToPixel({seriesIndex: 1}, d.value);
        const box = el.getBoundingClientRect();
        return [box.left + px, box.top + py];
    }""",
        spot_id,
    )
    boss.mouse.click(x, y)
    boss.wait_for_selector(f"#hotspot-{spot_id}.hotspot-picked")
    assert boss.evaluate("document.activeElement.id") == f"hotspot-{spot_id}"
    assert not outside, outside

    # One click: the case exists, with every ticket of the hot spot.
    card.locator("[data-testid=hotspot-supervise]").click()
    boss.wait_for_url(re.compile(r"/supervision/\d+/$"))
    assert boss.locator(".messages li.success").is_visible()
    case_id = int(re.search(r"/supervision/(\d+)/$", boss.url).group(1))
    form, title, case_unit = query(
        server, "select form, title, unit_id from hotline_supervisioncase where id = ?", case_id
    )[0]
    assert form == "special_topic" and "江南小区" in title and case_unit is not None
    covered = query(
        server,
        "select t.number from hotline_ticket t join hotline_supervisioncase_tickets c on c.ticket_id = t.id "
        "where c.supervisioncase_id = ? order by t.number",
        case_id,
    )
    assert [n for (n,) in covered] == numbers
    assert sorted(boss.locator("[data-testid=case-ticket] td:first-child").all_inner_texts()) == numbers

    boss.goto(f"{server['base']}/supervision/")
    row = boss.locator("[data-testid=case-row]", has_text="江南小区")
    row.wait_for()
    assert "专题督办" in row.inner_text()

    # The dashboard now links the case instead of offering the button; the open wallboard says so too.
    boss.goto(f"{server['base']}/dashboard/")
    boss.locator("[data-testid=hotspot-case]", has_text=f"#{case_id}").wait_for()
    assert boss.locator("[data-testid=hotspot-supervise]").count() == 0
    wall.locator("[data-testid=wb-hotspot]", has_text=f"#{case_id}").wait_for(timeout=15_000)
