"""Normalisation that defeats the usual disguises of a name.

Produces three views of one string:

* ``spaced`` — NFKC, case-folded, traditional → simplified, invisible characters dropped,
  every separator/decoration turned into one space. English words stay apart here.
* ``compact`` — ``spaced`` without any spaces: "哈 工 大", "哈·工·大", "哈工大丶" all read 哈工大.
* ``skeleton`` — ``compact`` with look-alike characters folded (see :mod:`confusables`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate

from watcher.matching.confusables import fold_cross_script, skeleton

# Characters that are invisible or only decorate: zero-width, joiners, bidi controls, variation
# selectors, the combining enclosing marks used to box letters, and emoji modifiers.
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\U000e0000-\U000e0fff\U0001f3fb-\U0001f3ff"
    "\u20dd-\u20e4]"
)
# Everything that is neither a letter, a digit nor a CJK ideograph counts as a separator: spaces,
# punctuation (· 丶 | _ - / .), brackets, emoji and other symbols.
_KEEP = re.compile(r"[^\w]|_", re.UNICODE)
_SPACES = re.compile(r"\s+")
# 丶 and friends are CJK "strokes" that \w counts as letters but people use as decoration.
_DECORATIVE_CJK = str.maketrans({c: " " for c in "丶丿乀乁〆〇々〃ゝゞヽヾ・ㆍ"})


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    if text.isascii():
        return text
    return _t2s().convert(text)


@dataclass(frozen=True, slots=True)
class Normalized:
    original: str
    spaced: str
    compact: str
    skeleton: str


def fold(text: str) -> str:
    """NFKC + look-alike letters of other scripts (Cyrillic, Greek, CJK radicals) + case fold +
    simplified Chinese + invisible characters removed. The look-alikes are folded before case
    folding as well as after it: Greek capital Ν is an N, its lower case ν looks like a v."""
    text = unicodedata.normalize("NFKC", text or "")
    text = _INVISIBLE.sub("", text)
    if not text.isascii():
        text = fold_cross_script(text)
    text = text.casefold()
    if not text.isascii():
        text = fold_cross_script(text)
    return to_simplified(text)


def plain(text: str) -> str:
    """``normalize(text).compact`` without the look-alike folding: what the name literally says,
    to tell an exact hit from a disguised one in the reasons."""
    folded = to_simplified(_INVISIBLE.sub("", unicodedata.normalize("NFKC", text or "")).casefold())
    return _SPACES.sub("", _KEEP.sub(" ", folded.translate(_DECORATIVE_CJK)))


def normalize(text: str) -> Normalized:
    folded = fold(text).translate(_DECORATIVE_CJK)
    spaced = _SPACES.sub(" ", _KEEP.sub(" ", folded)).strip()
    compact = spaced.replace(" ", "")
    return Normalized(text, spaced, compact, skeleton(compact))


# The same steps over a batch joined by newlines, which they keep: one C-level pass over the
# whole batch instead of a Python round trip per name (see normalize_batch).
_KEEP_LINES = re.compile(r"[^\w\n]|_|[丶丿乀乁〆〇々〃ゝゞヽヾ・ㆍ]", re.UNICODE)
_MULTI_SPACE = re.compile(" {2,}")


class NormalizedBatch:
    """Many names normalised at once. The joined ``spaced``/``compact`` strings (one name per
    line) are what batch searches scan; :meth:`item` builds one name's :class:`Normalized`
    only when it is needed."""

    __slots__ = ("originals", "spaced", "compact", "spaced_text", "compact_text", "_starts")

    def __init__(self, texts: list[str]) -> None:
        self.originals = texts
        flat = [t.replace("\n", " ") if "\n" in t else t for t in texts]
        # Every step maps a newline to itself and never joins characters across one (NFKC,
        # case folding, OpenCC's phrase tables), so the lines stay the names.
        spaced_text = _MULTI_SPACE.sub(" ", _KEEP_LINES.sub(" ", fold("\n".join(flat))))
        spaced = [line.strip(" ") for line in spaced_text.split("\n")] if texts else []
        if len(spaced) != len(texts):
            spaced = [normalize(t).spaced for t in texts]  # cannot happen; be exact regardless
        self.spaced = spaced
        self.spaced_text = "\n".join(spaced)
        self.compact_text = self.spaced_text.replace(" ", "")
        self.compact = self.compact_text.split("\n") if texts else []
        self._starts: dict[str, list[int]] = {}

    def line_starts(self, view: str) -> list[int]:
        """Offsets at which each name starts in ``spaced_text`` / ``compact_text`` (``view``
        is "spaced" or "compact"), plus the end."""
        if view not in self._starts:
            self._starts[view] = [0, *accumulate(len(line) + 1 for line in getattr(self, view))]
        return self._starts[view]

    def __len__(self) -> int:
        return len(self.originals)

    def item(self, i: int) -> Normalized:
        return Normalized(self.originals[i], self.spaced[i], self.compact[i], skeleton(self.compact[i]))


def normalize_batch(texts: list[str]) -> NormalizedBatch:
    """``normalize`` for many texts: ``normalize_batch(ts).item(i) == normalize(ts[i])``."""
    return NormalizedBatch(texts)


def is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" or "\U00020000" <= ch <= "\U0002ffff"
