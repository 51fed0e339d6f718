"""`manage.py serve` on the embedded default: web server, PBX simulator and bridge in one process.

This is what `make demo` starts; the test runs it for real on its own SQLite file and
ports, and waits (bounded) for calls to flow into Call rows and for pages to answer.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.servers import free_port, stop

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow  # a real `serve` subprocess
def test_serve_runs_the_simulator_and_bridge_and_calls_become_rows(tmp_path):
    db = tmp_path / "demo.sqlite3"
    web, ami = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "EMBEDDED_SERVICES")}
    env |= {
        "DATABASE_URL": f"sqlite:///{db}",
        "AMI_PORT": str(ami),
        "AMI_SIMULATOR_CALLS_PER_MINUTE": "120",
        "DEBUG": "1",
    }
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v", "0"], cwd=ROOT, env=env, check=True, timeout=120)
    server = subprocess.Popen(
        [*manage, "serve", "--port", str(web)], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 60
        calls = 0
        while time.monotonic() < deadline and server.poll() is None:
            time.sleep(0.5)
            try:
                with sqlite3.connect(db) as conn:
                    calls = conn.execute("select count(*) from telephony_call").fetchone()[0]
            except sqlite3.OperationalError:  # locked for a moment by a writer
                continue
            if calls:
                break
        assert calls > 0, "no call reached the database"
        with urllib.request.urlopen(f"http://127.0.0.1:{web}/admin/login/", timeout=10) as response:
            assert response.status == 200
    finally:
        output = stop(server)
    assert "Traceback" not in output, output[-3000:]
    assert "hotline-secret" not in output  # the AMI secret is never logged
