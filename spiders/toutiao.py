"""Toutiao (今日头条).

* discover: ``so.toutiao.com/search?keyword=K&pd=user&dvpf=pc&source=input`` — server-rendered;
  every result card ships its data as ``<script type="application/json"
  data-druid-card-data-id=…>{"data": {…}}</script>`` (the markup beside it is generated and
  unstable). A user card carries name, user_id, avatar_url, description, follower count,
  verification (``verified_content`` / ``user_auth_info``) and the account page URL with its
  token. Next pages: ``page_num=N&search_id=ID`` (the ``searchId`` minted by page 0). Toutiao
  sometimes answers with a bare shell without any card; that page is asked once more through the
  pagination form, then reported as blocked — never as "no accounts".
* timeline (account = the user token, ``MS4wLjABAAAA…``): page ``/c/user/token/TOKEN/`` in
  Chromium; the page's script signs (``_signature``) its call to
  ``/api/pc/list/user/feed?category=profile_all&token=TOKEN&max_behot_time=T`` → ``data[]``
  (group_id / item_id, title, abstract, publish_time, comment_count, digg_count), ``has_more``
  and ``next.max_behot_time``; scrolling makes the page fetch the next batch.

* check: the article page ``/article/GROUP_ID/`` renders from its embedded data —
  ``window._SSR_HYDRATED_DATA``, or in the 2026 pages the URL-encoded ``<script id="RENDER_DATA">``
  (public 2026 notes; docs/platforms.md) — an article that is there carries its id and title in it. Only a page that says the content was
  deleted / does not exist means deleted; anything else proves nothing.

``message`` other than "success" is a refusal: blocked.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import scrapy
from scrapy.http import Response

from spiders.browser import WALL_MARKERS, BrowserSpider
from spiders.catalog import Pace, Platform
from spiders.items import DiscoveredAccount, Post, PostCheck, ProfileSnapshot
from spiders.parsing import count

_TOKEN = re.compile(r"/c/user/token/([A-Za-z0-9_\-=]+)")
_SEARCH_ID = re.compile(r'"search_?[iI]d"\s*:\s*"([0-9A-Za-z]+)"')
NO_RESULT = ("没有找到", "暂无相关", "未找到相关")
GONE_WORDS = ("内容已删除", "内容已被删除", "文章已删除", "该内容不存在", "文章不存在", "内容不存在")




PLATFORM = Platform(
    name="toutiao", label="今日头条", spider="ToutiaoSpider", order=8,
    base_urls={"search": "https://so.toutiao.com", "www": "https://www.toutiao.com"},
    modes=("discover", "timeline", "check"), aliases=("头条", "头条号"),
    browser=True, session_hint="在 toutiao.com 完成验证后导出 Cookie（ttwid、tt_webid）",
    # Ours: a reader's pace.
    pace=Pace(interval=3.0, per_minute=15, daily=500),
)


class ToutiaoSpider(BrowserSpider):
    info = PLATFORM

    # -- discovery (plain HTTP: the results are in the server-rendered page) -------------------

    def discover(self, keyword: str) -> Iterator[scrapy.Request]:
        yield self._search(keyword, 0, "", retry=False)

    def _search(self, keyword: str, page_num: int, search_id: str, *, retry: bool) -> scrapy.Request:
        q: dict[str, str] = {"keyword": keyword, "pd": "user", "dvpf": "pc"}
        if page_num or retry:
            q |= {"source": "pagination", "action_type": "pagination", "page_num": str(page_num),
                  "search_id": search_id, "from": "search_tab"}
        else:
            q["source"] = "input"
        return self.request(f"{self.urls['search']}/search?{urllib.parse.urlencode(q)}", self.parse_search,
                            headers={"Referer": f"{self.urls['search']}/"},
                            cb_kwargs={"keyword": keyword, "page_num": page_num, "retried": retry})

    def parse_search(self, response: Response, keyword: str, page_num: int, retried: bool) -> Iterator[Any]:
        text = response.text
        cards = []
        for raw in response.css('script[type="application/json"][data-druid-card-data-id]::text').getall():
            try:
                card = json.loads(raw)
            except ValueError:
                # One broken card must not hide the others; it is counted in the run record.
                self.details["broken_cards"] = self.details.get("broken_cards", 0) + 1
                self.logger.warning("头条搜索「%s」有一张结果卡片的数据不是完整的 JSON，已跳过", keyword)
                continue
            if isinstance(card, dict) and isinstance(card.get("data"), dict):
                cards.append(card["data"])
        search_id = (_SEARCH_ID.search(text) or [None, ""])[1]
        if not cards:
            if any(m in text for m in NO_RESULT) or page_num > 0:
                yield self.page_done()
                return
            if any(m in response.url.lower() or m in text[:5000] for m in WALL_MARKERS):
                raise self.blocked("头条搜索要求验证（验证码/登录），请降低频率或配置 platforms.toutiao.cookies_file")
            if not retried and search_id:
                yield self._search(keyword, 0, search_id, retry=True)
                return
            raise self.blocked("头条搜索只返回了页面框架、没有结果数据（可能被风控，或页面已改版）")
        users = 0
        for d in cards:
            item = self._user(d, keyword)
            if item is not None:
                users += 1
                yield item
        yield self.page_done()
        if users and page_num + 1 < self.pages and search_id:
            yield self._search(keyword, page_num + 1, search_id, retry=False)

    def _user(self, d: dict[str, Any], keyword: str) -> DiscoveredAccount | None:
        user = d.get("user_info") if isinstance(d.get("user_info"), dict) else d
        name = user.get("name") or user.get("screen_name") or user.get("user_name")
        urls = [user.get(k) or d.get(k) for k in ("open_url", "share_url", "user_url", "source_url", "url")]
        token = next((m.group(1) for u in urls if isinstance(u, str) and (m := _TOKEN.search(u))), None)
        account_id = token or user.get("sec_uid") or user.get("user_id")
        if not name or not account_id:
            return None  # an article or a topic card, not an account
        auth = user.get("user_auth_info")
        if isinstance(auth, str):
            try:
                auth = json.loads(auth) if auth else {}
            except ValueError:
                auth = {}
        reason = user.get("verified_content") or (auth or {}).get("auth_info") or None
        followers = count(user.get("follower_count") or user.get("followers_count") or user.get("fans_count"))
        return DiscoveredAccount(
            platform="toutiao", account_id=str(account_id), name=str(name), bio=user.get("description") or "",
            avatar_url=user.get("avatar_url"), verified=bool(reason or user.get("user_verified")),
            verified_reason=reason, followers=followers,
            profile_url=f"{self.urls['www']}/c/user/token/{account_id}/" if token else None, keyword=keyword, raw=d)

    # -- timeline (in the browser: the feed call is signed by the page) ------------------------

    def timeline(self, account_id: str) -> Iterator[scrapy.Request]:
        profiled: list[bool] = []
        yield self.page(f"{self.urls['www']}/c/user/token/{account_id}/", ("/api/pc/list/user/feed",),
                        lambda d: self.parse_feed(d, account_id, profiled), what=f"头条号 {account_id} 主页",
                        more=lambda d: bool(d.get("has_more")) and bool((d.get("next") or {}).get("max_behot_time")))

    def parse_feed(self, data: dict[str, Any], token: str, profiled: list[bool] | None = None) -> Iterator[Any]:
        if data.get("message") not in ("success", None):
            raise self.blocked(f"今日头条拒绝了主页数据请求（message={data.get('message')}），可能需要 Cookie 或验证")
        items = data.get("data") or []
        if profiled is None or not profiled:
            user = next((i.get("user_info") for i in items if isinstance(i.get("user_info"), dict)), None) or {}
            name = user.get("name") or next((i.get("source") for i in items if i.get("source")), None)
            yield ProfileSnapshot(platform="toutiao", account_id=token, name=name, bio=user.get("description"),
                                  avatar_url=user.get("avatar_url"),
                                  profile_url=f"{self.urls['www']}/c/user/token/{token}/", raw={"user_info": user})
            if profiled is not None:
                profiled.append(True)
        for i in items:
            gid = i.get("group_id") or i.get("item_id")
            if not gid:
                continue
            ts = i.get("publish_time") or i.get("behot_time")
            yield Post(platform="toutiao", account_id=token, post_id=str(gid),
                       text=f"{i.get('title', '')}\n{i.get('abstract', '')}".strip(),
                       created_at=datetime.fromtimestamp(int(ts), UTC).isoformat() if ts else None,
                       comments=i.get("comment_count"), likes=i.get("digg_count"),
                       url=f"{self.urls['www']}/article/{gid}/", raw=i)

    # -- check (in the browser: the article page renders from its embedded data) ---------------

    def check(self, account_id: str, post_id: str) -> Iterator[scrapy.Request]:
        script = ("(() => { let s = window._SSR_HYDRATED_DATA; const rd = document.getElementById('RENDER_DATA');"
                  " if (!s && rd) { try { s = JSON.parse(decodeURIComponent(rd.textContent)); } catch (e) {} }"
                  " if (!s) return null; const d = s.data || s.articleInfo || {};"
                  " return {mentions: JSON.stringify(s).includes(" + json.dumps(post_id) + "),"
                  " title: d.title || d.articleTitle || (d.articleInfo || {}).title || ''}; })()")
        yield self.inspect(f"{self.urls['www']}/article/{post_id}/", script,
                           lambda d: self.parse_article(d, account_id, post_id), what=f"文章 {post_id}")

    def parse_article(self, seen: dict[str, Any], token: str, gid: str) -> Iterator[Any]:
        state = seen.get("state") or {}
        if state.get("mentions") and state.get("title"):
            yield PostCheck("toutiao", token, gid, True, state["title"])
        elif said := next((w for w in GONE_WORDS if w in seen.get("text", "")), None):
            yield PostCheck("toutiao", token, gid, False, reason=f"今日头条文章页：{said}")
        else:
            yield PostCheck("toutiao", token, gid, None, reason="无法判断：文章页没有该文章的数据，也没有说明已删除")
