"""Verdicts for discovered accounts: registered, suspect or clear, with a score and reasons.

Order of judgement (each step explains itself in the reasons):

1. registered — (platform, account_id) is an active registry row. Never by name.
2. allow-list — a name a reviewer already judged not to be impersonation.
3. other institutions' names are masked out (哈尔滨工程大学 is not 哈尔滨工业大学).
4. protected terms in the name: exact, after normalisation, by look-alike characters, by
   homophone, as pinyin/initials, as an English name or its truncation. A term counts only where
   it stands on its own (the rest of the name segments cleanly after it); ambiguous terms (two-
   character short names, BIT/HIT, renda, an idiom as motto) need evidence for the school and
   none against it (see :mod:`evidence`). Pinyin written for some of a name's characters (zhe大)
   is read as them first; an acronym with -er (ZJUer), a doubled 大 (某大大讲堂), a second protected
   name, a registered name after ours (某大一院挂号) and the school's own subjects are evidence too.
5. copies of registered names under another ID (not a near name that lacks all of ours), a
   shortened registered name beside a service word, a closed account still in use, a platform where
   the school has no registered account, office vs community words, claims in the bio, the emblem
   as avatar.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rapidfuzz import fuzz, process

from watcher.cleaning import NAME_MAX
from watcher.config import PLATFORM_LABELS, Config
from watcher.matching import context, evidence
from watcher.matching.confusables import folded_cross_script, skeleton
from watcher.matching.disciplines import school_disciplines
from watcher.matching.lexicon import glue_end, is_word, segment_cost
from watcher.matching.logo import LogoMatcher
from watcher.matching.normalize import Normalized, is_cjk, normalize, normalize_batch, plain
from watcher.matching.prefilter import REGISTRY_CUTOFF, Prefilter
from watcher.matching.terms import (
    BASE_SCORES,
    ENGLISH_STOPWORDS,
    GENERIC_FIRST_WORDS,
    CompiledTerms,
    EnglishName,
    SchoolTerms,
    Term,
    compile_terms,
    latin_runs,
)

if TYPE_CHECKING:
    # Only a type: importing the store at run time would load the whole store (and Scrapy, through
    # the rounds' targets) into every matching process, ~40 MB for nothing.
    from watcher.store.rules import NameRule

ALGO = "match-v3"  # v3: the families of issue 25 (mixed pinyin, glued acronyms, disciplines …)
# What the judgement reads of a name and a bio, after normalisation (invisible characters,
# combining marks and decorations already gone): the platforms allow names of at most 30
# characters and bios of at most 250 (see watcher.cleaning), so an honest account is read whole;
# a hostile one of 20,000 characters costs what 100 do (the term search is quadratic in length).
NAME_VIEW_MAX = NAME_MAX
BIO_VIEW_MAX = 500
# Places of one term weighed in one text: each costs a word split of the rest of the text, so a
# text repeating the term costs length × places; an honest name holds a term once or twice.
TERM_PLACES_MAX = 8
MASK = "\u2588"  # replaces other institutions' names; never part of a term


@dataclass
class Candidate:
    platform: str
    account_id: str
    name: str
    bio: str = ""
    avatar: Any = None  # path, bytes or PIL image


@dataclass(frozen=True, slots=True)
class MatchResult:
    """A verdict; immutable, so that every clear name of a batch can share one."""

    verdict: str
    score: int
    matched: str | None = None
    unit: str | None = None
    reasons: tuple[str, ...] = ()
    algo: str = ALGO
    office: bool = False

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["reasons"] = list(self.reasons)
        return d


CLEAR = MatchResult("clear", 0)
BATCH = 4096  # names normalised and prefiltered together; bounds the registry score matrix


@dataclass(slots=True)
class _Hit:
    term: Term
    how: str           # 精确 | 形近字/混淆字符 | 谐音 | 拼音 | 英文 | …
    score: int
    span: tuple[int, int] | None = None
    needs_support: bool = False  # ambiguous: counts only with evidence for the school
    why: str = ""                # that evidence, for the reason
    form: str | None = None      # the Latin form found
    everyday: bool = False       # a look-alike or homophone that is also a common word (武汉大雪)
    own: str = ""                # evidence the way it is written gives by itself (ZJUer: a member)


@dataclass
class _BioView:
    text: Normalized          # others masked, disclaimers cut out
    claim_text: str
    hits: list[_Hit]          # our names that count in the bio on the bio's own evidence
    others_found: list[str]


@dataclass
class _RegistryName:
    row: dict[str, Any]
    compact: str


def _plabel(platform: str) -> str:
    return PLATFORM_LABELS.get(platform, platform)


class Matcher:
    def __init__(
        self,
        school: SchoolTerms,
        registry: Iterable[dict[str, Any]] = (),
        units: Iterable[tuple[str, Iterable[str]]] = (),
        others: Iterable[str] = (),
        allow: Iterable[str] = (),
        logos: Iterable[str | Path] = (),
        threshold: int = 60,
        logo_max_distance: int = 10,
    ) -> None:
        self.school = school
        self.threshold = threshold
        self.terms: CompiledTerms = compile_terms(school)
        self.registered: dict[tuple[str, str], dict[str, Any]] = {}
        self.closed: dict[tuple[str, str], dict[str, Any]] = {}
        self.registry_names: list[_RegistryName] = []
        self.platforms_with_accounts: set[str] = set()
        for row in registry:
            key = (str(row["platform"]), str(row["account_id"]))
            if row.get("status", "active") == "active":
                self.registered[key] = row
                self.platforms_with_accounts.add(key[0])
                name = normalize(str(row.get("account_name") or row.get("name") or "")).compact
                if name:
                    self.registry_names.append(_RegistryName(row, name))
            else:
                self.closed[key] = row
        self._registry_compacts = [r.compact for r in self.registry_names]
        self.units = [(name, sorted({normalize(a).compact for a in (name, *aliases) if normalize(a).compact},
                                    key=len, reverse=True)) for name, aliases in units]
        others = list(others)
        # Another institution named after ours is written with our short name too (西南交通大学希望学院
        # → 西南交大希望学院, 浙江大学城市学院 → 浙大城市学院): mask that form as well.
        fulls = [t.compact for t in self.terms.cjk if t.category == "full"]
        shorts = [t.compact for t in self.terms.cjk if t.category == "short"]
        others += [o.replace(f, s) for o in map(lambda x: normalize(x).compact, others) for f in fulls if f in o
                   for s in shorts]
        self.others = sorted({n.compact for n in map(normalize, others) if n.compact}, key=len, reverse=True)
        # Other universities' customary abbreviations (西安交大, 浙工大), to tell a bio that names one.
        ours = [t.compact for t in self.terms.cjk]
        abbreviations = {a for o in self.others for a in evidence.abbreviations(o)
                         if not any(a in t or t in a for t in ours)}
        self._others_abbrev_re = (re.compile("|".join(map(re.escape, sorted(abbreviations, key=len, reverse=True))))
                                  if abbreviations else None)
        self.others_skeleton = [normalize(o).skeleton for o in self.others]
        # English names of other institutions are masked in the spaced view, words apart.
        self._others_spaced = {n.compact: n.spaced for n in map(normalize, others) if n.compact}
        self.allow = {normalize(a).compact for a in allow if normalize(a).compact}
        self.logos = LogoMatcher(list(logos), logo_max_distance) if logos else None
        self.prefilter = Prefilter(self.terms, self._registry_compacts, self.others_skeleton)
        self._homophone_res = self.prefilter.homophone_patterns()
        self._variant_res = self.prefilter.variant_patterns()
        self._own_names = sorted({t.compact for t in self.terms.cjk if len(t.compact) >= 3 and not t.ambiguous},
                                 key=len, reverse=True)
        self._ascii_token_forms = frozenset(self.terms.ascii_tokens)
        # Per term: how many of its characters a hit keeps at least, and one pattern for "by look
        # or by sound" that says whether the full search can find anything.
        self._cjk_plan = [(t, min(len(set(t.compact)), math.ceil(len(t.compact) / 2)),
                           re.compile("|".join(p.pattern for p in (self._variant_res[t.compact],
                                                                  self._homophone_res.get(t.compact)) if p)))
                          for t in self.terms.cjk]
        self._terms_with_char: dict[str, list[int]] = {}
        for i, t in enumerate(self.terms.cjk):
            for ch in set(t.compact):
                self._terms_with_char.setdefault(ch, []).append(i)
        self._term_char_set = frozenset(self._terms_with_char)
        self._full_names = [t.compact for t in self.terms.cjk if t.category == "full"]
        self._cjk_names = [t.compact for t in self.terms.cjk]
        self._rest_words = frozenset(w for w in context.CAMPUS_WORDS if not w.isascii()) | {context.MEMBER_SUFFIX}
        self._others_re = re.compile("|".join(map(re.escape, self.others_skeleton))) if self.others else None
        unit_forms = sorted({f for _, forms in self.units for f in forms if len(f) >= 2}, key=len, reverse=True)
        self._units_re = re.compile("|".join(map(re.escape, unit_forms))) if unit_forms else None
        # What follows one of our names inside a registered name (一院 of 浙大一院; 医学院附属第一医院
        # of 浙江大学医学院附属第一医院, whichever of our names opens the copy).
        rests = {}
        for r in self.registry_names:
            for t in self.terms.cjk:
                at = r.compact.find(t.compact)
                if at >= 0 and len(r.compact) - at - len(t.compact) >= 2:
                    rests.setdefault(r.compact[at + len(t.compact):], r.row.get("account_name") or r.compact)
        self._registry_rests = sorted(rests.items(), key=lambda kv: len(kv[0]))
        self._registry_rest_chars = frozenset("".join(rests))
        disciplines = school_disciplines([t.compact for t in self.terms.cjk if t.category in ("full", "historical")],
                                         [f for _, forms in self.units for f in forms])
        self._disciplines_re = re.compile("|".join(map(re.escape, disciplines))) if disciplines else None
        self._mixed = self.prefilter.mixed_patterns()
        self._member_forms = {t.compact + suffix: (t, suffix) for t in self.terms.ascii_short if len(t.compact) >= 3
                              for suffix in MEMBER_SUFFIXES}
        self._ascii_short_forms = frozenset(t.compact for t in self.terms.ascii_short)
        forms = sorted(self.terms.ascii_long, key=len, reverse=True)
        self._latin_re = re.compile("|".join(map(re.escape, forms))) if forms else None

    @classmethod
    def from_config(cls, cfg: Config, registry_rows: Iterable[dict[str, Any]],
                    name_rules: Iterable[NameRule] = ()) -> Matcher:
        rules = list(name_rules)
        n = cfg.school.names
        return cls(
            SchoolTerms(cfg.school.name, list(n.full), list(n.short), list(n.english),
                        list(n.historical), list(n.marks)),
            registry=registry_rows,
            units=[(u.name, u.aliases) for u in cfg.units],
            others=[*cfg.school.others, *(r.name for r in rules if r.kind == "other")],
            allow=[*cfg.school.allow, *(r.name for r in rules if r.kind == "allow")],
            logos=[cfg.resolve_path(p) for p in cfg.school.logos],
            threshold=cfg.matching.suspect_threshold,
            logo_max_distance=cfg.matching.logo_max_distance,
        )

    # -- the judgement --------------------------------------------------------------------

    def match(self, c: Candidate) -> MatchResult:
        return self.match_many([c])[0]

    def match_many(self, candidates: Sequence[Candidate]) -> list[MatchResult]:
        """Verdicts for many candidates, in order; the same as :meth:`match` on each, faster:
        names are normalised and prefiltered a batch at a time (see :mod:`prefilter`)."""
        out: list[MatchResult] = []
        for start in range(0, len(candidates), BATCH):
            out += self._match_batch(candidates[start:start + BATCH])
        return out

    def _match_batch(self, candidates: Sequence[Candidate]) -> list[MatchResult]:
        results: list[MatchResult] = [CLEAR] * len(candidates)
        todo: list[tuple[int, Candidate, tuple[str, str]]] = []
        for i, c in enumerate(candidates):
            key = (str(c.platform), str(c.account_id))
            reg = self.registered.get(key)
            if reg is None:
                todo.append((i, c, key))
                continue
            results[i] = MatchResult("registered", 100, reg.get("account_name"), reg.get("unit"),
                                     (f"已备案账号：{_plabel(c.platform)}「{reg.get('account_name')}」（{c.account_id}），"
                                      f"开设单位 {reg.get('unit')}",))
        if not todo:
            return results
        names = normalize_batch([c.name or "" for _, c, _ in todo])
        bios = normalize_batch([c.bio or "" for _, c, _ in todo])
        near = self.prefilter.near_registry(names)
        mixed = self.prefilter.mixed(names)
        flagged = self.prefilter.terms(names) | self.prefilter.terms(bios) | near | mixed
        allow, closed = self.allow, self.closed
        for j, (i, c, key) in enumerate(todo):
            if j in flagged or c.avatar is not None or key in closed or (allow and names.compact[j] in allow):
                name, cut = _bounded(names.item(j), NAME_VIEW_MAX)
                bio = _bounded(bios.item(j), BIO_VIEW_MAX)[0] if c.bio else None
                result = self._analyse(c, key, name, bio, j in near, j in mixed)
                if cut:
                    result = replace(result, reasons=(*result.reasons,
                                                      f"名称过长（规范化后 {cut} 字），只判定了前 {NAME_VIEW_MAX} 字"))
                results[i] = result
        return results

    def _analyse(self, c: Candidate, key: tuple[str, str], name: Normalized, bio: Normalized | None,
                 near_registry: bool = True, mixed: bool = True) -> MatchResult:
        if name.compact and name.compact in self.allow:
            return MatchResult("clear", 0, reasons=("名称已在白名单中（复核认定非仿冒）",))
        masked, other_hits = self._mask_others(name)
        reasons: list[str] = []
        if other_hits:
            reasons.append("名称中的「" + "、".join(other_hits) + "」是他校/他机构名称，不计为本校")
        # Only names the prefilter found mixing a term's pinyin and characters can be read so.
        masked, read = self._read_mixed(masked) if mixed else (masked, [])
        if read:
            reasons.append("名称中的拼音" + "、".join(f"「{a}」读作「{b}」" for a, b in read))
        bio_view = self._bio_view(bio) if bio is not None else None
        hits, dropped = self._judge(self._name_hits(masked), masked, c.platform, bio_view)
        reasons += dropped

        score = max((h.score for h in hits), default=0)
        matched = max(hits, key=lambda h: h.score).term.text if hits else None
        for h in sorted(hits, key=lambda h: -h.score)[:3]:
            reasons.append(f"名称含本校{h.term.label}「{h.term.text}」（{h.how}）" + (f"，{h.why}" if h.why else ""))

        unit = self._unit(masked.compact) if hits else None

        # Masking only removes characters, so a name not near a registered one unmasked is not
        # near one masked either; the prefilter already knows which names are.
        copy = self._registry_copy(masked) if near_registry else None
        # A registered name with none of our protected names in it (一勺池畔), inside a longer name.
        if copy is None and not hits and (inside := self._registry_inside(masked)) is not None:
            reasons.append(f"名称包含已备案账号「{inside['account_name']}」（{_plabel(inside['platform'])}）的名称，但账号ID不同")
            score = max(score, 75) + 5
            unit = unit or inside.get("unit")
            matched = matched or inside.get("account_name")
        elif copy is None and not hits and (short := self._registry_shortened(masked)) is not None:
            row, piece, service = short
            reasons.append(f"名称中的「{piece}」是已备案账号「{row['account_name']}」（{_plabel(row['platform'])}）名称的简写，"
                           f"且含服务用语「{service}」（借已备案账号名义的代办/黄牛）")
            score = max(score, 75) + 5
            unit = unit or row.get("unit")
            matched = matched or row.get("account_name")
        if copy is not None and copy[1] < 100 and not hits and any(
                t.compact in normalize(str(copy[0].get("account_name") or "")).compact for t in self.terms.cjk):
            # Near a registered name that holds one of our names, without holding one itself: what
            # differs is the place or the key word (兰州交通大学… for 西南交通大学…, a 出版社 without
            # 大学), so it is another institution, not a copy.
            reasons.append(f"名称与已备案账号「{copy[0].get('account_name')}」近似，但不含本校名称（差在地名或关键词），不计为仿冒")
            copy = None
        if copy is not None:
            row, similarity = copy
            same = "相同" if similarity >= 100 else f"近似（相似度 {similarity:.0f}）"
            reasons.append(f"名称与已备案账号「{row['account_name']}」（{_plabel(row['platform'])}）{same}，但账号ID不同")
            score = max(score, 85 if similarity >= 100 else 75) + 5
            unit = unit or row.get("unit")
            matched = matched or row.get("account_name")

        closed = self.closed.get(key)
        if closed is not None:
            reasons.append(f"该账号在台账中已注销（{closed.get('closed_date') or '日期未记'}），但仍在使用")
            score = max(score, 80)
            unit = unit or closed.get("unit")
            matched = matched or closed.get("account_name")

        office = context.find_words(masked.compact, context.OFFICE_WORDS) if score or bio is not None else []
        community = context.find_words(masked.compact, context.COMMUNITY_WORDS) if score else []
        if score and office:
            score += 8
            reasons.append("含机构/官方用语「" + "、".join(office[:3]) + "」，易被误认为学校官方账号")
        elif score and community:
            reasons.append("含校园社群用语「" + "、".join(community[:3]) + "」，未经批准使用校名")

        if bio_view is not None and not hits:
            claims = context.find_words(bio_view.claim_text, context.CLAIM_WORDS)
            facts = context.find_words(bio_view.text.compact, context.FACTUAL_WORDS)
            if bio_view.hits and claims:
                score = max(score, 65 + (5 if office else 0))
                matched = matched or bio_view.hits[0].term.text
                reasons.append(f"简介提及「{bio_view.hits[0].term.text}」并声称「{'、'.join(claims[:2])}」")
            elif bio_view.hits and bio_view.claim_text != bio_view.text.compact:
                reasons.append("简介提及本校但声明非官方，不计为仿冒")
            elif bio_view.hits and facts:
                reasons.append(f"简介仅为事实性提及（{'、'.join(facts[:2])}），不计为仿冒")

        if score and c.platform not in self.platforms_with_accounts and copy is None and closed is None:
            reasons.append(f"本校在{_plabel(c.platform)}没有备案账号")

        if c.avatar is not None and self.logos:
            try:
                logo = self.logos.match(c.avatar)
            except (OSError, ValueError) as e:
                logo = None
                reasons.append(f"头像无法读取：{_image_problem(e)}")
            if logo is not None:
                score = max(score, 70) + (10 if hits else 0)
                reasons.append(f"头像与校徽相似（差异哈希距离 {logo.dhash_distance}/64，感知哈希距离 {logo.distance}/64）")
                matched = matched or f"校徽 {logo.logo}"

        score = min(score, 100)
        verdict = "suspect" if score >= self.threshold else "clear"
        return MatchResult(verdict, score, matched if verdict == "suspect" else None,
                           unit if verdict == "suspect" else None, tuple(reasons), office=bool(office and score))

    # -- pieces --------------------------------------------------------------------------------

    def _mask_others(self, n: Normalized) -> tuple[Normalized, list[str]]:
        """Other institutions' names blanked out — except where one lies inside one of our own
        names (a parent 浙江大学 in others must not erase our 浙江大学医学院)."""
        if self._others_re is None or not self._others_re.search(n.skeleton):
            return n, []
        compact, skel, spaced = n.compact, n.skeleton, n.spaced
        ours = [(i, i + len(t)) for t in self._own_names for i in _find_all(n.compact, t)]
        found = []
        for other, other_skel in zip(self.others, self.others_skeleton, strict=True):
            idx = skel.find(other_skel)
            while idx >= 0 and any(a <= idx and idx + len(other) <= b for a, b in ours):
                idx = skel.find(other_skel, idx + 1)
            if idx >= 0:
                found.append(other)
                compact = compact[:idx] + MASK * len(other) + compact[idx + len(other):]
                skel = skel[:idx] + MASK * len(other) + skel[idx + len(other):]
                words = self._others_spaced.get(other, other)
                spaced = spaced.replace(words, MASK) if words in spaced else spaced
        if not found:
            return n, []
        return Normalized(n.original, spaced, compact, skel), found

    def _read_mixed(self, n: Normalized) -> tuple[Normalized, list[tuple[str, str]]]:
        """Pinyin syllables written for some characters of one of our names (zhe大二手, 西南jiao大,
        xinan交大): read as those characters, when they are whole Latin runs and at least one of the
        name's own characters stays (all-Latin names are matched as pinyin)."""
        compact = n.compact
        if not self._mixed or compact.isascii() or not _LATIN_CJK.search(compact) or not self.prefilter.may_mix(compact):
            return n, []
        read: list[tuple[str, str]] = []
        edits: list[tuple[int, int, str]] = []
        for term, pattern in self._mixed:
            for m in pattern.finditer(compact):
                pieces = m.groups()
                latin = [i for i, g in enumerate(pieces) if g.isascii()]
                if not latin or len(latin) == len(pieces) or any(a < m.end() and m.start() < b for a, b, _ in edits):
                    continue
                if (pieces[0].isascii() and m.start() > 0 and compact[m.start() - 1].isascii()
                        and compact[m.start() - 1].isalnum()) or \
                        (pieces[-1].isascii() and m.end() < len(compact) and compact[m.end()].isascii()
                         and compact[m.end()].isalnum()):
                    continue  # a piece of a longer Latin word
                edits.append((m.start(), m.end(), term.compact))
                read += [(pieces[i], term.compact[i]) for i in latin]
        if not edits:
            return n, []
        # The same edits in the spaced view: its non-space characters are the compact ones.
        where = [i for i, ch in enumerate(n.spaced) if ch != " "]
        spaced = n.spaced
        for start, end, text in sorted(edits, reverse=True):
            compact = compact[:start] + text + compact[end:]
            spaced = spaced[:where[start]] + text + spaced[where[end - 1] + 1:]
        return Normalized(n.original, spaced, compact, skeleton(compact)), read

    def _bio_view(self, bio: Normalized) -> _BioView:
        masked, others_found = self._mask_others(bio)
        if self._others_abbrev_re is not None:
            others_found += self._others_abbrev_re.findall(masked.compact)
        claim_text = context.without_disclaimers(masked.compact)
        text = masked if claim_text == masked.compact else Normalized(bio.original, masked.spaced, claim_text,
                                                                      masked.skeleton)
        view = _BioView(masked, claim_text, [], others_found)
        # A bio's own hits are judged by the bio alone (its campus words, its claims).
        view.hits, _ = self._judge(self._name_hits(text), text, "", None)
        return view

    def _name_hits(self, n: Normalized) -> list[_Hit]:
        hits: list[_Hit] = []
        taken: list[tuple[int, int]] = []
        compact = n.compact
        # Look-alike and homophone hits alike keep at least half of the term's own characters:
        # count, per term, how many of its characters the name has.
        counts = [0] * len(self._cjk_plan)
        for ch in self._term_char_set.intersection(compact):
            for i in self._terms_with_char[ch]:
                counts[i] += 1
        for k, (term, need, either) in zip(counts, self._cjk_plan, strict=True):
            if k < need or not either.search(compact):
                continue
            h = self._cjk_hit(term, n, taken)
            if h:
                hits.append(h)
                if h.span:
                    taken.append(h.span)
        hits += self._latin_hits(n)
        return hits

    def _cjk_hit(self, term: Term, n: Normalized, taken: list[tuple[int, int]]) -> _Hit | None:
        """The first place where the term stands, exactly or by look-alike characters, on its
        own (see :meth:`_stands_alone`); failing that, the first homophone that does."""
        base = BASE_SCORES[term.category]
        text = n.compact
        length = len(term.compact)
        allowed = length // 2  # at least half the characters must be the term's own
        for place, m in enumerate(self._variant_res[term.compact].finditer(text)):
            if place >= TERM_PLACES_MAX:
                break
            start = m.start()
            span = (start, start + length)
            piece = text[start:start + length]
            swapped = [] if piece == term.compact else [(a, b) for a, b in zip(piece, term.compact, strict=True)
                                                         if a != b]
            if len(swapped) > allowed or (taken and _overlaps(span, taken)) or not self._stands_alone(text, span, term):
                continue
            if swapped:
                how = "形近字：" + "、".join(f"{a}→{b}" for a, b in swapped)
            elif term.compact in n.original or not folded_cross_script(n.original) or term.compact in plain(n.original):
                how = "精确"
            else:
                how = "形近字/混淆字符"
            everyday = _everyday(text, span, swapped, piece)
            if everyday and length <= 2:
                continue  # 八大, 雷电: a word of its own, not a disguised two-character name
            # 某大 | 大药房: a short name closing on 大 (for 大学) written out whole before a word that
            # opens with 大 says it is the university's short name; but like an ambiguous name it
            # yields to a company's words (有限公司 in the name or bio: a shop named after the school).
            own = "后接以「大」起首的词（简称自成一词）" if text[span[1] - 1] == "大" and _doubled(text, span) else ""
            return _Hit(term, how, base, span, term.ambiguous or everyday or bool(own), everyday=everyday, own=own)
        return self._homophone(term, n, base, taken)

    def _stands_alone(self, text: str, span: tuple[int, int], term: Term) -> bool:
        """Whether the term is a unit of the name and not a piece of other words. On the left, a
        short term's first character must not close a common word (东北理疗馆: 东北; 达人大赛: 达人).
        On the right, when a common word would swallow the term's end (大树 in 人大树洞, 大学生 in
        南京大学生租房), the rest of the name after the term must split into words at least as well
        as what that word leaves: 人大 | 树洞 beats 大树 | 洞, but 南京大学 | 生 | 租房 loses to
        大学生 | 租房."""
        start, end = span
        if term.short and start > 0 and is_cjk(text[start - 1]) and is_word(text[start - 1] + text[start]):
            return False
        if end < len(text) and text[end] in _STREET and text[end - 2:end] in _INSTITUTION_WORDS \
                and _street_ends(text, end + 1):
            return False  # 杭州大学路: a street named after a university (but 大学 | 街舞社 is a club of it)
        if _doubled(text, span):
            return True  # 浙大 | 大讲堂: the name's last character written twice starts the next word
        glued = glue_end(text, start, end)
        if glued == end:
            return True
        if len(term.compact) >= 4 and _OWN_UNIT.match(text, end):
            return True  # our name + a proper name + 学院: one of our colleges (…大学成贤学院)
        return segment_cost(text[end:], self._rest_words) <= 1 + segment_cost(text[glued:], self._rest_words)

    def _homophone(self, term: Term, n: Normalized, base: int, taken: list[tuple[int, int]]) -> _Hit | None:
        pattern = self._homophone_res.get(term.compact)
        if pattern is None:
            return None
        text = n.compact
        length = len(term.compact)
        need = math.ceil(length / 2)
        for m in pattern.finditer(text):
            i = m.start()
            span = (i, i + length)
            piece = text[i:i + length]
            if tuple(map(self.terms.read, piece)) != term.syllables:
                continue
            swapped = [(a, b) for a, b in zip(piece, term.compact, strict=True) if a != b]
            # The same characters are not a homophone: that hit already failed as an exact one.
            if not swapped or length - len(swapped) < need or _overlaps(span, taken):
                continue
            if not self._stands_alone(text, span, term):
                continue
            how = "谐音：" + "、".join(f"{a}→{b}" for a, b in swapped)
            everyday = _everyday(text, span, swapped, piece)
            if everyday and length <= 2:
                continue  # 西点 for 西电: a word of its own, not a disguised two-character name
            return _Hit(term, how, base - 5, span, term.ambiguous or everyday, everyday=everyday)
        return None

    def _latin_hits(self, n: Normalized) -> list[_Hit]:
        runs = latin_runs(n.spaced)
        if not runs:
            return []
        hits: list[_Hit] = []
        split = [run.split() for run in runs]
        token_set = {t for run in split for t in (_join_spelled(run) if any(len(t) == 1 for t in run) else run)}
        for term in self.terms.ascii_short:
            if term.compact in token_set:
                hits.append(_Hit(term, "完整单词", BASE_SCORES.get(term.category, 70), None, True, form=term.compact))
        for glued_form in token_set.intersection(self._member_forms):
            term, suffix = self._member_forms[glued_form]
            if term.compact not in token_set and self._member_form(term, suffix, n.original):
                hits.append(_Hit(term, f"缩写加后缀 {glued_form}", BASE_SCORES.get(term.category, 70), None, True,
                                 form=glued_form, own=f"写作「{glued_form}」（-er 后缀指本校学生）"))
        for form in token_set & self._ascii_token_forms:
            term = self.terms.ascii_tokens[form]
            label = "拼音" if term.category == "pinyin" else "拼音首字母"
            hits.append(_Hit(term, f"{label} {form}", BASE_SCORES["initials"] - 10, None, True, form=form))
        glued = [run.replace(" ", "") for run in runs]
        longest: dict[str, str] = {}
        if self._latin_re is not None:
            for g in glued:
                for m in self._latin_re.finditer(g):
                    form = m.group(0)
                    term = self.terms.ascii_long[form]
                    if len(form) > len(longest.get(term.text + term.category, "")):
                        longest[term.text + term.category] = form
        for form in longest.values():
            term = self.terms.ascii_long[form]
            hits.append(_Hit(term, f"{term.label} {form}", BASE_SCORES[term.category], form=form))
        acronyms = list(token_set.intersection(self._ascii_short_forms))
        # Only where some other token could be one of the name's own words (BIT美食 has none).
        others_tokens = [t for t in token_set if len(t) >= 3 and t not in acronyms] if acronyms else []
        for eng in self.terms.english if others_tokens else ():
            if not any(_word_fits(t, w) for t in others_tokens for w in eng.words):
                continue
            if how := _english_with_acronym(eng, split, acronyms):
                hits.append(_Hit(Term(eng.text, "english", eng.compact, eng.compact, True), how, BASE_SCORES["english"]))
        for head in token_set.intersection(self.terms.parent_acronyms):
            for eng, k in self.terms.parent_acronyms[head]:
                if how := _english_after_parent(head, eng, k, split):
                    hits.append(_Hit(Term(eng.text, "english", eng.compact, eng.compact, True), how,
                                     BASE_SCORES["english"]))
                    break
        for eng in self.terms.english:
            # Every way of writing it opens with its first word, or has it glued to the next.
            if eng.tokens[0] not in token_set and eng.words[0] not in token_set and not any(eng.compact in g
                                                                                            for g in glued) \
                    and not (eng.words[0] in GENERIC_FIRST_WORDS and any(len(t) >= 4 and eng.words[0].startswith(t)
                                                                    for t in token_set)):
                continue
            how = _english(eng, split, glued)
            if how:
                hits.append(_Hit(Term(eng.text, "english", eng.compact, eng.compact, True), how, BASE_SCORES["english"]))
        return hits

    @staticmethod
    def _member_form(term: Term, suffix: str, original: str) -> bool:
        """ZJUer, SWJTUers: students glue -er(s) to the acronym to name themselves. A three-letter
        acronym that could open an English word (bit → "biter", nit → "niter") must show itself in
        capitals before the suffix (BITer); one that cannot (zj-, xd-) or a longer one may not."""
        acronym = term.compact
        return len(acronym) >= 4 or not _english_onset(acronym) \
            or acronym.upper() + suffix in unicodedata.normalize("NFKC", original)

    def _judge(self, hits: list[_Hit], n: Normalized, platform: str,
               bio: _BioView | None) -> tuple[list[_Hit], list[str]]:
        """Keep the hits that mean the school (see :mod:`evidence`); say why the others do not."""
        if not hits:
            return hits, []
        kept: list[_Hit] = []
        dropped: list[str] = []
        bare_text = n.compact[:-1] if platform == "tieba" and n.compact.endswith("吧") else n.compact
        for h in hits:
            # A motto inside a longer name may be a phrase about something else (求是创新科技, a
            # company): only the motto as the whole name stands without evidence.
            if h.term.category == "marks" and not h.needs_support and h.span and h.span[1] - h.span[0] != len(bare_text):
                h.needs_support = True
        standing = []
        for h in hits:
            against = self._against(h, n, bio)
            if against:
                dropped.append(f"名称中的「{self._shown(h, n)}」{against}，不计为本校{h.term.label}")
            else:
                standing.append(h)
        strong = [h for h in standing if not h.needs_support]
        for h in standing:
            if not h.needs_support:
                kept.append(h)
                continue
            if why := self._support(h, n, bare_text, [s for s in strong if s is not h], bio, standing):
                h.why = why
                kept.append(h)
            else:
                dropped.append(f"名称中的「{self._shown(h, n)}」也是常见词或他称，且无指向本校的语境，不计为本校{h.term.label}")
        return kept, dropped

    @staticmethod
    def _shown(h: _Hit, n: Normalized) -> str:
        return n.compact[h.span[0]:h.span[1]] if h.span else (h.form or h.term.text)

    def _support(self, h: _Hit, n: Normalized, bare_text: str, strong: list[_Hit], bio: _BioView | None,
                 standing: list[_Hit] = ()) -> str | None:
        shown = self._shown(h, n)
        # An idiom as a whole name is still just the idiom (实事求是); a motto that is no word
        # (求是创新) is not, but inside a longer name it needs the same evidence.
        idiom = h.term.category == "marks" and h.term.ambiguous
        # A name that is only the term stands for the school, unless it is an everyday phrase that
        # merely sounds or looks like it (武汉大雪) and the bio, which says something, says nothing of
        # the school: then the phrase means what it says.
        if bare_text == shown and not idiom and not (h.everyday and bio is not None and bio.text.compact):
            return f"名称仅为「{shown}」，别无他词"
        if strong:
            return f"同时含本校{strong[0].term.label}「{strong[0].term.text}」"
        if h.own:
            return f"且{h.own}"
        words = evidence.campus_words(n.compact, h.span) + evidence.latin_campus_tokens(n.spaced)
        if words:
            return f"且含学校语境词「{'、'.join(words[:2])}」"
        if h.span is not None and not idiom and (near := evidence.member_or_first_person(n.compact, h.span)):
            return f"且{near}"
        # Two independent protected names (浙大 and ZJU, not 浙大 and its pinyin) vouch for each
        # other: a coincidence of both is unlikely.
        if partner := next((x for x in standing if x is not h and x.term.text != h.term.text
                            and x.term.is_ascii != h.term.is_ascii), None):
            return f"且同时含本校另一名称「{self._shown(partner, n)}」，两者互为佐证"
        if h.span is not None and (registered := self._registered_after(n.compact, h.span)):
            return f"且与已备案账号「{registered}」的名称相符"
        if words := self._discipline_words(n.compact, h.span):
            return f"且含本校学科词「{'、'.join(words[:2])}」"
        if bio is not None:
            if bio.hits:
                return f"且简介指向本校（「{bio.hits[0].term.text}」）"
            words = (evidence.campus_words(bio.claim_text, None) + evidence.latin_campus_tokens(bio.text.spaced)
                     + self._discipline_words(bio.claim_text, None))
            if words and not idiom:
                return f"且简介含学校语境词「{'、'.join(words[:2])}」"
        return None

    def _registered_after(self, compact: str, span: tuple[int, int]) -> str | None:
        """The registered name that our name and the words after it copy (浙大一院 after 浙大, also
        as a shortening of 浙江大学医学院附属第一医院: the rest keeps the registered name's characters
        in order and its last one): a scalper's 浙大一院挂号代办 builds on the registered account."""
        following = compact[span[1]:span[1] + 8]
        if len(following) < 2 or following[0] not in self._registry_rest_chars:
            return None
        for rest, name in self._registry_rests:
            for k in range(min(len(following), len(rest)), 1, -1):
                piece = following[:k]
                if piece in rest or (piece[-1] == rest[-1] and evidence.in_order(piece, rest)):
                    return name
        return None

    def _discipline_words(self, compact: str, span: tuple[int, int] | None) -> list[str]:
        """The school's own subjects (from its units and the kind of school its names say), which
        put an acronym or a short name on its campus (ZJU护理, 西电通信考研)."""
        if self._disciplines_re is None or not self._disciplines_re.search(compact):
            return []
        if span is not None:
            compact = compact[:span[0]] + MASK * (span[1] - span[0]) + compact[span[1]:]
        return sorted(set(self._disciplines_re.findall(compact)))

    def _against(self, h: _Hit, n: Normalized, bio: _BioView | None) -> str | None:
        term = h.term
        if h.span is not None and (school := evidence.affiliated_school(n.compact, h.span[1])):
            return f"后接「{school}」（附属中小学是另一所学校）"
        if term.category == "full" or not (h.needs_support or term.generic or term.category in ("historical", "marks")):
            return None
        if term.category == "marks" and h.span is not None and (tail := context.business_tail(n.compact, h.span[1])):
            return f"后接企业名用语「{tail}」（是以校训为字号的企业）"
        if h.needs_support:
            outside = n.compact if h.span is None else n.compact[:h.span[0]] + MASK + n.compact[h.span[1]:]
            if found := evidence.entity_words(outside):
                return f"旁有他类机构用语「{found[0]}」"
            if h.span is not None and (other := evidence.university_named_from(n.compact, h.span, self._own_names)):
                return f"是另一所大学「{other}」名称的开头"
        if h.span is not None and (h.needs_support or term.generic) and (where := evidence.place(n.compact, h.span)) \
                and not any(where in name for name in self._own_names):  # our own city is no other place
            return f"前有地名「{where}」（{'指当地的同名机构' if h.needs_support else '是另一所同名院校'}）"
        if bio is None:
            return None
        if h.needs_support and (found := evidence.entity_words(bio.text.compact)):
            return f"而简介含他类机构用语「{found[0]}」"
        english_ours = any(x.term.category == "english" for x in bio.hits)
        other = evidence.other_institution(bio.text, term.compact if not term.is_ascii else "",
                                           self._full_names, bio.others_found, english_ours,
                                           self._cjk_names)
        if other:
            return f"而简介指向另一机构「{other}」"
        return None

    def _unit(self, compact: str) -> str | None:
        if self._units_re is None or not self._units_re.search(compact):
            return None
        for unit_name, forms in self.units:
            if any(f in compact for f in forms if len(f) >= 2):
                return unit_name
        return None

    def _registry_shortened(self, name: Normalized) -> tuple[dict[str, Any], str, str] | None:
        """A registered name without any of ours (成都市第三人民医院), shortened the usual way (成都三院:
        its first and last characters, the rest in order, three or more), beside a service word
        (挂号, 代办, 陪诊): an agent trading on the registered account."""
        within = self.prefilter.registry_within
        if within is None or not (service := context.find_words(name.compact, context.SERVICE_WORDS)):
            return None
        text = name.compact
        for r in self.registry_names:
            if not within.fullmatch(r.compact):
                continue
            first, last = r.compact[0], r.compact[-1]
            for i in _find_all(text, first):
                for j in _find_all(text, last):
                    piece = text[i:j + 1]
                    if j - i >= 2 and len(piece) < len(r.compact) and evidence.in_order(piece, r.compact) \
                            and not any(w in piece for w in service):
                        return r.row, piece, service[0]
        return None

    def _registry_inside(self, name: Normalized) -> dict[str, Any] | None:
        within = self.prefilter.registry_within
        m = within.search(name.compact) if within is not None else None
        if m is None:
            return None
        return next(r.row for r in self.registry_names if r.compact == m.group(0))

    def _registry_copy(self, name: Normalized) -> tuple[dict[str, Any], float] | None:
        if not self._registry_compacts or not name.compact:
            return None
        best = process.extractOne(name.compact, self._registry_compacts, scorer=fuzz.ratio, score_cutoff=REGISTRY_CUTOFF)
        if best is None:
            return None
        return self.registry_names[best[2]].row, best[1]


