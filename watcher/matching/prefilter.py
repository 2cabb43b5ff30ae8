"""Which names of a batch can hold a protected term at all — found in one pass over the batch.

Most accounts a keyword crawl returns are not ours. Running the full judgement (masking, every
term in every form, boundaries, homophones, reasons) on each costs tens of microseconds in
Python; instead the whole batch, one name per line, is scanned by a few compiled regular
expressions, and only the names they flag are judged.

The prefilter is exact in one direction: every name the matcher could score is flagged (a test
checks this against the unfiltered matcher). It is a superset because each pattern is a looser
form of a matcher rule:

* a CJK term by look: a sequence of character classes, each holding a term character and every
  character that may stand for it (:func:`terms.variant_classes`, the matcher's own classes);
* a homophone: a sequence of classes of characters with the term character's syllable;
* Latin forms: full pinyin, initials and English names as substrings of the name without spaces
  (the matcher's "glued" Latin runs are substrings of it), short terms and the first word of an
  English name as whole Latin tokens, and short terms spelt out letter by letter (r u c);
* another institution's name, in its skeleton (the verdict is clear, with that as its reason);
* a near copy of a registered name: ``rapidfuzz.process.cdist`` over the batch with the matcher's
  own cut-off, in C; a registered name of four characters or more inside the name.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable
from functools import lru_cache

from rapidfuzz import fuzz, process

from watcher.matching import tablecache
from watcher.matching.confusables import SKELETON_TABLE
from watcher.matching.normalize import NormalizedBatch, is_cjk
from watcher.matching.terms import GENERIC_FIRST_WORDS, CompiledTerms, Term, syllable, variant_classes

_LATIN_CJK = re.compile("[a-z][\u4e00-\u9fff]|[\u4e00-\u9fff][a-z]")
_LATIN_RUN = re.compile("[a-z]+")

REGISTRY_CUTOFF = 88  # the matcher's cut-off for "same or near name as a registered account"
REGISTRY_WITHIN_MIN = 4  # a registered name this long, inside another name, is a copy too


def _char_class(chars: Iterable[str]) -> str:
    return "[" + "".join(re.escape(c) for c in sorted(set(chars))) + "]"


def _skeleton_classes() -> dict[str, set[str]]:
    folded: dict[str, set[str]] = {}
    for code, rep in SKELETON_TABLE.items():
        folded.setdefault(rep, set()).add(chr(code))
    return folded


@lru_cache(maxsize=16)
def syllable_classes(needed: frozenset[str]) -> dict[str, frozenset[str]]:
    """For each syllable in ``needed``, every CJK character the matcher reads with it.

    pypinyin's table gives each character its readings; a cheap tone-stripped comparison picks
    candidates and :func:`syllable` (what the matcher itself uses) decides. Cached: a matcher
    is built for every discovery run, and the school's syllables do not change between them."""
    from watcher.matching import normalize, terms

    key = f"{tablecache.version('pypinyin')} {tablecache.code_key(terms, normalize)} {' '.join(sorted(needed))}"
    table = tablecache.cached("syllables", key, lambda: _syllable_classes(needed))
    return {s: frozenset(chars) for s, chars in table.items()}


def _syllable_classes(needed: frozenset[str]) -> dict[str, list[str]]:
    from pypinyin.pinyin_dict import pinyin_dict

    out: dict[str, set[str]] = {s: set() for s in needed}
    for code, readings in pinyin_dict.items():
        ch = chr(code)
        if not is_cjk(ch):
            continue
        plain = {"".join(c for c in unicodedata.normalize("NFD", r) if not unicodedata.combining(c))
                 for r in readings.split(",")}
        if not any(p in needed or p.replace("u", "v") in needed for p in plain):
            continue
        s = syllable(ch)
        if s in out:
            out[s].add(ch)
    return {s: sorted(chars) for s, chars in out.items()}


