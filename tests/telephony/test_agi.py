"""FastAGI self-service status (issue 13, point 5): recorded exchanges with a real Asterisk 22
(telephony/traces/agi/) replayed over a real TCP socket against the FastAGI server."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from django.core.cache import cache

from hotline.models import Ticket, Unit
from hotline.services import dispatch
from telephony.agi import server
from telephony.agi.protocol import AgiError, AgiHangup, parse_answer
from telephony.traces import TRACES_DIR
from tests.factories import new_ticket

pytestmark = pytest.mark.django_db(transaction=True)
AGI_TRACES = TRACES_DIR / "agi"


def read_trace(path: Path) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """The environment block Asterisk sent, then each command with the lines Asterisk answered."""
    env: list[str] = []
    steps: list[tuple[str, list[str]]] = []
    for raw in path.read_text().splitlines():
        side, text = raw[0], raw[2:]
        if side == ">":
            steps.append((text, []))
        elif steps:
            steps[-1][1].append(text)
        else:
            env.append(text)
    return env, steps


async def replay(path: Path, port: int) -> list[str]:
    """Be Asterisk: send the recorded block and answers; return what the script sent."""
    env, steps = read_trace(path)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    sent: list[str] = []
    for line in env:
        writer.write(line.encode() + b"\n")
    await writer.drain()
    for _expected, answers in steps:
        line = await asyncio.wait_for(reader.readline(), 10)
        if not line:
            break
        sent.append(line.decode().rstrip("\n"))
        for answer in answers:
            writer.write(answer.encode() + b"\n")
        await writer.drain()
    assert await asyncio.wait_for(reader.read(), 10) == b""  # the script hung up its side
    writer.close()
    return sent


def run_against_server(coro_factory):
    async def main():
        srv = await asyncio.start_server(server.handle, "127.0.0.1", 0)
        port = srv.sockets[0].getsockname()[1]
        async with srv:
            return await coro_factory(port)

    return asyncio.run(main())


@pytest.fixture
def recorded_tickets(agent):
    """The two tickets the recordings were made with (telephony/traces/agi/README.md)."""
    cache.clear()
    own = new_ticket(agent, phone="13800138000")
    dispatch.dispatch_ticket(own, agent, Unit.objects.get(code="YH"))
    other = new_ticket(agent, phone="13700137000", address="岳塘区2号")
    Ticket.objects.filter(pk=own.pk).update(number="2026112900101", query_code="111111")
    Ticket.objects.filter(pk=other.pk).update(number="2026112900102", query_code="654321")


@pytest.mark.parametrize("trace", ["own_ticket_silence", "found", "wrong3", "agent", "nondigit", "hangup"], ids=str)
def test_the_script_says_what_it_said_to_the_real_pbx(recorded_tickets, trace):
    path = AGI_TRACES / f"status_{trace}.txt"
    _env, steps = read_trace(path)
    sent = run_against_server(lambda port: replay(path, port))
    assert sent == [command for command, _answers in steps]


def test_a_wrong_code_and_an_unknown_number_sound_the_same(recorded_tickets, tmp_path):
    """The wrong-code recording, with a number that does not exist: the same commands."""
    path = AGI_TRACES / "status_wrong3.txt"
    copy = tmp_path / "unknown.txt"
    copy.write_text(path.read_text().replace("result=2026112900102", "result=2026112999999"))
    _env, steps = read_trace(path)
    assert run_against_server(lambda port: replay(copy, port)) == [c for c, _ in steps]


def test_a_throttled_caller_goes_to_the_agents_without_a_lookup(recorded_tickets, settings):
    settings.PUBLIC_TRACK_FAILURES_PER_TICKET = 1
    path = AGI_TRACES / "status_wrong3.txt"
    _env, steps = read_trace(path)
    sent = run_against_server(lambda port: replay_until_close(path, port))
    # One failure fills the ticket's bucket: the second try is refused before the lookup,
    # and the caller is handed to an agent (to-agent, NEXT=queue) instead of a third prompt.
    assert sent[:3] == [c for c, _ in steps[:3]]
    assert sent[-2:] == ['STREAM FILE hotline/to-agent ""', 'SET VARIABLE HOTLINE_STATUS_NEXT "queue"']
    assert sent.count('STREAM FILE hotline/status-not-found ""') == 1


async def replay_until_close(path: Path, port: int) -> list[str]:
    """Answer each command with the next recorded answer of the same command's kind."""
    env, steps = read_trace(path)
    answers: dict[str, list[list[str]]] = {}
    for command, lines in steps:
        answers.setdefault(command, []).append(lines)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for line in env:
        writer.write(line.encode() + b"\n")
    await writer.drain()
    sent = []
    while line := await asyncio.wait_for(reader.readline(), 10):
        command = line.decode().rstrip("\n")
        sent.append(command)
        queue = answers.get(command) or [["200 result=1"]]
        for answer in queue.pop(0) if len(queue) > 1 else queue[0]:
            writer.write(answer.encode() + b"\n")
        await writer.drain()
    writer.close()
    return sent


def test_an_unknown_script_or_garbage_ends_the_connection_not_the_server():
    async def scenario(port):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"agi_network: yes\nagi_network_script: nosuch\n\n")
        await writer.drain()
        assert (await reader.readline()).startswith(b"VERBOSE")
        writer.write(b"200 result=1\n")
        await writer.drain()
        assert await asyncio.wait_for(reader.read(), 5) == b""
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\n\r\n")
        await writer.drain()
        assert await asyncio.wait_for(reader.read(), 5) == b""  # not AGI: closed
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"agi_network: yes\n")  # then the PBX goes away mid-block
        writer.close()
        return True

    assert run_against_server(scenario)


@pytest.mark.parametrize(
    ("line", "result", "data"),
    [("200 result=0 endpos=25768", "0", ""), ("200 result= (timeout)", "", "timeout"), ("200 result=*12*", "*12*", "")],
)
def test_answers_parse_as_asterisk_writes_them(line, result, data):
    answer = parse_answer(line)
    assert (answer.result, answer.data) == (result, data)


def test_a_dead_channel_and_a_refused_command_are_told_apart():
    with pytest.raises(AgiHangup):
        parse_answer("511 Command Not Permitted on a dead channel or intercept routine")
    with pytest.raises(AgiError):
        parse_answer("510 Invalid or unknown command")


def test_the_status_prompts_and_digits_are_shipped():
    from django.conf import settings as django_settings

    from hotline.public import STAGES

    sounds = Path(django_settings.BASE_DIR) / "docs" / "asterisk" / "sounds" / "zh"
    names = {f"hotline/status-{stage.key}" for stage in STAGES.values()}
    names |= {f"digits/{n}" for n in range(10)}
    for path in AGI_TRACES.glob("*.txt"):
        for line in path.read_text().splitlines():
            if line.startswith(("> STREAM FILE ", "> GET DATA ")):
                names.add(line.split()[3])
    missing = sorted(name for name in names if not (sounds / f"{name}.wav").is_file())
    assert not missing


def test_a_taken_port_turns_the_menu_off_and_says_so(caplog):
    async def scenario():
        taken = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = taken.sockets[0].getsockname()[1]
        async with taken:
            await asyncio.wait_for(server.serve(asyncio.Event(), "127.0.0.1", port), 5)  # returns, not raises

    asyncio.run(scenario())
    assert "cannot listen" in caplog.text