# After a full name, a short proper name and a unit word (成贤 + 学院, 苏州 + 校区) make one of
# our own units, whatever word the proper name's first character could also start.
_OWN_UNIT = re.compile("[\u4e00-\u9fff]{1,4}?(?:学院|校区|分校|研究院|医院)")
_CONNECTORS = frozenset({"of", "for", "and", "at", "in", "&"})
_LATIN_CJK = re.compile("[a-z][\u4e00-\u9fff]|[\u4e00-\u9fff][a-z]")
# A university's name followed by one of these names a street or lane after it (杭州大学路).
_STREET = frozenset("路街巷")
_INSTITUTION_WORDS = frozenset({"大学", "学院", "学堂", "书院", "中学"})
# Latin suffixes that make an acronym a name for its members (ZJUer, SWJTUers).
MEMBER_SUFFIXES = ("ers", "er")


def _english(eng: EnglishName, token_runs: list[list[str]], glued: list[str]) -> str | None:
    """Our English name, whole or shortened (Renmin Univ. of China), in one of the Latin runs —
    unless the run goes on with "of …" beyond our name: "Nanjing University of Posts and
    Telecommunications" is another university that starts like ours."""
    full = list(eng.tokens)
    found = False
    for tokens in token_runs:
        for i in range(len(tokens) - len(full) + 1):
            if tokens[i:i + len(full)] == full:
                if _continues(tokens, i + len(full)):
                    return None
                found = True
        sig = [(j, t) for j, t in enumerate(tokens) if t not in ENGLISH_STOPWORDS]
        k = len(eng.words)
        for i in range(len(sig) - k + 1):
            window = sig[i:i + k]
            first = window[0][1]
            # The first word must be whole (nanjing, not nan) unless it is a generic one
            # (Univ. of Sci. & Tech. of China).
            if (first == eng.words[0] or (eng.words[0] in GENERIC_FIRST_WORDS and len(first) >= 4)) and all(
                w.startswith(t) and (len(t) >= 3 or t == w) for (_, t), w in zip(window, eng.words, strict=True)
            ):
                if _continues(tokens, window[-1][0] + 1):
                    return None
                if not found:
                    return "英文名（含缩写/截断）"
    if found or any(eng.compact in g for g in glued):
        return "完整英文名"
    return None


