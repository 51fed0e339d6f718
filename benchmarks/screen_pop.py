"""Screen-pop benchmark: AMI frame leaving the PBX simulator -> screen pop arriving at an agent console's socket.

200 agent consoles (agent_extension 2001..2200) and a few wallboards connect over real WebSockets
(the `websockets` client, session cookie + Origin equal to the Host, like a browser) to `manage.py serve`;
every agent presses Ready over HTTP (POST /agent/state/, so the bridge sends QueueAdd to the simulator)
and the simulator drives --rate calls/s (AMI_SIMULATOR_CALLS_PER_MINUTE) at the queue members.

Measured, wall clock (time.time(); all processes are on this machine):

  pop        arrival of the call.screen_pop fragment at the agent's socket minus the time the simulator
             wrote the AgentCalled frame that triggered it (matched by agent extension + caller number).
  fan-out    arrival of a wallboard.queues fragment at a supervisor's socket minus the time the bridge
             called group_send("wallboard", ...) for it (the latest publish before the arrival).
  join->wb   for each QueueCallerJoin frame: arrival of the first wallboard push published after the
             frame was written, minus the frame's write time. A lower bound (a frame not yet processed at
             that publish shows one push later) that includes the bridge's BOARD_INTERVAL (0.5 s) by design.

The simulator and the bridge are NOT modified: `manage.py serve` runs them through EMBEDDED_SERVICES entries
of this module (timed_simulator / timed_bridge) that record the simulator's frame writes (a subclass whose
broadcast() notes the time after writing) and the bridge's wallboard publishes (a wrapper around the
channel layer's group_send) into a log file. The job loop (web.jobs_loop.run) is not started.

Layers:
  memory  SQLite file var/bench_pop.sqlite3 (recreated), the in-memory channel layer: ONE `serve` process
          running web + simulator + bridge (the in-memory layer cannot cross processes).
  redis   PostgreSQL database lianxin_bench_pop (dropped and recreated) + Redis db 6 (flushed): TWO
          `serve` web processes (no service but timed_web) (consoles split between them), a `serve` process running
          only the simulator and one running only the bridge (their web ports get no traffic);
          --pbx-in-bridge runs simulator and bridge in one process, as runs before 2026-11-29 did.

Usage (from the repository root; PostgreSQL on 127.0.0.1:5432 as postgres, Redis on 127.0.0.1:6379):

    .venv/bin/python benchmarks/screen_pop.py                       # both layers, 200 consoles, 20 calls/s, 30 s
    .venv/bin/python benchmarks/screen_pop.py --layer memory --seconds 20

Results: a table on stdout and benchmarks/results/screen_pop.json. Every step is bounded in time, every
process is stopped at the end, only loopback traffic.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "screen_pop.json"
SQLITE_PATH = ROOT / "var" / "bench_pop.sqlite3"
PG_BASE = "postgres://postgres@127.0.0.1:5432"
PG_NAME = "lianxin_bench_pop"
REDIS_URL = "redis://127.0.0.1:6379/6"
LOG_ENV = "BENCH_POP_LOG"
TARGET_P99_MS = 100.0
FIRST_EXTENSION = 2001
_POP_NUMBER = re.compile(r'data-testid="pop-number">([^<]+)<')
_FIELD = re.compile(r"^(Interface|CallerIDNum|Linkedid): (.*)$", re.M)


# --- inside the served process: EMBEDDED_SERVICES entries -------------------------------------------


def _log_file():
    return open(os.environ[LOG_ENV], "a", buffering=1)


def _log_collector_pauses(out, role: str) -> None:
    """Log each pass of the cyclic garbage collector that stopped this process for 5 ms or more:
    the event loop waits for it, so it shows in the pops' tail (hotline.heap)."""
    import gc

    begun = [0.0]

    def note(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            begun[0] = time.perf_counter()
            return
        took = (time.perf_counter() - begun[0]) * 1000
        if took >= 5 and not out.closed:
            out.write(f"gc {role} {info['generation']} {took:.1f} {time.time():.6f}\n")

    gc.callbacks.append(note)


async def timed_simulator(stop: asyncio.Event) -> None:
    """telephony.simulator.run, with every AgentCalled / QueueCallerJoin write time logged."""
    from telephony import simulator

    out = _log_file()

    class TimedSimulator(simulator.PBXSimulator):
        def broadcast(self, text: str) -> None:
            super().broadcast(text)
            if text.startswith("Event: AgentCalled\r\n"):
                now = time.time()
                fields = dict(_FIELD.findall(text.replace("\r\n", "\n")))
                ext = fields.get("Interface", "").split("/")[-1].split("@")[0]
                out.write(f"called {now:.6f} {ext} {fields.get('CallerIDNum', '-')} {fields.get('Linkedid', '-')}\n")
            elif text.startswith("Event: QueueCallerJoin\r\n"):
                out.write(f"join {time.time():.6f}\n")

    try:
        await TimedSimulator(simulator.config_from_settings()).run(stop)
    finally:
        out.close()


async def timed_bridge(stop: asyncio.Event) -> None:
    """telephony.bridge.run, with the time of every wallboard.queues publish logged, and the stages of each pop:
    the AgentCalled read from the socket, translated (the pop task made), its database read begun and done."""
    from channels.layers import get_channel_layer

    from telephony import bridge

    out = _log_file()
    _log_collector_pauses(out, "bridge")
    layer = get_channel_layer()
    original = layer.group_send
    original_translate, original_pop, original_read = bridge.Bridge.translate, bridge.Bridge.pop, bridge.ringing_pop
    read_at: dict[tuple[str, str], float] = {}

    def _key(event) -> tuple[str, str]:
        return str(event.interface).split("/")[-1].split("@")[0], event.caller_number or "-"

    def translate(self, message, at):
        if message.name == "AgentCalled":
            ext = message.first("Interface").split("/")[-1].split("@")[0]
            read_at[(ext, message.first("CallerIDNum") or "-")] = at
        return original_translate(self, message, at)

    def pop(self, event) -> None:
        ext, number = _key(event)
        out.write(f"stage translated {time.time():.6f} {ext} {number} {read_at.pop((ext, number), 0.0):.6f}\n")
        original_pop(self, event)

    def ringing_pop(event, *args, **kwargs):
        begun = time.time()
        try:
            return original_read(event, *args, **kwargs)
        finally:
            ext, number = _key(event)
            out.write(f"stage read {begun:.6f} {ext} {number} {time.time():.6f}\n")

    async def group_send(group: str, message: dict[str, Any]) -> None:
        if message.get("type") == "wallboard.queues":
            out.write(f"board {time.time():.6f}\n")
        elif message.get("type") == "call.screen_pop":
            event = message.get("event") or {}
            ext = str(event.get("interface", "")).split("/")[-1].split("@")[0]
            begun = time.time()
            await original(group, message)
            out.write(f"pop {begun:.6f} {ext} {event.get('caller_number') or '-'} {time.time():.6f}\n")
            return
        await original(group, message)

    layer.group_send = group_send
    bridge.Bridge.translate, bridge.Bridge.pop, bridge.ringing_pop = translate, pop, ringing_pop
    try:
        await bridge.run(stop)
    finally:
        layer.group_send = original
        bridge.Bridge.translate, bridge.Bridge.pop, bridge.ringing_pop = original_translate, original_pop, original_read
        out.close()


async def timed_web(stop: asyncio.Event) -> None:
    """Beside a web process (no service of its own): when each screen pop reached its console's handler
    and when its fragment was handed to the socket, and how many messages of each type the consoles got."""
    from collections import Counter

    from web.consumers import AgentConsumer, ConsoleConsumer

    out = _log_file()
    _log_collector_pauses(out, "web")
    original_pop, original_dispatch = AgentConsumer.call_screen_pop, ConsoleConsumer.dispatch
    counts: Counter[str] = Counter()

    async def call_screen_pop(self, message: dict[str, Any]) -> None:
        begun = time.time()
        await original_pop(self, message)
        event = message.get("event") or {}
        ext = str(event.get("interface", "")).split("/")[-1].split("@")[0]
        out.write(f"handled {begun:.6f} {ext} {event.get('caller_number') or '-'} {time.time():.6f}\n")

    async def dispatch(self, message: dict[str, Any]) -> None:
        counts[f"{type(self).__name__}:{message.get('type')}"] += 1
        await original_dispatch(self, message)

    AgentConsumer.call_screen_pop, ConsoleConsumer.dispatch = call_screen_pop, dispatch
    try:
        await stop.wait()
    finally:
        AgentConsumer.call_screen_pop, ConsoleConsumer.dispatch = original_pop, original_dispatch
        out.write("received " + json.dumps(dict(counts)) + "\n")
        out.close()


# --- setup (a subprocess with the run's environment) --------------------------------------------------


def setup(out_path: str, agents: int, supervisors: int) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from hotline.models import Role, User

    call_command("migrate", interactive=False, verbosity=0)
    users = []
    for i in range(agents):
        users.append(User(username=f"bench-agent-{FIRST_EXTENSION + i}", role=Role.AGENT))
        users[-1].agent_extension = str(FIRST_EXTENSION + i)
    users += [User(username=f"bench-supervisor-{i}", role=Role.SUPERVISOR) for i in range(supervisors)]
    for user in users:
        user.set_unusable_password()
    User.objects.bulk_create(users)
    out = {"agents": [], "supervisors": []}
    for user in User.objects.filter(username__startswith="bench-").order_by("username"):
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        if user.role == Role.SUPERVISOR:
            # Supervisors must pass a second factor (OTP_REQUIRED_ROLES): the session of one who did.
            device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.create()
        kind = "agents" if user.role == Role.AGENT else "supervisors"
        out[kind].append({"username": user.username, "ext": user.agent_extension, "session": session.session_key})
    Path(out_path).write_text(json.dumps(out))


# --- the orchestrator ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def base_env(layer: str, ami_port: int, log_path: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "EMBEDDED_SERVICES", "DEBUG", "CHANNEL_PREFIX")
    }
    env |= {
        "DEBUG": "0",  # production-like: no query log, no debug pages
        "SECRET_KEY": "bench-" + secrets.token_hex(24),
        "AMI_SECRET": "bench-ami-secret",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "AMI_PORT": str(ami_port),
        # The traffic of the recordings, as in every earlier run of this benchmark: ~3 s calls, no
        # wrap-up, callers wait until the queue's timeout. The demo's human pace (minutes per call,
        # AMI_SIMULATOR_TALK) would leave 200 agents on calls and ring nobody after the first 10 s.
        "AMI_SIMULATOR_TALK": "",
        "AMI_SIMULATOR_PATIENCE": "",
        "AGENT_WRAPUP_SECONDS": "0",
        LOG_ENV: str(log_path),
        "PYTHONUNBUFFERED": "1",
    }
    if layer == "memory":
        env["DATABASE_URL"] = f"sqlite:///{SQLITE_PATH}"
    else:
        env["DATABASE_URL"] = f"{PG_BASE}/{PG_NAME}"
        env["REDIS_URL"] = REDIS_URL
        env["CHANNEL_PREFIX"] = "lianxin-bench-pop"
        # "redis": channels_redis's list-based core layer; "pubsub": its Redis pub/sub layer (CHANNEL_LAYER).
        env["CHANNEL_LAYER"] = "pubsub" if layer == "pubsub" else "core"
    return env


