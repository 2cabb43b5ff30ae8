"""Zhihu through its web API (www.zhihu.com/api/v4).

* discover: ``/api/v4/search_v3?t=people&q=K&offset=N&limit=20`` → ``data[].object`` (type people:
  url_token, name, headline, avatar_url, follower_count, badge) and ``paging.is_end``
* timeline: the profile from the person's own page ``/people/TOKEN``, whose server-rendered state
  (``<script id="js-initialData">`` → ``initialState.entities.users[TOKEN]``: name, headline,
  description, avatarUrl, followerCount, articlesCount, badge) needs no signature — MediaCrawler
  (``media_platform/zhihu/client.py`` ``get_creator_info``, ``help.py`` ``extract_creator``) reads
  the creator the same way; then the articles from ``/api/v4/members/TOKEN/articles``
* check: the article's own page ``zhuanlan.zhihu.com/p/ID`` (``entities.articles[ID]`` in the same
  state; MediaCrawler ``get_article_info``) → 404 when gone

Zhihu answers anonymous or unsigned requests with HTTP 401/403 and an ``error.code``. What
each means, and what lifts it, per the public record (MediaCrawler ``media_platform/zhihu``
signs every ``api/v4`` call with ``x-zse-96`` computed by the page's script over the URL and the
``d_c0`` cookie; unsigned calls get 403 / 10003 even with a login):

* 10003 / 10002 / 10001 / 100 — the call lacks the web client's signature: blocked "需要签名"; a
  session alone does not lift it, so the advice says so (search_v3 is such an endpoint);
* 40352 — /account/unhuman, a captcha to solve; 40362 — a temporary restriction: slow down;
* 401 — needs a login: blocked "需要登录", with ``watcher login zhihu``;
* a redirect to ``/account/unhuman`` (a captcha) or to ``/signin`` — blocked (the middleware).

So what works without the page's signing is what the pages themselves render: the profile of a
registered account and the check of an article. The article list and the searches (discover,
mentions) are API calls the page signs; when Zhihu refuses them unsigned, the run says exactly
that (需要网页端签名, which a login does not lift) — after the profile, the run is ``partial``,
never an account without posts.

Whether the session still logs us in is ``/api/v4/me`` (401 when not, :mod:`watcher.sessions`).
"""

from __future__ import annotations

import html
import json
import re
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import scrapy
from scrapy.http import Response

from spiders.base import PlatformSpider
from spiders.catalog import Complaint, Pace, Platform, SessionSpec
from spiders.items import DiscoveredAccount, Mention, Post, PostCheck, ProfileSnapshot
from spiders.parsing import count
from spiders.refusals import Refusal, refuse

# Where an impersonator of the school is reported (watcher.takedown; sources in docs/takedown.md).
COMPLAINT = Complaint(
    "知乎举报 / 侵权投诉",
    "用户主页 →“…”→“举报”→“冒充他人”；以学校名义：知乎“帮助中心”→“侵权投诉”",
    ("冒充他人", "侵犯名称权", "诈骗"),
)

PLATFORM = Platform(
    complaint=COMPLAINT,
    name="zhihu", label="知乎", spider="ZhihuSpider", order=7,
    base_urls={"www": "https://www.zhihu.com", "zhuanlan": "https://zhuanlan.zhihu.com"},
    modes=("discover", "timeline", "check", "mentions"), aliases=("知乎号",),
    session_hint="运行 watcher login zhihu 扫码登录，或登录 zhihu.com 后导出 Cookie（z_c0、d_c0）",
    session=SessionSpec(probe=("api", "www", "/api/v4/me", "id"), login=("www", "/signin"),
                        qr="canvas.Qrcode-qrcode, .Qrcode-img img, img[src*='qrcode'], canvas", done_cookie="z_c0",
                        loses="备案账号巡检与文章核查（资料与文章接口对未登录访问常返回 401/403）"),
    # Ours: a reader's pace.
    pace=Pace(interval=3.0, per_minute=20, daily=1000),
)


