"""Xiaohongshu (小红书) through its web pages in Chromium; the page's JS adds the x-s / x-t
signature to its calls to edith.xiaohongshu.com.

* discover: page ``/search_result?keyword=K&type=user`` → ``/api/sns/web/v1/search/usersearch``
  → ``data.users[]`` (id, name, image, red_id, fans, sub_title, red_official_verified)
* timeline: page ``/user/profile/USER_ID`` → ``/api/sns/web/v1/user/otherinfo`` (basic_info,
  interactions) and ``/api/sns/web/v1/user_posted?num=30&cursor=C&user_id=…`` (notes: note_id,
  display_title, interact_info, xsec_token; ``cursor`` / ``has_more`` for the next batch, which the
  page fetches when the reader scrolls)

``code`` ≠ 0 (−100 login expired, 300012 risky IP, 461 captcha) is a refusal: blocked.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from typing import Any

import scrapy

from spiders.browser import BrowserSpider
from spiders.items import DiscoveredAccount, Post, ProfileSnapshot
from spiders.kuaishou import _count


def _note_url(www: str, note: dict[str, Any]) -> str:
    # Without its xsec_token a note page only says "暂时无法浏览"; keep the token the list gave.
    token = note.get("xsec_token")
    q = f"?{urllib.parse.urlencode({'xsec_token': token, 'xsec_source': 'pc_user'})}" if token else ""
    return f"{www}/explore/{note['note_id']}{q}"


class XiaohongshuSpider(BrowserSpider):
    platform = "xiaohongshu"
    modes = ("discover", "timeline")

    def _data(self, data: dict[str, Any], what: str) -> dict[str, Any]:
        if data.get("code") not in (0, None) or data.get("success") is False:
            raise self.blocked(f"小红书拒绝了{what}（code={data.get('code')} {data.get('msg', '')}），需要登录 Cookie 或验证码")
        return data.get("data") or {}

    def discover(self, keyword: str) -> Iterator[scrapy.Request]:
        url = f"{self.urls['www']}/search_result?keyword={urllib.parse.quote(keyword)}&type=user"
        yield self.page(url, ("/api/sns/web/v1/search/usersearch",), lambda d: self.parse_users(d, keyword),
                        what=f"搜索用户 {keyword}", more=lambda d: bool((d.get("data") or {}).get("has_more")))

    def parse_users(self, data: dict[str, Any], keyword: str) -> Iterator[Any]:
        for u in self._data(data, f"搜索用户 {keyword}").get("users") or []:
            if not u.get("id"):
                continue
            yield DiscoveredAccount(platform="xiaohongshu", account_id=str(u["id"]), name=u.get("name") or "",
                                    bio=u.get("desc") or u.get("sub_title") or "", avatar_url=u.get("image"),
                                    verified=bool(u.get("red_official_verified")),
                                    verified_reason=u.get("red_official_verify_content") or None,
                                    followers=_count(u.get("fans")),
                                    profile_url=f"{self.urls['www']}/user/profile/{u['id']}", keyword=keyword, raw=u)

    def timeline(self, account_id: str) -> Iterator[scrapy.Request]:
        yield self.page(f"{self.urls['www']}/user/profile/{account_id}",
                        ("/api/sns/web/v1/user/otherinfo", "/api/sns/web/v1/user_posted"),
                        lambda d: self.parse_profile(d, account_id), what=f"用户 {account_id} 主页",
                        paged="/api/sns/web/v1/user_posted",
                        more=lambda d: bool((d.get("data") or {}).get("has_more")))

    def parse_profile(self, data: dict[str, Any], uid: str) -> Iterator[Any]:
        d = self._data(data, f"用户 {uid} 的数据")
        if "basic_info" in d:
            b = d["basic_info"]
            counts = {i.get("type"): _count(i.get("count")) for i in d.get("interactions") or []}
            yield ProfileSnapshot(platform="xiaohongshu", account_id=uid, name=b.get("nickname"), bio=b.get("desc"),
                                  avatar_url=b.get("imageb") or b.get("images"), followers=counts.get("fans"),
                                  following=counts.get("follows"), profile_url=f"{self.urls['www']}/user/profile/{uid}",
                                  raw=d)
        for n in d.get("notes") or []:
            if not n.get("note_id"):
                continue
            yield Post(platform="xiaohongshu", account_id=uid, post_id=str(n["note_id"]),
                       text=n.get("display_title") or "", likes=_count((n.get("interact_info") or {}).get("liked_count")),
                       url=_note_url(self.urls["www"], n), raw=n)
