"""What the browser tests share: headless Debian Chromium, a served demo, logging in, screenshots."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.servers import free_port, stop

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
SHOTS = ROOT / "docs" / "screenshots"
PASSWORD = "lianxin12345"
VIEWPORT = {"width": 1366, "height": 768}
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

NEEDS_CHROMIUM = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"Chromium is not installed at {CHROMIUM}"),
]


@contextlib.contextmanager
def served_demo(
    folder: Path, *, seed: list[str], env: dict[str, str] | None = None, serve: list[str] = ()
) -> Iterator[dict[str, Any]]:
    """`manage.py serve` on its own SQLite file in ``folder``, seeded with ``seed_demo *seed``.

    Yields ``{"base": url, "db": path}``; on the way out stops the server and fails on any
    traceback it printed. The in-memory layer whatever REDIS_URL the test run has.
    """
    db = folder / "e2e.sqlite3"
    web = free_port()
    environ = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "EMBEDDED_SERVICES")}
    environ |= {"DATABASE_URL": f"sqlite:///{db}", "DEBUG": "1", "MEDIA_ROOT": str(folder / "media"), **(env or {})}
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v", "0"], cwd=ROOT, env=environ, check=True, timeout=180)
    subprocess.run(
        [*manage, "seed_demo", *seed], cwd=ROOT, env=environ, check=True, timeout=300, stdout=subprocess.DEVNULL
    )
    with open(folder / "serve.log", "wb") as log:
        proc = subprocess.Popen(
            [*manage, "serve", "--port", str(web), *serve], cwd=ROOT, env=environ, stdout=log, stderr=log
        )
        base = f"http://127.0.0.1:{web}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{base}/login/", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.3)
        try:
            yield {"base": base, "db": db}
        finally:
            stop(proc)
    output = (folder / "serve.log").read_text(errors="replace")
    assert "Traceback" not in output, output[-4000:]


def login(browser, server: dict[str, Any], username: str, **context: Any):
    """A new browser context logged in as ``username`` (Chinese, 1366×768) on its landing page."""
    page = browser.new_context(viewport=VIEWPORT, locale="zh-CN", **context).new_page()
    page.set_default_timeout(30_000)
    page.goto(server["base"] + "/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    if page.url.endswith("/login/verify/"):  # the demo's admin and supervisor have a TOTP device
        page.fill("input[name=otp]", totp_code(server, username))
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
    return page


def totp_code(server: dict[str, Any], username: str) -> str:
    """The code the user's authenticator app would show (from the device seed_demo made), one step
    after the last one used so that two logins in the same 30 s both pass (the tolerance is a step)."""
    from django_otp.oath import hotp

    with sqlite3.connect(server["db"], timeout=20) as conn:
        key, step, t0, digits, drift, last_t = conn.execute(
            "SELECT d.key, d.step, d.t0, d.digits, d.drift, d.last_t FROM otp_totp_totpdevice d "
            "JOIN hotline_user u ON u.id = d.user_id WHERE u.username = ? AND d.confirmed",
            (username,),
        ).fetchone()
    now = int(time.time() - t0) // step + drift
    counter = max(now, last_t + 1)
    assert counter <= now + 1, "more than two logins of one account within 30 s"
    return f"{hotp(bytes.fromhex(key), counter, digits):0{digits}d}"


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def query(server: dict[str, Any], sql: str, *args) -> list[tuple]:
    """Rows of the served demo's SQLite file, waiting out the moments the app holds its lock."""
    for _ in range(20):
        try:
            with sqlite3.connect(server["db"]) as conn:
                return conn.execute(sql, args).fetchall()
        except sqlite3.OperationalError:  # locked for a moment by the served app
            time.sleep(0.2)
    raise AssertionError("the database stayed locked")