# Zhihu's refusals by ``error.code`` (docs/crawling.md 平台拒绝代码). 10002 asks for the page's signing
# like 10003: a login does not lift it. 40352 sends the reader to /account/unhuman (a captcha);
# 40362 is a temporary restriction for requests that come too often.
REFUSALS: dict[str, Refusal] = {
    "10003": Refusal("需要网页端签名：请求缺少 x-zse-96（10003）", "signing"),
    "10002": Refusal("需要网页端签名（10002）", "signing"),
    "10001": Refusal("请求参数或签名无效（10001）", "signing"),
    "100": Refusal("请求缺少签名（100）", "signing"),
    "40352": Refusal("系统监测到网络环境异常，要求人机验证（40352，/account/unhuman）", "captcha"),
    "40362": Refusal("请求存在异常，暂时限制访问（40362）", "slow_down"),
    "401": Refusal("需要登录（HTTP 401）", "login"),
}
NEEDS_SIGNATURE = tuple(int(k) for k, v in REFUSALS.items() if v.remedy == "signing")
_INITIAL_DATA = re.compile(r'<script[^>]*\bid="js-initialData"[^>]*>(.*?)</script>', re.S)


def initial_state(html_text: str) -> dict[str, Any] | None:
    """The state Zhihu's server renders into the page (``js-initialData``), or None."""
    m = _INITIAL_DATA.search(html_text)
    if not m:
        return None
    try:
        data = json.loads(m[1])
    except ValueError:
        return None
    state = data.get("initialState") if isinstance(data, dict) else None
    return state if isinstance(state, dict) else None


