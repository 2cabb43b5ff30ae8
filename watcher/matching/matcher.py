"""Verdicts for discovered accounts: registered, suspect or clear, with a score and reasons.

Order of judgement (each step explains itself in the reasons):

1. registered — (platform, account_id) is an active registry row. Never by name.
2. allow-list — a name a reviewer already judged not to be impersonation.
3. other institutions' names are masked out (哈尔滨工程大学 is not 哈尔滨工业大学).
4. protected terms in the name: exact, after normalisation, by look-alike skeleton, by homophone,
   as pinyin/initials, as an English name or its truncation. Short terms count only on a word
   boundary; short Latin terms (BIT, HIT — also English words) need corroboration.
5. copies of registered names under another ID, a closed account still in use, a platform where
   the school has no registered account, office vs community words, claims in the bio, the emblem
   as avatar.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz, process

from watcher.config import PLATFORM_LABELS, Config
from watcher.matching import context
from watcher.matching.lexicon import is_word
from watcher.matching.logo import LogoMatcher
from watcher.matching.normalize import Normalized, is_cjk, normalize, normalize_batch
from watcher.matching.prefilter import REGISTRY_CUTOFF, Prefilter
from watcher.matching.terms import (
    BASE_SCORES,
    CompiledTerms,
    SchoolTerms,
    Term,
    compile_terms,
    latin_runs,
    syllable,
)

ALGO = "match-v1"
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


@dataclass
class _Hit:
    term: Term
    how: str           # 精确 | 形近字/混淆字符 | 谐音 | 拼音 | 英文 | …
    score: int
    span: tuple[int, int] | None = None


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
        self.others = sorted({n.compact for n in map(normalize, others) if n.compact}, key=len, reverse=True)
        self.others_skeleton = [normalize(o).skeleton for o in self.others]
        self.allow = {normalize(a).compact for a in allow if normalize(a).compact}
        self.logos = LogoMatcher(list(logos), logo_max_distance) if logos else None
        self.prefilter = Prefilter(self.terms, self._registry_compacts, self.others_skeleton)
        self._homophone_res = self.prefilter.homophone_patterns()
        self._others_re = re.compile("|".join(map(re.escape, self.others_skeleton))) if self.others else None
        unit_forms = sorted({f for _, forms in self.units for f in forms if len(f) >= 2}, key=len, reverse=True)
        self._units_re = re.compile("|".join(map(re.escape, unit_forms))) if unit_forms else None
        forms = sorted(self.terms.ascii_long, key=len, reverse=True)
        self._latin_re = re.compile("|".join(map(re.escape, forms))) if forms else None

    @classmethod
    def from_config(cls, cfg: Config, registry_rows: Iterable[dict[str, Any]],
                    name_rules: Iterable[dict[str, Any]] = ()) -> Matcher:
        rules = list(name_rules)
        n = cfg.school.names
        return cls(
            SchoolTerms(cfg.school.name, list(n.full), list(n.short), list(n.english),
                        list(n.historical), list(n.marks)),
            registry=registry_rows,
            units=[(u.name, u.aliases) for u in cfg.units],
            others=[*cfg.school.others, *(r["name"] for r in rules if r["kind"] == "other")],
            allow=[*cfg.school.allow, *(r["name"] for r in rules if r["kind"] == "allow")],
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
        flagged = self.prefilter.terms(names) | self.prefilter.terms(bios) | near
        allow, closed = self.allow, self.closed
        for j, (i, c, key) in enumerate(todo):
            if j in flagged or c.avatar is not None or key in closed or (allow and names.compact[j] in allow):
                results[i] = self._analyse(c, key, names.item(j), bios.item(j) if c.bio else None, j in near)
        return results

    def _analyse(self, c: Candidate, key: tuple[str, str], name: Normalized, bio: Normalized | None,
                 near_registry: bool = True) -> MatchResult:
        if name.compact and name.compact in self.allow:
            return MatchResult("clear", 0, reasons=("名称已在白名单中（复核认定非仿冒）",))
        masked, other_hits = self._mask_others(name)
        reasons: list[str] = []
        if other_hits:
            reasons.append("名称中的「" + "、".join(other_hits) + "」是他校/他机构名称，不计为本校")
        hits = self._name_hits(masked)
        bio_hits = self._name_hits(self._mask_others(bio)[0], for_bio=True) if bio else []
        hits = self._corroborate(hits, masked, bio_hits)

        score = max((h.score for h in hits), default=0)
        matched = max(hits, key=lambda h: h.score).term.text if hits else None
        for h in sorted(hits, key=lambda h: -h.score)[:3]:
            reasons.append(f"名称含本校{h.term.label}「{h.term.text}」（{h.how}）")

        unit = self._unit(masked.compact) if hits else None

        # Masking only removes characters, so a name not near a registered one unmasked is not
        # near one masked either; the prefilter already knows which names are.
        copy = self._registry_copy(masked) if near_registry else None
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

        if bio is not None and not hits:
            claims = context.find_words(bio.compact, context.CLAIM_WORDS)
            facts = context.find_words(bio.compact, context.FACTUAL_WORDS)
            if bio_hits and claims:
                score = max(score, 65 + (5 if office else 0))
                matched = matched or bio_hits[0].term.text
                reasons.append(f"简介提及「{bio_hits[0].term.text}」并声称「{'、'.join(claims[:2])}」")
            elif bio_hits and facts:
                reasons.append(f"简介仅为事实性提及（{'、'.join(facts[:2])}），不计为仿冒")

        if score and c.platform not in self.platforms_with_accounts and copy is None and closed is None:
            reasons.append(f"本校在{_plabel(c.platform)}没有备案账号")

        if c.avatar is not None and self.logos:
            try:
                logo = self.logos.match(c.avatar)
            except (OSError, ValueError) as e:
                logo = None
                reasons.append(f"头像无法读取：{e}")
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
        if self._others_re is None or not self._others_re.search(n.skeleton):
            return n, []
        compact, skel, spaced = n.compact, n.skeleton, n.spaced
        found = []
        for other, other_skel in zip(self.others, self.others_skeleton, strict=True):
            idx = skel.find(other_skel)
            if idx >= 0:
                found.append(other)
                compact = compact[:idx] + MASK * len(other) + compact[idx + len(other):]
                skel = skel[:idx] + MASK * len(other) + skel[idx + len(other):]
                spaced = spaced.replace(other, MASK) if other in spaced else spaced
        if not found:
            return n, []
        return Normalized(n.original, spaced, compact, skel), found

    def _name_hits(self, n: Normalized, *, for_bio: bool = False) -> list[_Hit]:
        hits: list[_Hit] = []
        taken: list[tuple[int, int]] = []
        for term in self.terms.cjk:
            # Only terms present in some form get the full search: their skeleton in the
            # name's skeleton, or (for homophones) their syllables in a row.
            if term.skeleton in n.skeleton:
                h = self._cjk_hit(term, n, taken)
            elif term.compact in self._homophone_res and self._homophone_res[term.compact].search(n.compact):
                h = self._homophone(term, n, BASE_SCORES[term.category])
            else:
                continue
            if h:
                hits.append(h)
                if h.span:
                    taken.append(h.span)
        hits += self._latin_hits(n)
        if for_bio:
            # In a bio only distinctive terms count: a two-character abbreviation is too likely
            # to be a coincidence in free text.
            hits = [h for h in hits if not (h.term.short and len(h.term.compact) <= 2)]
        return hits

    def _cjk_hit(self, term: Term, n: Normalized, taken: list[tuple[int, int]]) -> _Hit | None:
        base = BASE_SCORES[term.category]
        length = len(term.compact)
        for text, how, penalty in ((n.compact, "精确", 0), (n.skeleton, "形近字/混淆字符", 0)):
            if how != "精确" and length < 3:
                continue  # look-alike folding of two characters matches too much by chance
            start = text.find(term.compact if how == "精确" else term.skeleton)
            while start >= 0:
                span = (start, start + length)
                free = not any(a <= start < b or a < span[1] <= b for a, b in taken)
                if free and (not term.short or self._on_boundary(n.compact, span, length)):
                    if how != "精确" and n.compact[span[0]:span[1]] == term.compact:
                        how = "精确"
                    return _Hit(term, how, base - penalty, span)
                start = text.find(term.compact if how == "精确" else term.skeleton, start + 1)
        if length >= 3 and all(is_cjk(ch) for ch in term.compact):
            return self._homophone(term, n, base)
        return None

    @staticmethod
    def _on_boundary(text: str, span: tuple[int, int], length: int) -> bool:
        """A short term is there only if its ends are not glued into ordinary words: in
        东北理疗馆 the 北 of 北理 belongs to 东北; in 南京工业大学 the 京 of 京工 to 南京."""
        start, end = span
        if start > 0 and is_cjk(text[start - 1]) and is_word(text[start - 1] + text[start]):
            return False
        # Three-character abbreviations end where a suffix usually starts (哈工大 + 学生会), so
        # only two-character terms are checked on the right as well.
        return not (length <= 2 and end < len(text) and is_cjk(text[end]) and is_word(text[end - 1] + text[end]))

    def _homophone(self, term: Term, n: Normalized, base: int) -> _Hit | None:
        text = n.compact
        length = len(term.compact)
        need = math.ceil(length / 2)
        if len(text) < length or len(set(text) & set(term.compact)) < need:
            return None
        sylls = [syllable(ch) for ch in text]
        for i in range(len(text) - length + 1):
            if tuple(sylls[i:i + length]) == term.syllables:
                same = sum(a == b for a, b in zip(text[i:i + length], term.compact, strict=True))
                if same >= need:
                    swapped = "、".join(f"{a}→{b}" for a, b in zip(text[i:i + length], term.compact, strict=True) if a != b)
                    return _Hit(term, f"谐音：{swapped}", base - 5, (i, i + length))
        return None

    def _latin_hits(self, n: Normalized) -> list[_Hit]:
        runs = latin_runs(n.spaced)
        if not runs:
            return []
        hits: list[_Hit] = []
        tokens = [t for run in runs for t in run.split()]
        token_set = set(tokens)
        for term in self.terms.ascii_short:
            if term.compact in token_set:
                hits.append(_Hit(term, "完整单词", BASE_SCORES.get(term.category, 70)))
        for form, term in self.terms.ascii_tokens.items():
            if form in token_set:
                hits.append(_Hit(term, f"拼音首字母 {form}", BASE_SCORES["initials"] - 10))
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
            hits.append(_Hit(term, f"{term.label} {form}", BASE_SCORES[term.category]))
        for eng in self.terms.english:
            how = self._english(eng, tokens, glued)
            if how:
                hits.append(_Hit(Term(eng.text, "english", eng.compact, eng.compact, True), how, BASE_SCORES["english"]))
        return hits

    @staticmethod
    def _english(eng: Any, tokens: list[str], glued: list[str]) -> str | None:
        if any(eng.compact in g for g in glued):
            return "完整英文名"
        sig = [t for t in tokens if t not in ("of", "the", "and", "for", "at", "in")]
        k = len(eng.words)
        for i in range(len(sig) - k + 1):
            window = sig[i:i + k]
            if window[0] == eng.words[0] and all(
                w.startswith(t) and (len(t) >= 3 or t == w) for t, w in zip(window, eng.words, strict=True)
            ):
                return "英文名（含缩写/截断）"
        return None

    def _corroborate(self, hits: list[_Hit], n: Normalized, bio_hits: list[_Hit]) -> list[_Hit]:
        """Short Latin terms (BIT, HIT) and three-letter initials are ordinary words too; they
        count only when the name is exactly the term, or something else points at a school."""
        weak = [h for h in hits if h.term.is_ascii and (h.term.short or h.term.category == "initials")
                and h.term.category != "pinyin"]
        if not weak:
            return hits
        strong = [h for h in hits if h not in weak]
        bare = n.compact in {h.term.compact for h in weak}
        school_context = context.find_words(n.compact, context.SCHOOL_CONTEXT)
        if bare or strong or school_context or bio_hits:
            why = ("名称即为该缩写" if bare else "同时含其他校名" if strong
                   else f"且含「{school_context[0]}」" if school_context else "且简介提及本校")
            for h in weak:
                h.how = f"{h.how}，{why}"
            return hits
        return strong

    def _unit(self, compact: str) -> str | None:
        if self._units_re is None or not self._units_re.search(compact):
            return None
        for unit_name, forms in self.units:
            if any(f in compact for f in forms if len(f) >= 2):
                return unit_name
        return None

    def _registry_copy(self, name: Normalized) -> tuple[dict[str, Any], float] | None:
        if not self._registry_compacts or not name.compact:
            return None
        best = process.extractOne(name.compact, self._registry_compacts, scorer=fuzz.ratio, score_cutoff=REGISTRY_CUTOFF)
        if best is None:
            return None
        return self.registry_names[best[2]].row, best[1]
