"""Bilibili through its web API, with the public wbi signature.

* keys: ``/x/web-interface/nav`` → ``data.wbi_img`` (answers ``code -101`` when not logged
  in, but still carries the keys)
* discover: ``/x/web-interface/wbi/search/type?search_type=bili_user&keyword=K&page=N`` →
  ``data.result[]`` (mid, uname, usign, upic, fans, official_verify)
* timeline: ``/x/space/wbi/acc/info?mid=M`` (profile), ``/x/space/wbi/arc/search?mid=M&pn=N&ps=30``
  → ``data.list.vlist[]`` (videos)
* check: ``/x/web-interface/view?bvid=BV…`` → code 0 live; −404 / 62002 gone; 62004 under review.

Risk control: −352 (风控校验失败), −412 (请求被拦截), −101 on endpoints that need a login,
HTTP 412. A ``buvid3`` cookie (from the cookies file, or any value) avoids most −352s.
"""

from __future__ import annotations

import html
import re
import urllib.parse
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import scrapy
from scrapy.http import Response

from spiders.base import PlatformSpider
from spiders.catalog import Pace, Platform
from spiders.items import DiscoveredAccount, Post, PostCheck, ProfileSnapshot
from spiders.parsing import count, https
from spiders.signing import wbi

RISK = {-352: "风控校验失败（-352）", -412: "请求被拦截（-412）", -101: "需要登录（-101）", -509: "请求过于频繁（-509）",
        -799: "请求过于频繁（-799）"}
GONE = {-404: "稿件不存在（-404）", 62002: "稿件不可见（62002）", 62012: "稿件仅 UP 主自己可见（62012）"}
_TAGS = re.compile(r"<[^>]+>")




PLATFORM = Platform(
    name="bilibili", label="哔哩哔哩", spider="BilibiliSpider", order=2,
    base_urls={"api": "https://api.bilibili.com", "www": "https://www.bilibili.com", "space": "https://space.bilibili.com"},
    modes=("discover", "timeline", "check"), aliases=("b站", "B站", "bilibili", "B 站"),
    session_hint="登录 bilibili.com 后导出 Cookie（SESSDATA、bili_jct、buvid3）",
    # Ours: MediaCrawler issue #834 reports HTTP 412 after bursts even when logged in.
    pace=Pace(interval=2.0, per_minute=30, daily=2000),
)


