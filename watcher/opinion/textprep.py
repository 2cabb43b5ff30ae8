"""Text preparation before any judgement: whose words are these, and what do the emoticons say.

A Weibo repost reads "我的话//@甲:甲的话//@乙:原文"; a Bilibili comment quotes "回复 @某人 :"; a
post carries links, #话题# and emoticon codes ([泪] [怒] [给你小心心]) that the platforms render
as pictures. Judging all of that as the author's own words misreads posts: an @name "希望小姐姐"
reads as hope, [给你小心心] as 小心 (a warning), a 转发 chain's quoted anger as the author's.

:func:`prepare` splits a post into the author's own words, the quoted chain and the @names,
drops links, keeps hashtag words (a topic such as #食堂吃出虫子# says what the post is about)
and maps emoticon codes and a few emoji to their meaning (``data/emoticons.tsv``, ours, named by
the platforms' emoticon panels). The model then reads words, never picture names.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

_URL = re.compile(r"(?:https?://|www\.)\S+|\b[a-z0-9.-]+\.(?:cn|com|net)/\S*", re.I)
_CHAIN = re.compile(r"//\s*@[^:：\s]{1,30}\s*[:：]")
_REPLY = re.compile(r"^\s*回复\s*@[^:：\s]{1,30}\s*[:：]")
_AT = re.compile(r"@[\w\u4e00-\u9fff·-]{1,30}")
_EMOTICON = re.compile(r"\[([^\[\]\s]{1,8})\]")
_HASHTAG = re.compile(r"#([^#\n]{1,40})#")
_PLATFORM_NOISE = re.compile(r"转发微博|网页链接|展开全文|原图|查看图片|的微博视频|O网页链接|L[\w\u4e00-\u9fff]{1,20}的微博视频")
_SPACES = re.compile(r"\s+")
# Emoji people use as words; the rest are dropped (a picture we cannot read says nothing).
_EMOJI = {"😭": "泪", "😢": "泪", "😡": "怒", "😠": "怒", "🤬": "怒", "😤": "哼", "🙄": "白眼", "🤮": "吐",
          "😅": "汗", "💔": "伤心", "👍": "赞", "❤": "心", "❤️": "心", "😍": "喜欢", "🥰": "喜欢", "😂": "笑cry",
          "🤣": "笑cry", "😊": "开心", "😄": "哈哈", "🎉": "开心", "👏": "鼓掌", "🙏": "加油", "💪": "加油"}

# Net slang whose characters say the opposite of what it means (绝 is "desperate", 绝了 is "amazing";
# 哭了 in 美哭了 is delight): read as its meaning, like an emoticon. Ours; reviewable here.
_SLANG = (("绝绝子", "很棒"), ("真的绝了", "真的很棒"), ("太绝了", "很棒"), ("绝了", "很棒"), ("yyds", "最棒"),
          ("YYDS", "最棒"), ("美哭了", "很美"), ("爱了爱了", "喜欢"), ("太顶了", "很棒"), ("封神", "很棒"),
          ("awsl", "喜欢"), ("绝美", "很美"), ("杀疯了", "很厉害"), ("泰裤辣", "很酷"))


@dataclass(frozen=True)
class Emoticon:
    code: str        # the code as written, [泪]
    polarity: str    # neg / pos / neu
    meaning: str     # the words the model reads instead


@dataclass
class Prepared:
    own: str                                        # the author's own words, emoticons as their meaning
    quoted: str = ""                                # what a 转发 chain or reply passes on
    mentions: list[str] = field(default_factory=list)     # @names, kept apart
    emoticons: list[Emoticon] = field(default_factory=list)
    slang: list[str] = field(default_factory=list)        # praise slang read as its meaning (绝了)
    hashtags: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """What the model judges: the author's words, or the quoted words when the author added
        none ("转发微博" alone passes the original on as it is)."""
        return self.own if self.own.strip() else self.quoted


@cache
def emoticon_table() -> dict[str, Emoticon]:
    raw = (resources.files("watcher.opinion") / "data" / "emoticons.tsv").read_text(encoding="utf-8")
    table: dict[str, Emoticon] = {}
    for line in raw.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        code, polarity, meaning = line.split("\t")
        table[code.lower()] = Emoticon(f"[{code}]", polarity, meaning)
    return table


def _emoticons(text: str, found: list[Emoticon]) -> str:
    table = emoticon_table()

    def swap(m: re.Match[str]) -> str:
        e = table.get(m.group(1).lower())
        if e is None:
            return " "  # an unknown picture name is not the author's word either
        found.append(e)
        return f"，{e.meaning}，"

    for emoji, code in _EMOJI.items():
        if emoji in text:
            text = text.replace(emoji, f"[{code}]")
    return _EMOTICON.sub(swap, text)


def _clean(text: str, mentions: list[str], hashtags: list[str], found: list[Emoticon],
           slang: list[str] | None = None) -> str:
    text = _URL.sub(" ", text)
    text = _PLATFORM_NOISE.sub(" ", text)
    mentions.extend(m.lstrip("@") for m in _AT.findall(text))
    text = _AT.sub(" ", text)
    hashtags.extend(_HASHTAG.findall(text))
    text = _HASHTAG.sub(lambda m: f" {m.group(1)} ", text)
    text = _emoticons(text, found)
    for word, meaning in _SLANG:
        if word in text:
            text = text.replace(word, meaning)
            if slang is not None:
                slang.append(word)
    return _SPACES.sub(" ", text).strip(" ，")


def prepare(text: str) -> Prepared:
    folded = unicodedata.normalize("NFKC", text or "")
    folded = _REPLY.sub("", folded)
    parts = _CHAIN.split(folded)
    own_raw, quoted_raw = parts[0], " ".join(parts[1:])
    mentions: list[str] = []
    hashtags: list[str] = []
    found: list[Emoticon] = []
    slang: list[str] = []
    own = _clean(own_raw, mentions, hashtags, found, slang)
    quoted = _clean(quoted_raw, [], [], [] if own.strip() else found, None if own.strip() else slang)
    return Prepared(own=own, quoted=quoted, mentions=list(dict.fromkeys(mentions)), emoticons=found,
                    slang=slang, hashtags=hashtags)
