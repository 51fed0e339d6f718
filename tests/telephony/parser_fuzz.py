"""Fuzzing the AMI parser (telephony.ami.protocol.AMIParser) with hypothesis.

Inputs are built from the real Asterisk recordings (telephony/traces/, frames cut, mutated and
spliced), binary junk, truncated frames, stray CR/LF, banners mid-stream, UTF-8 cut inside a
character and lines longer than the frame limit, for the three ways the parser is used (a PBX
stream with its banner, without one, and a client's actions as the simulator reads them) and
several frame limits. Each input is fed in one read, at cut points drawn with it, and a byte at
a time. What must hold (:func:`check`):

* ``feed`` never raises: bad bytes come back as a :class:`ParseError` and parsing goes on;
* every result is a well-formed Message (its ``name`` the header of its kind, values str or
  lists of str) or a ParseError with one of the documented reasons;
* however the bytes are cut into reads, the messages are the same (errors compared by reason);
* the buffer never holds more than ``max_frame + 3`` bytes after a read;
* nothing that follows is lost: after any input, a terminator and a good frame give that frame.

Run it (from the repository root; ``--runs`` inputs, 1,000,000 for a release check):

    .venv/bin/python -m tests.telephony.parser_fuzz --runs 1000000 --save-corpus

It prints the inputs per second and what kinds of inputs it saw. Inputs that break a property are
shrunk, written to ``tests/telephony/fuzz_corpus/`` and reported (exit status 1);
``--save-corpus`` also keeps a few dozen inputs there that between them show every behaviour
seen (a frame error of each kind, a banner mid-stream, a repeated key, a keyless line, ...), in
every combination of four that occurred (:func:`select_corpus`). ``test_parser_fuzz.py``
replays the corpus in every test run and runs a short fuzz.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from telephony.ami.protocol import TERMINATOR, AMIParser, Message, ParseError
from telephony.traces import TRACES_DIR

CORPUS_DIR = Path(__file__).resolve().parent / "fuzz_corpus"
REASONS = ("not UTF-8 at byte", "frame too large", "banner too large", "neither Event nor Response", "not an action")
KINDS = {"pbx": ("event", "response", "banner"), "nobanner": ("event", "response", "banner"), "actions": ("action",)}
NAME_KEYS = {"event": "Event", "response": "Response", "action": "Action", "banner": "Banner"}
# The good frame that must come out after any input, per mode.
SENTINEL = {
    "pbx": b"Event: FuzzSentinel\r\nPrivilege: user,all\r\nUserEvent: \xe7\x8e\x8b\xe5\x85\x88\xe7\x94\x9f",
    "nobanner": b"Response: Success\r\nActionID: fuzz-1\r\nMessage: Pong",
    "actions": b"Action: Ping\r\nActionID: fuzz-2",
}
MODES = tuple(SENTINEL)
MAX_FRAMES = (128, 512, 4096, 64 * 1024)  # the sentinels fit the smallest
BYTE_BY_BYTE_LIMIT = 1_500  # longer inputs: the drawn cut points, and 7-byte reads


@dataclass(frozen=True)
class Case:
    data: bytes
    mode: str = "pbx"
    max_frame: int = 64 * 1024
    cuts: tuple[int, ...] = ()

    def parser(self) -> AMIParser:
        return AMIParser(max_frame=self.max_frame, expect_banner=self.mode == "pbx", actions=self.mode == "actions")

    @property
    def file_name(self) -> str:
        digest = hashlib.sha1(self.data).hexdigest()[:12]
        return f"{digest}-{self.mode}-{self.max_frame}.bin"

    @classmethod
    def from_file(cls, path: Path) -> Case:
        _, mode, max_frame = path.stem.rsplit("-", 2)
        data = path.read_bytes()
        # Replayed at every cut point of a small input, at a few spread ones of a large one.
        cuts = tuple(range(1, len(data))) if len(data) <= 512 else tuple(range(1, len(data), 97))
        return cls(data, mode, int(max_frame), cuts)


# --- the properties ---------------------------------------------------------------------------------


def _shape(parsed: list[Message | ParseError]) -> list[tuple]:
    """Comparable results: a message by kind, name and headers; an error by its reason."""
    out: list[tuple] = []
    for item in parsed:
        if isinstance(item, ParseError):
            out.append(("error", item.reason.split(" at byte")[0]))
        else:
            out.append((item.kind, item.name, tuple(item.items())))
    return out


def _feed(case: Case, pieces: list[bytes]) -> list[Message | ParseError]:
    parser = case.parser()
    out: list[Message | ParseError] = []
    limit = case.max_frame + 3
    for piece in pieces:
        out.extend(parser.feed(piece))
        assert parser.buffered <= limit, f"buffer grew to {parser.buffered} bytes (max_frame {case.max_frame})"
    return out


def _pieces(data: bytes, cuts: tuple[int, ...]) -> list[bytes]:
    points = [0, *sorted({c for c in cuts if 0 < c < len(data)}), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(points)]


def _well_formed(item: Message | ParseError, mode: str) -> None:
    if isinstance(item, ParseError):
        assert item.reason.startswith(REASONS), item.reason
        assert isinstance(item.sample, bytes) and len(item.sample) <= 64 and item.size >= 0
        return
    assert isinstance(item, Message) and item.kind in KINDS[mode], item.kind
    for key, value in item.items():
        assert isinstance(key, str) and key, key
        assert isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))
    assert item.name == item.first(NAME_KEYS[item.kind]), (item.name, item)


def check(case: Case) -> list[Message | ParseError]:
    """Every property above for one input; returns the messages of the one-read feed."""
    whole = _feed(case, [case.data])
    for item in whole:
        _well_formed(item, case.mode)
    expected = _shape(whole)
    assert _shape(_feed(case, _pieces(case.data, case.cuts))) == expected, "cut into reads, the messages differ"
    step = 1 if len(case.data) <= BYTE_BY_BYTE_LIMIT else 7
    small_reads = [case.data[i : i + step] for i in range(0, len(case.data), step)]
    assert _shape(_feed(case, small_reads)) == expected, f"fed {step} byte(s) at a time, the messages differ"
    # Nothing that follows is lost: a terminator ends whatever came before, then a good frame.
    sentinel = SENTINEL[case.mode]
    parser = case.parser()
    after = parser.feed(case.data + TERMINATOR + sentinel + TERMINATOR)
    (good,) = AMIParser(expect_banner=False, actions=case.mode == "actions").feed(sentinel + TERMINATOR)
    assert after and _shape(after[-1:]) == _shape([good]), f"the frame after the input was lost: {after[-3:]!r}"
    assert parser.buffered == 0, "bytes left over after a complete frame"
    return whole


def features(case: Case, parsed: list[Message | ParseError]) -> frozenset[str]:
    """What an input made the parser do, for keeping one small input of each behaviour."""
    out = {f"mode:{case.mode}"}
    for item in parsed:
        if isinstance(item, ParseError):
            out.add("error:" + item.reason.split(" at byte")[0])
        else:
            out.add(item.kind)
            if any(isinstance(v, list) for v in item.values()):
                out.add("repeated-key")
            if "Output" in item and item.kind != "banner":
                out.add("keyless-line")
    if case.max_frame < 64 * 1024:
        out.add("small-limit")
    return frozenset(out)


# --- the inputs -------------------------------------------------------------------------------------


def _recorded_frames() -> list[bytes]:
    frames: set[bytes] = set()
    for path in sorted(TRACES_DIR.glob("**/*.ami")):
        for frame in path.read_bytes().split(TERMINATOR):
            if frame and len(frame) < 2_000:
                frames.add(frame)
    ordered = sorted(frames, key=lambda f: (len(f), f))
    return ordered[:: max(1, len(ordered) // 600)]  # a spread of 600, short to long


RECORDED = _recorded_frames()
TOKENS = [
    b"\r", b"\n", b"\r\n", b"\r\n\r\n", b"\r\n\r", b"\n\r\n", b": ", b":", b" ", b"\x00", b"\xff", b"\xe7\x8e",
    b"\xe7\x8e\x8b", b"Event: ", b"Response: Success", b"Response: Error", b"Action: Ping", b"ActionID: 1",
    b"Asterisk Call Manager/11.0.0\r\n", b"Output: ", b"Event: OriginateResponse\r\nResponse: Failure",
    b"Variable: A=1\r\nVariable: B=2", b"--END COMMAND--", b"\xef\xbb\xbf", b"\xed\xa0\x80",
]  # fmt: skip


LONG_LINES = (100, 120, 500, 510, 4_100, 70_000)  # around the frame limits; the last is over every one
SEPARATORS = (TERMINATOR, TERMINATOR, TERMINATOR, b"", b"\r\n", b"\r\n\r\n\r\n", b"\n\n", b"\r\n\r")
TEXT = ":\r\n ab\u738b\x00"


def _mutated(rng: random.Random) -> bytes:
    frame = bytearray(rng.choice(RECORDED))
    for _ in range(rng.randrange(5)):
        at = rng.randrange(len(frame) + 1)
        op = rng.randrange(6)
        if op == 0:
            frame[at:at] = rng.choice(TOKENS)
        elif op == 1:
            frame[at:at] = rng.randbytes(rng.randint(1, 12))
        elif op == 2:
            del frame[at : at + rng.randint(1, 40)]
        elif op == 3:
            del frame[at:]
        elif op == 4:  # a line twice: a repeated key
            end = frame.find(b"\r\n", at)
            frame[at:at] = frame[at : end + 2 if end >= 0 else len(frame)]
        elif rng.random() < 0.3:  # a line around, or far over, the frame limit (rarely: they are slow to feed)
            frame[at:at] = b"Data: " + b"x" * rng.choices(LONG_LINES, weights=(20, 20, 20, 20, 5, 1))[0]
    return bytes(frame)


def _piece(rng: random.Random) -> bytes:
    kind = rng.randrange(10)
    if kind < 5:
        return _mutated(rng)
    if kind < 7:
        return rng.choice(RECORDED)
    if kind == 7:
        return rng.randbytes(rng.randrange(65))
    if kind == 8:
        return rng.choice(TOKENS)
    return "".join(rng.choice(TEXT) for _ in range(rng.randrange(25))).encode()


def build(mode: str, max_frame: int, number: int) -> Case:
    """The input of one hypothesis example: its mode, frame limit and a seed for the bytes and the cuts.

    The bytes come from a seeded generator rather than from hypothesis draws: a draw costs more than
    the parser's whole work on the input, and a million inputs must run in minutes. A failing input is
    shrunk by :func:`shrink` instead.
    """
    rng = random.Random(number)
    data = b"".join(_piece(rng) + rng.choice(SEPARATORS) for _ in range(rng.randrange(7)))
    if mode == "pbx" and rng.random() < 0.5:
        data = b"Asterisk Call Manager/11.0.0\r\n" + data
    cuts = tuple(rng.randrange(len(data) + 1) for _ in range(rng.randrange(9)))
    return Case(data, mode, max_frame, cuts)


cases = st.builds(build, st.sampled_from(MODES), st.sampled_from(MAX_FRAMES), st.integers(0, 2**64 - 1))


def shrink(case: Case) -> Case:
    """A smaller input that still breaks a property: drop cut points, then ever smaller runs of bytes."""

    def fails(candidate: Case) -> bool:
        try:
            check(candidate)
        except Exception:  # noqa: BLE001  (any exception is the finding)
            return True
        return False

    if fails(Case(case.data, case.mode, case.max_frame)):
        case = Case(case.data, case.mode, case.max_frame)
    size = max(1, len(case.data) // 2)
    while size >= 1:
        at, shrunk = 0, False
        while at < len(case.data):
            candidate = Case(case.data[:at] + case.data[at + size :], case.mode, case.max_frame, case.cuts)
            if fails(candidate):
                case, shrunk = candidate, True
            else:
                at += size
        if not shrunk:
            size //= 2
    return case


# --- the runner -------------------------------------------------------------------------------------


def fuzz(
    runs: int, *, chunk: int = 20_000, first_seed: int = 0, keep: dict | None = None, failed: list | None = None
) -> dict[str, object]:
    """Run ``runs`` inputs (in hypothesis runs of ``chunk``, each with its own seed, so memory stays flat).

    A broken property raises at once; the input is the last case in ``failed``.
    """
    stats: dict[str, object] = {"inputs": 0, "bytes": 0, "errors": 0, "messages": 0}
    failed = [] if failed is None else failed
    kept: dict[frozenset[str], Case] = {} if keep is None else keep
    done = 0
    index = first_seed
    while done < runs:
        n = min(chunk, runs - done)

        @seed(index)
        @settings(
            max_examples=n,
            deadline=None,
            database=None,
            phases=(Phase.generate,),
            suppress_health_check=list(HealthCheck),
        )
        @given(cases)
        def one(case: Case) -> None:
            try:
                parsed = check(case)
            except Exception:
                failed.append(case)
                raise
            stats["inputs"] += 1  # type: ignore[operator]
            stats["bytes"] += len(case.data)  # type: ignore[operator]
            stats["errors"] += sum(isinstance(p, ParseError) for p in parsed)  # type: ignore[operator]
            stats["messages"] += sum(isinstance(p, Message) for p in parsed)  # type: ignore[operator]
            signature = features(case, parsed)
            best = kept.get(signature)
            if best is None or len(case.data) < len(best.data):
                kept[signature] = case

        one()
        done += n
        index += 1
    stats["behaviours"] = len(kept)
    return stats


def select_corpus(kept: dict[frozenset[str], Case], limit: int = 4_096) -> list[Case]:
    """A few dozen of the kept inputs: every combination of four behaviours seen together in one input
    has one input showing it (greedy, fewest and smallest first), and every behaviour has its two
    smallest inputs per mode."""
    cases = sorted((c for c in kept.values() if len(c.data) <= limit), key=lambda c: (len(c.data), c.file_name))
    signature = {c.file_name: sig for sig, c in kept.items()}

    def combos(case: Case) -> set[tuple[str, ...]]:
        return set(itertools.combinations(sorted(signature[case.file_name]), 4))

    need = set().union(*(combos(c) for c in cases)) if cases else set()
    chosen: dict[str, Case] = {}
    covered: set[tuple[str, ...]] = set()
    while covered != need:
        best = max(cases, key=lambda c: (len(combos(c) - covered), -len(c.data)))
        chosen[best.file_name] = best
        covered |= combos(best)
    for feature in set().union(*signature.values()):
        for mode in MODES:
            having = [c for c in cases if {feature, f"mode:{mode}"} <= signature[c.file_name]]
            chosen.update((c.file_name, c) for c in having[:2])
    return sorted(chosen.values(), key=lambda c: c.file_name)


def save(case: Case) -> Path:
    CORPUS_DIR.mkdir(exist_ok=True)
    path = CORPUS_DIR / case.file_name
    path.write_bytes(case.data)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=100_000, help="inputs to try")
    parser.add_argument("--seed", type=int, default=0, help="first hypothesis seed (one per chunk of inputs)")
    parser.add_argument("--save-corpus", action="store_true", help="keep the smallest input of each behaviour seen")
    args = parser.parse_args()
    kept: dict[frozenset[str], Case] = {}
    failed: list[Case] = []
    started = time.monotonic()
    try:
        stats = fuzz(args.runs, first_seed=args.seed, keep=kept, failed=failed)
    except Exception as exc:  # noqa: BLE001  (a property broke: any exception is the finding)
        case = shrink(failed[-1]) if failed else None
        path = save(case) if case is not None else None
        print(f"FAILED: {exc!r}\nthe shrunk input: {case}\nsaved as {path}", file=sys.stderr)
        return 1
    elapsed = time.monotonic() - started
    print(
        f"{stats['inputs']:,} inputs ({stats['bytes']:,} bytes, {stats['messages']:,} messages, {stats['errors']:,} "
        f"frame errors) in {elapsed:,.0f} s ({stats['inputs'] / elapsed:,.0f}/s); {stats['behaviours']} behaviours; "
        "every property held"
    )
    if args.save_corpus:
        chosen = select_corpus(kept)
        for case in chosen:
            save(case)
        print(f"kept {len(chosen)} inputs in {CORPUS_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
