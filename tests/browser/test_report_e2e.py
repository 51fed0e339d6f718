"""随手拍 in a real browser at 360×640: an anonymous citizen files a photo report with the phone's
location and sees its number; the center sees it waiting with suggestions; a rule marked
auto-dispatch sends the next photo report straight to the unit, and the ticket's timeline names it.

Against `manage.py serve` on its own SQLite file; the SMS code is read from the outbox as it would
reach the phone. Screenshot: docs/screenshots/report.png.
"""

from __future__ import annotations

import io
import re
import sqlite3
import time

import pytest
from PIL import Image

from tests.browser.chromium import NEEDS_CHROMIUM, SHOTS, login, query, served_demo
from tests.browser.test_citizen_track_e2e import PHONE, fits

pytestmark = NEEDS_CHROMIUM
MOBILE = "13700137077"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    env = {"CITIZEN_OTP_RESEND_SECONDS": "0"}
    folder = tmp_path_factory.mktemp("report")
    with served_demo(folder, seed=["--tickets", "0", "--days", "1"], env=env, serve=["--no-services"]) as server:
        yield server


def photo() -> dict:
    out = io.BytesIO()
    Image.new("RGB", (1600, 1200), (90, 140, 60)).save(out, "JPEG")
    return {"name": "路边.jpg", "mimeType": "image/jpeg", "buffer": out.getvalue()}


def last_code(server) -> str:
    for _ in range(50):
        rows = query(
            server,
            "select body from callback_smsmessage where \"to\" = ? and purpose = 'citizen_otp' "
            "order by id desc limit 1",
            f"+86{MOBILE}",
        )
        if rows:
            return re.search(r"验证码为(\d{6})", rows[0][0]).group(1)
        time.sleep(0.2)
    raise AssertionError("no code was queued")


def test_a_citizen_files_a_photo_report_on_a_phone_and_a_rule_auto_dispatches_the_next(browser, server):
    ((lat, lng),) = query(server, "select lat, lng from hotline_area where code = 'YH01'")
    context = browser.new_context(
        viewport=PHONE, locale="zh-CN", is_mobile=True, permissions=["geolocation"],
        geolocation={"latitude": float(lat), "longitude": float(lng)},
    )  # fmt: skip
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(server["base"] + "/report/")
    page.fill("#content", "工地深夜施工，噪音很大，吵得睡不着。")
    page.fill("#phone", "137 0013 7077")
    page.click("[data-testid=send-code]")
    assert "137****7077" in page.inner_text("[data-testid=sent]")
    assert "深夜施工" in page.input_value("#content")  # what was typed came back with the code form
    page.fill("#code", last_code(server))
    page.select_option("#topic", "0201")
    page.set_input_files("#photos", [photo()])
    page.click("[data-testid=locate]")
    page.wait_for_function("document.getElementById('lat').value !== ''")
    assert page.inner_text("[data-testid=located]") == "已添加位置。"
    page.fill("#address", "城正街88号门口")
    page.check("[data-testid=consent]")
    fits(page, PHONE["width"])
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "report.png"), full_page=True)
    page.click("[data-testid=submit]")
    number = page.inner_text("[data-testid=number]")
    assert re.fullmatch(r"\d{13}", number) and re.fullmatch(r"\d{6}", page.inner_text("[data-testid=query-code]"))
    assert "1 张照片" in page.inner_text("[data-testid=photos]")
    fits(page, PHONE["width"])
    (channel, area, n_photos), = query(
        server,
        "select t.channel, a.code, (select count(*) from hotline_attachment where ticket_id = t.id) "
        "from hotline_ticket t left join hotline_area a on a.id = t.area_id where t.number = ?",
        number,
    )  # fmt: skip
    assert channel == "photo" and area is not None and n_photos == 1

    center = login(browser, server, "dispatcher")
    center.goto(server["base"] + "/dispatch/")
    row = center.locator("[data-testid=waiting-row]", has_text=number)
    assert row.count() == 1
    assert row.locator("form.inline button").count() >= 1  # suggestions from the dispatch catalogue

    # 芜湖's auto-routing: a rule for this topic in this area, marked auto-dispatch
    ((topic,),) = query(server, "select id from hotline_topic where code = '0201'")
    ((yh01,),) = query(server, "select id from hotline_area where code = 'YH01'")
    ((unit,),) = query(server, "select id from hotline_unit where level = 2 and is_active order by code limit 1")
    for _ in range(20):
        try:
            with sqlite3.connect(server["db"]) as conn:
                conn.execute(
                    "insert into routing_dispatchrule (name, topic_id, area_id, keywords, unit_id, priority, basis,"
                    " is_active, auto_dispatch) values ('随手拍自动派单：城正街', ?, ?, '', ?, 90, '', 1, 1)",
                    (topic, yh01, unit),
                )
            break
        except sqlite3.OperationalError:
            time.sleep(0.2)
    page.click("text=再反映一个问题")
    assert page.is_visible("[data-testid=proven]")  # the session from the code: no second code
    page.fill("#content", "井盖缺失，很危险。")
    page.select_option("#topic", "0201")
    page.select_option("#area", "YH01")
    page.set_input_files("#photos", [photo()])
    page.click("[data-testid=submit]")
    second = page.inner_text("[data-testid=number]")
    assert page.is_visible("[data-testid=auto]")
    ((status, ticket_id),) = query(server, "select status, id from hotline_ticket where number = ?", second)
    assert status == "dispatched"
    center.goto(server["base"] + f"/tickets/{ticket_id}/")
    assert "随手拍自动派单：城正街" in center.inner_text("body")
    photo_link = center.locator("a[href*='/api/v1/attachments/']")
    assert photo_link.count() == 1  # the citizen's photo, stripped, served only to who may see the ticket
    served = center.request.get(server["base"] + photo_link.get_attribute("href"))
    assert served.ok and served.headers["content-type"] == "image/jpeg"
    assert "exif" not in Image.open(io.BytesIO(served.body())).info
    context.close()
    center.context.close()
