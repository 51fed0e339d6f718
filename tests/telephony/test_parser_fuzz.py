"""The AMI parser's fuzz corpus, replayed, and a short fuzz run (tests/telephony/parser_fuzz.py says what must hold)."""

from __future__ import annotations

import pytest

from tests.telephony.parser_fuzz import CORPUS_DIR, Case, check, fuzz

CORPUS = sorted(CORPUS_DIR.glob("*.bin"))


def test_the_corpus_is_there() -> None:
    assert len(CORPUS) >= 20


@pytest.mark.parametrize("path", CORPUS, ids=[p.stem for p in CORPUS])
def test_corpus_input(path) -> None:
    check(Case.from_file(path))


def test_a_short_fuzz_run() -> None:
    stats = fuzz(300, chunk=300, first_seed=20261129)
    assert stats["inputs"] == 300
