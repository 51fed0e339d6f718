"""Words in Chinese text, for the ticket search: overlapping character bigrams (framework-free).

Chinese has no spaces, and a dictionary segmenter (jieba) decides for the searcher which
substrings are words: with "噪音扰民" cut as one word, a search for "扰民" finds nothing. The
search must find every ticket whose text contains what the agent typed, so a run of Chinese
characters is indexed as its overlapping bigrams (the CJK analyser of Lucene and Elasticsearch
does the same), followed by its last character alone; a run of Latin letters and digits is one
token. A query becomes a phrase of the same tokens, so "噪音扰民" matches exactly the texts that
contain "噪音扰民" (bigrams 噪音 音扰 扰民 at consecutive positions) and no other.

Both stores read the one token string this module writes (``document``): PostgreSQL through a
tsvector of it (phrase search on a GIN index), SQLite by substring over it (same answers).
docs/search.md has the details and the measurements.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

# A Latin/digit word longer than this is cut: PostgreSQL refuses lexemes over 2 KB, and nobody searches one.
MAX_WORD = 64
# tsvector positions stop at 16,383; a document is cut well before (5,000-character content + replies).
MAX_TOKENS = 16_000


def normalize(text: str) -> str:
    """NFKC (全角 ＡＢＣ１２３ → ABC123) and lower case: what is stored and what is searched alike."""
    return unicodedata.normalize("NFKC", text or "").lower()


def _runs(text: str) -> list[tuple[str, str]]:
    """Split normalised text into ("w", latin/digit word) and ("c", run of other letters) pieces.

    Anything that is not a letter or digit separates pieces.
    """
    runs: list[tuple[str, str]] = []
    kind, start = "", 0
    for i, ch in enumerate(text):
        now = ("w" if ch.isascii() else "c") if ch.isalnum() else ""
        if now != kind:
            if kind:
                runs.append((kind, text[start:i]))
            kind, start = now, i
    if kind:
        runs.append((kind, text[start:]))
    return runs


def _run_tokens(kind: str, run: str) -> list[str]:
    if kind == "w":
        return [run[:MAX_WORD]]
    return [run[i : i + 2] for i in range(len(run) - 1)] + [run[-1]]


def document(*texts: str) -> str:
    """The token string of a ticket's searchable texts: " tok tok … " (spaces at both ends)."""
    tokens: list[str] = []
    for text in texts:
        for kind, run in _runs(normalize(text)):
            tokens += _run_tokens(kind, run)
    return " " + " ".join(tokens[:MAX_TOKENS]) + " "


@dataclass(frozen=True)
class Token:
    text: str
    prefix: bool  # the token may continue in the document (the query's last piece)


def query_terms(query: str) -> list[list[Token]]:
    """The query as phrases (one per whitespace- or punctuation-separated term), each a token list.

    A document matches when it holds every phrase: each phrase's tokens at consecutive positions,
    the last one as a prefix. Within a phrase, a Chinese run that is followed by a Latin/digit
    word must end there in the document too, hence its last character as a token of its own.
    """
    phrases = []
    for term in normalize(query).split():
        runs = _runs(term)
        # Punctuation inside a term separates as whitespace does: "噪音，扰民" is two terms.
        groups: list[list[tuple[str, str]]] = [[]]
        last_end = 0
        for kind, run in runs:
            start = term.index(run, last_end)
            if start > last_end and groups[-1]:
                groups.append([])
            groups[-1].append((kind, run))
            last_end = start + len(run)
        for group in groups:
            if group:
                phrases.append(_phrase(group))
    return [_whole_number(p) for p in phrases]


# A term of this many digits or more is a ticket number, query code or phone: matched whole, not as a
# prefix (a prefix of a digit string is no search anyone means, and it defeats the index's estimates).
WHOLE_DIGITS = 6


def _whole_number(phrase: list[Token]) -> list[Token]:
    if len(phrase) == 1 and phrase[0].text.isdigit() and len(phrase[0].text) >= WHOLE_DIGITS:
        return [Token(phrase[0].text, prefix=False)]
    return phrase


def _phrase(runs: list[tuple[str, str]]) -> list[Token]:
    tokens: list[Token] = []
    for i, (kind, run) in enumerate(runs):
        last = i == len(runs) - 1
        if kind == "w":
            tokens.append(Token(run[:MAX_WORD], prefix=last))
        elif len(run) == 1:
            tokens.append(Token(run, prefix=last))
        else:
            tokens += [Token(run[j : j + 2], prefix=False) for j in range(len(run) - 1)]
            if not last:
                tokens.append(Token(run[-1], prefix=False))
    return tokens


def tsquery(phrases: list[list[Token]]) -> str:
    """PostgreSQL ``to_tsquery('simple', …)`` text: phrases joined with &, tokens with <->.

    Tokens hold only letters and digits (see ``_runs``), so nothing in them is tsquery syntax.
    """
    return " & ".join(
        "(" + " <-> ".join(f"'{t.text}'" + (":*" if t.prefix else "") for t in phrase) + ")" for phrase in phrases
    )


def like_patterns(phrases: list[list[Token]]) -> list[str]:
    """The same match as substrings of ``document``'s string (SQLite): " tok tok" with a trailing
    space unless the last token is a prefix."""
    patterns = []
    for phrase in phrases:
        body = " " + " ".join(t.text for t in phrase)
        patterns.append(body if phrase[-1].prefix else body + " ")
    return patterns
