"""Precision and recall of the "negative" flag on the labelled school posts.

    PYTHONPATH=. python benchmarks/sentiment_polarity.py [--errors]

Reads ``tests/data/sentiment_labelled.tsv`` (label, category, text), judges every text with
:func:`watcher.opinion.polarity.assess`, prints the confusion counts, precision, recall and the
recall per category; ``--errors`` lists each miss with the reason the lexicon gave.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from watcher.opinion.polarity import LEXICON, assess

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "sentiment_labelled.tsv"


def load(path: Path = DATA) -> list[tuple[str, str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        label, category, text = line.split("\t", 2)
        rows.append((label, category, text))
    return rows


def measure(rows: list[tuple[str, str, str]]) -> dict:
    counts: Counter[str] = Counter()
    per_category: Counter[tuple[str, bool]] = Counter()
    errors = []
    for label, category, text in rows:
        p = assess(text)
        truth = label == "neg"
        counts[("t" if truth == p.negative else "f") + ("p" if p.negative else "n")] += 1
        per_category[(category, truth == p.negative)] += 1
        if truth != p.negative:
            errors.append((label, category, text, p.reason()))
    tp, fp, fn = counts["tp"], counts["fp"], counts["fn"]
    return {"n": len(rows), "tp": tp, "fp": fp, "fn": fn, "tn": counts["tn"],
            "precision": tp / (tp + fp) if tp + fp else 0.0, "recall": tp / (tp + fn) if tp + fn else 0.0,
            "accuracy_by_category": {c: per_category[(c, True)] / (per_category[(c, True)] + per_category[(c, False)])
                                     for c in sorted({c for c, _ in per_category})},
            "errors": errors}


def main(argv: list[str]) -> int:
    m = measure(load())
    print(f"词典：{LEXICON}")
    print(f"样本 {m['n']} 条：TP {m['tp']}  FP {m['fp']}  FN {m['fn']}  TN {m['tn']}")
    print(f"负面标记 precision {m['precision']:.3f}  recall {m['recall']:.3f}")
    print("各类判对比例：" + "  ".join(f"{c} {v:.3f}" for c, v in m["accuracy_by_category"].items()))
    if "--errors" in argv:
        for label, category, text, reason in m["errors"]:
            print(f"[{label}/{category}] {text}\n    → {reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