def prepare_store(layer: str) -> None:
    if layer == "memory":
        SQLITE_PATH.parent.mkdir(exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)
        return
    import psycopg

    with psycopg.connect(f"{PG_BASE}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{PG_NAME}"')
    subprocess.run(["redis-cli", "-n", "6", "flushdb"], check=True, capture_output=True, timeout=10)


def wait_listening(port: int, timeout: float) -> None:
    """Wait until serve accepts TCP (pages use the static manifest, absent without collectstatic at DEBUG=0)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"serve on port {port} did not listen within {timeout:.0f} s")


def ready(port: int, session: str) -> str:
    """Press Ready on the console: POST /agent/state/ with the session and a CSRF cookie + header."""
    csrf = secrets.token_hex(16)  # a 32-character secret is an accepted token
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/agent/state/",
        data=urllib.parse.urlencode({"state": "ready"}).encode(),
        headers={
            "Cookie": f"sessionid={session}; csrftoken={csrf}",
            "X-CSRFToken": csrf,
            "Origin": f"http://127.0.0.1:{port}",
            "HX-Request": "true",
        },
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        body = response.read().decode(errors="replace")
    if "not answering" in body or "refused" in body:
        return "bridge error"
    return ""


class Consoles:
    """The WebSocket clients: arrival times of pops (per agent) and wallboard pushes (per supervisor)."""

    def __init__(self) -> None:
        self.pops: list[tuple[float, str, str]] = []  # (arrival, ext, number)
        self.boards: list[float] = []
        self.connected = 0
        self.errors: list[str] = []
        self.closed_early = 0

    async def agent(self, port: int, ext: str, session: str, stop: asyncio.Event) -> None:
        seen: set[str] = set()

        def on_message(text: str, now: float) -> None:
            match = _POP_NUMBER.search(text)
            if match and match.group(1) not in seen:  # the pop comes first; the 0.5 s re-render repeats it
                seen.add(match.group(1))
                self.pops.append((now, ext, match.group(1)))

        await self._socket(port, "/ws/agent/", session, on_message, stop)

    async def supervisor(self, port: int, session: str, stop: asyncio.Event) -> None:
        def on_message(text: str, now: float) -> None:
            if 'id="wb-queues"' in text:
                self.boards.append(now)

        await self._socket(port, "/ws/wallboard/", session, on_message, stop)

    async def _socket(self, port: int, path: str, session: str, on_message, stop: asyncio.Event) -> None:
        from websockets.asyncio.client import connect

        try:
            async with connect(
                f"ws://127.0.0.1:{port}{path}",
                origin=f"http://127.0.0.1:{port}",
                additional_headers={"Cookie": f"sessionid={session}"},
                max_size=None,
                open_timeout=30,
                ping_interval=None,
            ) as ws:
                self.connected += 1
                reader = asyncio.create_task(self._read(ws, on_message))
                stopper = asyncio.create_task(stop.wait())
                await asyncio.wait({reader, stopper}, return_when=asyncio.FIRST_COMPLETED)
                if reader.done() and not stop.is_set():
                    self.closed_early += 1
                reader.cancel()
                stopper.cancel()
        except Exception as exc:  # noqa: BLE001  (counted and reported, not fatal)
            self.errors.append(f"{path}: {exc!r}")

    @staticmethod
    async def _read(ws, on_message) -> None:
        with contextlib.suppress(Exception):
            async for text in ws:
                on_message(text, time.time())


def read_log(path: Path) -> dict[str, Any]:
    """The served processes' timestamps: AgentCalled frames and pop publishes by (extension, number)."""
    called: dict[tuple[str, str], list[float]] = {}
    published: dict[tuple[str, str], list[float]] = {}
    joins: list[float] = []
    boards: list[float] = []
    stages: dict[tuple[str, str], dict[str, tuple[float, float]]] = {}
    pairs: dict[str, dict[tuple[str, str], list[tuple[float, float]]]] = {}
    received: dict[str, int] = {}
    collector: list[tuple[str, int, float, float]] = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "stage" and len(parts) == 6:
            # translated: (when, read from the socket); read: (begun, done). The first of each per call.
            stages.setdefault((parts[3], parts[4]), {}).setdefault(parts[1], (float(parts[2]), float(parts[5])))
            continue
        if parts[0] == "gc" and len(parts) == 5:
            # role, generation, pause ms, when
            collector.append((parts[1], int(parts[2]), float(parts[3]), float(parts[4])))
            continue
        if parts[0] == "received":
            for name, n in json.loads(line.split(" ", 1)[1]).items():
                received[name] = received.get(name, 0) + n
            continue
        if parts[0] in ("pop", "handled") and len(parts) == 5:
            # pop: the bridge's group_send (begun, done); handled: the console's handler (begun, sent).
            into = pairs.setdefault(parts[0], {})
            into.setdefault((parts[2], parts[3]), []).append((float(parts[1]), float(parts[4])))
        if parts[0] in ("called", "pop") and len(parts) >= 4:
            into = called if parts[0] == "called" else published
            into.setdefault((parts[2], parts[3]), []).append(float(parts[1]))
        elif parts[0] == "join":
            joins.append(float(parts[1]))
        elif parts[0] == "board":
            boards.append(float(parts[1]))
    return {
        "called": called,
        "published": published,
        "joins": sorted(joins),
        "boards": sorted(boards),
        "stages": stages,
        "pairs": pairs,
        "received": received,
        "collector": collector,
    }


def analyse(log: Path, consoles: Consoles, window: tuple[float, float], agent_exts: set[str]) -> dict[str, Any]:
    t0, t1 = window
    times = read_log(log)
    called, published, joins, publishes = times["called"], times["published"], times["joins"], times["boards"]
    sent = sum(1 for (ext, _), times in called.items() if ext in agent_exts for t in times if t0 <= t <= t1)
    pop_ms: list[float] = []
    # The pop's two halves: the bridge (frame -> group_send, incl. the call row write) and the
    # channel layer + web process (group_send -> socket, incl. rendering the fragment).
    bridge_ms: list[float] = []
    delivery_ms: list[float] = []
    # The bridge half in stages: frame -> read from the socket -> translated -> database read begun
    # (a free worker thread) -> done -> group_send.
    stage_ms: dict[str, list[float]] = {"socket": [], "queue": [], "thread": [], "db_read": [], "send": []}
    # The delivery half in stages: the bridge's group_send call (begun -> done), the channel layer and
    # the web process's receive (-> the console's handler begins), the handler (rendering, -> handed to
    # the socket), and the way to the benchmark's client (-> arrival).
    delivery_stage_ms: dict[str, list[float]] = {"publish": [], "layer": [], "handler": [], "client": []}
    pop_pairs, handled_pairs = times["pairs"].get("pop", {}), times["pairs"].get("handled", {})
    for arrival, ext, number in consoles.pops:
        frames = [t for t in called.get((ext, number), []) if t <= arrival]
        if not frames or not t0 <= frames[0] <= t1:
            continue
        pop_ms.append((arrival - frames[0]) * 1000)
        sends = [t for t in published.get((ext, number), []) if frames[0] <= t <= arrival]
        if sends:
            bridge_ms.append((sends[0] - frames[0]) * 1000)
            delivery_ms.append((arrival - sends[0]) * 1000)
            done = [d for b, d in pop_pairs.get((ext, number), []) if b == sends[0]]
            handled = [(b, d) for b, d in handled_pairs.get((ext, number), []) if sends[0] <= b <= arrival]
            if done and handled:
                for name, value in (
                    ("publish", done[0] - sends[0]),
                    ("layer", handled[0][0] - done[0]),
                    ("handler", handled[0][1] - handled[0][0]),
                    ("client", arrival - handled[0][1]),
                ):
                    delivery_stage_ms[name].append(value * 1000)
            stage = times["stages"].get((ext, number), {})
            if "translated" in stage and "read" in stage and stage["translated"][1]:
                (translated, read), (begun, done) = stage["translated"], stage["read"]
                for name, value in (
                    ("socket", read - frames[0]),
                    ("queue", translated - read),
                    ("thread", begun - translated),
                    ("db_read", done - begun),
                    ("send", sends[0] - done),
                ):
                    stage_ms[name].append(value * 1000)
    fan_ms: list[float] = []
    in_window = [a for a in consoles.boards if t0 <= a <= t1 + 1]
    for arrival in in_window:
        i = bisect.bisect_right(publishes, arrival)
        if i:
            fan_ms.append((arrival - publishes[i - 1]) * 1000)
    # join -> wallboard: first push (at any supervisor socket, each counted) published after the frame.
    pushes_by_publish: dict[float, list[float]] = {}
    for arrival in in_window:
        i = bisect.bisect_right(publishes, arrival)
        if i:
            pushes_by_publish.setdefault(publishes[i - 1], []).append(arrival)
    join_ms: list[float] = []
    for join in joins:
        if not t0 <= join <= t1:
            continue
        i = bisect.bisect_right(publishes, join)
        if i < len(publishes) and publishes[i] in pushes_by_publish:
            join_ms.extend((a - join) * 1000 for a in pushes_by_publish[publishes[i]])

    def stats(values: list[float]) -> dict[str, Any]:
        return {
            "n": len(values),
            "p50_ms": round(statistics.median(values), 1) if values else None,
            "p99_ms": round(percentile(values, 99), 1) if values else None,
            "max_ms": round(max(values), 1) if values else None,
        }

    return {
        "agent_called_frames": sent,
        "pops_received": len(pop_ms),
        "pop": stats(pop_ms),
        "pop_bridge": stats(bridge_ms),
        "pop_delivery": stats(delivery_ms),
        "pop_bridge_stages": {name: stats(values) for name, values in stage_ms.items()},
        "pop_delivery_stages": {name: stats(values) for name, values in delivery_stage_ms.items()},
        # Full collector passes (generation 2) in the measurement window, per process kind.
        "collector_full_passes": {
            role: stats([ms for r, gen, ms, at in times["collector"] if r == role and gen == 2 and t0 <= at <= t1])
            for role in ("web", "bridge")
        },
        "messages_received_by_consoles": dict(sorted(times["received"].items(), key=lambda kv: -kv[1])),
        "wallboard_publishes": sum(1 for p in publishes if t0 <= p <= t1),
        "wallboard_fanout": stats(fan_ms),
        "join_to_wallboard": stats(join_ms),
    }


def stop_process(proc: subprocess.Popen, timeout: float = 20) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def run_layer(layer: str, args: argparse.Namespace) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix=f"screen-pop-{layer}-"))
    log = work / "times.log"
    log.touch()
    ami_port = free_port()
    env = base_env(layer, ami_port, log)
    print(f"[{layer}] preparing the database and {args.agents} agents + {args.supervisors} supervisors", flush=True)
    prepare_store(layer)
    users_file = work / "users.json"
    setup_cmd = [sys.executable, __file__, "--setup", str(users_file)]
    subprocess.run(
        [*setup_cmd, "--agents", str(args.agents), "--supervisors", str(args.supervisors)],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=600,
    )
    users = json.loads(users_file.read_text())
    services = (
        "benchmarks.screen_pop.timed_simulator,benchmarks.screen_pop.timed_bridge,benchmarks.screen_pop.timed_web"
    )
    manage = [sys.executable, "manage.py", "serve"]
    procs: list[subprocess.Popen] = []
    logs = []
    web_ports: list[int] = []
    sim_env = env | {"EMBEDDED_SERVICES": services, "AMI_SIMULATOR_CALLS_PER_MINUTE": str(round(args.rate * 60))}
    if layer == "memory":
        specs = [(free_port(), [], sim_env, True)]
    else:
        web_env = env | {"EMBEDDED_SERVICES": "benchmarks.screen_pop.timed_web"}  # timestamps only, no service
        specs = [(free_port(), [], web_env, True) for _ in range(args.web)]
        if args.pbx_in_bridge:  # the layout of the runs before 2026-11-29
            specs.append((free_port(), [], sim_env, False))
        else:
            # The PBX in a process of its own, as a real one is on a machine of its own: sharing the
            # bridge's event loop and GIL, the simulator's frame rendering delayed the bridge's reads.
            for service in ("timed_simulator", "timed_bridge"):
                own = sim_env | {"EMBEDDED_SERVICES": f"benchmarks.screen_pop.{service}"}
                specs.append((free_port(), [], own, False))
    try:
        for n, (port, extra, proc_env, serves_web) in enumerate(specs):
            out = open(work / f"serve-{n}.log", "wb")  # noqa: SIM115  (closed below)
            logs.append(work / f"serve-{n}.log")
            procs.append(
                subprocess.Popen([*manage, "--port", str(port), *extra], cwd=ROOT, env=proc_env, stdout=out, stderr=out)
            )
            out.close()
            if serves_web:
                web_ports.append(port)
        for port, *_ in specs:
            await asyncio.to_thread(wait_listening, port, 60)
        consoles = Consoles()
        stop = asyncio.Event()
        gate = asyncio.Semaphore(20)

        async def opened(coro) -> asyncio.Task:
            """Start one socket; hold a gate slot until it is open (or failed), so at most 20 connect at once."""
            await gate.acquire()
            before = consoles.connected + len(consoles.errors)
            task = asyncio.create_task(coro)
            deadline = time.monotonic() + 35
            while consoles.connected + len(consoles.errors) == before and not task.done():
                if time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.005)
            gate.release()
            return task

        t_connect = time.time()
        tasks = []
        for i, agent in enumerate(users["agents"]):
            port = web_ports[i % len(web_ports)]
            tasks.append(await opened(consoles.agent(port, agent["ext"], agent["session"], stop)))
        for i, sup in enumerate(users["supervisors"]):
            tasks.append(await opened(consoles.supervisor(web_ports[i % len(web_ports)], sup["session"], stop)))
        connect_s = time.time() - t_connect
        print(f"[{layer}] {consoles.connected} sockets open in {connect_s:.1f} s; pressing Ready", flush=True)

        ready_errors: list[str] = []
        t_ready = time.time()

        async def press(i: int, agent: dict[str, str]) -> None:
            async with gate:
                try:
                    error = await asyncio.to_thread(ready, web_ports[i % len(web_ports)], agent["session"])
                except OSError as exc:
                    error = repr(exc)
                if error:
                    ready_errors.append(f"{agent['ext']}: {error}")

        await asyncio.gather(*(press(i, a) for i, a in enumerate(users["agents"])))
        ready_s = time.time() - t_ready
        print(f"[{layer}] {args.agents - len(ready_errors)} agents ready in {ready_s:.1f} s; measuring", flush=True)
        await asyncio.sleep(args.warmup)
        t0 = time.time()
        await asyncio.sleep(args.seconds)
        t1 = time.time()
        await asyncio.sleep(args.grace)  # late arrivals of frames sent before t1 still count
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 30)
    finally:
        for proc in procs:
            await asyncio.to_thread(stop_process, proc)
    tracebacks = sum(p.read_text(errors="replace").count("Traceback") for p in logs)
    agent_exts = {a["ext"] for a in users["agents"]}
    result = analyse(log, consoles, (t0, t1), agent_exts)
    result |= {
        "layer": layer,
        "setup": (
            "SQLite + in-memory layer, 1 serve process (web + simulator + bridge)"
            if layer == "memory"
            else f"PostgreSQL + Redis ({'pub/sub' if layer == 'pubsub' else 'core'} layer), "
            + f"{args.web} `serve` web processes (timed_web only) + "
            + ("1 serve (simulator + bridge)" if args.pbx_in_bridge else "1 serve (simulator) + 1 serve (bridge)")
        ),
        "consoles": args.agents,
        "supervisors": args.supervisors,
        "sockets_open": consoles.connected,
        "socket_errors": consoles.errors[:10],
        "sockets_closed_early": consoles.closed_early,
        "connect_seconds": round(connect_s, 2),
        "ready_seconds": round(ready_s, 2),
        "ready_errors": ready_errors[:10],
        "calls_per_second": args.rate,
        "window_seconds": round(t1 - t0, 2),
        "agent_called_per_second": round(result["agent_called_frames"] / max(t1 - t0, 1e-9), 2),
        "tracebacks_in_server_logs": tracebacks,
    }
    if tracebacks:
        result["server_log_tail"] = "\n".join(
            p.read_text(errors="replace")[-3000:] for p in logs if "Traceback" in p.read_text(errors="replace")
        )[-6000:]
    shutil.rmtree(work, ignore_errors=True)
    return result


