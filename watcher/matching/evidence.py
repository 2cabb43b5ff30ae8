"""Evidence for and against reading an ambiguous hit as the school.

人大 is also every legislature, 西电 a power-equipment group, 南大 a street, RUC part of "truck",
renda a Portuguese word, 实事求是 an idiom. Such a hit counts only with evidence *for* the school:

* the name is the term and nothing else (a bare 西电, 西电吧);
* a campus, office or subject word in the name (表白墙, 考研, 招生办, 新传; CS, campus, kaoyan),
  "…人" right after the name (南大人, a member of the school), or "我在" before it;
* a bio that points at the school: one of our names that counts there, or campus words.

and no evidence *against* it, which wins:

* a word of another kind of entity in the name or bio (集团, 有限公司, 常委会, 代表, 附小);
* a place or administrative unit right before the term (江苏人大, 县人大, 东北人民大学), unless the
  place is in one of our own names;
* the term only opening another university's full name in the name (中南 of 中南民族大学);
* a bio that names another institution: a name of ``others``, another 大学/学院/集团/公司 whose name
  holds the term's characters in order (南昌大学 for 南大), or an English university name not ours.

Whatever the term, a primary or secondary school named after it (…附中, …附属小学) is another school.
"""

from __future__ import annotations

import itertools
import re

from watcher.matching import context
from watcher.matching.lexicon import is_place, is_word, place_before
from watcher.matching.normalize import Normalized
from watcher.matching.terms import latin_runs

MASK = "\u2588"
_ORG_SUFFIX = re.compile("大学|学院|集团|公司")
_LATIN = re.compile("[a-z0-9]")
_AFFILIATION = re.compile(
    "(?:毕业于|就读于|求学于|来自|任职于|任教于|工作于|供职于)(?P<after>[\u4e00-\u9fff]{2,10}?(?:大学|学院))"
    "|(?:^|\\s)(?P<before>[\u4e00-\u9fff]{2,8}?大学)(?:校友|在读|毕业|学生|博士|硕士|本科|研究生|老师|教授)")
_ENGLISH_INSTITUTION = re.compile(r"\b(?:university|college|institute)\b")


def campus_words(compact: str, span: tuple[int, int] | None) -> list[str]:
    """Campus words in ``compact`` outside the hit itself (the 学生 of a term does not vouch for it)."""
    if span is not None:
        compact = compact[:span[0]] + MASK * (span[1] - span[0]) + compact[span[1]:]
    return context.find_words(compact, context.CAMPUS_WORDS)


def latin_campus_tokens(spaced: str) -> list[str]:
    if not _LATIN.search(spaced):
        return []
    words = context.latin_campus_words()
    # Digits glued to a word (2025xinsheng, cs2024) do not change it.
    return [w for run in latin_runs(spaced) for t in run.split() if (w := t.strip("0123456789")) in words]


def member_or_first_person(compact: str, span: tuple[int, int]) -> str | None:
    """南大人的日常 (a member), 我在西电写代码 (someone there)."""
    start, end = span
    if end < len(compact) and compact[end] == context.MEMBER_SUFFIX and not is_word(compact[end:end + 2]):
        return "后接「人」（指本校师生）"
    if compact[max(0, start - 2):start] == "我在":
        return "前为「我在」"
    return None


def entity_words(compact: str) -> list[str]:
    return context.find_words(compact, context.ENTITY_WORDS)


def affiliated_school(compact: str, end: int) -> str | None:
    """The affiliated primary or secondary school right after one of our names (…附中, …附属小学):
    a school of its own, named after the university."""
    if compact[end:end + 1] != "附":  # every such word opens with 附; most names have none
        return None
    return next((w for w in context.AFFILIATED_SCHOOLS if compact.startswith(w, end)), None)


_UNIVERSITY_AFTER = re.compile("[\u4e00-\u9fff]{2,6}?大学")


def university_named_from(compact: str, span: tuple[int, int], ours: list[str]) -> str | None:
    """A university whose name opens with the short name and goes on (中南 | 民族 | 大学 for 中南),
    when it is none of ours."""
    m = _UNIVERSITY_AFTER.match(compact, span[1])
    if m is None:
        return None
    name = compact[span[0]:m.end()]
    return None if any(name in o or o in name for o in ours) else name


def place(compact: str, span: tuple[int, int]) -> str | None:
    return place_before(compact, span[0])


def other_institution(bio: Normalized, term_chars: str, ours: list[str], others_found: list[str],
                      english_ours: bool, all_ours: list[str] = ()) -> str | None:
    """The other institution a bio names, if any (see the module docstring)."""
    compact = bio.compact
    if any(o in compact for o in ours):
        return None  # the bio names us; other names beside ours do not say the term is theirs
    if others_found:
        return others_found[0]
    for m in _ORG_SUFFIX.finditer(compact) if term_chars else ():
        first = max(0, m.start() - 6)
        window = compact[first:m.end()]
        at = window.find(term_chars)
        if at < 0:
            if in_order(term_chars, window):
                return window  # 南昌大学 for 南大: another name that abbreviates the same way
            continue
        at += first
        # The term itself as the institution's name is ours (1948年华北大学) unless something
        # qualifies it: a place before it (日本中央大学) or a word it is glued into (西南大学).
        glued = len(term_chars) <= 2 and at > 0 and is_word(compact[at - 1:at + 1])
        if place_before(compact, at) or glued:
            return window
    # Where the person studied or works, when it is another university (毕业于杭州电子科技大学,
    # 某某大学在读): the name's ambiguous words are then about that one, or about nothing of ours.
    for m in _AFFILIATION.finditer(bio.spaced):
        institution = (m.group("after") or m.group("before")).replace(" ", "")
        if not any(o in institution or institution in o for o in [*ours, *all_ours]) and \
                not (term_chars and in_order(term_chars, institution[:-2])):
            return institution
    if not english_ours and _ENGLISH_INSTITUTION.search(bio.spaced):
        return "英文院校名"
    return None


def abbreviations(name: str) -> set[str]:
    """The customary abbreviations of a university's name (西安交通大学 → 西安交大, 西交大; 浙江工业大学
    → 浙工大): its first character, some of the others in order, and 大 for 大学; three characters
    or more, shorter ones being everyday words too often."""
    if not name.endswith("大学") or len(name) < 5:
        return set()
    head = name[:-2]
    out = set()
    for k in range(1, min(3, len(head) - 1) + 1):
        for combo in itertools.combinations(range(1, len(head)), k):
            out.add(head[0] + "".join(head[i] for i in combo) + "大")
    # A place and 大 alone (西安大, 上海大) is how 西安大厦 or 上海大学 begin, no abbreviation.
    return {a for a in out if not is_place(a[:-1])}


def in_order(chars: str, text: str) -> bool:
    """Whether ``chars`` appear in ``text`` in this order (南大 in 南昌大学)."""
    pos = 0
    for ch in chars:
        pos = text.find(ch, pos)
        if pos < 0:
            return False
        pos += 1
    return True
