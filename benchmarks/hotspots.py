"""Hot-spot clustering: quality on a labelled sample, and speed (metrics/lib/clusters.py, docs/hotspots.md).

Quality: the labelled sample is the demo's seed texts (web/demo.py CONTENTS, each its own label),
the demo's burst (web/demo_hotspots.py BURSTS) and the extra tickets of
benchmarks/data/hotspot_sample.json. Tickets are grouped by district as the detector does, then
clustered by each method; pairwise precision, recall and F1 against the labels:

  topic         same district + same topic is one cluster (no content at all)
  jaccard       bigram Jaccard (the detector's method) at several thresholds
  tfidf         cosine of bigram TF-IDF vectors (IDF from the sample), same linking rule

Speed: clustering N tickets of one district (the sample's texts repeated with a varying suffix, so
the sets differ), the detector's whole per-district cost, which is O(N²) pairs.

    .venv/bin/python benchmarks/hotspots.py            # table on stdout, JSON to benchmarks/results/hotspots.json
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from metrics.lib import clusters  # noqa: E402
from web.demo import CONTENTS  # noqa: E402
from web.demo_hotspots import BURSTS  # noqa: E402


def sample() -> list[dict]:
    rows = [
        {"label": f"seed-{code}", "area": "YT01", "topic": code, "address": "", "text": text}
        for code, text in CONTENTS.items()
    ]
    rows += [
        {"label": label, "area": area, "topic": topic, "address": address, "text": text}
        for label, area, topic, address, _hours, text in BURSTS
    ]
    extra = json.loads((ROOT / "benchmarks" / "data" / "hotspot_sample.json").read_text())["extra"]
    return rows + extra


def items_by_district(rows: list[dict]) -> dict[str, list[clusters.Item]]:
    out: dict[str, list[clusters.Item]] = {}
    for key, row in enumerate(rows):
        topic = int(row["topic"]) if row["topic"] else None
        out.setdefault(row["area"][:2], []).append(clusters.item(key, topic, row["text"], row["address"]))
    return out


def by_topic(groups: dict[str, list[clusters.Item]]) -> list[list[int]]:
    out: dict[tuple, list[int]] = {}
    for district, items in groups.items():
        for it in items:
            out.setdefault((district, it.topic), []).append(it.key)
    return list(out.values())


def by_jaccard(groups, same, cross) -> list[list[int]]:
    return [[it.key for it in g] for items in groups.values() for g in clusters.cluster(items, same, cross)]


def by_tfidf(groups, same, cross) -> list[list[int]]:
    everything = [it for items in groups.values() for it in items]
    df = Counter(t for it in everything for t in it.shingles)
    idf = {t: math.log(len(everything) / n) + 1 for t, n in df.items()}

    def vector(it):
        v = {t: idf[t] for t in it.shingles}
        norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
        return {t: x / norm for t, x in v.items()}

    out = []
    for items in groups.values():
        vectors = {it.key: vector(it) for it in items}
        parent = {it.key: it.key for it in items}

        def root(k, parent=parent):
            while parent[k] != k:
                k = parent[k]
            return k

        for i, a in enumerate(items):
            for b in items[i + 1 :]:
                same_topic = a.topic is not None and a.topic == b.topic
                cos = sum(x * vectors[b.key].get(t, 0.0) for t, x in vectors[a.key].items())
                if (same_topic and a.place and a.place == b.place) or cos >= (same if same_topic else cross):
                    parent[root(b.key)] = root(a.key)
        grouped: dict[int, list[int]] = {}
        for it in items:
            grouped.setdefault(root(it.key), []).append(it.key)
        out += list(grouped.values())
    return out


def quality() -> list[dict]:
    rows = sample()
    labels = {k: row["label"] for k, row in enumerate(rows)}
    groups = items_by_district(rows)
    results = [{"method": "topic", "same": None, "cross": None, **clusters.pair_scores(by_topic(groups), labels)}]
    for same in (0.08, 0.10, 0.12, 0.15, 0.20, 0.30):
        for cross in (0.25, 0.35, 0.5):
            results.append(
                {
                    "method": "jaccard",
                    "same": same,
                    "cross": cross,
                    **clusters.pair_scores(by_jaccard(groups, same, cross), labels),
                }
            )
    for same in (0.05, 0.08, 0.10, 0.12, 0.15, 0.2):
        for cross in (0.25, 0.35, 0.5):
            results.append(
                {
                    "method": "tfidf",
                    "same": same,
                    "cross": cross,
                    **clusters.pair_scores(by_tfidf(groups, same, cross), labels),
                }
            )
    return results


def speed() -> list[dict]:
    texts = [row["text"] for row in sample()]
    out = []
    for n in (100, 300, 1000):
        items = [clusters.item(i, 901 + i % 5, f"{texts[i % len(texts)]}{i}号楼", "") for i in range(n)]
        start = time.perf_counter()
        found = clusters.cluster(items)
        out.append({"tickets": n, "seconds": round(time.perf_counter() - start, 3), "clusters": len(found)})
    return out


def main() -> None:
    rows = sample()
    print(f"labelled sample: {len(rows)} tickets, {len({r['label'] for r in rows})} incidents")
    results = quality()
    print(f"{'method':<8} {'same':>5} {'cross':>5} {'prec':>6} {'recall':>6} {'F1':>6} {'pairs':>5}")
    for r in results:
        same = "" if r["same"] is None else f"{r['same']:.2f}"
        cross = "" if r["cross"] is None else f"{r['cross']:.2f}"
        scores = f"{r['precision']:6.3f} {r['recall']:6.3f} {r['f1']:6.3f} {r['pairs']:>5}"
        print(f"{r['method']:<8} {same:>5} {cross:>5} {scores}")
    chosen = clusters.pair_scores(
        by_jaccard(items_by_district(rows), clusters.SAME_TOPIC, clusters.CROSS_TOPIC),
        {k: row["label"] for k, row in enumerate(rows)},
    )
    print(f"chosen (jaccard {clusters.SAME_TOPIC}/{clusters.CROSS_TOPIC}): {chosen}")
    timings = speed()
    print(f"{'tickets':>8} {'seconds':>8} {'clusters':>8}")
    for t in timings:
        print(f"{t['tickets']:>8} {t['seconds']:>8} {t['clusters']:>8}")
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / "hotspots.json").write_text(
        json.dumps({"sample": len(rows), "quality": results, "chosen": chosen, "speed": timings}, indent=2)
    )


if __name__ == "__main__":
    main()
