"""Parsing shared by every spider: counts, dates and HTML text as platforms write them.

Platforms write numbers for people ("152.3万", "1.2亿", "10w+", "1,234") and dates relative to
the reader's clock ("刚刚", "5分钟前", "今天 09:00", "昨天 21:30", "11-20", "2025-11-20") in
China time. Every spider parses them here, so "1.2万" means 12000 everywhere.
"""

from __future__ import annotations

import html as html_lib
import re
import urllib.parse
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")

_COUNT = re.compile(r"^(\d+(?:\.\d+)?)\s*(万|w|W|亿|千|k|K)?\+?$")
_UNITS = {"万": 10_000, "w": 10_000, "W": 10_000, "亿": 100_000_000, "千": 1_000, "k": 1_000, "K": 1_000}


def count(value: Any) -> int | None:
    """``152.3万`` → 1523000; ``1,234`` → 1234; ``10w+`` → 100000; None for anything else."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    s = str(value).strip().replace(",", "").replace("，", "")
    m = _COUNT.match(s)
    if not m:
        return None
    return int(round(float(m[1]) * _UNITS.get(m[2] or "", 1)))


# What pages put around a date: "编辑于 2026-11-20 10:31" / "发布于 昨天 21:30" (Zhihu, Xiaohongshu),
# and the poster's region after it ("・IP 属地北京", "IP属地：广东").
_LABELS = re.compile(r"^(?:编辑于|发布于|发表于|更新于|修改于)[\s:：]*")
_PLACE = re.compile(r"\s*[・·|｜]?\s*IP\s*属地[\s:：]*\S*$")
_REL = re.compile(r"^(\d+)\s*(秒|分钟|小时|天|周|个月)前$")
_REL_UNIT = {"秒": "seconds", "分钟": "minutes", "小时": "hours", "天": "days", "周": "weeks"}
_CLOCK = r"(?:\s*(\d{1,2}):(\d{2})(?::(\d{2}))?)?"


def when(value: Any, now: datetime | None = None) -> str | None:
    """A platform's date as ISO-8601 with its offset (China time for dates without one).

    Understands epoch seconds or milliseconds, ISO-8601, Weibo's ``Sat Nov 21 10:00:00 +0800
    2026``, ``刚刚``, ``N秒/分钟/小时/天/周前``, ``今天 09:00``, ``昨天 09:00``, ``前天 09:00``,
    ``11-20`` / ``11-20 09:00`` / ``11月20日`` (this year, or last year when that would be in the
    future), and ``2025-11-20`` / ``2025年11月20日`` with an optional time — each also after a
    ``编辑于`` / ``发布于`` label and before an ``IP 属地…`` suffix. None when unknown.
    """
    if value is None or value == "":
        return None
    now = (now or datetime.now(UTC)).astimezone(CHINA)
    if isinstance(value, str):
        value = _LABELS.sub("", _PLACE.sub("", value.strip()))
    if isinstance(value, int | float) and not isinstance(value, bool):
        secs = value / 1000 if value > 10**11 else value
        return datetime.fromtimestamp(secs, CHINA).isoformat()
    s = str(value).strip()
    if s.isdigit():
        return when(int(s), now)
    for fmt in ("%a %b %d %H:%M:%S %z %Y",):
        try:
            return datetime.strptime(s, fmt).isoformat()
        except ValueError:
            pass
    try:
        dt = datetime.fromisoformat(s.replace("Z", "+00:00"))
        return (dt if dt.tzinfo else dt.replace(tzinfo=CHINA)).isoformat()
    except ValueError:
        pass
    if s in ("刚刚", "刚才"):
        return now.replace(microsecond=0).isoformat()
    if m := _REL.match(s):
        n, unit = int(m[1]), m[2]
        delta = timedelta(days=30 * n) if unit == "个月" else timedelta(**{_REL_UNIT[unit]: n})
        return (now - delta).replace(microsecond=0).isoformat()
    if m := re.match(r"^(今天|昨天|前天)" + _CLOCK + "$", s):
        day = now.date() - timedelta(days={"今天": 0, "昨天": 1, "前天": 2}[m[1]])
        return _at(day, m[2], m[3], m[4])
    if m := re.match(r"^(\d{4})[-/年.](\d{1,2})[-/月.](\d{1,2})日?" + _CLOCK + "$", s):
        return _at(_date(int(m[1]), int(m[2]), int(m[3])), m[4], m[5], m[6])
    if m := re.match(r"^(\d{1,2})[-/月](\d{1,2})日?" + _CLOCK + "$", s):
        day = _date(now.year, int(m[1]), int(m[2]))
        if day is not None and day > now.date():
            day = _date(now.year - 1, int(m[1]), int(m[2]))
        return _at(day, m[3], m[4], m[5])
    return None


def _date(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _at(day: date | None, hh: str | None, mm: str | None, ss: str | None) -> str | None:
    if day is None:
        return None
    try:
        return datetime(day.year, day.month, day.day, int(hh or 0), int(mm or 0), int(ss or 0), tzinfo=CHINA).isoformat()
    except ValueError:
        return None


_TAGS = re.compile(r"<[^>]+>")
_BR = re.compile(r"<br\s*/?>|</p>|</div>", re.I)


def html_text(markup: str | None) -> str:
    """Visible text of a fragment of HTML: line breaks kept, tags dropped, entities decoded."""
    text = _BR.sub("\n", markup or "")
    text = _TAGS.sub("", text)
    text = html_lib.unescape(text).replace("\xa0", " ")
    return "\n".join(line.strip() for line in text.splitlines()).strip()


# The platforms' image and video CDNs, all served over https too: Bilibili (hdslb, biliimg),
# Douyin / Toutiao (douyinpic, byteimg, pstatp, toutiaoimg), Kuaishou (yximgs, kwaicdn), Weibo
# (sinaimg), Xiaohongshu (xhscdn), Zhihu (zhimg), Tieba (bdstatic, tiebapic / imgsrc.baidu.com),
# WeChat (qpic, qlogo). Their APIs still hand out some ``http://`` links (Bilibili faces,
# Kuaishou headerUrl); a page served over https cannot load them, and evidence should not be
# fetched in the clear.
PLATFORM_CDNS = ("hdslb.com", "biliimg.com", "douyinpic.com", "byteimg.com", "pstatp.com", "toutiaoimg.com",
                 "yximgs.com", "kwaicdn.com", "sinaimg.cn", "xhscdn.com", "zhimg.com", "bdstatic.com",
                 "tiebapic.baidu.com", "imgsrc.baidu.com", "qpic.cn", "qlogo.cn")


def https(url: str | None) -> str | None:
    """Protocol-relative URLs (``//i0.hdslb.com/…``) as https, and ``http://`` links on a
    platform's CDN (:data:`PLATFORM_CDNS`). Other ``http://`` links are kept as they are: a
    site that is served only over http (a school website) says where its pages are."""
    if not url:
        return url
    if url.startswith("//"):
        return f"https:{url}"
    if url[:7].lower() == "http://":
        try:
            parts = urllib.parse.urlsplit(url)
            port = parts.port
        except ValueError:  # a malformed link is handed on as the platform wrote it
            return url
        host = parts.hostname or ""
        if port is None and any(host == cdn or host.endswith(f".{cdn}") for cdn in PLATFORM_CDNS):
            return f"https://{url[7:]}"
    return url


def said_cause(text: str, table: tuple[tuple[str, str], ...]) -> str | None:
    """The first cause (a key of :data:`spiders.items.GONE_CAUSES`) whose regular expression
    matches what a platform's page or answer says of a post readers cannot see; None when none
    does. Each platform keeps its own words; the order of its table is its precedence."""
    return next((cause for pattern, cause in table if re.search(pattern, text or "")), None)
