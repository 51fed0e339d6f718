"""The simulator against the real recordings: same event names, fields and order; same outcomes."""

from __future__ import annotations

import asyncio

import pytest

from telephony.ami.protocol import AMIParser, Message
from telephony.simulator import SCENARIOS, PBXSimulator, SimulatorConfig
from telephony.tracker import CallTracker
from tests.telephony.traces import final_calls, parse_trace

NOISE = frozenset({"VarSet", "Newexten", "FullyBooted", "SuccessfulAuth", "QueueMemberAdded", "QueueMemberRemoved"})
KEY_FIELDS = ("Queue", "Reason", "Cause", "DialStatus", "Result", "Context", "Extension", "EventList")
EXPECTED = {"answered": "answered", "abandoned": "abandoned", "queue_timeout": "timeout"}
EXPECTED["emergency_transfer"] = "transferred_110"


def shape(messages: list[Message]) -> list[tuple]:
    """Event names and key fields, ignoring ids, times and the noisy VarSet/Newexten."""
    return [
        (m.name, tuple(m.first(k) for k in KEY_FIELDS), sorted(k for k in m if k != "Timestamp"))
        for m in messages
        if m.kind == "event" and not m.first("ActionID") and m.name not in NOISE and m.name != "OriginateResponse"
    ]


def rendered(scenario: str, sim: PBXSimulator, agent: str = "1002") -> list[Message]:
    frames = sim.render(sim.templates[scenario], number="13911112222", name="王先生", agent=agent)
    return AMIParser(expect_banner=False).feed(b"".join(text.encode() + b"\r\n\r\n" for _, text in frames))


@pytest.fixture(scope="module")
def sim() -> PBXSimulator:
    return PBXSimulator(SimulatorConfig(seed=1, generate=False))


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_simulated_call_has_the_shape_of_the_real_trace(sim: PBXSimulator, scenario: str) -> None:
    real = [m for m in parse_trace(scenario) if m.kind == "event"]
    real_call = [m for m in real if m.name not in {"CoreShowChannel", "CoreShowChannelsComplete"}]
    assert shape(rendered(scenario, sim)) == shape(real_call)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_simulated_call_gets_the_scenario_outcome_with_new_ids(sim: PBXSimulator, scenario: str) -> None:
    tracker = CallTracker()
    events = [e for m in rendered(scenario, sim) for e in tracker.feed(m)]
    (call,) = final_calls(events).values()
    assert call.outcome == EXPECTED[scenario]
    assert not call.linkedid.startswith("1795770")
    assert call.caller_number == "13911112222" and call.caller_name == "王先生"
    if call.interface:
        assert call.interface == "Local/1002@agents"


def test_two_renders_never_share_ids(sim: PBXSimulator) -> None:
    first = {m.first("Linkedid") for m in rendered("answered", sim)} - {""}
    second = {m.first("Linkedid") for m in rendered("answered", sim)} - {""}
    assert first and not first & second


def test_ivr_110_call() -> None:
    sim = PBXSimulator(SimulatorConfig(generate=False))
    tracker = CallTracker()
    events = [e for m in rendered("ivr_110", sim) for e in tracker.feed(m)]
    (call,) = final_calls(events).values()
    assert (call.outcome, call.ivr_choice) == ("ivr_110", "110")


@pytest.mark.slow  # generated traffic at a paced rate over TCP
def test_generated_traffic_over_tcp_is_tracked_to_completion() -> None:
    """500 calls a minute, 50x the recorded pace: every call offered also ends."""

    async def scenario() -> tuple[int, int]:
        config = SimulatorConfig(port=0, calls_per_minute=500, speed=50, seed=7)
        sim = PBXSimulator(config)
        stop = asyncio.Event()
        port = await sim.start()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"Action: Login\r\nActionID: 1\r\nUsername: hotline\r\nSecret: hotline-secret\r\n\r\n")
        generator = asyncio.create_task(sim.generate(stop, drain=True))
        parser, tracker, offered, ended = AMIParser(), CallTracker(), set(), set()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 3
        while not generator.done() or len(ended) < len(offered):
            if loop.time() > deadline:
                stop.set()  # no new calls; the ones in flight play to their end
            try:
                data = await asyncio.wait_for(reader.read(65536), 0.5)
            except TimeoutError:
                continue
            for message in parser.feed(data):
                assert message.kind != "error"
                for event in tracker.feed(message):
                    if event.kind in ("offered", "ivr_choice"):
                        offered.add(event.linkedid)
                    if event.kind == "ended":
                        ended.add(event.linkedid)
        stop.set()
        await generator
        writer.close()
        await sim.close()
        return len(offered), len(ended)

    offered, ended = asyncio.run(asyncio.wait_for(scenario(), 30))
    assert offered > 5 and ended == offered


