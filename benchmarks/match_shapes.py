"""What the four-corner shape variants (形近字) add to matching, and what they cost.

    python benchmarks/match_shapes.py [N]

Three settings of :func:`watcher.matching.shapes.variants`:

* ``hand``: only the hand-kept table of look-alikes (亚/业, 字/学 …);
* ``same``: plus characters with the same four-corner code (人/入, 西/覀, 京/亰);
* ``near``: plus a code one digit away in terms of three or more characters (民/氏, 大/夫, 子/了) —
  what the matcher uses;
* ``fuller``: plus, in terms of three or more characters, every one of the 6 000 commonest characters
  that the ``char-similar`` package (four-corner code, structure, components, stroke count and order;
  21 000 characters) scores at 0.75 or more for shape against the term's character (院/陪, 部/郎,
  科/秋). Measured only where that package is installed (it is not a dependency of the project):
  ``pip install --target DIR char-similar tqdm multiprocess`` and ``PYTHONPATH=DIR``.

For each: recall and false-positive rate on every development set in ../shared/eval, and the
share of N (default 20 000) ordinary phrases — two or three common words of jieba's dictionary,
sometimes with a campus word — that each school's matcher flags. Those phrases are not about any
school, so what a setting flags beyond ``hand`` is its cost.
"""

from __future__ import annotations

import json
import random
import sys
import time
from functools import lru_cache
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.match_eval import DEFAULT_DIR, evaluate, matcher_for, sets_in  # noqa: E402
from watcher.matching import Candidate, shapes  # noqa: E402
from watcher.matching.lexicon import words  # noqa: E402

ORIGINAL = shapes.variants
FULLER_CUTOFF = 0.75
FULLER_POOL = 6000


@lru_cache(maxsize=1)
def _fuller_pool() -> list[str]:
    from char_similar.const_dict import dict_char_frequency

    ranked = sorted(dict_char_frequency.items(), key=lambda kv: -kv[1])
    return [c for c, _ in ranked if "\u4e00" <= c <= "\u9fff"][:FULLER_POOL]


@lru_cache(maxsize=4096)
def fuller(ch: str, near: bool = True) -> frozenset[str]:
    from char_similar.char_similarity_std import cal_sim_by_shape

    out = set(ORIGINAL(ch, near))
    if near:
        out |= {c for c in _fuller_pool() if c != ch and cal_sim_by_shape(ch, c) >= FULLER_CUTOFF}
    return frozenset(out)


def available() -> list[str]:
    try:
        import char_similar  # noqa: F401
    except ImportError:
        return ["hand", "same", "near"]
    return ["hand", "same", "near", "fuller"]


def setting(name: str):
    def hand(ch: str, near: bool = True) -> frozenset[str]:
        return frozenset(shapes._hand_groups().get(ch, ()))

    def same(ch: str, near: bool = True) -> frozenset[str]:
        return ORIGINAL(ch, False)

    return {"hand": hand, "same": same, "near": ORIGINAL, "fuller": fuller}[name]


def phrases(n: int, rng: random.Random) -> list[str]:
    pool = sorted(w for w in words() if len(w) in (2, 3))
    tails = ["", "", "", "表白墙", "考研", "官方", "二手", "校园"]
    return ["".join(rng.choice(pool) for _ in range(rng.randint(2, 3))) + rng.choice(tails) for _ in range(n)]


# Characters common in school names: the average size of their look-alike classes is the cost in
# regular-expression width (every class is one character set of the prefilter and the matcher).
SAMPLE_CHARS = "部院学科工医大西南交通京民师范理农"


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    sets = sets_in(DEFAULT_DIR)
    names = phrases(n, random.Random(3))
    print(f"{'setting':<6} " + " ".join(f"{s:>16}" for s, _, _ in sets) + f" {'ordinary phrases flagged':>26}"
          "  (look-alikes per character of 部院学科工医…, time of the row)")
    for name in available():
        variants = setting(name)
        classes = sum(len(variants(c, True)) for c in SAMPLE_CHARS) / len(SAMPLE_CHARS)
        shapes.variants = variants
        try:
            row, flagged = [], 0
            started = time.perf_counter()
            for _, cases, school in sets:
                r = evaluate(cases, school)
                row.append(f"R {r['recall']:.3f} F {r['fpr']:.3f}")
                m = matcher_for(json.loads(school.read_text(encoding="utf-8")))
                flagged += sum(v.verdict == "suspect" for v in m.match_many(
                    [Candidate("douyin", f"p{i}", p) for i, p in enumerate(names)]))
        finally:
            shapes.variants = ORIGINAL
        share = flagged / (n * len(sets))
        print(f"{name:<6} " + " ".join(f"{x:>16}" for x in row) + f" {flagged:>10} ({share:.3%})"
              f"  {classes:>6.0f} 形近字/字  {time.perf_counter() - started:5.1f}s")

if __name__ == "__main__":
    main()
