"""One incident, one finding: near-duplicate posts and reposts grouped with MinHash (datasketch).

A complaint that spreads is copied, reposted with "//@某人:" chains, trimmed and re-hashtagged;
fifty copies must reach reviewers as one cluster with its size, platforms and first/last seen,
never as fifty alerts. Texts are normalised (repost chains, links, @names, punctuation and spaces
dropped, full-width folded), cut into character 3-grams, and their MinHash signatures indexed in
an LSH at :data:`THRESHOLD` estimated Jaccard similarity. A post joins the most similar recent
cluster above the threshold, or opens a new one.

The algorithm and its parameters are recorded with every cluster finding (:data:`ALGORITHM`), so
a change of them never silently changes what old clusters meant.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from datasketch import MinHash


def _datasketch() -> Any:
    # Imported when a clustering runs, not when this module is: datasketch's package imports
    # scipy.integrate (for LSH parameters), seconds on a busy host, which every ``watcher``
    # command and the daemon's start-up would otherwise pay.
    import datasketch

    return datasketch

NUM_PERM = 64
THRESHOLD = 0.6
SHINGLE = 3
ALGORITHM = f"MinHash-LSH（datasketch，{NUM_PERM} 个排列，字符 {SHINGLE}-gram，Jaccard ≥ {THRESHOLD}）"

_REPOST_CHAIN = re.compile(r"//\s*@[^:：]{1,30}[:：]")
_NOISE = re.compile(r"https?://\S+|@[\w\u4e00-\u9fff-]{1,30}|转发微博|网页链接|展开全文|\[[^\]]{1,8}\]")
_KEEP = re.compile(r"[\w\u4e00-\u9fff]+")


def normalise(text: str) -> str:
    """What is left of a post once a repost's additions are gone: the words, nothing else."""
    folded = unicodedata.normalize("NFKC", text or "").lower()
    # "转发理由//@甲: 原文": the original is what makes two reposts the same incident.
    parts = _REPOST_CHAIN.split(folded)
    body = max(parts, key=len) if len(parts) > 1 else folded
    body = _NOISE.sub(" ", body)
    return "".join(_KEEP.findall(body))


def original(text: str) -> str:
    """The text a repost passes on ("转发理由//@甲: 原文" → "原文"), readable: what a cluster shows."""
    parts = [p.strip() for p in _REPOST_CHAIN.split(text or "")]
    return max(parts, key=len) if len(parts) > 1 else (text or "").strip()


def shingles(text: str) -> set[str]:
    s = normalise(text)
    if len(s) <= SHINGLE:
        return {s} if s else set()
    return {s[i:i + SHINGLE] for i in range(len(s) - SHINGLE + 1)}


def signature(text: str) -> MinHash:
    m = _datasketch().MinHash(num_perm=NUM_PERM)
    for sh in sorted(shingles(text)):
        m.update(sh.encode("utf-8"))
    return m


@dataclass
class Clusterer:
    """Assigns texts to clusters: ``key`` is the caller's cluster ID (the store's row ID)."""

    lsh: Any = field(default_factory=lambda: _datasketch().MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM))
    signatures: dict[int, MinHash] = field(default_factory=dict)

    def add(self, key: int, text: str) -> None:
        sig = signature(text)
        if key in self.signatures:
            return
        self.signatures[key] = sig
        self.lsh.insert(str(key), sig)

    def nearest(self, text: str) -> int | None:
        """The cluster most similar to ``text``, if one reaches the threshold."""
        if not shingles(text):
            return None
        sig = signature(text)
        best: tuple[float, int] | None = None
        for candidate in self.lsh.query(sig):
            key = int(candidate)
            similarity = sig.jaccard(self.signatures[key])
            if similarity >= THRESHOLD and (best is None or similarity > best[0]):
                best = (similarity, key)
        return best[1] if best else None
