"""A supervisor plays a call's recording on the center's ticket page, in headless Chromium (issue 17, point 1).

Against `manage.py serve --no-services` on its own SQLite file, seeded with `seed_demo` (the latest
ticket calls get a recording under RECORDINGS_DIR). The HTML audio element must load the file
through the authorised view (readyState, duration) and play; the same URL without the session is
refused. The screenshot is written to docs/screenshots/recording.png.
"""

from __future__ import annotations

import sqlite3
import urllib.error
import urllib.request

import pytest

from tests.browser.chromium import NEEDS_CHROMIUM, login, served_demo, shot

pytestmark = NEEDS_CHROMIUM


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("recordings")
    env = {"RECORDINGS_DIR": str(folder / "recordings")}
    with served_demo(folder, seed=["--tickets", "12", "--days", "5"], env=env, serve=["--no-services"]) as server:
        yield server


def test_a_supervisor_plays_a_recording_and_an_anonymous_request_is_refused(browser, server):
    with sqlite3.connect(server["db"]) as conn:
        ticket_id, recording_id = conn.execute(
            "select c.ticket_id, r.id from telephony_recording r join telephony_call c on c.id = r.call_id"
            " order by r.started_at desc limit 1"
        ).fetchone()
    page = login(browser, server, "supervisor")
    page.goto(f"{server['base']}/tickets/{ticket_id}/")
    player = page.locator("[data-testid=recording-player]").first
    player.scroll_into_view_if_needed()
    assert player.get_attribute("src") == f"/api/v1/recordings/{recording_id}/"
    # HAVE_ENOUGH_DATA, after the metadata and the first bytes came through the authorised view.
    page.wait_for_function("() => document.querySelector('[data-testid=recording-player]').readyState >= 3")
    duration = player.evaluate("a => a.duration")
    assert 1 < duration < 60, duration
    player.evaluate("a => { a.muted = true; return a.play(); }")
    page.wait_for_function("() => document.querySelector('[data-testid=recording-player]').currentTime > 0.3")
    assert player.evaluate("a => a.error") is None
    shot(page, "recording")

    # The same URL without the supervisor's session: refused, no audio.
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{server['base']}/api/v1/recordings/{recording_id}/", timeout=10)
    assert refused.value.code == 401
    with sqlite3.connect(server["db"]) as conn:
        played = conn.execute(
            "select count(*) from hotline_auditentry e join hotline_user u on u.id = e.user_id"
            " where e.action = 'recording.played' and u.username = 'supervisor'"
        ).fetchone()[0]
    assert played >= 1
