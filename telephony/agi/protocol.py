"""The AGI line protocol as Asterisk speaks it on a FastAGI socket (res_agi.c).

Asterisk opens the connection and sends ``agi_<name>: <value>`` lines ended by an empty line.
Then the script writes one command per line and reads one answer per command:

    200 result=1 (timeout)        success: ``result`` and, in brackets, extra data
    200 result=-1                 the command failed (the channel hung up, a file is missing …)
    510 Invalid or unknown command
    511 Command Not Permitted on a dead channel or intercept routine
    520-Invalid command syntax.  Proper usage follows:   (lines…)   520 End of proper usage.

When the caller hangs up Asterisk writes ``HANGUP`` on its own line (AGISIGHUP, on by default)
and closes the socket once the script stops; both end the script with :class:`AgiHangup`.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass

log = logging.getLogger(__name__)

# A script waits this long for one answer; GET DATA's own timeout is far shorter.
ANSWER_TIMEOUT = 120.0
MAX_LINE = 8192
ENV_LINES = 200
_RESULT = re.compile(r"^200 result=(-?[^ ]*)(?: \((.*)\))?(?: (.*))?$")


class AgiError(Exception):
    """Asterisk refused a command (510, 520) or answered something that is not AGI."""


class AgiHangup(Exception):
    """The caller hung up (HANGUP, result=-1, 511) or the socket closed: the script ends."""


@dataclass(frozen=True)
class Answer:
    result: str
    data: str = ""  # the text in brackets: "timeout", "dtmf", …
    extra: str = ""  # anything after it, e.g. "endpos=1234"


def parse_answer(line: str) -> Answer:
    match = _RESULT.match(line)
    if match is None:
        if line.startswith("511"):
            raise AgiHangup(line)
        raise AgiError(line)
    return Answer(match.group(1), match.group(2) or "", match.group(3) or "")


def quote(text: str) -> str:
    """An argument as AGI reads it: in double quotes, with no way to end the command line early."""
    if any(ch in text for ch in '"\r\n\\'):
        raise ValueError(f"AGI argument may not hold quotes, backslashes or line breaks: {text!r}")
    return f'"{text}"'


class AgiChannel:
    """One call's AGI conversation over a FastAGI connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.env: dict[str, str] = {}
        self.hung_up = False

    async def _line(self, timeout: float = ANSWER_TIMEOUT) -> str:
        try:
            raw = await asyncio.wait_for(self.reader.readline(), timeout)
        except (asyncio.LimitOverrunError, ValueError) as exc:
            raise AgiError("line too long") from exc
        if not raw:
            raise AgiHangup("connection closed")
        if len(raw) > MAX_LINE:
            raise AgiError("line too long")
        return raw.decode("utf-8", errors="replace").rstrip("\r\n")

    async def read_env(self) -> dict[str, str]:
        """The ``agi_*`` block that opens every FastAGI connection."""
        for _ in range(ENV_LINES):
            line = await self._line(timeout=10)
            if not line:
                return self.env
            name, sep, value = line.partition(": ")
            if not sep or not name.startswith("agi_"):
                raise AgiError(f"not an AGI environment line: {line[:80]!r}")
            self.env[name] = value
        raise AgiError("AGI environment too long")

    @property
    def script(self) -> str:
        """The path of ``agi://host:port/<script>`` (``agi_network_script``)."""
        return self.env.get("agi_network_script", "").strip("/")

    async def command(self, text: str) -> Answer:
        if self.hung_up:
            raise AgiHangup("the caller has gone")
        self.writer.write(text.encode() + b"\n")
        await self.writer.drain()
        line = await self._line()
        while line == "HANGUP":  # the caller left; the command's own answer still follows
            self.hung_up = True
            line = await self._line()
        if line.startswith("520-"):
            while not line.startswith("520 "):
                line = await self._line()
            raise AgiError(f"usage error for {text.split(' ', 1)[0]}")
        answer = parse_answer(line)
        if self.hung_up:
            raise AgiHangup(text)
        # result=-1 is "failed": a hang-up, or e.g. a sound file missing for the channel's
        # language. The caller may still be there; a dead channel shows on the next command (511).
        if answer.result == "-1":
            log.warning("AGI %r failed on %s", text, self.env.get("agi_channel", "?"))
        return answer

    # --- the commands the scripts use ------------------------------------------------------------

    async def answer(self) -> None:
        await self.command("ANSWER")

    async def stream(self, prompt: str, escape: str = "") -> str:
        """Play a sound file; the digit that interrupted it, or ""."""
        answer = await self.command(f"STREAM FILE {prompt} {quote(escape)}")
        return chr(int(answer.result)) if answer.result.isdigit() and answer.result != "0" else ""

    async def get_data(self, prompt: str, timeout_ms: int, max_digits: int) -> str:
        """Play ``prompt`` and collect up to ``max_digits`` keys (``#`` ends early); "" on timeout."""
        answer = await self.command(f"GET DATA {prompt} {timeout_ms} {max_digits}")
        return "" if answer.result == "-1" else answer.result

    async def say_digits(self, digits: str) -> None:
        await self.command(f'SAY DIGITS {digits} ""')

    async def set_variable(self, name: str, value: str) -> None:
        await self.command(f"SET VARIABLE {name} {quote(value)}")
