"""Common two-character words, used to tell whether a short protected term stands on a word
boundary: in 东北理疗馆 the 北 of 北理 belongs to 东北 and the 理 to 理疗, so 北理 is not there.

The word list is jieba's dictionary (a well-kept, frequency-ranked lexicon of modern Chinese);
only its two-character words above a frequency floor are kept, which is all the boundary test
needs and a fraction of the memory of a full segmenter.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

# Below this, jieba's entries are mostly rare names and fragments that would veto real hits.
MIN_FREQ = 50


@lru_cache(maxsize=1)
def two_char_words() -> frozenset[str]:
    import jieba

    path = Path(jieba.__file__).with_name("dict.txt")
    words = set()
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            parts = line.split(" ", 2)
            if len(parts) >= 2 and len(parts[0]) == 2 and int(parts[1]) >= MIN_FREQ:
                words.add(parts[0])
    return frozenset(words)


def is_word(pair: str) -> bool:
    return pair in two_char_words()