def _track(frames: list[tuple[float, str]]):
    """Feed rendered frames with their times; return the final call summary."""
    tracker = CallTracker()
    ended = []
    parser = AMIParser(expect_banner=False)
    for at, text in frames:
        for message in parser.feed(text.encode() + b"\r\n\r\n"):
            ended += [e for e in tracker.feed(message, at=1000.0 + at) if e.kind == "ended"]
    return ended[-1], frames


def test_talk_time_stretches_the_conversation_and_its_reported_talk_time() -> None:
    sim = PBXSimulator(SimulatorConfig(seed=2, generate=False, talk=(40, 40), mix={"answered": 1.0}))
    summary, frames = _track(sim.new_call("answered"))
    assert summary.outcome == "answered"
    assert summary.talk_seconds == 40
    assert frames[-1][0] > 40  # the call really lasts that long
    assert [at for at, _ in frames] == sorted(at for at, _ in frames)
    # Same events in the same order as the recording: only times and durations moved.
    assert shape(rendered("answered", sim)) == shape(
        AMIParser(expect_banner=False).feed(b"".join(t.encode() + b"\r\n\r\n" for _, t in frames))
    )


def test_patience_sets_when_an_abandoning_caller_gives_up() -> None:
    sim = PBXSimulator(SimulatorConfig(seed=2, generate=False, patience=(25, 25)))
    summary, _frames = _track(sim.new_call("abandoned"))
    assert summary.outcome == "abandoned"
    assert summary.wait_seconds == 25


def test_the_day_curve_makes_nights_quiet_and_mornings_busy() -> None:
    from telephony.simulator import DAY_CURVE

    config = SimulatorConfig(calls_per_minute=60, day_curve=DAY_CURVE)
    assert config.rate_now(3) < 0.2 < 1.5 < config.rate_now(10)
    assert abs(sum(DAY_CURVE) / 24 - 1.0) < 0.05  # calls_per_minute stays the daily average
    assert SimulatorConfig(calls_per_minute=60).rate_now(3) == 1.0


def test_an_action_split_inside_action_across_tcp_writes_is_answered() -> None:
    """A TCP read may end anywhere, even inside "Action:": the simulator reads actions, it does not rename bytes."""
    login = b"Action: Login\r\nActionID: 1\r\nUsername: hotline\r\nSecret: hotline-secret\r\n\r\n"
    ping = b"Action: Ping\r\nActionID: 2\r\n\r\n"
    data = login + ping
    cuts = (3, len(login) + 2)  # "Act|ion: Login", "Ac|tion: Ping"

    async def scenario() -> tuple[list[Message], list[str]]:
        sim = PBXSimulator(SimulatorConfig(port=0, generate=False))
        port = await sim.start()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for start, end in zip((0, *cuts), (*cuts, len(data)), strict=True):
                writer.write(data[start:end])
                await writer.drain()
                await asyncio.sleep(0.05)  # each piece its own read on the server's side
            parser, responses = AMIParser(), []
            while len(responses) < 2:
                chunk = await reader.read(65536)
                assert chunk, "the simulator closed the connection"
                responses += [m for m in parser.feed(chunk) if m.kind == "response"]
            return responses, [action for action, _ in sim.received]
        finally:
            writer.close()
            await sim.close()

    responses, received = asyncio.run(asyncio.wait_for(scenario(), 10))
    assert [(m.action_id, m.name) for m in responses] == [("1", "Success"), ("2", "Success")]
    assert responses[1].first("Ping") == "Pong" and received == ["ping"]


