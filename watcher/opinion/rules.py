"""Sentiment rules people write: keyword groups in the spirit of TrendRadar's ``frequency_words.txt``.

A rules file is a list of groups. A group opens with a header line and holds one term a line::

    # 注释
    [食堂安全] 级别=critical 单位=后勤保障部
    北京理工大学          ← plain words: any of them (OR) must appear
    北理工
    +食堂|餐厅            ← a required term: each ``+`` line must match (``|`` separates alternatives)
    +/吃出.{0,4}(虫|异物)/  ← a term may be a regular expression between slashes
    !招聘                 ← an excluded term: the group does not match when it appears

So a group reads "subject AND (region|person|event) NOT stop words", the 方案 of classic 舆情
products. Groups may also be separated by blank lines without a header (TrendRadar's layout);
they are then named 规则组1, 规则组2 …. Header keys: ``级别``/``severity`` (info, warning,
critical) and ``单位``/``unit`` (the responsible unit, for routing).

Every match explains itself (which words, which required terms), and a bad file is refused with
its name and line, in Chinese.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

SEVERITIES = ("info", "warning", "critical")
SEVERITY_LABELS = {"info": "提示", "warning": "关注", "critical": "紧急"}
_KEYS = {"级别": "severity", "severity": "severity", "单位": "unit", "unit": "unit",
         "责任单位": "unit", "严重度": "severity"}
_SEVERITY_WORDS = {"提示": "info", "关注": "warning", "一般": "warning", "紧急": "critical", "严重": "critical"}
_ASCII_WORD = re.compile(r"^[A-Za-z0-9 .&'-]+$")
_HEADER = re.compile(r"^\[(?P<name>[^\[\]]+)\](?P<rest>.*)$")


class RuleError(ValueError):
    """A rules file (or text) that cannot be read: the message names the file and the line."""


def fold(text: str) -> str:
    """Full-width to half-width and lower case, so ＢＩＴ and bit are one word."""
    return unicodedata.normalize("NFKC", text or "").lower()


@dataclass(frozen=True)
class Term:
    """One word or regular expression. ASCII words only match whole words (BIT is not in
    "orbit"); Chinese words match as substrings."""

    source: str
    pattern: re.Pattern[str]

    @classmethod
    def parse(cls, text: str, where: str) -> Term:
        if len(text) >= 2 and text.startswith("/") and text.endswith("/"):
            body = text[1:-1]
            if not body:
                raise RuleError(f"{where}：正则表达式为空（写成 /表达式/）")
            try:
                return cls(text, re.compile(fold(body)))
            except re.error as e:
                raise RuleError(f"{where}：正则表达式 {text} 无效（{e.msg}，位置 {e.pos}）") from e
        if text.startswith("/"):
            raise RuleError(f"{where}：正则表达式 {text} 缺少结尾的 /")
        word = fold(text)
        if _ASCII_WORD.match(word):
            return cls(text, re.compile(rf"(?<![a-z0-9]){re.escape(word)}(?![a-z0-9])"))
        return cls(text, re.compile(re.escape(word)))

    def find(self, folded: str) -> str | None:
        m = self.pattern.search(folded)
        return m.group(0) if m else None


@dataclass(frozen=True)
class Required:
    """A ``+`` line: one of its alternatives must appear."""

    alternatives: tuple[Term, ...]

    @property
    def source(self) -> str:
        return "|".join(t.source for t in self.alternatives)


@dataclass
class RuleMatch:
    group: RuleGroup
    words: list[str]          # the plain words found (the subject)
    required: list[str]       # what satisfied each required line
    excluded: list[str] = field(default_factory=list)  # exclusions found (then not matched)

    @property
    def matched(self) -> bool:
        return bool(self.words or not self.group.words) and len(self.required) == len(self.group.required) \
            and not self.excluded

    def why_not(self) -> str:
        """Why the group did not match (for people testing their rules)."""
        missing = []
        if self.group.words and not self.words:
            missing.append("未提及任何关键词（" + "、".join(t.source for t in self.group.words[:5]) + "）")
        have = set(self.required)
        for req in self.group.required:
            if not any(t.source in have for t in req.alternatives):
                missing.append(f"缺少必含词 +{req.source}")
        if self.excluded:
            missing.append("含排除词" + "、".join(f"「{w}」" for w in self.excluded))
        return f"规则组「{self.group.name}」未命中：" + "；".join(missing)

    def reason(self) -> str:
        parts = []
        if self.words:
            parts.append("提及" + "、".join(f"「{w}」" for w in self.words))
        if self.required:
            parts.append("且含" + "、".join(f"「{w}」" for w in self.required))
        if self.excluded:
            parts.append("但含排除词" + "、".join(f"「{w}」" for w in self.excluded))
        return f"规则组「{self.group.name}」：" + "，".join(parts)


@dataclass
class RuleGroup:
    name: str
    severity: str = "warning"
    unit: str | None = None
    words: list[Term] = field(default_factory=list)
    required: list[Required] = field(default_factory=list)
    excluded: list[Term] = field(default_factory=list)
    line: int = 0

    def match(self, text: str) -> RuleMatch:
        folded = fold(text)
        words: list[str] = []
        spans: list[tuple[int, int]] = []
        # Longer words first: 北京理工大学 already covers 北理 inside it, one mention not two.
        for term in sorted(self.words, key=lambda t: len(t.source), reverse=True):
            m = term.pattern.search(folded)
            if m and not any(a <= m.start() < b for a, b in spans):
                words.append(term.source)
                spans.append(m.span())
        required = []
        for req in self.required:
            hit = next((t.source for t in req.alternatives if t.find(folded) is not None), None)
            if hit is not None:
                required.append(hit)
        excluded = [t.source for t in self.excluded if t.find(folded) is not None]
        return RuleMatch(self, words, required, excluded)


@dataclass
class RuleSet:
    groups: list[RuleGroup]
    source: str = "默认规则"

    def matches(self, text: str) -> list[RuleMatch]:
        return [m for m in (g.match(text) for g in self.groups) if m.matched]

    def explain(self, text: str) -> list[RuleMatch]:
        """Every group's verdict, matched or not (for ``watcher sentiment test``)."""
        return [g.match(text) for g in self.groups]


