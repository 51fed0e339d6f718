"""Bridge processes killed with SIGKILL mid-burst: a standby (or a restarted process) takes over, nothing is lost.

Real processes (`manage.py ami_bridge`) on one SQLite file, over real TCP to the recorded server
(recorded_pbx.py) that plays a real Asterisk 22's burst (telephony/traces/outage/client_gap): the
active bridge gets part 1 and is killed (-9) while it is writing its calls; whoever connects next
gets part 2, recorded after the PBX went on for 35 s alone, and the PBX's queue_log file holds what
happened meanwhile. Every caller must be recorded exactly once, with the outcome the PBX gave.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.telephony.recorded_pbx import RecordedPBX, Session
from tests.telephony.test_outage import CLIENT_GAP, QueueLogFile

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
LEASE_SECONDS = 2


@pytest.fixture(scope="module")
def migrated(tmp_path_factory) -> Path:
    """A migrated SQLite file, copied for each test (migrating takes a while)."""
    path = tmp_path_factory.mktemp("standby") / "template.sqlite3"
    env = _env(path, port=0, queue_log=Path("/nonexistent"))
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True, timeout=300)
    return path


def _env(database: Path, *, port: int, queue_log: Path) -> dict[str, str]:
    drop = ("DATABASE_URL", "REDIS_URL", "EMBEDDED_SERVICES", "CHANNEL_PREFIX", "AMI_PBXS")
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("AMI_")}
    return env | {
        "DATABASE_URL": f"sqlite:///{database}",
        "DEBUG": "1",
        "AMI_HOST": "127.0.0.1",
        "AMI_PORT": str(port),
        "AMI_QUEUE_LOG_PATH": str(queue_log),
        "AMI_BRIDGE_LEASE_SECONDS": str(LEASE_SECONDS),
        "LOG_LEVEL": "INFO",
    }


class BridgeProcess:
    def __init__(self, name: str, env: dict[str, str], log: Path) -> None:
        self.name = name
        self.log = log
        self.handle = log.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "ami_bridge"], cwd=ROOT, env=env, stdout=self.handle, stderr=subprocess.STDOUT
        )

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.handle.close()


def _query(database: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(database, timeout=20) as connection:
        return connection.execute(sql).fetchall()


async def _until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


@pytest.mark.parametrize("successor", ["standby", "restarted"])
def test_the_active_bridge_killed_mid_burst_every_caller_recorded_once_with_the_pbx_outcome(
    migrated, tmp_path, successor
) -> None:
    """standby: a second process waits (and says so) and takes over within a few seconds of the kill.
    restarted: one process, SIGKILLed, and a new one started 5 s later (the lease of the dead one runs out)."""
    database = tmp_path / "bridge.sqlite3"
    shutil.copy(migrated, database)
    queue_log = QueueLogFile(tmp_path / "queue_log", "client_gap")
    pbx = RecordedPBX(
        [
            Session("client_gap.part1", before=[queue_log.up_to(0)]),
            Session("client_gap.part2", before=[queue_log.up_to(35.01)]),
        ]
    )
    processes: list[BridgeProcess] = []

    def rows() -> list[tuple]:
        return _query(database, "SELECT pbx, pbx_epoch, linkedid, caller_number, outcome, ended_at FROM telephony_call")

    async def scenario() -> dict[str, float]:
        await pbx.start()
        try:
            return await steps()
        finally:
            for process in processes:
                await asyncio.to_thread(process.stop)
            await pbx.stop()

    async def steps() -> dict[str, float]:
        env = _env(database, port=pbx.port, queue_log=tmp_path / "queue_log")
        first = BridgeProcess("first", env, tmp_path / "first.log")
        processes.append(first)
        await _until(lambda: _query(database, "SELECT holder FROM telephony_bridgelease"), 60, "an active bridge")
        if successor == "standby":
            second = BridgeProcess("second", env, tmp_path / "second.log")
            processes.append(second)
            await _until(lambda: "standby bridge of PBX main" in second.output(), 60, "the standby's word")
        # Mid-burst: the first bridge has begun writing the burst's calls; then it is gone, no goodbye.
        await _until(lambda: len(rows()) >= 3, 60, "the first calls written")
        killed_at = time.monotonic()
        first.kill()
        at_kill = rows()
        if successor == "restarted":
            await asyncio.sleep(5)
            processes.append(BridgeProcess("restarted", env, tmp_path / "restarted.log"))
        await _until(lambda: pbx.connections >= 2, 30, "the successor's connection")
        took_over = time.monotonic() - killed_at

        def all_ended() -> bool:
            current = rows()
            return len(current) >= len(CLIENT_GAP) and all(r[5] for r in current)

        await _until(all_ended, 60, "every caller recorded and ended")
        await asyncio.sleep(0.5)  # a late summary (AgentComplete after Hangup) still lands
        return {"took_over": took_over, "rows": len(at_kill), "open": sum(1 for r in at_kill if not r[5])}

    timing = asyncio.run(asyncio.wait_for(scenario(), 240))
    result = rows()
    counts = Counter(r[3] for r in result)
    assert max(counts.values()) == 1, f"a caller recorded twice: {counts.most_common(3)}"
    assert {r[3]: r[4] for r in result} == CLIENT_GAP
    assert len({(r[0], r[1], r[2]) for r in result}) == len(CLIENT_GAP) and {r[0] for r in result} == {"main"}
    # Killed mid-burst: part of the callers written, some of those still live.
    assert timing["rows"] < len(CLIENT_GAP) and timing["open"] > 0, timing
    successor_log = processes[-1].output()
    assert "Traceback" not in successor_log, successor_log[-4000:]
    assert "no heartbeat from" in successor_log and "active bridge of PBX main" in successor_log
    if successor == "standby":
        # Within a few seconds: the lease (2 s) plus a heartbeat and the reconnect.
        assert timing["took_over"] < LEASE_SECONDS + 4, timing
        assert "standby bridge of PBX main" in successor_log
