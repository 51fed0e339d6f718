"""Sans-IO AMI parser and action serializer: bytes in, messages out, no sockets.

AMI frames are ``Key: Value`` lines separated by CRLF and terminated by a blank
line. We split on ``\\r\\n\\r\\n`` over *bytes* and decode each whole frame, so a
multi-byte UTF-8 character (王先生) split across two TCP reads stays intact —
decoding each read separately is how panoramisk loses it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import repeat

from telephony.ami.errors import InvalidAction

TERMINATOR = b"\r\n\r\n"
MAX_FRAME_BYTES = 64 * 1024
BANNER_PREFIX = "Asterisk Call Manager/"
_BANNER_BYTES = BANNER_PREFIX.encode()

HeaderValue = str | list[str]


_NAME_KEYS = {"event": "Event", "response": "Response", "action": "Action"}


class Message(dict[str, HeaderValue]):
    """One AMI frame. Duplicate keys (``Output``, ``Variable``) hold a list of strings.

    ``kind`` is ``"event"``, ``"response"`` or ``"banner"`` (and ``"action"`` for a parser
    reading what a client sends). ``OriginateResponse`` is an event although it also carries
    ``Response:`` — the ``Event`` key decides.
    """

    __slots__ = ("kind", "name")

    def __init__(self, kind: str, headers: Mapping[str, HeaderValue] | None = None) -> None:
        super().__init__(headers or {})
        self.kind = kind
        # The event name, the response status, or the banner line: read on every hop, so kept once.
        value = self.get(_NAME_KEYS.get(kind, "Banner"), "")
        self.name: str = value[0] if isinstance(value, list) else value

    @property
    def action_id(self) -> str:
        return self.first("ActionID")

    @property
    def timestamp(self) -> float | None:
        """The ``Timestamp:`` header that ``timestampevents = yes`` adds, if any."""
        raw = self.first("Timestamp")
        try:
            return float(raw) if raw else None
        except ValueError:
            return None

    def first(self, key: str, default: str = "") -> str:
        value = self.get(key)
        if value is None:
            return default
        return value[0] if isinstance(value, list) else value

    def getlist(self, key: str) -> list[str]:
        value = self.get(key)
        if value is None:
            return []
        return list(value) if isinstance(value, list) else [value]

    def __repr__(self) -> str:
        return f"Message({self.kind!r}, {dict(self)!r})"


@dataclass(frozen=True, slots=True)
class ParseError:
    """A frame that was skipped. The parser goes on with the next frame."""

    reason: str
    size: int
    sample: bytes = b""
    kind: str = "error"


Parsed = Message | ParseError


def parse_frame(frame: bytes, actions: bool = False) -> Parsed | None:
    """Parse one frame without its terminator. ``None`` for an empty frame.

    With ``actions`` (the server side) a frame is an action, whose first key is ``Action``;
    otherwise an event or a response, as a PBX sends them.
    """
    # Extra CRLFs between frames are harmless; Asterisk never sends them but proxies might.
    frame = frame.lstrip(b"\r\n")
    if not frame:
        return None
    try:
        text = frame.decode("utf-8")
    except UnicodeDecodeError as exc:
        return ParseError(f"not UTF-8 at byte {exc.start}", len(frame), bytes(frame[:64]))
    lines = text.split("\r\n")
    # Fast path, nearly every frame: unique "Key: Value" lines, split and stored in C (map over
    # str.split, dict.update straight into the Message: no per-line bytecode, no copy). A line
    # without ": " raises, a repeated key shortens the dict, an empty key or a key with a space
    # (command output) shows in the keys: each sends the frame down the careful path.
    message = _new_message(Message)
    try:
        _fill(message, map(_split, lines, _SEPARATOR, _ONCE))
    except ValueError:
        message = None
    else:
        if len(message) != len(lines) or "" in message or " " in "".join(message):
            message = None
    if message is not None and not actions and "Event" in message:
        # The common case, typed in place: unique keys, so the name is a string.
        message.kind = "event"
        message.name = message["Event"]  # type: ignore[assignment]
        return message
    headers: dict[str, HeaderValue] = _slow_headers(lines) if message is None else message
    if actions:
        if next(iter(headers), None) == "Action":
            return _typed(message, headers, "action", "Action")
        return ParseError("not an action", len(frame), bytes(frame[:64]))
    if "Event" in headers:
        return _typed(message, headers, "event", "Event")
    if "Response" in headers:
        return _typed(message, headers, "response", "Response")
    return ParseError("neither Event nor Response", len(frame), bytes(frame[:64]))


_split = str.split
_fill = dict.update
_SEPARATOR = repeat(": ")  # endless: map() stops at the shorter iterable, the frame's lines
_ONCE = repeat(1)
_new_message = dict.__new__  # an empty Message; kind and name are set once the frame is known


def _typed(message: Message | None, headers: dict[str, HeaderValue], kind: str, key: str) -> Message:
    """The frame as a Message of ``kind``; a fast-path message (unique keys, str values) is used as is."""
    if message is None:
        return Message(kind, headers)
    message.kind = kind
    message.name = message[key]  # type: ignore[assignment]  # unique keys: never a list here
    return message


def _slow_headers(lines: list[str]) -> dict[str, HeaderValue]:
    """Duplicate keys become lists; keyless lines (old ``Command`` output) become ``Output``."""
    headers: dict[str, HeaderValue] = {}
    for line in lines:
        key, sep, value = line.partition(":")
        if not sep or not key or " " in key:
            if line:
                # Old-style `Command` output lines have no key; keep them, do not fail the frame.
                key, value = "Output", line
            else:
                continue
        elif value[:1] == " ":
            value = value[1:]
        old = headers.get(key)
        if old is None:
            headers[key] = value
        elif isinstance(old, list):
            old.append(value)
        else:
            headers[key] = [old, value]
    return headers


class AMIParser:
    """Incremental parser: ``feed(bytes)`` returns every complete message so far.

    Never raises on input: an undecodable, keyless or oversized frame comes back as
    a :class:`ParseError` and parsing resumes after its terminator. ``actions=True`` reads
    the other direction, a client's actions (a server such as the PBX simulator); no banner then.
    """

    def __init__(self, *, max_frame: int = MAX_FRAME_BYTES, expect_banner: bool = True, actions: bool = False) -> None:
        self.max_frame = max_frame
        self.actions = actions
        self._buf = bytearray()
        self._scan_from = 0  # bytes before this offset are known to hold no terminator
        self._expect_banner = expect_banner and not actions  # a client sends no banner
        self._discarding = False  # inside an oversized frame, skipping to its end

    def reset(self, *, expect_banner: bool = True) -> None:
        """Forget partial input (the connection was replaced)."""
        self._buf.clear()
        self._scan_from = 0
        self._expect_banner = expect_banner and not self.actions
        self._discarding = False

    @property
    def buffered(self) -> int:
        return len(self._buf)

    def feed(self, data: bytes) -> list[Parsed]:
        buf = self._buf
        buf += data
        out: list[Parsed] = []
        start = 0
        if self._expect_banner:
            start = self._take_banner(out)
            if self._expect_banner:
                return out
        if buf.find(TERMINATOR, max(start, self._scan_from)) >= 0:
            # Every complete frame of the read in one C-level split (a 64 KiB read holds ~150): a
            # find, slice and copy per frame in Python cost as much as parsing the frame.
            *frames, rest = bytes(buf[start:]).split(TERMINATOR)
            del buf[: len(buf) - len(rest)]
            self._parse_frames(frames, out)
        elif start:
            del buf[:start]
        # A terminator may straddle two reads, so re-scan the last 3 bytes next time.
        self._scan_from = max(0, len(buf) - 3)
        # Without a terminator the frame's end can begin in the last 3 bytes at the earliest, so only
        # a buffer longer than max_frame + 3 surely holds a frame over the limit (as one read would say).
        if len(buf) > self.max_frame + 3:
            if not self._discarding:
                out.append(ParseError("frame too large", len(buf), bytes(buf[:64])))
                self._discarding = True
            del buf[:-3]
            self._scan_from = 0
        return out

    def _parse_frames(self, frames: list[bytes], out: list[Parsed]) -> None:
        if self._discarding:
            # The end of an oversized frame whose start was already dropped.
            self._discarding = False
            frames = frames[1:]
        max_frame, actions, append = self.max_frame, self.actions, out.append
        for frame in frames:
            if len(frame) > max_frame:
                append(ParseError("frame too large", len(frame), frame[:64]))
                continue
            if not actions and frame.startswith(_BANNER_BYTES):
                # A second banner mid-stream: a recorded reconnect, or a proxy that reconnected for us.
                # (Only a PBX sends banners: from a client, such a line is just not an action.)
                line_end = frame.find(b"\r\n")
                if line_end < 0:
                    line_end = len(frame)
                append(Message("banner", {"Banner": frame[:line_end].decode("utf-8", "replace")}))
                frame = frame[line_end + 2 :]
            parsed = parse_frame(frame, actions)
            if parsed is not None:
                append(parsed)

    def _take_banner(self, out: list[Parsed]) -> int:
        buf = self._buf
        end = buf.find(b"\r\n")
        if end < 0 and len(buf) <= self.max_frame + 1:  # its CR may be the last byte
            return 0  # wait for the whole line
        self._expect_banner = False
        if end < 0 or end > self.max_frame:
            # No PBX sends such a line: skip it like an oversized frame, up to the next frame's end,
            # whether it came in one read or in many.
            out.append(ParseError("banner too large", len(buf) if end < 0 else end, bytes(buf[:64])))
            self._discarding = True
            return 0
        line = bytes(buf[:end]).decode("utf-8", "replace")
        if ": " in line:
            # No banner (some proxies strip it): the first line already belongs to a frame.
            return 0
        out.append(Message("banner", {"Banner": line}))
        return end + 2


def _check(text: str, what: str) -> str:
    if "\r" in text or "\n" in text:
        # A CR/LF in a value would let caller-controlled text inject a second action.
        raise InvalidAction(f"{what} must not contain CR or LF: {text!r}")
    return text


def _encode_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def serialize_action(
    action: str,
    fields: Mapping[str, object] | Iterable[tuple[str, object]] | None = None,
    *,
    action_id: str | None = None,
) -> bytes:
    """Encode an action. A list/tuple value repeats the key (``Variable: A=1`` …)."""
    lines = [f"Action: {_check(action, 'action')}"]
    if action_id is not None:
        lines.append(f"ActionID: {_check(action_id, 'ActionID')}")
    items = fields.items() if isinstance(fields, Mapping) else (fields or ())
    for key, value in items:
        if key in ("Action", "ActionID"):
            raise InvalidAction(f"pass {key} as an argument, not as a field")
        _check(key, "key")
        if ":" in key or not key:
            raise InvalidAction(f"bad key {key!r}")
        values = value if isinstance(value, list | tuple) else [value]
        for item in values:
            if item is None:
                continue
            lines.append(f"{key}: {_check(_encode_value(item), key)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")
