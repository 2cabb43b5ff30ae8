"""错敏检查: what is wrong in one post's text, each problem with its passage and a reason.

Checks, all from the config (``school.names``, ``compliance``):

* ``school_name`` — the school's full name a character off (a homophone or a look-alike, as an
  input method or OCR makes them: 北京理工大字, 北京里工大学) or two characters swapped; an old
  name (``school.names.historical``) used as the current one; the English name misspelt; a
  configured wrong form (``compliance.wrong_names``);
* ``leader`` — a listed person given an outdated title (副校长张军 when he is 校长), or a name a
  character off next to one of the person's titles (校长张君);
* ``word_list`` — a word of a configured sensitive-word / forbidden-phrase list (its name cited);
* ``advertising`` — commercial advertising (加微信, 扫码购买, 代购, 优惠券 …), one finding a line;
* ``link`` — a link to a host outside the allowed ones (never fetched: only its host is read).

Tuned for few false alarms: another institution's name (``school.others``) is not a misspelling,
an unrelated character is not a typo (北京化工大学 is another school), and a wrong form that is
quoted or corrected, or an old name or title in a sentence about history, is not an error
(:mod:`watcher.compliance.context`). Texts are platform data: only the first
:data:`MAX_TEXT` characters are read, and nothing in them is ever fetched.
"""

from __future__ import annotations

import bisect
import json
import re
import urllib.parse
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from rapidfuzz.distance import Levenshtein

from spiders import catalog
from watcher.compliance import context
from watcher.config import Config
from watcher.matching.confusables import skeleton
from watcher.matching.terms import syllable

MAX_TEXT = 20_000
CONTEXT_CHARS = 15  # shown either side of a passage

CHECK_LABELS = {"school_name": "校名有误", "leader": "领导姓名或职务有误", "word_list": "含敏感词或禁用语",
                "advertising": "疑似商业广告", "link": "链接到非许可网站"}

# Advertising as Chinese posts word it. 优惠 alone is not here: 学费优惠政策 and 优惠待遇 are
# ordinary news; 优惠券, 限时优惠 and 优惠价 are selling.
AD_PATTERNS = (
    r"加(?:我|个)?(?:微信|威信|薇信|V信|v信|VX|vx|Vx|WX|wx|微)(?![博号公])",
    r"(?:微信|VX|vx|wx|WX|V信)(?:号)?\s*[:：]\s*[A-Za-z][-_A-Za-z0-9]{5,19}",
    r"(?:扫码|扫描二维码|长按识别二维码|识别二维码)\s*(?:购买|下单|抢购|领取优惠|咨询购买|进群购买)",
    r"代购|代写|代考|刷单|返利|返现|优惠券|优惠码|优惠价|限时优惠|限时特价|秒杀价|包邮|拼团|下单链接|购买链接|点击购买|私信下单",
    r"(?:淘宝|天猫|京东|拼多多|微店)(?:店铺|小店|旗舰店)?\s*(?:搜索|下单|购买|链接)",
)

# Short links of the platforms (t.cn on Weibo, b23.tv on Bilibili …): where they lead cannot be
# seen without fetching them, which we never do, so they are not reported.
SHORT_LINK_HOSTS = ("t.cn", "b23.tv", "v.douyin.com", "xhslink.com", "url.cn", "v.kuaishou.com")
PLATFORM_DOMAINS = ("weibo.com", "weibo.cn", "sina.com.cn", "sinaimg.cn", "bilibili.com", "hdslb.com", "qq.com",
                    "douyin.com", "kuaishou.com", "xiaohongshu.com", "zhihu.com", "toutiao.com", "baidu.com")
_URL = re.compile(r"(?i)\bhttps?://[^\s<>\"'`，。；！？、「」（）【】]+|\bwww\.[a-z0-9-]+(?:\.[a-z0-9-]+)+[^\s<>\"'`，。；！？、「」（）【】]*")
_HREF = re.compile(r"""(?i)href\s*=\s*["']([^"']{1,2000})["']""")
_LATIN_WORD = re.compile(r"[A-Za-z]+")


