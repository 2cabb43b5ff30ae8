"""The polarity model: logistic regression over hashed character n-grams, learnt from public
labelled posts (``benchmarks/sentiment_train.py`` rebuilds it; sources and figures in docs/sentiment.md).

Why this shape: character n-grams need no word segmentation (jieba swallows 好烦 and 实惨 into
tokens a lexicon never lists), a linear model explains itself exactly (each n-gram's weight is
its share of the score, shown to reviewers), and the weights are one small array shipped in the
package: no download at run time, numpy only, loads in milliseconds, thousands of posts a second.

The file records its own algorithm, features and training data (:attr:`Model.meta`), so a score
always says which model produced it (an old finding keeps the model name it was judged with).
"""

from __future__ import annotations

import json
import math
import zlib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from io import BytesIO

import numpy as np

BITS = 18
NGRAMS = (1, 2, 3)
MODEL_FILE = "polarity_model.npz"


def ngrams(text: str) -> list[str]:
    """The features of a prepared text: its character 1-, 2- and 3-grams, padded at both ends so a
    clause's first and last characters count as such ("差。" ends a complaint)."""
    s = f"^{text}$"
    out = []
    for n in NGRAMS:
        out.extend(s[i:i + n] for i in range(len(s) - n + 1))
    return [g for g in out if g not in ("^", "$")]


def bucket(gram: str) -> int:
    return zlib.crc32(gram.encode("utf-8")) & ((1 << BITS) - 1)


@dataclass(frozen=True)
class Model:
    weights: np.ndarray          # float32, 2**BITS: weight of a bucket towards "negative"
    bias: float
    threshold: float             # probability of "negative" from which a post is flagged
    meta: dict

    @property
    def name(self) -> str:
        return str(self.meta.get("name", "polarity model"))

    def judge(self, text: str) -> tuple[float, dict[str, float]]:
        """The probability of "negative", and each distinct n-gram's weight (a feature counts
        once, as in training): what a reviewer is shown."""
        grams = list(dict.fromkeys(ngrams(text)))
        if not grams:
            return 1.0 / (1.0 + math.exp(-self.bias)), {}
        weights = self.weights[np.fromiter((bucket(g) for g in grams), dtype=np.int64, count=len(grams))]
        z = self.bias + float(weights.sum()) / math.sqrt(len(grams))
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0))), dict(zip(grams, weights.tolist(), strict=True))

    def contributions(self, text: str) -> dict[str, float]:
        return self.judge(text)[1]

    def probability(self, text: str) -> float:
        return self.judge(text)[0]


def dumps(weights: np.ndarray, bias: float, threshold: float, meta: dict) -> bytes:
    buf = BytesIO()
    np.savez_compressed(buf, weights=weights.astype(np.float16), bias=np.array([bias], dtype=np.float32),
                        threshold=np.array([threshold], dtype=np.float32),
                        meta=np.frombuffer(json.dumps(meta, ensure_ascii=False).encode("utf-8"), dtype=np.uint8))
    return buf.getvalue()


def loads(data: bytes) -> Model:
    with np.load(BytesIO(data), allow_pickle=False) as z:
        return Model(weights=z["weights"].astype(np.float32), bias=float(z["bias"][0]),
                     threshold=float(z["threshold"][0]), meta=json.loads(bytes(z["meta"]).decode("utf-8")))


@cache
def load() -> Model:
    return loads((resources.files("watcher.opinion") / "data" / MODEL_FILE).read_bytes())