class Prefilter:
    def __init__(self, terms: CompiledTerms, registry_compacts: list[str], others_skeletons: Iterable[str] = ()) -> None:
        self.registry = registry_compacts
        # Registered names of four characters or more that hold none of our protected names (those
        # are judged by the terms, boundaries included), found inside a longer name (一勺池畔表白墙).
        forms = [t.compact for t in terms.cjk] + [t.compact for t in terms.ascii_short] + [*terms.ascii_tokens,
                                                                                           *terms.ascii_long]
        within = sorted({r for r in registry_compacts if len(r) >= REGISTRY_WITHIN_MIN and not any(f in r for f in forms)},
                        key=len, reverse=True)
        self.registry_within = re.compile("|".join(map(re.escape, within))) if within else None
        self._mixed = [(t, re.compile("".join(f"({re.escape(c)}|{re.escape(terms.read(c))})" for c in t.compact)))
                       for t in terms.cjk if len(t.compact) >= 2 and all(is_cjk(c) for c in t.compact)]
        syllables = sorted({terms.read(c) for t, _ in self._mixed for c in t.compact}, key=len, reverse=True)
        run = "(?:" + "|".join(map(re.escape, syllables)) + ")+" if syllables else "(?!)"
        self._syllable_run = re.compile(run)
        # Where a name mixes, a Latin letter touches one of our names' own characters: one cheap scan
        # of a batch (each branch opens with a character class) finds the few names to look at.
        own = _char_class({c for t, _ in self._mixed for c in t.compact}) if self._mixed else "(?!)"
        self._junction = re.compile(f"[a-z]{own}|{own}[a-z]")
        # One pattern for all of them (no groups), which a line needs to match for any to.
        self._mixed_any = re.compile("|".join(
            "".join(f"(?:{re.escape(c)}|{re.escape(terms.read(c))})" for c in t.compact) for t, _ in self._mixed)
            or "(?!)")
        folded = _skeleton_classes()
        # Other institutions' names too: the matcher explains why such a name is not ours.
        self._variant_seqs = {t.compact: variant_classes(t) for t in terms.cjk}
        skeletons = [[{c} | folded.get(c, set()) for c in sk] for sk in others_skeletons]
        seqs = [*map(list, self._variant_seqs.values()), *skeletons]
        compact_patterns = [_sequences(seqs)] if seqs else []
        # Homophones: every character read with a term syllable is first replaced by one
        # private-use character for that syllable, so that a term's syllables become a plain
        # string; an exact spelling still matches it, being read the same way.
        homophone_terms = [t for t in terms.cjk if len(t.compact) >= 2 and all(is_cjk(c) for c in t.compact)]
        classes = dict(syllable_classes(frozenset(s for t in homophone_terms for s in t.syllables)))
        for ch, reading in terms.readings.items():  # read as in our own names (厦 of 厦门: xia)
            classes = {s: chars - {ch} for s, chars in classes.items()}
            if reading in classes:
                classes[reading] = classes[reading] | {ch}
        self._homophone_seqs = {t.compact: [classes[s] | {c} for s, c in zip(t.syllables, t.compact, strict=True)]
                                for t in homophone_terms}
        codes = {s: chr(0xF0000 + i) for i, s in enumerate(sorted(classes))}
        self._syllable_table = {ord(ch): codes[s] for s, chars in classes.items() for ch in chars}
        words = {"".join(codes[s] for s in t.syllables) for t in homophone_terms}
        self._homophones = re.compile("|".join(sorted(words, key=len, reverse=True))) if words else None
        # Two scans: the CJK sequences, and the Latin forms as one trie-shaped pattern (a flat
        # alternation of 150 pinyin spellings would be tried one by one at every letter).
        latin = trie_pattern([*terms.ascii_long, *(e.compact for e in terms.english)])
        self._compact = [re.compile(p) for p in compact_patterns]
        if latin:
            self._compact.append(re.compile(latin))
        if self.registry_within is not None:
            self._compact.append(self.registry_within)
            # A service word: the matcher then looks for a shortened registered name (成都三院挂号).
            from watcher.matching.context import SERVICE_WORDS

            self._compact.append(re.compile("|".join(map(re.escape, SERVICE_WORDS))))
        short = {t.compact for t in terms.ascii_short} | set(terms.ascii_tokens)
        # An English name's first word; a generic one (university) also cut short (univ).
        firsts = {e.words[0] for e in terms.english}
        tokens = short | firsts | {w[:k] for w in firsts if w in GENERIC_FIRST_WORDS for k in range(4, len(w))} \
            | set(terms.parent_acronyms)
        spelled = {" ".join(t) for t in short if len(t) >= 2}
        # Any of them may carry a members' suffix (ZJUer, SWJTUers: the matcher's MEMBER_SUFFIXES).
        self._tokens = (re.compile(r"(?<![a-z0-9])(?:" + "|".join(map(re.escape, sorted(tokens, key=len, reverse=True)))
                                   + r")(?:ers?)?(?![a-z0-9])"
                                   + ("|" + "|".join(map(re.escape, sorted(spelled))) if spelled else ""))
                        if tokens else None)

    def mixed_patterns(self) -> list[tuple[Term, re.Pattern[str]]]:
        """Per CJK term of two characters or more: a pattern in which each character is itself or
        its pinyin syllable, one group a character (zhe大, 西南jiao大, xinan交大)."""
        return self._mixed

    def mixed(self, batch: NormalizedBatch) -> set[int]:
        """Indices of the names where Latin letters meet CJK characters and some term matches with
        pinyin for some of its characters. Few names mix the two scripts; only they are searched."""
        if not self._mixed or not len(batch):
            return set()
        lines = _lines(self._junction, batch.compact_text, batch, "compact")
        return {i for i in lines if self.may_mix(batch.compact[i])}

    def may_mix(self, compact: str) -> bool:
        """Whether ``compact`` has a Latin run made only of our names' syllables (vlog, official are
        not) and one of our names written with some of them."""
        return any(self._syllable_run.fullmatch(run) for run in _LATIN_RUN.findall(compact)) and \
            self._mixed_any.search(compact) is not None

    def variant_patterns(self) -> dict[str, re.Pattern[str]]:
        """Per CJK term: a pattern whose matches (zero-width, so that they may overlap) start
        where the term stands by look, each character itself or one that may stand for it."""
        return {term: re.compile("(?=" + "".join(map(_char_class, seq)) + ")") for term, seq in self._variant_seqs.items()}

    def homophone_patterns(self) -> dict[str, re.Pattern[str]]:
        """Per term that can be written as a homophone: a pattern matching its syllables in a
        row (each position: every character read that way)."""
        return {term: re.compile("".join(map(_char_class, seq))) for term, seq in self._homophone_seqs.items()}

    def terms(self, batch: NormalizedBatch) -> set[int]:
        """Indices of the names in ``batch`` that may hold a protected term in some form."""
        if not len(batch):
            return set()
        found = set()
        for pattern in self._compact:
            found |= _lines(pattern, batch.compact_text, batch, "compact")
        if self._homophones is not None:
            found |= _lines(self._homophones, batch.compact_text.translate(self._syllable_table), batch, "compact")
        if self._tokens is not None:
            found |= _lines(self._tokens, batch.spaced_text, batch, "spaced")
        return found

    def near_registry(self, batch: NormalizedBatch) -> set[int]:
        """Indices of the names as close to a registered name as the matcher's cut-off."""
        if not len(batch) or not self.registry:
            return set()
        import numpy as np

        scores = process.cdist(batch.compact, self.registry, scorer=fuzz.ratio, score_cutoff=REGISTRY_CUTOFF,
                               dtype=np.uint8, workers=1)
        return set(np.flatnonzero(scores.max(axis=1)).tolist())