def _english_with_acronym(eng: EnglishName, token_runs: list[list[str]], acronyms: list[str]) -> str | None:
    """Our English name with some of its words written as our (or our parent's) acronym: "ZJU
    School of Medicine" for "Zhejiang University School of Medicine", "XDU Hangzhou Institute"; at
    least one of the name's own words must stay, each whole or cut to three letters or more."""
    words = eng.words
    for tokens in token_runs:
        sig = [(j, t) for j, t in enumerate(tokens) if t not in ENGLISH_STOPWORDS]
        for at, (j, tok) in enumerate(sig):
            if tok not in acronyms:
                continue
            for i in range(len(words)):
                for k in range(i + 1, len(words) + 1):
                    before, after = words[:i], words[k:]
                    if not before and not after:
                        continue
                    left = sig[at - len(before):at] if len(before) <= at else None
                    right = sig[at + 1:at + 1 + len(after)]
                    if left is None or len(right) < len(after):
                        continue
                    if all(_word_fits(t, w) for (_, t), w in zip([*left, *right], [*before, *after], strict=True)):
                        last = right[-1][0] if right else j
                        if not _continues(tokens, last + 1):
                            return f"英文名（部分写作缩写 {tok}）"
    return None


_ONSETS = frozenset({"bl", "br", "ch", "cl", "cr", "dr", "dw", "fl", "fr", "gl", "gr", "kn", "pl", "pr", "ps", "qu", "sc",
                     "sh", "sk", "sl", "sm", "sn", "sp", "st", "sw", "th", "tr", "tw", "wh", "wr"})


