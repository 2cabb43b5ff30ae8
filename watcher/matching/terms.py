"""Protected terms of one school, compiled once into every form a name search needs.

From the configured names we derive what impersonators actually type: the simplified/skeleton
forms, the pinyin syllables (for homophones such as 北京里工大学), full pinyin and initials
(beiligong, bjlgdx), pinyin of the customary abbreviations of the full name (haergongda for
哈尔工大), and the acronym of each English name (BIT).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from functools import lru_cache

from watcher.matching.normalize import is_cjk, normalize

CATEGORY_LABELS = {
    "full": "全称",
    "short": "简称",
    "english": "英文名",
    "historical": "曾用名",
    "marks": "校训/标识",
    "pinyin": "拼音",
    "initials": "拼音首字母",
    "acronym": "英文缩写",
}

BASE_SCORES = {"full": 90, "marks": 90, "historical": 85, "english": 85, "short": 80,
               "pinyin": 75, "initials": 72, "acronym": 70}

ENGLISH_STOPWORDS = frozenset({"of", "the", "and", "for", "&", "at", "in"})
# First words of English names that say nothing about which school; they may be cut short
# (Univ. of Sci. & Tech. of China), a distinctive first word (Nanjing) may not.
GENERIC_FIRST_WORDS = frozenset({"university", "institute", "college", "academy", "school"})


@lru_cache(maxsize=65536)
def syllable(ch: str) -> str:
    from pypinyin import Style, lazy_pinyin

    if not is_cjk(ch):
        return ch
    # A rare character pypinyin has no reading for sounds like nothing else: itself.
    readings = lazy_pinyin(ch, style=Style.NORMAL, errors="ignore")
    return readings[0] if readings else ch


def syllables(text: str) -> tuple[str, ...]:
    return tuple(syllable(c) for c in text)


@dataclass(frozen=True)
class Term:
    text: str          # as configured, for messages
    category: str
    compact: str
    skeleton: str
    is_ascii: bool
    syllables: tuple[str, ...] = ()
    # Ambiguous terms are also everyday words or other things' names (人大, 西电, RUC, renda, the
    # motto 实事求是): they count only with evidence that the school is meant (see the matcher).
    ambiguous: bool = False
    # A generic tail of another of our names (人民大学 of 中国人民大学, 中央大学 of 国立中央大学):
    # with a different place before it, it names a different institution (东北人民大学).
    generic: bool = False

    @property
    def label(self) -> str:
        return CATEGORY_LABELS[self.category]

    @property
    def short(self) -> bool:
        """Short terms only count on a word boundary (see the matcher)."""
        return len(self.compact) <= (4 if self.is_ascii else 3)


@dataclass
class EnglishName:
    text: str
    words: tuple[str, ...]  # significant words, lower case
    compact: str
    tokens: tuple[str, ...] = ()  # every word, as normalised


@dataclass
class SchoolTerms:
    name: str
    full: list[str]
    short: list[str] = field(default_factory=list)
    english: list[str] = field(default_factory=list)
    historical: list[str] = field(default_factory=list)
    marks: list[str] = field(default_factory=list)

    def configured(self) -> list[tuple[str, str]]:
        return [(c, t) for c in ("full", "historical", "marks", "short", "english")
                for t in getattr(self, c) if t.strip()]


@dataclass
class CompiledTerms:
    cjk: list[Term]                  # CJK (or mixed) terms, longest first
    ascii_short: list[Term]          # BIT, HIT: whole-token, needs corroboration
    ascii_long: dict[str, Term]      # pinyin forms ≥ 8 letters: substring of the Latin run
    ascii_tokens: dict[str, Term]    # initials, pinyin of two-character names: whole-token equality
    english: list[EnglishName]
    chars: frozenset[str]            # every character a CJK hit could start from
    # Characters whose reading in our own names differs from their usual one (厦 of 厦门 is xia,
    # not sha; 重 of 重庆 is chong): homophones and pinyin of our names follow this reading.
    readings: dict[str, str] = field(default_factory=dict)
    # The acronym of the opening words of an English name, read off one of our Latin shorts that
    # ends with the initials of the other words (PKUHSC = PKU + Health Science Center): "PKU Health
    # Science Center" is our English name with its parent's acronym. Acronym → (name, words it replaces).
    parent_acronyms: dict[str, list[tuple[EnglishName, int]]] = field(default_factory=dict)

    def read(self, ch: str) -> str:
        return self.readings.get(ch) or syllable(ch)


def _abbreviation_pinyin(full: str, readings: dict[str, str]) -> set[str]:
    """Pinyin of the customary abbreviations of a full name: ordered subsets of its characters
    that keep the first one (哈尔滨工业大学 → 哈工大, 哈尔工大 → hagongda, haergongda)."""
    chars = [c for c in full if is_cjk(c)]
    if len(chars) < 4:
        return set()

    def read(ch: str) -> str:
        return readings.get(ch) or syllable(ch)

    out = set()
    rest = range(1, len(chars))
    for k in (2, 3, 4):
        for combo in itertools.combinations(rest, k):
            out.add("".join(read(chars[0]) + "".join(read(chars[i]) for i in combo)))
    return {s for s in out if len(s) >= 8}


def compile_terms(school: SchoolTerms) -> CompiledTerms:
    cjk: dict[str, Term] = {}
    ascii_short: dict[str, Term] = {}
    ascii_long: dict[str, Term] = {}
    ascii_tokens: dict[str, Term] = {}
    english: list[EnglishName] = []

    from watcher.matching.lexicon import is_word

    cjk_names = [normalize(t).compact for c, t in school.configured() if c in ("full", "historical")]
    readings = _name_readings(cjk_names)
    for category, text in school.configured():
        n = normalize(text)
        if not n.compact:
            continue
        if n.compact.isascii():
            words = tuple(w for w in n.spaced.split() if w not in ENGLISH_STOPWORDS)
            if len(words) >= 2:
                english.append(EnglishName(text, words, n.compact, tuple(n.spaced.split())))
                acronym = "".join(w[0] for w in words)
                if len(acronym) >= 3 and acronym not in ascii_short:
                    ascii_short[acronym] = Term(text, "acronym", acronym, acronym, True)
            else:
                ascii_short.setdefault(n.compact, Term(text, category, n.compact, n.skeleton, True))
            continue
        ambiguous = (category == "short" and len(n.compact) <= 2) or (category == "marks" and is_word(n.compact))
        generic = category != "full" and any(o != n.compact and o.endswith(n.compact) for o in cjk_names)
        read = tuple(readings.get(c) or syllable(c) for c in n.compact)
        term = Term(text, category, n.compact, n.skeleton, False, read, ambiguous, generic)
        cjk.setdefault(n.compact, term)
        if len(n.compact) == 2 and category == "short" and all(is_cjk(c) for c in n.compact):
            # renda, xidian, nanda: whole tokens, and as ambiguous as the name itself (Nanda Devi).
            spelled = "".join(term.syllables)
            ascii_tokens.setdefault(spelled, Term(text, "pinyin", spelled, spelled, True, ambiguous=True))
        if len(n.compact) >= 3 and all(is_cjk(c) for c in n.compact):
            full_pinyin = "".join(term.syllables)
            initials = "".join(s[0] for s in term.syllables if s)
            ascii_long.setdefault(full_pinyin, Term(text, "pinyin", full_pinyin, full_pinyin, True))
            if len(initials) >= 5:
                ascii_long.setdefault(initials, Term(text, "initials", initials, initials, True))
            elif len(initials) >= 3:
                ascii_tokens.setdefault(initials, Term(text, "initials", initials, initials, True))
            if category in ("full", "historical"):
                for form in _abbreviation_pinyin(n.compact, readings):
                    ascii_long.setdefault(form, Term(text, "pinyin", form, form, True))

    ordered = sorted(cjk.values(), key=lambda t: len(t.compact), reverse=True)
    chars = frozenset(c for t in ordered for c in t.compact + t.skeleton)
    parents: dict[str, list[tuple[EnglishName, int]]] = {}
    for short in ascii_short.values():
        for eng in english:
            for k in range(1, len(eng.words)):
                rest = "".join(w[0] for w in eng.words[k:])
                head = short.compact[:-len(rest)]
                if short.compact.endswith(rest) and len(head) >= 2 and head not in ascii_short:
                    parents.setdefault(head, []).append((eng, k))
    return CompiledTerms(ordered, list(ascii_short.values()), ascii_long, ascii_tokens, english, chars, readings,
                         parents)


def _name_readings(names: list[str]) -> dict[str, str]:
    """The reading of each character as pypinyin reads it within our full and historical names
    (its phrase table knows 厦门, 重庆), where that differs from the character's usual reading."""
    from pypinyin import Style, lazy_pinyin

    out: dict[str, str] = {}
    for name in names:
        if not all(is_cjk(c) for c in name):
            continue
        for ch, reading in zip(name, lazy_pinyin(name, style=Style.NORMAL, errors="ignore"), strict=False):
            if reading and reading != syllable(ch):
                out.setdefault(ch, reading)
    return out


_LATIN_RUN = re.compile(r"[a-z0-9]+(?: [a-z0-9]+)*")


def latin_runs(spaced: str) -> list[str]:
    return _LATIN_RUN.findall(spaced)


def variant_classes(term: Term) -> list[frozenset[str]]:
    """For each character of a CJK term, the characters a name may put in its place by their look
    (itself included). Two-character terms take only the strong look-alikes (see :mod:`shapes`)."""
    from watcher.matching.shapes import variants

    near = len(term.compact) > 2
    return [frozenset({c}) | variants(c, near) for c in term.compact]
