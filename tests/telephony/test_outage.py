"""Nothing lost across an outage: the real bridge over real TCP, fed the recordings of a real Asterisk 22.

telephony/traces/outage/README.md describes the scenarios: a client that was away 12 s mid-burst
(client_gap) and a PBX stopped for 30 s (pbx_down). The recorded server (recorded_pbx.py) plays
part1, drops the connection, then plays part2 to the reconnecting bridge; the PBX's queue_log file
grows as it did on the PBX. Every caller must end up recorded once, with the outcome the PBX gave.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest
from channels.db import database_sync_to_async

from telephony import bridge as bridge_module
from telephony.ami.errors import LoginRefused
from telephony.lifecycle import CallEnded
from telephony.models import Call
from tests.telephony.recorded_pbx import RecordedPBX, Session, queue_log_lines
from tests.telephony.traces import replay

pytestmark = pytest.mark.django_db(transaction=True)

T0 = {"client_gap": 1795925242.697, "pbx_down": 1795925339.731}

# The README's table: caller -> what queue_log says (COMPLETE* = answered; #8 was sent on to 110).
CLIENT_GAP = {
    "18807849093": "answered",
    "18639900826": "answered",
    "17916444004": "answered",
    "15308757263": "abandoned",
    "15416430253": "timeout",
    "13758995240": "answered",
    "18868523596": "answered",
    "15246267612": "transferred_110",
    "13464979954": "answered",
    "17494749569": "answered",
    "13227572446": "abandoned",
    "17696679620": "answered",
    "15340739077": "timeout",
    "15706980573": "answered",
    "17338038627": "abandoned",
    "15669038684": "answered",
    "18189001014": "timeout",
    "13869162555": "answered",
    "13765965359": "abandoned",
    "15037721113": "answered",
    "18308411527": "answered",
    "18199736479": "answered",
    "13301524389": "answered",
    "17854819077": "timeout",
    "15754640655": "answered",
}
PBX_DOWN = {
    "13800000001": "answered",
    "13800000002": "abandoned",
    "13800000003": "answered",
    "13800000004": "abandoned",
    "13800000005": "timeout",
    "13800000006": "answered",
}


def ground_truth(name: str) -> dict[str, str]:
    """caller number -> outcome, from the uninterrupted stream through the same translator."""
    _, events = replay(name)
    return {e.caller_number: e.outcome for e in events if isinstance(e, CallEnded)}


def _rows() -> list[dict]:
    return list(
        Call.objects.values(
            "linkedid", "pbx_epoch", "caller_number", "outcome", "answered_at", "ended_at", "agent_interface", "queue"
        )
    )


rows = database_sync_to_async(_rows)


class QueueLogFile:
    """The PBX's queue_log, appended up to a scenario time as the recording went."""

    def __init__(self, path: Path, scenario: str) -> None:
        self.path = path
        self.lines = queue_log_lines(scenario)
        self.t0 = T0[scenario]
        self.written = 0
        path.write_bytes(b"")

    def up_to(self, t: float, extra: bytes = b""):
        def hook() -> None:
            with self.path.open("ab") as handle:
                while self.written < len(self.lines) and self.lines[self.written][0] <= self.t0 + t:
                    handle.write(self.lines[self.written][1])
                    self.written += 1
                handle.write(extra)

        return hook


async def _until(predicate, timeout: float) -> None:
    async def loop() -> None:
        while not await predicate():
            await asyncio.sleep(0.1)

    await asyncio.wait_for(loop(), timeout)


def run_outage(settings, sessions: list[Session], callers: int, queue_log: Path | None):
    """Rows once every caller ended, the bridge and the server."""

    async def scenario():
        pbx = RecordedPBX(sessions)
        await pbx.start()
        settings.AMI_HOST, settings.AMI_PORT = "127.0.0.1", pbx.port
        settings.AMI_QUEUE_LOG_PATH = str(queue_log) if queue_log else ""
        bridge = bridge_module.from_settings()
        stop = asyncio.Event()
        task = asyncio.create_task(bridge.run(stop))
        try:
            await asyncio.wait_for(pbx.done[-1].wait(), 60)

            async def all_ended() -> bool:
                current = await rows()
                return len(current) >= callers and all(r["ended_at"] for r in current)

            await _until(all_ended, 30)
            await asyncio.sleep(0.3)  # a late summary (AgentComplete after Hangup) still lands
        finally:
            stop.set()
            await asyncio.wait_for(task, 15)
            await pbx.stop()
        return await rows(), bridge, pbx

    return asyncio.run(asyncio.wait_for(scenario(), 120))