# --- the queue: who is rung, when, and for how long (over a real TCP socket) -----------------


class Session:
    """An AMI client on the simulator's socket that tracks every call it hears."""

    def __init__(self, sim: PBXSimulator) -> None:
        self.sim = sim
        self.messages: list[Message] = []
        self.tracker = CallTracker()
        self.ended: dict[str, object] = {}
        self.responses: list[Message] = []

    async def __aenter__(self) -> Session:
        port = await self.sim.start()
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", port)
        self.parser = AMIParser()
        self.reading = asyncio.create_task(self._read())
        await self.action("Login", Username="hotline", Secret="hotline-secret")
        return self

    async def __aexit__(self, *exc) -> None:
        self.reading.cancel()
        self.writer.close()
        await self.sim.close()

    async def _read(self) -> None:
        while data := await self.reader.read(65536):
            for message in self.parser.feed(data):
                if message.kind == "response":
                    self.responses.append(message)
                if message.kind != "event":
                    continue
                self.messages.append(message)
                for event in self.tracker.feed(message):
                    if event.kind == "ended":
                        self.ended[event.linkedid] = event

    async def action(self, name: str, **fields: str) -> Message:
        action_id = f"t{len(self.responses)}-{name}"
        lines = [f"Action: {name}", f"ActionID: {action_id}", *(f"{k}: {v}" for k, v in fields.items())]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        for _ in range(200):
            found = [r for r in self.responses if r.first("ActionID") == action_id]
            if found:
                return found[0]
            await asyncio.sleep(0.01)
        raise AssertionError(f"no answer to {name}")

    def named(self, name: str) -> list[Message]:
        return [m for m in self.messages if m.name == name]

    async def until(self, predicate, timeout: float = 10) -> None:
        async def wait() -> None:
            while not predicate():
                await asyncio.sleep(0.02)

        await asyncio.wait_for(wait(), timeout)


def queue_sim(**config) -> PBXSimulator:
    """Ten times the recorded pace: talk, patience and wrap-up are PBX seconds, a tenth of that on the clock."""
    return PBXSimulator(SimulatorConfig(port=0, generate=False, seed=5, speed=10, **config))


def log_in(session: Session, extension: str, paused: bool = False):
    fields = {"Queue": "12345", "Interface": f"Local/{extension}@agents", "MemberName": f"agent{extension}"}
    return session.action("QueueAdd", **fields, Paused="true" if paused else "false", Reason="lunch" * paused)


@pytest.mark.slow  # paced calls over TCP
def test_only_logged_in_ready_agents_are_rung():
    """1001 is logged in but paused, 1002 never logged in: the caller waits unrung and gives up."""

    async def scenario():
        sim = queue_sim(patience=(3, 3), talk=(2, 2))
        async with Session(sim) as s:
            await log_in(s, "1001", paused=True)
            await sim.queue_call()
            assert s.named("AgentCalled") == []
            await s.until(lambda: len(s.ended) == 1)
            (summary,) = s.ended.values()
            assert summary.outcome == "abandoned" and not summary.interface

            # Ready now: the next caller is rung at 1001, never at 1002.
            await s.action("QueuePause", Interface="Local/1001@agents", Paused="false")
            await sim.queue_call()
            await s.until(lambda: len(s.ended) == 2)
            assert [m.first("Interface") for m in s.named("AgentCalled")] == ["Local/1001@agents"]
            assert [e.outcome for e in s.ended.values()] == ["abandoned", "answered"]

            # Logged off: rung no more.
            await s.action("QueueRemove", Queue="12345", Interface="Local/1001@agents")
            await sim.queue_call()
            await s.until(lambda: len(s.ended) == 3)
            assert len(s.named("AgentCalled")) == 1 and list(s.ended.values())[-1].outcome == "abandoned"

    asyncio.run(asyncio.wait_for(scenario(), 30))