def _sequences(seqs: list[list[set[str]]]) -> str:
    """One pattern for many character-class sequences. It opens with the union of their first
    classes, which lets the regex engine skip in C every position where none can start; a
    look-behind then picks the sequences that fit."""
    first = set().union(*(seq[0] for seq in seqs))
    alternatives = sorted({f"(?<={_char_class(seq[0])})" + "".join(map(_char_class, seq[1:])) for seq in seqs},
                          key=len, reverse=True)
    return _char_class(first) + "(?:" + "|".join(alternatives) + ")"


def trie_pattern(words: Iterable[str]) -> str:
    """A regular expression matching any of ``words``, shaped as their prefix trie."""
    trie: dict[str, dict] = {}
    for w in words:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict[str, dict]) -> str:
        branches = [re.escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return emit(trie)


def _lines(pattern: re.Pattern[str], text: str, batch: NormalizedBatch, view: str) -> set[int]:
    """Indices of the names in whose line of ``text`` (``batch``'s ``view``, one name a line, or
    a same-length translation of it) ``pattern`` matches; patterns never match a newline, so a
    match lies within one line."""
    found: set[int] = set()
    pos = 0
    search = pattern.search
    starts: list[int] | None = None
    while (m := search(text, pos)) is not None:
        starts = starts or batch.line_starts(view)
        i = bisect_right(starts, m.start()) - 1
        found.add(i)
        pos = starts[i + 1]  # the rest of this line cannot add anything
    return found
