"""Characters that look like a given character (形近字), for names such as 西安电子科技夫学 or
中国人氏大学 that pass a platform's exact-name check.

Three sources, from the most to the least certain:

* Unicode's confusables (TR39), already folded in normalisation (⻄ → 西, エ → 工);
* the hand-kept table in :mod:`confusables` (亚/业, 尓/尔, 字/学 …);
* the four-corner code (四角号码, from the ``four_corner_method`` package, 74 000 characters): its
  four digits describe the shape of a character's four corners, so characters with the same code
  look alike (人/入, 京/亰, 西/覀) and a code one digit away is a near shape (民/氏, 大/夫, 子/了).

:func:`variants` gives, for one character of a protected term, every character a name may put in
its place. "Strong" variants (same code or the hand table) are used even in two-character terms;
near codes only in longer terms, where the other characters make a coincidence unlikely.
"""

from __future__ import annotations

from functools import lru_cache

from watcher.matching.confusables import SKELETON_TABLE


@lru_cache(maxsize=1)
def _codes() -> tuple[dict[str, str], dict[str, frozenset[str]]]:
    """Character → four-digit code (the fifth, 附角, is dropped), and code → characters."""
    from four_corner_method import FourCornerMethod

    data = FourCornerMethod().data
    code_of: dict[str, str] = {}
    by_code: dict[str, set[str]] = {}
    for ch, code in data.items():
        if len(ch) == 1 and len(code) >= 4 and "\u4e00" <= ch <= "\u9fff":
            code_of[ch] = code[:4]
            by_code.setdefault(code[:4], set()).add(ch)
    return code_of, {c: frozenset(s) for c, s in by_code.items()}


@lru_cache(maxsize=1)
def _hand_groups() -> dict[str, frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for code, rep in SKELETON_TABLE.items():
        groups.setdefault(rep, {rep}).add(chr(code))
    out: dict[str, frozenset[str]] = {}
    for members in groups.values():
        for ch in members:
            out[ch] = frozenset(members - {ch})
    return out


@lru_cache(maxsize=4096)
def variants(ch: str, near: bool = True) -> frozenset[str]:
    """Characters that may stand for ``ch`` by their look: the hand table, the same four-corner
    code, and (``near``) a code that differs in one digit."""
    out = set(_hand_groups().get(ch, ()))
    code_of, by_code = _codes()
    code = code_of.get(ch)
    if code is not None:
        out |= by_code.get(code, frozenset())
        if near:
            for i in range(4):
                for digit in "0123456789":
                    if digit != code[i]:
                        out |= by_code.get(code[:i] + digit + code[i + 1:], frozenset())
    out.discard(ch)
    return frozenset(out)
