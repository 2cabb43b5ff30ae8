"""One incident, one finding: near-duplicate posts and reposts grouped with MinHash (datasketch).

A complaint that spreads is copied, reposted with "//@某人:" chains, trimmed and re-hashtagged;
fifty copies must reach reviewers as one cluster with its size, platforms and first/last seen,
never as fifty alerts. Texts are normalised (repost chains, links, @names, punctuation and spaces
dropped, full-width folded), cut into character 3-grams, and their MinHash signatures indexed in
an LSH at :data:`THRESHOLD` estimated Jaccard similarity. A post joins the most similar recent
cluster above the threshold, or opens a new one. Every member of a cluster is indexed, not only
its first post, and when the LSH buckets hold no candidate above the threshold every indexed
signature is compared: LSH is probabilistic (a copy at Jaccard 0.8 can miss the first post's
bucket), and whether a copy joins must not depend on which copy arrived first. A post close to
members of two clusters joins them (:meth:`Clusterer.linked`, :meth:`Clusterer.merge`): copies of
copies that arrived in an order that split them are one incident.

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
    # "转发理由//@乙:乙的话//@甲: 原文": the original, last in the chain, is what makes two reposts
    # the same incident.
    parts = [p for p in _REPOST_CHAIN.split(folded) if p.strip()]
    body = parts[-1] if parts else folded
    body = _NOISE.sub(" ", body)
    return "".join(_KEEP.findall(body))


def original(text: str) -> str:
    """The text a repost passes on ("转发理由//@甲: 原文" → "原文"), readable: what a cluster shows."""
    parts = [p.strip() for p in _REPOST_CHAIN.split(text or "") if p.strip()]
    return parts[-1] if parts else (text or "").strip()


def shingles(text: str) -> set[str]:
    s = normalise(text)
    if len(s) <= SHINGLE:
        return {s} if s else set()
    return {s[i:i + SHINGLE] for i in range(len(s) - SHINGLE + 1)}


def signature(text: str) -> MinHash:
    m = _datasketch().MinHash(num_perm=NUM_PERM)
    m.update_batch([sh.encode("utf-8") for sh in sorted(shingles(text))])  # one numpy pass, same values
    return m


@dataclass
class Clusterer:
    """Assigns texts to clusters: ``key`` is the caller's cluster ID (the store's row ID). Each
    member text added is indexed under its cluster."""

    lsh: Any = field(default_factory=lambda: _datasketch().MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM))
    members: list[tuple[int, Any]] = field(default_factory=list)   # (cluster, signature's hash values)
    seen: set[tuple[int, str]] = field(default_factory=set)
    _table: Any = None   # the members' hash values stacked, rebuilt after an add

    def _stacked(self) -> Any:
        import numpy as np

        if self._table is None or len(self._table) != len(self.members):
            self._table = np.stack([values for _, values in self.members])
        return self._table

    def add(self, key: int, text: str) -> None:
        norm = normalise(text)
        if not norm or (key, norm) in self.seen:
            return
        self.seen.add((key, norm))
        sig = signature(text)
        self.lsh.insert(str(len(self.members)), sig)
        self.members.append((key, sig.hashvalues))

    def nearest(self, text: str) -> int | None:
        """The cluster most similar to ``text``, if one of its members reaches the threshold."""
        linked = self.linked(text)
        return linked[0] if linked else None

    def linked(self, text: str) -> list[int]:
        """Every cluster one of whose members reaches the threshold, the most similar first. More
        than one means the text bridges clusters that are one incident (copies of copies that
        arrived in an order that split them): the caller merges them (:meth:`merge`)."""
        if not shingles(text) or not self.members:
            return []
        sig = signature(text)
        found = self._above(sig.hashvalues, [int(c) for c in self.lsh.query(sig)])
        if not found:  # the buckets can miss a copy above the threshold: look at every member
            found = self._above(sig.hashvalues, range(len(self.members)))
        best: dict[int, float] = {}
        for similarity, key in found:
            best[key] = max(similarity, best.get(key, 0.0))
        return sorted(best, key=lambda k: -best[k])

    def merge(self, keep: int, gone: int) -> None:
        """``gone``'s members now belong to ``keep``."""
        self.members = [(keep if key == gone else key, values) for key, values in self.members]
        self.seen = {(keep if key == gone else key, norm) for key, norm in self.seen}

    def _above(self, values: Any, indices: Any) -> list[tuple[float, int]]:
        import numpy as np

        idx = np.fromiter(indices, dtype=np.int64)
        if not idx.size:
            return []
        similarity = (self._stacked()[idx] == values).mean(axis=1)
        return [(float(similarity[j]), self.members[int(idx[j])][0]) for j in np.flatnonzero(similarity >= THRESHOLD)]
