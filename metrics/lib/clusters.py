"""Grouping short Chinese complaint texts by what they are about (framework-free; for metrics.hotspots).

A text is the set of its character bigrams, the tokens the ticket search already indexes
(``hotline.lib.textsearch``): no dictionary, so a place name or a word the segmenter does not
know (江南小区, 没水了) still counts. Two texts are alike by the Jaccard index of their bigram
sets. Tickets are linked when they share the topic and are alike above ``SAME_TOPIC``, when they
have different topics but are alike above ``CROSS_TOPIC`` (an agent chose a neighbouring topic),
or when they name the same address and topic; a cluster is a connected group of links (single
linkage, union-find). The thresholds are measured on a labelled sample in docs/hotspots.md
(``benchmarks/hotspots.py``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from hotline.lib import textsearch

# Measured on the labelled sample (docs/hotspots.md): highest pairwise F1 with precision 1.0.
SAME_TOPIC = 0.10
CROSS_TOPIC = 0.25


@dataclass(frozen=True)
class Item:
    key: int
    topic: int | None
    text: str
    place: str = ""
    shingles: frozenset[str] = field(default=frozenset(), compare=False)


def shingles(text: str) -> frozenset[str]:
    """The bigrams (and Latin/digit words) of ``text``; a lone character says too little to compare."""
    return frozenset(t for t in textsearch.document(text).split() if len(t) > 1 or t.isascii())


def item(key: int, topic: int | None, text: str, place: str = "") -> Item:
    return Item(key, topic, text, textsearch.normalize(place).strip(), shingles(text))


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def linked(a: Item, b: Item, same_topic: float = SAME_TOPIC, cross_topic: float = CROSS_TOPIC) -> bool:
    same = a.topic is not None and a.topic == b.topic
    if same and a.place and a.place == b.place:
        return True
    return similarity(a.shingles, b.shingles) >= (same_topic if same else cross_topic)


def cluster(
    items: Sequence[Item], same_topic: float = SAME_TOPIC, cross_topic: float = CROSS_TOPIC
) -> list[list[Item]]:
    """Connected groups of linked items, largest first; every item is in exactly one group."""
    parent = list(range(len(items)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(items)):
        for j in range(i + 1, len(items)):
            if root(i) != root(j) and linked(items[i], items[j], same_topic, cross_topic):
                parent[root(j)] = root(i)
    groups: dict[int, list[Item]] = {}
    for i, it in enumerate(items):
        groups.setdefault(root(i), []).append(it)
    return sorted(groups.values(), key=lambda g: (-len(g), g[0].key))


def medoid(group: Sequence[Item]) -> Item:
    """The item most like the others: the group's example."""
    return max(group, key=lambda a: (sum(similarity(a.shingles, b.shingles) for b in group), -a.key))


def keywords(group: Sequence[Item], limit: int = 5) -> list[str]:
    """The words most of the group's texts share, as they read in its example text: runs of shared
    bigrams joined (江南 南小 小区 → 江南小区), most shared first.

    A bigram is shared when at least half of the texts (and two) hold it.
    """
    counts = Counter(t for it in group for t in it.shingles)
    shared = {t for t, n in counts.items() if n >= max(2, len(group) / 2)}
    text = textsearch.normalize(medoid(group).text)
    phrases: list[str] = []
    run = ""
    for i in range(len(text) + 1):
        pair = text[i : i + 2]
        if len(pair) == 2 and pair in shared:
            run = run + pair[1] if run and run[-1] == pair[0] else pair
            continue
        if run and run not in phrases:
            phrases.append(run)
        run = ""
    score = {p: min(counts[p[j : j + 2]] for j in range(len(p) - 1)) for p in phrases}
    return sorted(phrases, key=lambda p: (-score[p], -len(p)))[:limit]


def pair_scores(groups: Sequence[Sequence[int]], labels: dict[int, str]) -> dict[str, float]:
    """Pairwise precision, recall and F1 of ``groups`` (keys) against true ``labels`` (key → label).

    Precision: of the pairs put together, the share that belong together; recall: of the pairs
    that belong together, the share put together.
    """
    together = {(a, b) for g in groups for i, a in enumerate(sorted(g)) for b in sorted(g)[i + 1 :]}
    keys = sorted(labels)
    truth = {(a, b) for i, a in enumerate(keys) for b in keys[i + 1 :] if labels[a] == labels[b]}
    hits = len(together & truth)
    precision = hits / len(together) if together else 1.0
    recall = hits / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "pairs": len(together), "true_pairs": len(truth)}
