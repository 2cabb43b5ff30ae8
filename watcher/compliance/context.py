"""When a wrong form in a post is not an error: it is quoted, corrected, or history.

Official accounts write the wrong form on purpose when they correct it (「更正：……“北京理工大字”
应为“北京理工大学”」), quote it (「所谓“国内第一”」), or tell the school's history (「前身为
1940年创建的延安自然科学院」, 「原北京工业学院」, 「时任副校长」). Each is judged on the
sentence that holds the match, never the whole post: a correction does not excuse an
advertisement appended to it.
"""

from __future__ import annotations

import re

# Not 【】: on Weibo they frame a headline, which asserts what it says.
OPEN_QUOTES = "「“\"‘'『《〈"
CLOSE_QUOTES = "」”\"’'』》〉"
_SENTENCE_END = re.compile(r"[。！？!?；;\n]")

# Words that make a sentence a correction of what it quotes.
CORRECTION = re.compile(r"更正|勘误|订正|纠正|应为|误写|误作|误为|误发|误将|有误|笔误|致歉|正确(?:写法|名称|表述)")
# Words that place a name or a title in the past.
HISTORY = re.compile(r"前身|原名|原称|曾用名|曾名|旧称|时称|前称|更名|改名|易名|定名|改称|创建|创办|始建|组建|建校|"
                     r"合并|并入|校史|历史|当时|时任|曾任|历任|原任|溯源|追溯|沿革")
# A year the school's old names were current in (the last rename of a Chinese university
# that keeps its name today is rarely later than 2000).
OLD_YEAR = re.compile(r"(?<!\d)(1[89]\d\d|2000)\s*年")
# Right before a name or title: 原北京工业学院, 前校长, 时任副校长.
PAST_PREFIX = ("原", "前", "时任", "曾任", "原任")


SENTENCE_REACH = 200  # characters looked at either side: a long text costs no more per match


def sentence(text: str, start: int, end: int) -> str:
    """The sentence of ``text`` holding [start, end), at most :data:`SENTENCE_REACH` characters
    either side of it."""
    lo = max(0, start - SENTENCE_REACH)
    left = max((m.end() for m in _SENTENCE_END.finditer(text, lo, start)), default=lo)
    right = _SENTENCE_END.search(text, end, end + SENTENCE_REACH)
    return text[left:right.start() if right else min(len(text), end + SENTENCE_REACH)]


def quoted(text: str, start: int, end: int) -> bool:
    """The match sits inside quotation marks or brackets that hold little else (「…」, “…”,
    《…》): quoted, not asserted."""
    before, after = text[max(0, start - 3):start], text[end:end + 3]
    opens = [i for i, c in enumerate(before) if c in OPEN_QUOTES]
    closes = [i for i, c in enumerate(after) if c in CLOSE_QUOTES]
    return bool(opens) and bool(closes)


def corrected(text: str, start: int, end: int) -> bool:
    return bool(CORRECTION.search(sentence(text, start, end)))


def historical(text: str, start: int, end: int) -> bool:
    s = sentence(text, start, end)
    if HISTORY.search(s) or OLD_YEAR.search(s):
        return True
    head = text[max(0, start - 3):start]
    return any(head.endswith(p) for p in PAST_PREFIX) or head.endswith(("（原", "(原"))


def excused(text: str, start: int, end: int) -> str | None:
    """Why the match is not an error (quoted or corrected), or None."""
    if quoted(text, start, end):
        return "引用"
    if corrected(text, start, end):
        return "更正"
    return None
