"""Characters that look alike, folded to one representative before comparing names.

Two tables, both small and reviewable:

* cross-script confusables in the spirit of Unicode TR39's skeleton: Katakana, Cyrillic, Greek
  and symbol look-alikes of CJK and Latin letters (エ→工, ロ→口, а→a);
* shape-similar CJK characters (形近字) that impersonators substitute so that a name passes a
  platform's exact-name check (哈尔滨工亚大学, 北京理エ大学, 哈尓滨).

The skeleton is only ever compared with the skeleton of a protected term, never shown; a hit
that needed it is reported as "形近字/混淆字符" so the reviewer sees the trick.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Each entry: representative, then characters folded into it.
_GROUPS: tuple[tuple[str, str], ...] = (
    # Katakana / symbols that impersonate CJK
    ("工", "エ丄"),
    ("口", "ロ囗□"),
    ("力", "カ"),
    ("夕", "タ"),
    ("卜", "ト"),
    ("二", "ニ"),
    ("八", "ハ"),
    ("一", "ー－—一"),
    ("又", "ヌ"),
    ("土", "士"),
    ("人", "入亻"),
    ("千", "チ"),
    ("三", "ミ"),
    ("匕", "ヒ"),
    ("业", "亚业菐"),
    ("尔", "尓尒"),
    ("学", "字孛斈"),
    ("大", "太犬丈"),
    ("工", "丁"),
    ("理", "埋哩"),
    ("京", "亰凉"),
    ("北", "兆"),
    ("滨", "宾"),
    ("哈", "恰蛤"),
    ("院", "阮"),
    ("技", "枝"),
    ("科", "料"),
    ("师", "帅"),
    ("范", "苑"),
    ("农", "衣"),
    ("医", "区"),
    ("东", "车"),
    ("西", "酉"),
    ("南", "䒦"),
    ("未", "末"),
    ("己", "已巳"),
    ("日", "曰"),
    ("天", "夭"),
    ("王", "玉"),
    ("贝", "见"),
    ("木", "本"),
    ("白", "自"),
    ("厂", "广"),
    # Latin look-alikes (Cyrillic, Greek, digits used as letters)
    ("a", "аα@"),
    ("b", "ьβ"),
    ("c", "сϲ"),
    ("e", "еε"),
    ("h", "һ"),
    ("i", "іι1l|ı"),
    ("k", "κк"),
    ("m", "м"),
    ("n", "ηп"),
    ("o", "оο0"),
    ("p", "рρ"),
    ("s", "ѕ$"),
    ("t", "тτ"),
    ("u", "υ"),
    ("x", "хχ"),
    ("y", "уγ"),
)


def _table() -> dict[int, str]:
    table: dict[int, str] = {}
    for rep, chars in _GROUPS:
        for ch in chars:
            if ch != rep:
                table[ord(ch)] = rep
    return table


SKELETON_TABLE: dict[int, str] = _table()


_FOLDED = re.compile("[" + "".join(re.escape(chr(c)) for c in sorted(SKELETON_TABLE)) + "]")


def skeleton(text: str) -> str:
    """Fold look-alike characters; ``text`` must already be normalised (NFKC, lower case)."""
    # Most names hold no look-alike at all; one scan in C says so without a translation.
    return text.translate(SKELETON_TABLE) if _FOLDED.search(text) else text


def _is_ideograph(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


@lru_cache(maxsize=1)
def cross_script_table() -> dict[int, str]:
    """Letters of other scripts that look *identical* to a Latin letter or a CJK ideograph, from
    Unicode's confusables data (TR39, as shipped by ``confusable_homoglyphs``): Cyrillic and
    Greek letters in "Rеnmin"/"ΧDU"/"NЈU", CJK radical forms (⻄ for 西), Katakana エ for 工.

    Only one direction is kept — a foreign or radical form to the ordinary letter — and only
    one-character targets, so that folding never changes a string's length."""
    from confusable_homoglyphs import utils

    table: dict[int, str] = {}
    for source, glyphs in utils.load("confusables.json").items():
        if len(source) != 1 or source.isascii() or _is_ideograph(source):
            continue
        if unicodedata.normalize("NFKC", source) != source:
            continue  # folded before this table is used (styled 𝓡, full-width Ｒ)
        radical = "\u2e80" <= source <= "\u2fdf" or "\u30a0" <= source <= "\u30ff" or "\u31c0" <= source <= "\u31ef"
        if not (radical or unicodedata.category(source).startswith("L")):
            continue
        targets = [g["c"] for g in glyphs if len(g["c"]) == 1]
        latin = [t for t in targets if t.isascii() and t.isalpha()]
        cjk = [t for t in targets if _is_ideograph(t)]
        if latin and not radical:
            table[ord(source)] = latin[0]
        elif cjk and radical:
            table[ord(source)] = cjk[0]
    # Latin letters with diacritics read as the bare letter: pinyin with tone marks (Nánjīng),
    # accented look-alikes (Rénmin).
    for code in [*range(0xC0, 0x250), *range(0x1E00, 0x1F00)]:
        base = unicodedata.normalize("NFD", chr(code))[0]
        if base != chr(code) and base.isascii() and base.isalpha():
            table.setdefault(code, base)
    return table


@lru_cache(maxsize=1)
def _cross_script_re() -> re.Pattern[str]:
    # Characters of the Basic Multilingual Plane make a bitmap class, scanned fast; a class with
    # astral characters is scanned slowly, so every astral character (emoji, mostly) is found
    # by one range and looked up in the table instead.
    bmp = "".join(re.escape(chr(c)) for c in sorted(cross_script_table()) if c <= 0xFFFF)
    return re.compile(f"[{bmp}]|[\U00010000-\U0010ffff]")


def fold_cross_script(text: str) -> str:
    """Replace look-alike letters of other scripts by the letter they imitate (see
    :func:`cross_script_table`)."""
    table = cross_script_table()
    pieces, last = [], 0
    for m in _cross_script_re().finditer(text):  # one scan in C; Python only for what it finds
        ch = m.group()
        if ord(ch) in table:
            pieces += (text[last:m.start()], table[ord(ch)])
            last = m.end()
    return "".join(pieces) + text[last:] if pieces else text


def folded_cross_script(text: str) -> bool:
    """Whether :func:`fold_cross_script` would change anything in ``text`` (NFKC applied)."""
    table = cross_script_table()
    return any(ord(m.group()) in table for m in _cross_script_re().finditer(text))