def _by_number(result: list[dict]) -> dict[str, str]:
    counts = Counter(r["caller_number"] for r in result)
    assert max(counts.values()) == 1, f"a caller recorded twice: {counts.most_common(3)}"
    return {r["caller_number"]: r["outcome"] for r in result}


def test_the_translator_agrees_with_the_readme_on_the_uninterrupted_stream() -> None:
    assert ground_truth("outage/client_gap.full") == CLIENT_GAP


# Bad input on the way: the dropped connection ends mid-frame, the new one starts with garbage, and
# queue_log holds a line of an event we do not know and a line that is not one.
TRUNCATED = b"Event: AgentConnect\r\nQueue: 12345\r\nLinkedid: 17959252"
GARBAGE = b"this is not AMI\r\n\r\n\x00\xff\xfe garbage \x01\r\n\r\nEvent\r\n\r\n"
ODD_LINES = b"1795925270|1795925269.53|12345|NONE|SOMETHINGNEW|1|2\nnot a queue_log line\n"


@pytest.mark.parametrize("bad_input", [False, True], ids=["clean", "garbage-and-truncated"])
def test_client_gap_every_caller_recorded_once_with_the_pbx_outcome(settings, tmp_path, bad_input) -> None:
    log = QueueLogFile(tmp_path / "queue_log", "client_gap")
    sessions = [
        Session("client_gap.part1", close=True, before=[log.up_to(0)], tail=TRUNCATED if bad_input else b""),
        # Reconnected at t=35.01: queue_log holds what happened meanwhile.
        Session(
            "client_gap.part2",
            before=[log.up_to(35.01, ODD_LINES if bad_input else b"")],
            inject=GARBAGE if bad_input else b"",
        ),
    ]
    result, bridge, _ = run_outage(settings, sessions, len(CLIENT_GAP), tmp_path / "queue_log")
    assert _by_number(result) == CLIENT_GAP
    if bad_input:
        assert bridge.client.parse_errors >= 2  # skipped, logged, nothing else lost
        assert bridge.queue_log.malformed == 1
    assert len(result) == 25
    for row in result:
        assert row["queue"] == "12345"
        if row["outcome"] in ("answered", "transferred_110"):
            assert row["answered_at"] is not None and row["agent_interface"].startswith("Local/100"), row
        else:
            assert row["answered_at"] is None, row


def test_client_gap_without_queue_log_still_adopts_every_live_caller(settings) -> None:
    """Without queue_log the calls that ended unseen are `unknown`, but every live caller is adopted and
    no answered call becomes a missed one (and so gets no callback)."""
    sessions = [Session("client_gap.part1", close=True), Session("client_gap.part2")]
    # 25 callers minus #11, which began and ended in the gap: nothing but queue_log knows it.
    result, _, _ = run_outage(settings, sessions, 24, None)
    outcomes = _by_number(result)
    assert "13227572446" not in outcomes
    wrong = {n: o for n, o in outcomes.items() if o != CLIENT_GAP[n]}
    # #6 and #7 ended unseen: their end is unknown, their answer is kept.
    assert wrong == {"13758995240": "unknown", "18868523596": "unknown"}
    assert all(r["answered_at"] for r in result if r["caller_number"] in wrong)


def test_pbx_stopped_30_seconds_every_call_recovered(settings, tmp_path) -> None:
    log = QueueLogFile(tmp_path / "queue_log", "pbx_down")
    sessions = [
        # The shutdown burst (offset 59053 on) never reaches the bridge: both calls end unseen.
        Session("pbx_down.part1", close=True, cut=59053, before=[log.up_to(0)]),
        Session(""),  # the PBX is down: connection refused
        Session(""),
        Session("pbx_down.part2", login_error=True),  # starting up: the login is answered with an error
        Session("pbx_down.part2", new_boot=True, before=[log.up_to(41.23)]),
    ]
    result, bridge, pbx = run_outage(settings, sessions, len(PBX_DOWN), tmp_path / "queue_log")
    assert _by_number(result) == PBX_DOWN
    assert pbx.refused == 2 and isinstance(bridge.client.last_error, LoginRefused)
    # The backoff never grew past AMI_RECONNECT_MAX_SECONDS (3 s): the bridge is back soon after the PBX.
    assert bridge.client.config.backoff_max == 3 and max(bridge.client.retry_waits) <= 3
    epochs = {r["caller_number"]: r["pbx_epoch"] for r in result}
    assert epochs["13800000001"] == epochs["13800000002"] != epochs["13800000003"], "two PBX boots"