@dataclass(frozen=True)
class Issue:
    check: str
    passage: str
    reason: str
    start: int = -1  # where in the text; -1: not in the text (a link in the platform's record)
    end: int = -1

    def surroundings(self, text: str) -> tuple[str, str]:
        if self.start < 0:
            return "", ""
        before = text[max(0, self.start - CONTEXT_CHARS):self.start].replace("\n", " ")
        after = text[self.end:self.end + CONTEXT_CHARS].replace("\n", " ")
        return before, after


def is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


def similar(a: str, b: str) -> bool:
    """Characters a typist or OCR confuses: read alike (tones aside) or shaped alike."""
    return a == b or syllable(a) == syllable(b) or skeleton(a) == skeleton(b)


def one_off(word: str, name: str) -> bool:
    """``word`` is ``name`` with one character replaced by a similar one, or two neighbours swapped."""
    if len(word) != len(name) or word == name:
        return False
    diff = [i for i, (a, b) in enumerate(zip(word, name, strict=True)) if a != b]
    if len(diff) == 1:
        return similar(word[diff[0]], name[diff[0]])
    return (len(diff) == 2 and diff[1] == diff[0] + 1
            and word[diff[0]] == name[diff[1]] and word[diff[1]] == name[diff[0]])


def _find_all(text: str, needle: str) -> Iterator[int]:
    i = text.find(needle)
    while i >= 0:
        yield i
        i = text.find(needle, i + 1)


