"""Weibo through its mobile web API (m.weibo.cn), as the mobile site itself calls it.

* discover: ``/api/container/getIndex?containerid=100103type=3&q=K&page_type=searchall&page=N``
  → ``data.cards[].card_group[].user`` (card_type 10)
* timeline: ``/api/container/getIndex?type=uid&value=UID`` → ``data.userInfo`` (profile), then
  ``containerid=107603UID&page=N`` → ``data.cards[].mblog`` (card_type 9)
* check: ``/statuses/show?id=MID`` → ``data`` for a live post; ``ok: 0`` with a "deleted /
  not found" message for a post that is gone.

Login walls: a redirect to passport.weibo.cn, ``ok: -100`` ("请先登录"), or HTML instead of JSON.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterator
from typing import Any

import scrapy
from scrapy.http import Response

from spiders.base import PlatformSpider
from spiders.catalog import Platform
from spiders.items import DiscoveredAccount, Post, PostCheck, ProfileSnapshot
from spiders.parsing import count, html_text, when

# What Weibo says of a post that is gone: "此微博已被作者删除", "该微博不存在", "已被删除".
GONE = re.compile(r"(已|被).{0,3}删除|不存在|deleted")








PLATFORM = Platform(
    name="weibo", label="微博", spider="WeiboSpider", order=1,
    base_urls={"api": "https://m.weibo.cn"},
    modes=("discover", "timeline", "check"), aliases=("新浪微博", "sina"),
    mobile=True, session_hint="在 m.weibo.cn 登录后导出 Cookie（SUB、SUBP）",
)


class WeiboSpider(PlatformSpider):
    info = PLATFORM

    def _api(self, **params: str) -> str:
        return f"{self.urls['api']}/api/container/getIndex?{urllib.parse.urlencode(params)}"

    def _check_ok(self, data: dict[str, Any], response: Response) -> bool:
        ok = data.get("ok")
        if ok == 1:
            return True
        if ok == -100 or "登录" in str(data.get("msg", "")):
            raise self.blocked(f"微博要求登录（ok={ok}，{data.get('msg', '')}），请配置 platforms.weibo.cookies_file")
        return False

    # -- discover ---------------------------------------------------------------------------

    def discover(self, keyword: str) -> Iterator[scrapy.Request]:
        yield self._search(keyword, 1)

    def _search(self, keyword: str, page: int) -> scrapy.Request:
        url = self._api(containerid=f"100103type=3&q={keyword}", page_type="searchall", page=str(page))
        return self.request(url, self.parse_search, cb_kwargs={"keyword": keyword, "page": page},
                            headers={"Referer": f"{self.urls['api']}/search", "X-Requested-With": "XMLHttpRequest"})

    def parse_search(self, response: Response, keyword: str, page: int) -> Iterator[Any]:
        data = self.json(response)
        if not self._check_ok(data, response):
            # ok: 0 on a later page is Weibo's "no more results"; on the first page it is an answer too.
            return
        cards = (data.get("data") or {}).get("cards") or []
        for card in cards:
            for item in card.get("card_group") or [card]:
                user = item.get("user")
                if item.get("card_type") == 10 and isinstance(user, dict) and user.get("id"):
                    yield DiscoveredAccount(
                        platform="weibo", account_id=str(user["id"]), name=user.get("screen_name") or "",
                        bio=user.get("description") or "", avatar_url=user.get("avatar_hd") or user.get("profile_image_url"),
                        verified=bool(user.get("verified")), verified_type=str(user.get("verified_type", "")) or None,
                        verified_reason=user.get("verified_reason"), followers=count(user.get("followers_count")),
                        profile_url=f"https://m.weibo.cn/u/{user['id']}", keyword=keyword, raw=user)
        self.page_done()
        next_page = ((data.get("data") or {}).get("cardlistInfo") or {}).get("page")
        if cards and next_page and int(next_page) > page and page < self.pages:
            yield self._search(keyword, int(next_page))

    # -- timeline ---------------------------------------------------------------------------

    def timeline(self, account_id: str) -> Iterator[scrapy.Request]:
        yield self.request(self._api(type="uid", value=account_id), self.parse_profile, cb_kwargs={"uid": account_id})

    def parse_profile(self, response: Response, uid: str) -> Iterator[Any]:
        data = self.json(response)
        if not self._check_ok(data, response):
            msg = str(data.get("msg", ""))
            if any(h in msg for h in ("不存在", "封", "注销")):
                yield ProfileSnapshot(platform="weibo", account_id=uid, status="gone", raw=data)
                return
            raise self.failed(f"获取微博用户 {uid} 资料失败：ok={data.get('ok')} {msg}")
        info = (data.get("data") or {}).get("userInfo")
        if not isinstance(info, dict):
            raise self.failed(f"微博用户 {uid} 的资料缺少 userInfo 字段")
        yield ProfileSnapshot(
            platform="weibo", account_id=uid, name=info.get("screen_name"), bio=info.get("description"),
            avatar_url=info.get("avatar_hd") or info.get("profile_image_url"), verified=bool(info.get("verified")),
            verified_reason=info.get("verified_reason"), followers=count(info.get("followers_count")),
            following=count(info.get("follow_count")), posts_count=count(info.get("statuses_count")),
            profile_url=f"https://m.weibo.cn/u/{uid}", raw=info)
        yield self._posts(uid, 1)

    def _posts(self, uid: str, page: int) -> scrapy.Request:
        return self.request(self._api(type="uid", value=uid, containerid=f"107603{uid}", page=str(page)),
                            self.parse_posts, cb_kwargs={"uid": uid, "page": page})

    def parse_posts(self, response: Response, uid: str, page: int) -> Iterator[Any]:
        data = self.json(response)
        if not self._check_ok(data, response):
            if page == 1:
                raise self.failed(f"获取微博用户 {uid} 的微博列表失败：ok={data.get('ok')} {data.get('msg', '')}")
            return  # past the last page
        cards = (data.get("data") or {}).get("cards") or []
        oldest = None
        for card in cards:
            mblog = card.get("mblog") if card.get("card_type") == 9 else None
            if not isinstance(mblog, dict) or not mblog.get("id"):
                continue
            created = when(mblog.get("created_at"))
            oldest = min(oldest, created) if oldest and created else (created or oldest)
            yield Post(platform="weibo", account_id=uid, post_id=str(mblog["id"]),
                       text=html_text(mblog.get("text") or ""), created_at=created,
                       reposts=count(mblog.get("reposts_count")), comments=count(mblog.get("comments_count")),
                       likes=count(mblog.get("attitudes_count")),
                       url=f"https://m.weibo.cn/detail/{mblog['id']}", raw=mblog)
        self.page_done()
        if oldest:
            self.details["oldest_seen"] = oldest
        if cards and page < self.pages:
            yield self._posts(uid, page + 1)

    # -- check ------------------------------------------------------------------------------

    def check(self, account_id: str, post_id: str) -> Iterator[scrapy.Request]:
        yield self.request(f"{self.urls['api']}/statuses/show?id={post_id}", self.parse_check,
                           cb_kwargs={"uid": account_id, "mid": post_id})

    def parse_check(self, response: Response, uid: str, mid: str) -> Iterator[Any]:
        data = self.json(response)
        if data.get("ok") == 1 and isinstance(data.get("data"), dict):
            yield PostCheck("weibo", uid, mid, True, html_text(data["data"].get("text") or ""), raw=data)
        elif data.get("ok") == -100 or "登录" in str(data.get("msg", "")):
            raise self.blocked("微博要求登录，无法确认该微博是否被删除")
        elif GONE.search(str(data.get("msg", ""))):
            yield PostCheck("weibo", uid, mid, False, reason=str(data.get("msg")), raw=data)
        else:
            yield PostCheck("weibo", uid, mid, None, reason=f"无法判断：ok={data.get('ok')} {data.get('msg', '')}", raw=data)