def _english_onset(word: str) -> bool:
    """Whether ``word`` starts the way English words can: a vowel among its first two letters, or a
    consonant pair English words open with (st, br …)."""
    return any(c in "aeiouy" for c in word[:2]) or word[:2] in _ONSETS


def _english_after_parent(head: str, eng: EnglishName, k: int, token_runs: list[list[str]]) -> str | None:
    """PKU Health Science Center (or PKU HSC) for Peking University Health Science Center: the
    parent's acronym, then the rest of our name in words or in initials; the parent alone is not us."""
    rest = eng.words[k:]
    initials = "".join(w[0] for w in rest)
    for tokens in token_runs:
        sig = [(j, t) for j, t in enumerate(tokens) if t not in ENGLISH_STOPWORDS]
        for at, (_, tok) in enumerate(sig):
            if tok != head:
                continue
            after = sig[at + 1:at + 1 + len(rest)]
            if len(after) == len(rest) and all(_word_fits(t, w) for (_, t), w in zip(after, rest, strict=True)) \
                    and not _continues(tokens, after[-1][0] + 1):
                return f"英文名（上级学校缩写 {head} 加其余词）"
            if at + 1 < len(sig) and sig[at + 1][1] == initials:
                return f"英文名（上级学校缩写 {head} 加其余词的缩写 {initials}）"
    return None


