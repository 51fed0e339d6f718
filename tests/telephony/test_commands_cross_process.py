"""Commands from this process to a bridge in another one, over real Redis, as in production.

The bridge (with the PBX simulator) runs in a `manage.py serve` subprocess; this test process
is the web side. It proves what a single-process test cannot: the request reaches another
process's bridge and the answer finds its way back, after the layer sat idle longer than
channels_redis's blocking read (5 s, which redis-py 8's default socket timeout used to break),
and for a burst of consoles at once. Only with REDIS_URL: the in-memory layer cannot cross processes.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from telephony import control
from tests.servers import free_port, stop

ROOT = Path(__file__).resolve().parents[2]

# The in-memory channel layer cannot cross processes: this runs on Redis (CI) only.
pytestmark = [pytest.mark.redis, pytest.mark.slow]


@pytest.fixture
def bridge_process(tmp_path, settings):
    """A bridge + simulator process on its own SQLite file and channel prefix; yields nothing, stops it."""
    prefix = f"lianxin-test-{uuid.uuid4().hex[:8]}"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "EMBEDDED_SERVICES", "CHANNEL_PREFIX")}
    env |= {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bridge.sqlite3'}",
        "REDIS_URL": django_settings.REDIS_URL,
        "CHANNEL_PREFIX": prefix,
        "AMI_PORT": str(free_port()),
        "AMI_SIMULATOR_CALLS_PER_MINUTE": "0",  # no traffic: only the consoles' commands
        "EMBEDDED_SERVICES": "telephony.simulator.run,telephony.bridge.run",
        "DEBUG": "1",
    }
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v", "0"], cwd=ROOT, env=env, check=True, timeout=120)
    server = subprocess.Popen(
        [*manage, "serve", "--port", str(free_port())],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    layers = dict(settings.CHANNEL_LAYERS)
    layers["default"] = {**layers["default"], "CONFIG": {**layers["default"]["CONFIG"], "prefix": prefix}}
    settings.CHANNEL_LAYERS = layers
    settings.BRIDGE_COMMAND_TIMEOUT = 5
    try:
        yield
    finally:
        output = stop(server)
    assert "Traceback" not in output, output[-4000:]


async def _first_answer(deadline: float) -> dict:
    """The bridge process needs a few seconds to start: ask until it answers (bounded)."""
    while True:
        try:
            return await control.send_command("queue_add", extension="3000", name="warm-up")
        except control.BridgeUnavailable:
            if time.monotonic() > deadline:
                raise


def test_the_bridge_in_another_process_answers_after_idling_and_under_a_burst(bridge_process):
    async def main():
        first = await _first_answer(time.monotonic() + 60)
        assert first["ok"] and first["interface"] == "Local/3000@agents"

        # Idle longer than the 5 s blocking read on both sides, then ask again.
        await asyncio.sleep(7)
        again = await control.send_command("pause", extension="3000", paused=True, reason="training")
        assert again == {**again, "ok": True, "paused": True}

        # Forty consoles press Ready at once: every one is answered, by the right reply.
        extensions = [str(3001 + i) for i in range(40)]
        added = await asyncio.gather(
            *(control.send_command("queue_add", extension=ext, name=f"agent{ext}") for ext in extensions)
        )
        assert [a["interface"] for a in added] == [f"Local/{ext}@agents" for ext in extensions]
        paused = await asyncio.gather(
            *(control.send_command("pause", extension=ext, paused=True, reason="break") for ext in extensions)
        )
        assert all(p["ok"] and p["paused"] for p in paused)

        # A refusal crosses processes as a clear error too.
        with pytest.raises(control.CommandFailed, match="no call in progress"):
            await control.send_command("transfer_110", extension="3001")

    asyncio.run(asyncio.wait_for(main(), 120))