@pytest.mark.slow  # paced calls over TCP
def test_one_call_per_agent_the_second_caller_waits_in_the_queue():
    async def scenario():
        sim = queue_sim(talk=(5, 5))
        async with Session(sim) as s:
            await log_in(s, "1001")
            await asyncio.gather(sim.queue_call(), sim.queue_call())
            await s.until(lambda: len(s.ended) == 2)
        joins = s.named("QueueCallerJoin")
        assert [(m.first("Position"), m.first("Count")) for m in joins] == [("1", "1"), ("2", "2")]
        # The second caller is rung only once the first call is over: never two calls on 1001.
        order = [
            m.name
            for m in s.messages
            if m.name in ("AgentCalled", "AgentComplete") and m.first("Interface") == "Local/1001@agents"
        ]
        assert order == ["AgentCalled", "AgentComplete", "AgentCalled", "AgentComplete"]
        assert [e.outcome for e in s.ended.values()] == ["answered", "answered"]
        assert all(e.interface == "Local/1001@agents" for e in s.ended.values())
        first, second = s.ended.values()
        assert second.wait_seconds >= first.talk_seconds  # it waited out the first conversation

    asyncio.run(asyncio.wait_for(scenario(), 30))


@pytest.mark.slow  # paced calls over TCP
def test_a_hangup_action_ends_the_call_as_answered():
    """Talk would last ten minutes; the AMI Hangup of the caller's channel ends it now."""

    async def scenario():
        sim = queue_sim(talk=(600, 600))
        async with Session(sim) as s:
            await log_in(s, "1001")
            caller = asyncio.create_task(sim.queue_call())
            await s.until(lambda: s.named("AgentConnect"))
            channel = s.named("AgentConnect")[0].first("Channel")
            # A pause asked for during the call: reported in use, and still paused after it.
            await s.action("QueuePause", Interface="Local/1001@agents", Paused="true", Reason="lunch")
            assert s.named("QueueMemberPause")[-1].first("Status") == "2"
            assert (await s.action("Hangup", Channel="Local/nobody@callers-00000099;2")).first("Response") == "Error"
            answer = await s.action("Hangup", Channel=channel, Cause="16")
            assert answer.first("Response") == "Success"
            await asyncio.wait_for(caller, 10)
            await s.until(lambda: s.ended)
        (summary,) = s.ended.values()
        assert summary.outcome == "answered" and summary.interface == "Local/1001@agents"
        assert summary.talk_seconds < 600
        (complete,) = s.named("AgentComplete")
        assert int(complete.first("TalkTime")) < 600 and complete.first("MemberName") == "agent1001"
        after = s.named("QueueMemberStatus")[-1]
        assert (after.first("Status"), after.first("Paused"), after.first("PausedReason")) == ("1", "1", "lunch")

    asyncio.run(asyncio.wait_for(scenario(), 30))


@pytest.mark.slow  # paced calls over TCP
def test_no_call_during_wrap_up():
    """After a call the member is not rung for its wrap-up: a caller who waits less than that gives up."""

    async def scenario(wrapup: float) -> list[str]:
        sim = queue_sim(talk=(1, 1), patience=(10, 10), wrapup=wrapup)
        async with Session(sim) as s:
            await log_in(s, "1001")
            await sim.queue_call()
            await sim.queue_call()
            await s.until(lambda: len(s.ended) == 2)
            return [e.outcome for e in s.ended.values()]

    assert asyncio.run(asyncio.wait_for(scenario(wrapup=600), 30)) == ["answered", "abandoned"]
    assert asyncio.run(asyncio.wait_for(scenario(wrapup=0), 30)) == ["answered", "answered"]


@pytest.mark.slow  # paced calls over TCP
def test_queue_status_lists_the_waiting_callers_and_the_busy_member():
    async def scenario():
        sim = queue_sim(talk=(600, 600))
        async with Session(sim) as s:
            await log_in(s, "1001")
            callers = [asyncio.create_task(sim.queue_call()) for _ in range(2)]
            await s.until(lambda: s.named("AgentConnect") and len(s.named("QueueCallerJoin")) == 2)
            await s.action("QueueStatus")
            await s.until(lambda: s.named("QueueStatusComplete"))
            (member,) = s.named("QueueMember")
            (entry,) = s.named("QueueEntry")
            assert (member.first("Status"), member.first("InCall")) == ("2", "1")
            assert entry.first("Position") == "1" and entry.first("Channel").startswith("Local/13")
            # The fields of the real QueueStatus answer (agent_pause.ami asked one with a caller waiting).
            real = {m.name: sorted(m) for m in parse_trace("agent_pause") if m.kind == "event"}
            for item in (member, entry, s.named("QueueParams")[0]):
                assert sorted(item) == real[item.name], item.name
            for caller in callers:
                caller.cancel()

    asyncio.run(asyncio.wait_for(scenario(), 30))