def _word_fits(token: str, word: str) -> bool:
    return token == word or (len(token) >= 3 and word.startswith(token))


def _continues(tokens: list[str], j: int) -> bool:
    return j + 1 < len(tokens) and tokens[j] in _CONNECTORS


def _join_spelled(tokens: list[str]) -> list[str]:
    """Letters spelt out one by one (R.U.C, X-D-U, N J U) read as one token."""
    out: list[str] = []
    letters: list[str] = []
    for t in [*tokens, ""]:
        if len(t) == 1 and t.isalpha():
            letters.append(t)
            continue
        if len(letters) >= 2:
            out.append("".join(letters))
        else:
            out += letters
        letters = []
        if t:
            out.append(t)
    return out


def _everyday(text: str, span: tuple[int, int], swapped: list[tuple[str, str]], piece: str) -> bool:
    """Whether a substituted character sits inside a common word of the name (大雪 in 南京大雪实况,
    西点 in 西点烘焙): such a look-alike or homophone may be a coincidence and needs evidence; in a
    two-character name, where the word is half the name or more, it does not count at all."""
    if not swapped:
        return False
    start = span[0]
    substituted = {a for a, _ in swapped}
    for k, ch in enumerate(piece):
        if ch not in substituted:
            continue
        i = start + k
        for length in (2, 3, 4):
            for a0 in range(max(0, i - length + 1), i + 1):
                if a0 + length <= len(text) and is_word(text[a0:a0 + length]):
                    return True
    return False