class ZhihuSpider(PlatformSpider):
    info = PLATFORM

    def _api(self, path: str, **params: Any) -> str:
        return f"{self.urls['www']}/api/v4/{path}" + (f"?{urllib.parse.urlencode(params)}" if params else "")

    def _get(self, url: str, callback: Any, **cb: Any) -> scrapy.Request:
        return self.request(url, callback, cb_kwargs=cb, headers={"Referer": f"{self.urls['www']}/search",
                                                                    "x-requested-with": "fetch"},
                            meta={"handle_httpstatus_list": [401, 403, 404]})

    def _data(self, response: Response, what: str) -> dict[str, Any] | None:
        """The JSON body; None for a 404 (the thing does not exist); Problem for a wall."""
        if response.status in (401, 403):
            try:
                err = json.loads(response.text).get("error", {})
            except ValueError:
                err = {}
            code = err.get("code", "?")
            said = f"HTTP {response.status}，error {code}：{str(err.get('message', ''))[:60]}"
            if str(code) in REFUSALS:
                raise refuse(self, REFUSALS, code, what, said)
            if response.status == 401:
                raise refuse(self, REFUSALS, 401, what, said)
            raise self.blocked(f"知乎风控拒绝访问（{said}），{what}。{self.advice()}")
        if response.status == 404:
            return None
        return self.json(response)

    def discover(self, keyword: str) -> Iterator[scrapy.Request]:
        yield self._get(self._api("search_v3", t="people", q=keyword, correction=1, offset=0, limit=20),
                        self.parse_search, keyword=keyword, page=1)

    def parse_search(self, response: Response, keyword: str, page: int) -> Iterator[Any]:
        data = self._data(response, f"搜索用户 {keyword}")
        if data is None:
            raise self.failed("知乎搜索接口返回 404（接口可能已变更）")
        for hit in data.get("data") or []:
            obj = hit.get("object") or {}
            if obj.get("type") != "people" or not obj.get("url_token"):
                continue
            badges = [b.get("description") for b in obj.get("badge") or [] if b.get("description")]
            yield DiscoveredAccount(platform="zhihu", account_id=obj["url_token"], name=obj.get("name") or "",
                                    bio=obj.get("headline") or "", avatar_url=obj.get("avatar_url"),
                                    verified=bool(badges), verified_reason="；".join(badges) or None,
                                    followers=obj.get("follower_count"),
                                    profile_url=f"{self.urls['www']}/people/{obj['url_token']}", keyword=keyword, raw=obj)
        yield self.page_done()
        paging = data.get("paging") or {}
        if not paging.get("is_end", True) and page < self.pages:
            yield self._get(self._api("search_v3", t="people", q=keyword, correction=1, offset=20 * page, limit=20),
                            self.parse_search, keyword=keyword, page=page + 1)

    def _page(self, url: str, callback: Any, **cb: Any) -> scrapy.Request:
        return self.request(url, callback, cb_kwargs=cb, headers={"Referer": f"{self.urls['www']}/"},
                            meta={"handle_httpstatus_list": [404]})

    def _state(self, response: Response, what: str) -> dict[str, Any]:
        """The page's rendered state; blocked when the page is a wall, failed when it changed."""
        state = initial_state(response.text)
        if state is not None:
            return state
        if "zse_ck" in response.text or "unhuman" in response.text:
            raise self.blocked(f"知乎返回了验证页面（{what}），平台怀疑自动访问。{self.advice()}")
        raise self.failed(f"知乎{what}的页面中没有 js-initialData 数据（页面可能已改版）")

    def timeline(self, account_id: str) -> Iterator[scrapy.Request]:
        yield self._page(f"{self.urls['www']}/people/{account_id}", self.parse_profile, token=account_id)

    def parse_profile(self, response: Response, token: str) -> Iterator[Any]:
        if response.status == 404:
            yield ProfileSnapshot(platform="zhihu", account_id=token, status="gone")
            return
        users = ((self._state(response, f"用户 {token} 主页").get("entities") or {}).get("users")) or {}
        d = users.get(token) or next((u for u in users.values() if isinstance(u, dict) and u.get("urlToken") == token), None)
        if not isinstance(d, dict):
            raise self.failed(f"知乎用户 {token} 的主页数据中没有该用户（页面可能已改版）")
        badges = [b.get("description") for b in d.get("badge") or [] if isinstance(b, dict) and b.get("description")]
        yield ProfileSnapshot(platform="zhihu", account_id=token, name=d.get("name"),
                              bio=d.get("description") or d.get("headline"), avatar_url=d.get("avatarUrl"),
                              verified=bool(badges) if "badge" in d else None, verified_reason="；".join(badges) or None,
                              followers=count(d.get("followerCount")), following=count(d.get("followingCount")),
                              posts_count=count(d.get("articlesCount")),
                              profile_url=f"{self.urls['www']}/people/{token}", raw=d)
        yield self.page_done()
        yield self._get(self._api(f"members/{token}/articles", offset=0, limit=20, sort_by="created"),
                        self.parse_articles, token=token, page=1)

    def parse_articles(self, response: Response, token: str, page: int) -> Iterator[Any]:
        data = self._data(response, f"用户 {token} 文章")
        if data is None:
            raise self.failed(f"知乎用户 {token} 的文章列表返回 404")
        oldest = None
        for a in data.get("data") or []:
            created = datetime.fromtimestamp(a["created"], UTC).isoformat() if a.get("created") else None
            oldest = min(oldest, created) if oldest and created else (created or oldest)
            yield Post(platform="zhihu", account_id=token, post_id=str(a.get("id")),
                       text=f"{a.get('title', '')}\n{a.get('excerpt', '')}".strip(), created_at=created,
                       comments=a.get("comment_count"), likes=a.get("voteup_count"),
                       url=f"https://zhuanlan.zhihu.com/p/{a.get('id')}", raw=a)
        yield self.page_done()
        if oldest:
            self.details["oldest_seen"] = oldest
        if not (data.get("paging") or {}).get("is_end", True) and page < self.pages:
            yield self._get(self._api(f"members/{token}/articles", offset=20 * page, limit=20, sort_by="created"),
                            self.parse_articles, token=token, page=page + 1)

    def check(self, account_id: str, post_id: str) -> Iterator[scrapy.Request]:
        yield self._page(f"{self.urls['zhuanlan']}/p/{post_id}", self.parse_check, token=account_id, aid=post_id)

    def parse_check(self, response: Response, token: str, aid: str) -> Iterator[Any]:
        if response.status == 404:
            yield PostCheck("zhihu", token, aid, False, reason="文章不存在（404）")
            return
        articles = (self._state(response, f"文章 {aid}").get("entities") or {}).get("articles") or {}
        article = articles.get(aid) or articles.get(str(aid))
        if isinstance(article, dict):
            yield PostCheck("zhihu", token, aid, True, article.get("title"), raw=article)
        else:
            yield PostCheck("zhihu", token, aid, None, reason="文章页面中没有该文章的数据，无法判断")

    # -- mentions ---------------------------------------------------------------------------
    # Content about the school: ``/api/v4/search_v3?t=general&q=K&offset=N&limit=20`` →
    # ``data[]`` of type search_result whose ``object`` is an answer (question.name, excerpt),
    # an article (title, excerpt) or a zvideo (title, description), with author (url_token, name),
    # created_time and voteup/comment counts; ``paging.is_end``. Other cards (one_box, related
    # queries) are skipped.

    MENTION_TYPES = {"answer": "answer", "article": "article", "zvideo": "video"}

    def mentions(self, keyword: str) -> Iterator[scrapy.Request]:
        yield self._general(keyword, 0, 1)

    def _general(self, keyword: str, offset: int, page: int) -> scrapy.Request:
        return self._get(self._api("search_v3", t="general", q=keyword, correction=1, offset=offset, limit=20),
                         self.parse_mentions, keyword=keyword, offset=offset, page=page)

    def parse_mentions(self, response: Response, keyword: str, offset: int, page: int) -> Iterator[Any]:
        data = self._data(response, f"搜索内容 {keyword}")
        if data is None:
            raise self.failed("知乎综合搜索接口返回 404（接口可能已变更）")
        hits = data.get("data") or []
        for hit in hits:
            obj = hit.get("object") or {}
            kind = self.MENTION_TYPES.get(obj.get("type", ""))
            if hit.get("type") != "search_result" or kind is None or not obj.get("id"):
                continue
            author = obj.get("author") or {}
            token = author.get("url_token") or ""
            title = _plain(obj.get("title") or (obj.get("question") or {}).get("name") or "")
            if token:
                yield DiscoveredAccount(platform="zhihu", account_id=token, name=author.get("name") or "",
                                        bio=author.get("headline") or "", avatar_url=author.get("avatar_url"),
                                        profile_url=f"{self.urls['www']}/people/{token}", keyword=keyword, raw=author)
            created = obj.get("created_time") or obj.get("created_at")
            yield Mention(platform="zhihu", post_id=f"{obj['type']}:{obj['id']}", author_id=token,
                          author_name=author.get("name") or "", title=title,
                          text=_plain(obj.get("excerpt") or obj.get("description") or ""),
                          created_at=datetime.fromtimestamp(int(created), UTC).isoformat() if created else None,
                          likes=obj.get("voteup_count"), comments=obj.get("comment_count"), url=_zhihu_url(obj),
                          keyword=keyword, kind=kind, raw=obj)
        yield self.page_done()
        paging = data.get("paging") or {}
        if hits and not paging.get("is_end", True) and page < self.pages:
            yield self._general(keyword, offset + len(hits), page + 1)


def _plain(text: str) -> str:
    """Search results mark the keyword with <em>…</em>."""
    return html.unescape(re.sub(r"<[^>]+>", "", text or "")).strip()


def _zhihu_url(obj: dict[str, Any]) -> str:
    if obj.get("type") == "answer":
        qid = (obj.get("question") or {}).get("id")
        return f"https://www.zhihu.com/question/{qid}/answer/{obj['id']}" if qid else f"https://www.zhihu.com/answer/{obj['id']}"
    if obj.get("type") == "article":
        return f"https://zhuanlan.zhihu.com/p/{obj['id']}"
    return f"https://www.zhihu.com/zvideo/{obj['id']}"