def fmt(value: Any) -> str:
    return "-" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def print_table(results: list[dict[str, Any]]) -> None:
    header = (
        f"{'layer':<7} {'consoles':>8} {'calls/s':>7} {'pops sent':>9} {'received':>8} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'max ms':>7} | {'wb fan-out p50':>14} {'p99':>6} | {'join->wb p50':>12} {'p99':>6}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        pop, fan, join = r["pop"], r["wallboard_fanout"], r["join_to_wallboard"]
        print(
            f"{r['layer']:<7} {r['consoles']:>8} {fmt(r['calls_per_second']):>7} {r['agent_called_frames']:>9} "
            f"{r['pops_received']:>8} {fmt(pop['p50_ms']):>7} {fmt(pop['p99_ms']):>7} {fmt(pop['max_ms']):>7} | "
            f"{fmt(fan['p50_ms']):>14} {fmt(fan['p99_ms']):>6} | {fmt(join['p50_ms']):>12} {fmt(join['p99_ms']):>6}"
        )
    print()
    print("pop split: bridge = AgentCalled frame -> group_send; delivery = group_send -> socket")
    for r in results:
        b, d = r["pop_bridge"], r["pop_delivery"]
        print(
            f"{r['layer']:<7} bridge p50 {fmt(b['p50_ms'])} p99 {fmt(b['p99_ms'])} ms | "
            f"delivery p50 {fmt(d['p50_ms'])} p99 {fmt(d['p99_ms'])} ms"
        )
        stages = r.get("pop_bridge_stages", {})
        print(
            f"{r['layer']:<7} bridge half p50/p99 ms: "
            + ", ".join(f"{name} {fmt(v['p50_ms'])}/{fmt(v['p99_ms'])}" for name, v in stages.items())
        )
        stages = r.get("pop_delivery_stages", {})
        print(
            f"{r['layer']:<7} delivery half p50/p99 ms: "
            + ", ".join(f"{name} {fmt(v['p50_ms'])}/{fmt(v['p99_ms'])}" for name, v in stages.items())
        )
        passes = r.get("collector_full_passes") or {}
        print(
            f"{r['layer']:<7} full collector passes >= 5 ms in the window (n, p50/max ms): "
            + ", ".join(f"{role} {v['n']}, {fmt(v['p50_ms'])}/{fmt(v['max_ms'])}" for role, v in passes.items())
        )
        received = r.get("messages_received_by_consoles") or {}
        print(
            f"{r['layer']:<7} messages handled by the consoles (whole run, all web processes): "
            + ", ".join(f"{name} {n}" for name, n in list(received.items())[:8])
        )
    for r in results:
        if r["layer"] in ("redis", "pubsub") and r["pop"]["p99_ms"] is not None:
            verdict = "meets" if r["pop"]["p99_ms"] < TARGET_P99_MS else "MISSES"
            print(f"{r['layer']}: pop p99 {r['pop']['p99_ms']} ms {verdict} the target (< {TARGET_P99_MS:g} ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--layer",
        choices=("memory", "redis", "pubsub", "both", "redis+pubsub"),
        default="both",
        help="redis: channels_redis's core layer; pubsub: its pub/sub layer; redis+pubsub: both in one run",
    )
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--supervisors", type=int, default=10)
    parser.add_argument("--rate", type=float, default=20.0, help="calls per second driven by the simulator")
    parser.add_argument("--seconds", type=float, default=30.0, help="measurement window")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--grace", type=float, default=3.0)
    parser.add_argument("--web", type=int, default=2, help="web processes on the Redis layer")
    parser.add_argument(
        "--pbx-in-bridge",
        action="store_true",
        help="redis: run the simulator in the bridge's process (the layout before 2026-11-29)",
    )
    parser.add_argument("--setup", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.setup:
        setup(args.setup, args.agents, args.supervisors)
        return
    layers = {"both": ["memory", "redis"], "redis+pubsub": ["redis", "pubsub"]}.get(args.layer, [args.layer])
    results = [asyncio.run(run_layer(layer, args)) for layer in layers]
    print()
    print_table(results)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    layers_out = previous.get("layers", {}) if isinstance(previous, dict) else {}
    layers_out |= {r["layer"]: r for r in results}
    RESULTS.write_text(
        json.dumps(
            {
                "benchmark": "screen_pop",
                "machine": {
                    "python": platform.python_version(),
                    "cpus": os.cpu_count(),
                    "platform": platform.platform(),
                },
                "target_p99_ms_redis": TARGET_P99_MS,
                "layers": layers_out,
            },
            indent=2,
            ensure_ascii=False,
        )
    )
    print(f"results: {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
