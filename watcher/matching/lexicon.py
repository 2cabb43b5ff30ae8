"""Common words and place names, used to tell whether a protected term stands on its own in a
name or is a piece of something else: in 东北理疗馆 the 北 of 北理 belongs to 东北, in 南京大学生租房
the 学 of 南京大学 to 大学生, and in 江苏人大 a place name stands before 人大.

The lexicon is jieba's dictionary (a well-kept, frequency-ranked lexicon of modern Chinese with
part-of-speech tags); only two- to four-character words above a frequency floor are kept, which
is all the boundary tests need and a fraction of the memory of a full segmenter.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from watcher.matching import tablecache

# Below this, jieba's entries are mostly rare names and fragments that would veto real hits.
MIN_FREQ = 50
# Place names (tag ns) are kept down to a lower floor: county and district names are rare words.
MIN_PLACE_FREQ = 5
MAX_LEN = 4
# A single character that ends the name of an administrative area (江苏省, 成都市, 宁海县, 乡镇).
ADMIN_SUFFIXES = frozenset("省市县区镇乡州村旗盟")


@lru_cache(maxsize=1)
def _lexicon() -> tuple[frozenset[str], frozenset[str]]:
    words, places = tablecache.cached("lexicon", f"{tablecache.version('jieba')} {MIN_FREQ} {MIN_PLACE_FREQ} {MAX_LEN}",
                                      _read_lexicon)
    return frozenset(words), frozenset(places)


def _read_lexicon() -> list[list[str]]:
    import jieba

    path = Path(jieba.__file__).with_name("dict.txt")
    words, places = set(), set()
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) < 2 or not 2 <= len(parts[0]) <= MAX_LEN:
                continue
            freq = int(parts[1])
            if freq >= MIN_FREQ:
                words.add(parts[0])
            if len(parts) > 2 and parts[2] == "ns" and freq >= MIN_PLACE_FREQ:
                places.add(parts[0])
    return [sorted(words), sorted(places)]


def words() -> frozenset[str]:
    return _lexicon()[0]


def is_word(text: str) -> bool:
    return text in _lexicon()[0]


def is_place(text: str) -> bool:
    return text in _lexicon()[1]


def glue_end(text: str, start: int, end: int) -> int:
    """The furthest end of a common word that begins inside ``text[start:end]`` and reaches past
    ``end`` (大学生 in 南京大学生租房 for 南京大学), or ``end`` if there is none."""
    if end >= len(text):
        return end
    lexicon = _lexicon()[0]
    furthest = end
    # A word of at most MAX_LEN characters that reaches past ``end`` starts at most MAX_LEN - 1
    # characters before it.
    for p in range(max(start, end - MAX_LEN + 1), end):
        for k in range(min(p + MAX_LEN, len(text)), max(end, furthest), -1):
            if text[p:k] in lexicon:
                furthest = k
                break
    return furthest


def segment_cost(text: str, extra: frozenset[str] = frozenset()) -> int:
    """How badly ``text`` splits into words: the fewest pieces, a stray single character counting
    double. 树洞 costs 1, 生租房 (生 | 租房) 3, 租房 1."""
    lexicon = _lexicon()[0]
    n = len(text)
    best = [0] * (n + 1)
    for i in range(n - 1, -1, -1):
        ch = text[i]
        single = 1 if ch in extra or not ("\u4e00" <= ch <= "\u9fff") else 2
        cost = single + best[i + 1]
        for length in range(2, min(MAX_LEN, n - i) + 1):
            piece = text[i:i + length]
            if piece in lexicon or piece in extra:
                cost = min(cost, 1 + best[i + length])
        best[i] = cost
    return best[0]


def place_before(text: str, start: int) -> str | None:
    """The place name or administrative unit that ends right before ``start`` (江苏 in 江苏人大,
    县 in 县人大代表), if any."""
    places = _lexicon()[1]
    for length in range(MAX_LEN, 1, -1):
        if start - length >= 0 and text[start - length:start] in places:
            return text[start - length:start]
    if start > 0 and text[start - 1] in ADMIN_SUFFIXES:
        return text[start - 1]
    return None
