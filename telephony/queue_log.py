"""Asterisk's ``queue_log``: the PBX's own record of every queue call, read to recover an outage.

The AMI stream is lost while the bridge is away (bridge killed, network cut, PBX restarting);
app_queue keeps appending one line per step of every caller to ``<astlogdir>/queue_log``::

    epoch|callid|queue|agent|event|data1|data2|data3

``callid`` is the Uniqueid of the caller's channel in ``Queue()`` (``Call.caller_uniqueid``).
On (re)connect the bridge reads the lines appended since its last read (:class:`QueueLogReader`,
from a remembered byte offset; on a fresh start from shortly before the newest call it has) and
:func:`summarize` turns them into one :class:`LoggedCall` per caller with the outcome the PBX
wrote: ``CONNECT`` → answered, ``ABANDON`` → abandoned, ``EXITWITHTIMEOUT`` → timeout,
``EXITEMPTY`` → refused. ``QUEUESTART`` marks a PBX (re)start: Uniqueids begin again after it,
so the lines before it belong to the previous PBX boot. Unknown events and malformed lines
are skipped (counted and logged), never fatal. Pure but for the file read; no Django.
See docs/telephony.md ("Outages").
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass

from telephony.lifecycle import ABANDONED, ANSWERED, REFUSED, TIMEOUT

log = logging.getLogger(__name__)

# Events app_queue writes (Asterisk 22). Others (a newer Asterisk, a custom QueueLog()) are skipped.
CALL_EVENTS = frozenset(
    {
        "ENTERQUEUE",
        "RINGNOANSWER",
        "RINGCANCELED",
        "CONNECT",
        "COMPLETECALLER",
        "COMPLETEAGENT",
        "ABANDON",
        "EXITWITHTIMEOUT",
        "EXITEMPTY",
        "EXITWITHKEY",
        "TRANSFER",
        "ATTENDEDTRANSFER",
        "BLINDTRANSFER",
        "SYSCOMPAT",
        "DID",
        "INFO",
    }
)
SYSTEM_EVENTS = frozenset(
    {"QUEUESTART", "ADDMEMBER", "REMOVEMEMBER", "PAUSE", "UNPAUSE", "PAUSEALL", "UNPAUSEALL", "PENALTY"}
)
_FINAL = {
    "COMPLETECALLER": ANSWERED,
    "COMPLETEAGENT": ANSWERED,
    "TRANSFER": ANSWERED,
    "ATTENDEDTRANSFER": ANSWERED,
    "BLINDTRANSFER": ANSWERED,
    "ABANDON": ABANDONED,
    "EXITWITHKEY": ABANDONED,  # the caller pressed a key to leave the queue: gone unanswered
    "EXITWITHTIMEOUT": TIMEOUT,
    "EXITEMPTY": REFUSED,
}


@dataclass(frozen=True)
class Line:
    time: int
    callid: str
    queue: str
    agent: str
    event: str
    data: tuple[str, ...]


def parse_line(text: str) -> Line | None:
    """One queue_log line, or None when it is not one (too few fields, a time that is not a number)."""
    parts = text.rstrip("\r\n").split("|")
    if len(parts) < 5:
        return None
    try:
        time = int(parts[0])
    except ValueError:
        return None
    return Line(time, parts[1], parts[2], parts[3], parts[4], tuple(parts[5:]))


@dataclass
class LoggedCall:
    """What queue_log says of one caller. ``outcome`` is "" while the call is still in the queue or talking."""

    callid: str
    boot: int  # 0 = the PBX boot before the last QUEUESTART of the lines read, 1 = the current one
    queue: str = ""
    caller_number: str = ""
    entered_at: int | None = None
    connected_at: int | None = None
    member_name: str = ""
    agent_uniqueid: str = ""
    wait_seconds: int | None = None
    talk_seconds: int | None = None
    outcome: str = ""
    ended_at: int | None = None
    # A desk (专席, telephony.desks) the caller left unanswered (timeout, or emptied) for ``queue``, and the
    # seconds waited there; "" = none. A desk that turned the caller away at the door wrote no line.
    desk: str = ""
    desk_wait: int = 0


def _int(values: tuple[str, ...], index: int) -> int | None:
    try:
        return int(values[index])
    except (IndexError, ValueError):
        return None


def _plus(seconds: int | None, desk_wait: int) -> int | None:
    """A wait in the queue, with the time at the desk before it (queue_log counts each queue from entering it)."""
    return seconds + desk_wait if seconds is not None else None


def summarize(lines: Iterable[Line], stats: dict[str, int] | None = None) -> dict[tuple[int, str], LoggedCall]:
    """One LoggedCall per (boot, callid); ``boot`` 1 after the last QUEUESTART (or all of them without one)."""
    stats = stats if stats is not None else {}
    calls: dict[tuple[int, str], LoggedCall] = {}
    order: list[Line] = list(lines)
    restarts = [i for i, line in enumerate(order) if line.event == "QUEUESTART"]
    last_start = restarts[-1] if restarts else -1
    for i, line in enumerate(order):
        if line.event in SYSTEM_EVENTS:
            continue
        if line.event not in CALL_EVENTS:
            stats["unknown_events"] = stats.get("unknown_events", 0) + 1
            log.warning("queue_log: skipped a line with an unknown event %r", line.event[:40])
            continue
        if not line.callid or line.callid in ("NONE", "MANAGER"):
            continue
        boot = 1 if i > last_start else 0
        call = calls.setdefault((boot, line.callid), LoggedCall(callid=line.callid, boot=boot))
        if (
            line.event == "ENTERQUEUE"
            and call.queue
            and line.queue != call.queue
            and call.outcome in (TIMEOUT, REFUSED)
        ):
            # Left a desk unanswered and entered the general queue: one call that overflowed, not a missed one.
            call.desk, call.desk_wait = call.desk or call.queue, call.wait_seconds or 0
            call.queue, call.outcome, call.ended_at, call.wait_seconds = line.queue, "", None, None
            continue
        call.queue = call.queue or line.queue
        if line.event == "ENTERQUEUE":
            call.entered_at = line.time
            number = line.data[1] if len(line.data) > 1 else ""
            call.caller_number = call.caller_number or number
        elif line.event == "CONNECT":
            call.connected_at = line.time
            call.member_name = line.agent if line.agent != "NONE" else ""
            call.wait_seconds = _plus(_int(line.data, 0), call.desk_wait)
            call.agent_uniqueid = line.data[1] if len(line.data) > 1 else ""
        elif line.event in _FINAL:
            outcome = _FINAL[line.event]
            if call.outcome == ANSWERED and outcome != ANSWERED:
                continue  # a CONNECT/COMPLETE was seen: answered stays answered
            call.outcome = ANSWERED if call.connected_at is not None else outcome
            call.ended_at = line.time
            if outcome == ANSWERED:
                call.member_name = call.member_name or (line.agent if line.agent != "NONE" else "")
                call.wait_seconds = (
                    _plus(_int(line.data, 0), call.desk_wait) if call.wait_seconds is None else call.wait_seconds
                )
                call.talk_seconds = _int(line.data, 1)
                if call.connected_at is None and call.talk_seconds is not None:
                    call.connected_at = line.time - call.talk_seconds
            else:
                call.wait_seconds = _plus(_int(line.data, 2), call.desk_wait)
            if call.entered_at is None and call.wait_seconds is not None:
                start = call.connected_at if call.connected_at is not None else line.time
                call.entered_at = start - call.wait_seconds
    return calls


class QueueLogReader:
    """Reads what was appended to the queue_log file since the last read.

    The first read of a process starts shortly before ``since`` (the newest call the database
    knows; found by bisection, the file is in time order) or, with nothing recorded yet, at the
    end of the file. A file that shrank or was replaced (log rotation) is read again from its start.
    A line not yet ended by a newline waits for the next read.
    """

    def __init__(self, path: str, *, margin: int = 3600) -> None:
        self.path = path
        self.margin = margin
        self.offset: int | None = None
        self._inode: int | None = None
        self.malformed = 0

    def read(self, since: float | None = None) -> list[Line]:
        try:
            with open(self.path, "rb") as handle:
                stat = os.fstat(handle.fileno())
                if self.offset is None or stat.st_ino != self._inode or stat.st_size < self.offset:
                    first = self.offset is None
                    self._inode = stat.st_ino
                    if first and since is None:
                        self.offset = stat.st_size
                        return []
                    self.offset = _bisect(handle, stat.st_size, since - self.margin) if first and since else 0
                handle.seek(self.offset)
                data = handle.read()
        except OSError as exc:
            log.warning("queue_log %s cannot be read: %s; calls of the outage are closed as unknown", self.path, exc)
            return []
        end = data.rfind(b"\n") + 1
        self.offset += end
        out = []
        for raw in data[:end].splitlines():
            line = parse_line(raw.decode("utf-8", "replace"))
            if line is None:
                if raw.strip():
                    self.malformed += 1
                    log.warning("queue_log: skipped a malformed line %r", raw[:60])
                continue
            out.append(line)
        return out


def _bisect(handle, size: int, target: float) -> int:
    """Byte offset of the first line whose time is >= target (a line start)."""
    low, high = 0, size
    while high - low > 4096:
        middle = (low + high) // 2
        handle.seek(middle)
        handle.readline()  # to the next line start
        start = handle.tell()
        line = parse_line(handle.readline().decode("utf-8", "replace"))
        if line is None or start >= size:
            high = middle
        elif line.time < target:
            low = start
        else:
            high = middle
    return low  # a line start (or 0)