def _bounded(n: Normalized, limit: int) -> tuple[Normalized, int]:
    """``n`` with its views cut to ``limit`` characters of the compact name, and the length cut
    from (0 when nothing was cut)."""
    if len(n.compact) <= limit:
        return n, 0
    end, kept = 0, 0
    for end, ch in enumerate(n.spaced, start=1):  # noqa: B007 - the loop's end is the cut
        kept += ch != " "
        if kept == limit:
            break
    spaced = n.spaced[:end].rstrip(" ")
    compact = spaced.replace(" ", "")
    return Normalized(n.original, spaced, compact, skeleton(compact)), len(n.compact)


def _street_ends(text: str, at: int) -> bool:
    """Whether the street word (路, 街) ends at ``at``: the name ends there, or a number (148号) or a
    word of its own follows (大学路 | 咖啡), not the rest of a word (大学 | 街舞社, 路演)."""
    rest = text[at:]
    return not rest or rest[0].isdigit() or any(is_word(rest[:k]) for k in (2, 3, 4))


def _doubled(text: str, span: tuple[int, int]) -> bool:
    """浙大大讲堂, 西南交大大数据: the name's last character is written again and opens the next
    word. Read as one word, 大大 would swallow the name's end; but nobody writes 浙 + 大大讲堂, so the
    name is a unit of its own, and writing it out whole before a word that starts the same way says so."""
    start, end = span
    return end - start >= 2 and end + 1 < len(text) and text[end] == text[end - 1] and is_cjk(text[end + 1])


def _overlaps(span: tuple[int, int], taken: list[tuple[int, int]]) -> bool:
    return any(a < span[1] and span[0] < b for a, b in taken)


def _find_all(text: str, sub: str) -> list[int]:
    out, i = [], text.find(sub)
    while i >= 0:
        out.append(i)
        i = text.find(sub, i + 1)
    return out


def _image_problem(e: BaseException) -> str:
    """Why an avatar could not be read, in Chinese (Pillow's and the OS's messages are English)."""
    if isinstance(e, FileNotFoundError):
        return "文件不存在"
    if isinstance(e, PermissionError):
        return "无权读取该文件"
    if isinstance(e, IsADirectoryError):
        return "这是一个目录，不是图片文件"
    if isinstance(e, ValueError) and str(e).startswith("图片"):
        return str(e)
    return "不是可识别的图片"