def test_the_wallboard_says_the_bridge_is_down_while_it_is(settings, supervisor) -> None:
    """The PBX stops (EOF, refused connects): the bridge's wallboard picture says so, then that it is back."""
    from channels.layers import get_channel_layer

    from telephony.services import WALLBOARD_GROUP
    from tests.web.test_consumers import connect_as, receive_until, send_group

    async def scenario() -> tuple[list[dict], str]:
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add(WALLBOARD_GROUP, channel)
        seen: list[dict] = []
        up_again = asyncio.Event()
        pbx = RecordedPBX(
            [
                Session("pbx_down.part1", close=True, cut=2000, linger=1.5),
                *[Session("")] * 3,  # down for a few seconds
                Session("pbx_down.part2", new_boot=True, cut=20000),
            ]
        )
        await pbx.start()
        settings.AMI_HOST, settings.AMI_PORT = "127.0.0.1", pbx.port
        bridge = bridge_module.from_settings()
        stop = asyncio.Event()
        task = asyncio.create_task(bridge.run(stop))

        async def collect() -> None:
            while True:
                message = await layer.receive(channel)
                if message["type"] == "wallboard.queues":
                    seen.append(message["bridge"])
                    states = "".join("u" if s["connected"] else "d" for s in seen)
                    if "udu" in states.replace("uu", "u").replace("dd", "d"):
                        up_again.set()

        collector = asyncio.create_task(collect())
        try:
            await asyncio.wait_for(up_again.wait(), 30)
        finally:
            stop.set()
            collector.cancel()
            await asyncio.wait_for(task, 15)
            await pbx.stop()
        # The consumer turns the bridge's word into a banner on the wallboard.
        comm, _ = await connect_as(supervisor, "/ws/wallboard/")
        await comm.receive_from(timeout=5)
        down = next(s for s in seen[seen.index(next(s for s in seen if s["connected"])) :] if not s["connected"])
        await send_group("wallboard", {"type": "wallboard.queues", "queues": {}, "bridge": down})
        frame = await receive_until(comm, "wb-queues")
        await comm.disconnect()
        return seen, frame

    seen, frame = asyncio.run(asyncio.wait_for(scenario(), 90))
    states = [s["connected"] for s in seen]
    first_up = states.index(True)
    assert False in states[first_up:] and states[-1] is True  # up, down while the PBX is, up again
    assert 'data-testid="wb-bridge-down"' in frame


def test_bridge_killed_mid_burst_and_restarted_records_every_caller_once(settings, tmp_path) -> None:
    """A new bridge process (nothing in memory, queue_log read afresh) takes over from the rows of the old one."""
    log = QueueLogFile(tmp_path / "queue_log", "client_gap")
    pbx = RecordedPBX(
        [
            Session("client_gap.part1", close=True, before=[log.up_to(0)]),
            Session("client_gap.part2", before=[log.up_to(35.01)]),
        ]
    )

    async def scenario():
        await pbx.start()
        settings.AMI_HOST, settings.AMI_PORT = "127.0.0.1", pbx.port
        settings.AMI_QUEUE_LOG_PATH = str(tmp_path / "queue_log")
        first = bridge_module.from_settings()
        first.client.config = type(first.client.config)(**{**first.client.config.__dict__, "backoff_initial": 60})
        stop_first = asyncio.Event()
        task = asyncio.create_task(first.run(stop_first))
        await asyncio.wait_for(pbx.done[0].wait(), 30)

        async def drained() -> bool:
            return first.client.events.empty() and not first._processing

        await _until(drained, 30)
        stop_first.set()  # the first bridge is gone; what it wrote stays
        await asyncio.wait_for(task, 15)
        second = bridge_module.from_settings()
        stop = asyncio.Event()
        task = asyncio.create_task(second.run(stop))
        try:
            await asyncio.wait_for(pbx.done[1].wait(), 60)

            async def all_ended() -> bool:
                current = await rows()
                return len(current) >= len(CLIENT_GAP) and all(r["ended_at"] for r in current)

            await _until(all_ended, 30)
            await asyncio.sleep(0.3)
        finally:
            stop.set()
            await asyncio.wait_for(task, 15)
            await pbx.stop()
        return await rows()

    result = asyncio.run(asyncio.wait_for(scenario(), 120))
    assert _by_number(result) == CLIENT_GAP
    assert len({(r["pbx_epoch"], r["linkedid"]) for r in result}) == 25