def default_rules(full: list[str], short: list[str], english: list[str]) -> RuleSet:
    """One group from the school's names: any mention of the school."""
    group = RuleGroup(name="本校提及", severity="warning")
    for i, name in enumerate(dict.fromkeys([*full, *short, *english])):
        group.words.append(Term.parse(name, f"学校名称第 {i + 1} 项"))
    return RuleSet([group], source="默认规则（学校名称）")


def parse_rules(text: str, source: str = "<规则>") -> RuleSet:
    groups: list[RuleGroup] = []
    current: RuleGroup | None = None
    unnamed = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        where = f"{source} 第 {number} 行"
        line = raw.strip()
        if not line or line.startswith("#"):
            if not line and current is not None and current.line < 0:
                current = None  # a blank line ends a headerless group (TrendRadar's layout)
            continue
        header = _HEADER.match(line)
        if header:
            current = _header(header, where, number)
            groups.append(current)
            continue
        if line.startswith("["):
            raise RuleError(f"{where}：组标题应写成 [组名] 级别=warning 单位=宣传部，缺少 ]")
        if current is None:
            unnamed += 1
            current = RuleGroup(name=f"规则组{unnamed}", line=-number)
            groups.append(current)
        _term_line(current, line, where)
    if not groups:
        raise RuleError(f"{source}：没有任何规则组（每组以 [组名] 开头，一行一个词）")
    for g in groups:
        if not g.words and not g.required:
            at = f"第 {abs(g.line)} 行" if g.line else ""
            raise RuleError(f"{source} {at}：规则组「{g.name}」没有关键词（至少一个普通词或 +必含词；"
                            "只有 !排除词 的组什么也不会命中）")
    names = [g.name for g in groups]
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup:
        raise RuleError(f"{source}：规则组名「{dup}」重复，每组的名称应唯一")
    return RuleSet(groups, source=source)


def load_rules(path: Path) -> RuleSet:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RuleError(f"规则文件不存在：{path}") from None
    except UnicodeDecodeError as e:
        raise RuleError(f"{path}：不是 UTF-8 文本（第 {e.start} 字节），请另存为 UTF-8") from None
    return parse_rules(text, str(path))


def _header(m: re.Match[str], where: str, number: int) -> RuleGroup:
    name = m.group("name").strip()
    if not name:
        raise RuleError(f"{where}：组名为空")
    group = RuleGroup(name=name, line=number)
    for token in m.group("rest").split():
        key, sep, value = token.partition("=")
        if not sep or not value:
            raise RuleError(f"{where}：无法理解「{token}」，应写成 键=值（级别=warning、单位=宣传部）")
        field_name = _KEYS.get(key.strip().lower())
        if field_name is None:
            raise RuleError(f"{where}：未知的设置「{key}」，可用：级别（severity）、单位（unit）")
        if field_name == "severity":
            sev = _SEVERITY_WORDS.get(value, value.lower())
            if sev not in SEVERITIES:
                raise RuleError(f"{where}：级别「{value}」无效，可填 info/warning/critical（提示/关注/紧急）")
            group.severity = sev
        else:
            group.unit = value
    return group


def _term_line(group: RuleGroup, line: str, where: str) -> None:
    if line.startswith("+"):
        body = line[1:].strip()
        alternatives = _split_alternatives(body)
        if not body or not all(alternatives):
            raise RuleError(f"{where}：+ 后应有必含词（如 +食堂 或 +食堂|餐厅）")
        group.required.append(Required(tuple(Term.parse(a, where) for a in alternatives)))
    elif line.startswith("!"):
        body = line[1:].strip()
        if not body:
            raise RuleError(f"{where}：! 后应有排除词（如 !招聘）")
        group.excluded.append(Term.parse(body, where))
    else:
        group.words.append(Term.parse(line, where))


def _split_alternatives(body: str) -> list[str]:
    """``a|b|/x|y/``: bars inside a /regex/ belong to the regex."""
    if body.startswith("/") and body.endswith("/") and body.count("/") == 2:
        return [body]
    out, buf, in_regex = [], "", False
    for ch in body:
        if ch == "/" and (not buf or in_regex):
            in_regex = not in_regex
        if ch == "|" and not in_regex:
            out.append(buf.strip())
            buf = ""
            continue
        buf += ch
    out.append(buf.strip())
    return out