class BilibiliSpider(PlatformSpider):
    info = PLATFORM

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cookies.setdefault("buvid3", f"{uuid.uuid4()}infoc".upper())
        self.keys: tuple[str, str] | None = None

    def _headers(self) -> dict[str, str]:
        return {"Referer": f"{self.urls['www']}/", "Origin": self.urls["www"]}

    def _code(self, data: dict[str, Any], what: str) -> int:
        code = data.get("code")
        if code in RISK:
            raise self.blocked(f"哔哩哔哩{RISK[code]}：{data.get('message', '')}（{what}）")
        if not isinstance(code, int):
            raise self.failed(f"哔哩哔哩应答缺少 code（{what}）")
        return code

    # Every signed call first needs the day's keys from nav.
    def _with_keys(self, then: Any) -> Iterator[scrapy.Request]:
        if self.keys is not None:  # fetched for an earlier target of this round
            yield from then()
            return
        yield self.request(f"{self.urls['api']}/x/web-interface/nav", self.parse_nav, headers=self._headers(),
                           cb_kwargs={"then": then}, dont_filter=True)

    def parse_nav(self, response: Response, then: Any) -> Iterator[Any]:
        data = self.json(response)
        img = ((data.get("data") or {}).get("wbi_img") or {})
        if not img.get("img_url") or not img.get("sub_url"):
            self._code(data, "获取 wbi 密钥")
            raise self.failed("nav 应答中没有 wbi_img，无法计算 wbi 签名")
        self.keys = (wbi.key_from_url(img["img_url"]), wbi.key_from_url(img["sub_url"]))
        yield from then()

    def signed(self, path: str, params: dict[str, Any], callback: Any, **cb: Any) -> scrapy.Request:
        assert self.keys is not None
        query = urllib.parse.urlencode(wbi.sign(params, *self.keys), quote_via=urllib.parse.quote)
        return self.request(f"{self.urls['api']}{path}?{query}", callback, headers=self._headers(), cb_kwargs=cb)

    # -- discover ---------------------------------------------------------------------------

    def discover(self, keyword: str) -> Iterator[scrapy.Request]:
        yield from self._with_keys(lambda: [self._search(keyword, 1)])

    def _search(self, keyword: str, page: int) -> scrapy.Request:
        return self.signed("/x/web-interface/wbi/search/type",
                           {"search_type": "bili_user", "keyword": keyword, "page": page},
                           self.parse_search, keyword=keyword, page=page)

    def parse_search(self, response: Response, keyword: str, page: int) -> Iterator[Any]:
        data = self.json(response)
        if self._code(data, f"搜索用户 {keyword}") != 0:
            raise self.failed(f"哔哩哔哩搜索失败：code={data.get('code')} {data.get('message', '')}")
        body = data.get("data") or {}
        for u in body.get("result") or []:
            if not u.get("mid"):
                continue
            verify = u.get("official_verify") or {}
            yield DiscoveredAccount(
                platform="bilibili", account_id=str(u["mid"]), name=html.unescape(_TAGS.sub("", u.get("uname") or "")),
                bio=u.get("usign") or "", avatar_url=https(u.get("upic")),
                verified=verify.get("type", -1) in (0, 1), verified_type=str(verify.get("type", "")) or None,
                verified_reason=verify.get("desc") or None, followers=count(u.get("fans")),
                profile_url=f"{self.urls['space']}/{u['mid']}", keyword=keyword, raw=u)
        self.page_done()
        if page < min(int(body.get("numPages") or 1), self.pages):
            yield self._search(keyword, page + 1)

    # -- timeline ---------------------------------------------------------------------------

    def timeline(self, account_id: str) -> Iterator[scrapy.Request]:
        yield from self._with_keys(lambda: [self.signed("/x/space/wbi/acc/info", {"mid": account_id},
                                                        self.parse_profile, mid=account_id)])

    def parse_profile(self, response: Response, mid: str) -> Iterator[Any]:
        data = self.json(response)
        code = self._code(data, f"用户 {mid} 资料")
        if code == -404:
            yield ProfileSnapshot(platform="bilibili", account_id=mid, status="gone", raw=data)
            return
        if code != 0 or not isinstance(data.get("data"), dict):
            raise self.failed(f"获取哔哩哔哩用户 {mid} 资料失败：code={code} {data.get('message', '')}")
        d = data["data"]
        official = d.get("official") or {}
        yield ProfileSnapshot(platform="bilibili", account_id=mid, name=d.get("name"), bio=d.get("sign"),
                              avatar_url=https(d.get("face")), verified=official.get("type", -1) in (0, 1),
                              verified_reason=official.get("title") or None, profile_url=f"{self.urls['space']}/{mid}",
                              raw=d)
        yield self._videos(mid, 1)

    def _videos(self, mid: str, page: int) -> scrapy.Request:
        return self.signed("/x/space/wbi/arc/search", {"mid": mid, "pn": page, "ps": 30, "order": "pubdate"},
                           self.parse_videos, mid=mid, page=page)

    def parse_videos(self, response: Response, mid: str, page: int) -> Iterator[Any]:
        data = self.json(response)
        if self._code(data, f"用户 {mid} 投稿") != 0:
            raise self.failed(f"获取哔哩哔哩用户 {mid} 投稿失败：code={data.get('code')} {data.get('message', '')}")
        body = data.get("data") or {}
        vlist = ((body.get("list") or {}).get("vlist")) or []
        oldest = None
        for v in vlist:
            created = datetime.fromtimestamp(v["created"], UTC).isoformat() if v.get("created") else None
            oldest = min(oldest, created) if oldest and created else (created or oldest)
            yield Post(platform="bilibili", account_id=mid, post_id=v.get("bvid") or str(v.get("aid")),
                       text=f"{v.get('title', '')}\n{v.get('description', '')}".strip(), created_at=created,
                       comments=v.get("comment"), likes=None, reposts=None,
                       url=f"{self.urls['www']}/video/{v.get('bvid')}", raw=v)
        self.page_done()
        if oldest:
            self.details["oldest_seen"] = oldest
        count = int((body.get("page") or {}).get("count") or 0)
        if vlist and page * 30 < count and page < self.pages:
            yield self._videos(mid, page + 1)

    # -- check ------------------------------------------------------------------------------

    def check(self, account_id: str, post_id: str) -> Iterator[scrapy.Request]:
        yield self.request(f"{self.urls['api']}/x/web-interface/view?bvid={post_id}", self.parse_check,
                           headers=self._headers(), cb_kwargs={"mid": account_id, "bvid": post_id})

    def parse_check(self, response: Response, mid: str, bvid: str) -> Iterator[Any]:
        data = self.json(response)
        code = self._code(data, f"稿件 {bvid}")
        if code == 0:
            d = data.get("data") or {}
            yield PostCheck("bilibili", mid, bvid, True, f"{d.get('title', '')}\n{d.get('desc', '')}".strip(), raw=data)
        elif code in GONE:
            yield PostCheck("bilibili", mid, bvid, False, reason=GONE[code], raw=data)
        else:
            yield PostCheck("bilibili", mid, bvid, None, reason=f"无法判断：code={code} {data.get('message', '')}", raw=data)