def _covered(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(s <= start and end <= e for s, e in spans)


def _overlaps(spans: Iterable[tuple[int, int]], start: int, end: int) -> bool:
    return any(s < end and start < e for s, e in spans)


def _host_allowed(host: str, allowed: Iterable[str]) -> bool:
    return any(host == h or host.endswith("." + h) for h in allowed)


class Checker:
    """The checks of one config, compiled once (a watch round checks many posts)."""

    def __init__(self, cfg: Config) -> None:
        names, comp = cfg.school.names, cfg.compliance
        self.current = names.full[0]
        self.full = [n for n in names.full if len(n) >= 4 and all(is_cjk(c) for c in n)]
        self.historical = [h for h in names.historical if h not in names.full]
        self.english = [e for e in names.english if len(e.split()) >= 2]
        # Right names, ours and others': never a misspelling of ours.
        self.known = sorted({*names.full, *names.short, *names.historical, *names.marks, *cfg.school.others,
                             *cfg.school.allow}, key=len, reverse=True)
        self.known_lower = {k.lower() for k in self.known}
        self.wrong_names = list(comp.wrong_names)
        self.leaders = comp.leaders
        self.titles = sorted({t for p in comp.leaders for t in (p.title, *p.outdated_titles)}, key=len, reverse=True)
        self.person_names = {p.name for p in comp.leaders}
        self.word_lists = [(wl.name, re.compile("|".join(re.escape(w) for w in sorted(wl.words, key=len, reverse=True))))
                           for wl in comp.word_lists]
        self.ads = [re.compile(p) for p in (*AD_PATTERNS, *comp.ad_patterns)]
        allowed = {*comp.allowed_hosts, *PLATFORM_DOMAINS, *SHORT_LINK_HOSTS}
        for p in catalog.all_platforms():
            allowed.update(h for h in (urllib.parse.urlsplit(u).hostname for u in p.base_urls.values()) if h)
        for name, pc in cfg.platforms.items():
            urls = [*pc.urls(name).values(), *(site.get("url", "") for site in pc.sites)]
            allowed.update(h for h in (urllib.parse.urlsplit(u).hostname for u in urls) if h)
        self.allowed_hosts = {h.lower() for h in allowed}

    # -- the whole post ------------------------------------------------------------------------

    def check(self, text: str | None, raw: dict[str, Any] | None = None) -> list[Issue]:
        text = (text or "")[:MAX_TEXT]
        issues: list[Issue] = []
        for found in (self._school(text), self._leaders(text), self._words(text), self._ads(text),
                      self._links(text, raw or {})):
            issues += found
        seen, out = set(), []
        for i in issues:
            if (i.check, i.passage) not in seen:
                seen.add((i.check, i.passage))
                out.append(i)
        return out

    # -- the school's names --------------------------------------------------------------------

    def _school(self, text: str) -> list[Issue]:
        known_spans = [(i, i + len(k)) for k in self.known for i in _find_all(text, k)]
        issues: list[Issue] = []
        taken: list[tuple[int, int]] = []

        reported: set[str] = set()

        def add(start: int, end: int, reason: str) -> None:
            if text[start:end] in reported or _overlaps(taken, start, end) or context.excused(text, start, end):
                return
            reported.add(text[start:end])  # one finding per wrong form: the first place is enough to show
            taken.append((start, end))
            issues.append(Issue("school_name", text[start:end], reason, start, end))

        lowered = text.lower()
        for wrong in self.wrong_names:
            for i in _find_all(lowered if wrong.isascii() else text, wrong.lower() if wrong.isascii() else wrong):
                add(i, i + len(wrong), f"校名写法错误：「{text[i:i + len(wrong)]}」是已知的错误写法（现名「{self.current}」）")
        for name in self.full:
            n = len(name)
            for i in range(len(text) - n + 1):
                word = text[i:i + n]
                if word[0] != name[0] and word[-1] != name[-1] and word[1] != name[1]:
                    continue  # cheap: a typo keeps most of the name in place
                if word in self.known or not all(is_cjk(c) for c in word) or not one_off(word, name):
                    continue
                if _covered(known_spans, i, i + n):
                    continue
                add(i, i + n, f"校名疑似写错：「{word}」应为「{name}」")
        for old in self.historical:
            longer = [s for s in known_spans if s[1] - s[0] > len(old)]
            for i in _find_all(text, old):
                end = i + len(old)
                if _covered(longer, i, end):
                    continue  # part of a longer right name
                if context.historical(text, i, end):
                    continue
                add(i, end, f"使用了旧校名「{old}」作为现名（现名「{self.current}」；叙述校史时请注明“原”“前身”等）")
        for english in self.english:
            self._english(text, english, add)
        return issues

    def _english(self, text: str, name: str, add: Any) -> None:
        words = list(_LATIN_WORD.finditer(text))
        target = " ".join(name.lower().split())
        n = len(name.split())
        limit = max(1, len(target) // 10)
        exact = [(m.start(), m.end()) for m in re.finditer(re.escape(name), text, re.I)]
        for size in (n - 1, n, n + 1):
            for i in range(len(words) - size + 1):
                start, end = words[i].start(), words[i + size - 1].end()
                if _overlaps(exact, start, end):
                    continue
                if re.search(r"[^A-Za-z\s&.-]", text[start:end]):
                    continue  # the words must run together as one name
                candidate = " ".join(m.group().lower() for m in words[i:i + size])
                if candidate in self.known_lower or candidate[0] != target[0]:
                    continue
                d = Levenshtein.distance(candidate, target, score_cutoff=limit)
                if 0 < d <= limit:
                    add(start, end, f"英文校名拼写有误：「{text[start:end]}」应为「{name}」")

    # -- people --------------------------------------------------------------------------------

    def _title_before(self, text: str, start: int) -> tuple[str, int] | None:
        head = text[max(0, start - 12):start].rstrip(" ·•")
        for t in self.titles:  # longest first: 副校长 before 校长
            if head.endswith(t):
                return t, start - (len(text[max(0, start - 12):start]) - len(head)) - len(t)
        return None

    def _title_after(self, text: str, end: int) -> tuple[str, int] | None:
        tail = text[end:end + 12]
        stripped = tail.lstrip(" ")
        for t in self.titles:
            if stripped.startswith(t):
                return t, end + (len(tail) - len(stripped)) + len(t)
        return None

    def _leaders(self, text: str) -> list[Issue]:
        issues: list[Issue] = []
        for p in self.leaders:
            for s in _find_all(text, p.name):
                e = s + len(p.name)
                before, after = self._title_before(text, s), self._title_after(text, e)
                used, start, end = (before[0], before[1], e) if before else (after[0], s, after[1]) if after else (None, s, e)
                if used is None or used == p.title or used not in p.outdated_titles:
                    continue
                if context.historical(text, start, end) or context.excused(text, start, end):
                    continue
                issues.append(Issue("leader", text[start:end],
                                    f"职务已变更：「{p.name}」现任「{p.title}」，文中称「{used}」", start, end))
            for title in (p.title, *p.outdated_titles):
                issues += self._name_near(text, p.name, title)
        return issues

    def _name_near(self, text: str, name: str, title: str) -> list[Issue]:
        """Names a character off right after (or before) one of the person's titles."""
        n, issues = len(name), []
        for a in _find_all(text, title):
            b = a + len(title)
            if any(text[max(0, b - len(t)):b] == t and len(t) > len(title) for t in self.titles):
                continue  # 校长 inside 副校长: that is the longer title's business
            for start, end in ((b, b + n), (a - n, a)):
                if start < 0 or end > len(text):
                    continue
                word = text[start:end]
                if word in self.person_names or not all(is_cjk(c) for c in word) or not one_off(word, name):
                    continue
                lo, hi = min(a, start), max(b, end)
                if context.excused(text, lo, hi):
                    continue
                issues.append(Issue("leader", text[lo:hi], f"姓名疑似写错：「{word}」应为「{name}」（{title}）",
                                    lo, hi))
        return issues

    # -- word lists, advertising, links ---------------------------------------------------------

    def _words(self, text: str) -> list[Issue]:
        issues = []
        for list_name, pattern in self.word_lists:
            for m in pattern.finditer(text):
                if not context.excused(text, m.start(), m.end()):
                    issues.append(Issue("word_list", m.group(), f"命中「{list_name}」：「{m.group()}」",
                                        m.start(), m.end()))
        return issues

    def _ads(self, text: str) -> list[Issue]:
        """One issue a line: an advertisement often says 加微信 and 扫码购买 in the same breath."""
        breaks = [m.start() for m in re.finditer(r"[\n。！？!?]", text)]
        by_line: dict[int, list[re.Match[str]]] = {}
        for pattern in self.ads:
            for m in pattern.finditer(text):
                by_line.setdefault(bisect.bisect_left(breaks, m.start()), []).append(m)
        issues = []
        for matches in by_line.values():
            start, end = min(m.start() for m in matches), max(m.end() for m in matches)
            if end - start > 80:
                end = start + 80
            if context.corrected(text, start, end):
                continue
            words = "、".join(dict.fromkeys(f"「{m.group()}」" for m in sorted(matches, key=lambda m: m.start())))
            issues.append(Issue("advertising", text[start:end], f"疑似商业广告：{words}", start, end))
        return issues

    def _links(self, text: str, raw: dict[str, Any]) -> list[Issue]:
        issues = []
        for url, start, end in self.urls(text, raw):
            host = _host(url)
            if host is None or _host_allowed(host, self.allowed_hosts):
                continue
            issues.append(Issue("link", url[:200], f"链接到非许可网站：{host}（许可的网站见配置 compliance.allowed_hosts）",
                                start, end if start >= 0 else -1))
        return issues

    @staticmethod
    def urls(text: str, raw: dict[str, Any]) -> Iterator[tuple[str, int, int]]:
        for m in _URL.finditer(text):
            yield _unwrap(m.group().rstrip(".,;:!?）)")), m.start(), m.end()
        # Weibo's text hides links behind "网页链接": the target is in the record's HTML and
        # its url_struct (never fetched, only read).
        html = raw.get("text") if isinstance(raw.get("text"), str) else ""
        for m in _HREF.finditer(html[:MAX_TEXT]):
            yield _unwrap(m.group(1)), -1, -1
        for item in raw.get("url_struct") or []:
            if isinstance(item, dict):
                for key in ("long_url", "ori_url"):
                    if isinstance(item.get(key), str):
                        yield _unwrap(item[key]), -1, -1


def _unwrap(url: str) -> str:
    """A platform's redirector (weibo.cn/sinaurl?u=, link.zhihu.com/?target=) → where it points."""
    try:
        parts = urllib.parse.urlsplit(url if "://" in url else "http://" + url)
    except ValueError:
        return url
    query = urllib.parse.parse_qs(parts.query)
    for key in ("u", "target", "url"):
        inner = query.get(key)
        if inner and inner[0].startswith(("http://", "https://")) and (parts.hostname or "").endswith(
                ("weibo.cn", "weibo.com", "zhihu.com")):
            return inner[0]
    return url


def _host(url: str) -> str | None:
    try:
        host = urllib.parse.urlsplit(url if "://" in url else "http://" + url).hostname
    except ValueError:
        return None
    return host.lower() if host else None


def raw_record(raw: str | dict[str, Any] | None) -> dict[str, Any]:
    """The platform's stored record as a dict (JSON text, bounded); {} when it is not one."""
    if isinstance(raw, dict):
        return raw
    if not raw or len(raw) > 2_000_000:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