@pytest.mark.slow  # paced calls over TCP
def test_a_redirect_to_110_frees_the_agent_and_the_call_ends_transferred():
    """The console's Redirect of the caller into emergency: the agent leg hangs up at once (the member is
    free for the next caller), the caller stays with 110, and the call ends as transferred to 110."""

    async def scenario():
        sim = queue_sim(talk=(600, 600))
        async with Session(sim) as s:
            await log_in(s, "1001")
            first = asyncio.create_task(sim.queue_call())
            await s.until(lambda: s.named("AgentConnect"))
            channel = s.named("AgentConnect")[0].first("Channel")
            fields = {"Channel": channel, "Context": "emergency", "Exten": "110", "Priority": "1"}
            assert (await s.action("Redirect", **fields)).first("Response") == "Success"
            second = asyncio.create_task(sim.queue_call())
            # 1001 takes the next caller while the first is still with 110.
            await s.until(lambda: len(s.named("AgentConnect")) == 2)
            assert not first.done()
            await s.action("Hangup", Channel=s.named("AgentConnect")[1].first("Channel"), Cause="16")
            await asyncio.wait_for(asyncio.gather(first, second), 20)
            await s.until(lambda: len(s.ended) == 2)
        assert sorted(e.outcome for e in s.ended.values()) == ["answered", "transferred_110"]
        assert all(e.interface == "Local/1001@agents" for e in s.ended.values())

    asyncio.run(asyncio.wait_for(scenario(), 40))


@pytest.mark.slow  # paced calls over TCP
@pytest.mark.parametrize("ending", ["talk", "hangup", "redirect", "abandon", "timeout"])
def test_queued_calls_send_the_events_and_fields_of_the_real_pbx(ending: str):
    """Every frame of a queued call has the name and field set of a frame a real Asterisk 22 sent."""
    real = {
        (m.name, tuple(sorted(k for k in m if k != "ActionID")))
        for trace in ("answered", "abandoned", "queue_timeout", "emergency_transfer", "agent_pause")
        for m in parse_trace(trace)
        if m.kind == "event"
    }

    async def scenario() -> list[Message]:
        patience = {"abandon": (3, 3), "timeout": None}.get(ending, (600, 600))
        sim = queue_sim(talk=(600, 600) if ending in ("hangup", "redirect") else (2, 2), patience=patience)
        async with Session(sim) as s:
            if ending not in ("abandon", "timeout"):
                await log_in(s, "1001")
            caller = asyncio.create_task(sim.queue_call(number="13911112222", name="王先生"))
            if ending in ("hangup", "redirect"):
                await s.until(lambda: s.named("AgentConnect"))
                channel = s.named("AgentConnect")[0].first("Channel")
                if ending == "hangup":
                    await s.action("Hangup", Channel=channel, Cause="16")
                else:
                    await s.action("Redirect", Channel=channel, Context="emergency", Exten="110", Priority="1")
            await asyncio.wait_for(caller, 20)
            await s.until(lambda: s.ended)
            (summary,) = s.ended.values()
            expected = {"abandon": "abandoned", "timeout": "timeout", "redirect": "transferred_110"}
            assert summary.outcome == expected.get(ending, "answered")
            assert summary.caller_number == "13911112222" and summary.caller_name == "王先生"
            return [m for m in s.messages if m.name not in ("FullyBooted", "QueueMemberAdded")]

    sent = asyncio.run(asyncio.wait_for(scenario(), 40))
    unreal = {(m.name, tuple(sorted(m))) for m in sent} - real
    assert not unreal, unreal
