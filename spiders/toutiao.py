"""Toutiao (今日头条).

* discover: ``so.toutiao.com/search?keyword=K&pd=user&dvpf=pc&source=input`` — server-rendered;
  every result card ships its data as ``<script type="application/json"
  data-druid-card-data-id=…>{"data": {…}}</script>`` (the markup beside it is generated and
  unstable). A user card carries name, user_id, avatar_url, description, follower count,
  verification (``verified_content`` / ``user_auth_info``) and the account page URL with its
  token. Next pages: ``page_num=N&search_id=ID`` (the ``searchId`` minted by page 0). Toutiao
  sometimes answers with a bare shell without any card; that page is asked once more through the
  pagination form, then reported as blocked — never as "no accounts".
* mentions: the same search on the 资讯 tab (``pd=information&source=search_subtab_switch``;
  searxng ``searx/engines/toutiao.py`` reads the same cards): an article card carries title (with
  ``<em>`` highlights), group_id, article_url or ``display.info.url``, abstract or
  ``display.summary.text``, media_name / source, user_id, publish_time or ``datetime``, comment,
  digg and read counts; a 微头条 card has ``content`` and no title. Toutiao's slide captcha comes
  as a card in place of the results (``cell_type`` 71, ``decision_conf`` type "verify"): blocked.
* timeline (account = the user token, ``MS4wLjABAAAA…``): page ``/c/user/token/TOKEN/`` in
  Chromium; the page's script signs (``a_bogus``, earlier ``_signature``) its call to
  ``/api/pc/list/feed?category=profile_all&token=TOKEN&max_behot_time=T`` (earlier
  ``/api/pc/list/user/feed``; DIYgod/RSSHub ``lib/routes/toutiao/user.tsx``) → ``data[]``
  (group_id / item_id, title, abstract, publish_time, comment_count, digg_count), ``has_more``
  and ``next.max_behot_time``; scrolling makes the page fetch the next batch.

* check: the post's own page — the stored post URL (a video lives under ``/video/GROUP_ID/``, a
  微头条 under ``/w/GROUP_ID/``; ``check_by="url"``), or ``/article/GROUP_ID/`` for a bare ID —
  renders from its embedded data: ``window._SSR_HYDRATED_DATA``, or in the 2026 pages the
  URL-encoded ``<script id="RENDER_DATA">`` (public 2026 notes; docs/platforms.md), whose video
  page keeps the video in ``data.initialVideo`` (yt-dlp ``yt_dlp/extractor/toutiao.py``). A post
  that is there carries its id and title (or, for a 微头条, its content) in it. Only a page that
  says the content was deleted / does not exist means deleted; anything else proves nothing.

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
from spiders.catalog import Complaint, Pace, Platform
from spiders.items import DiscoveredAccount, Mention, Post, PostCheck, ProfileSnapshot
from spiders.parsing import count, html_text, said_cause, when
from spiders.refusals import Refusal, refuse

_TOKEN = re.compile(r"/c/user/token/([A-Za-z0-9_\-=]+)")
_SEARCH_ID = re.compile(r'"search_?[iI]d"\s*:\s*"([0-9A-Za-z]+)"')
NO_RESULT = ("没有找到", "暂无相关", "未找到相关")
_ARTICLE_ID = re.compile(r"/(?:article|group|a|w)/?(\d{12,})")
_POST_PATH = re.compile(r"/(?:article|video|group|w|a|i)/?(\d{6,})")


# The account page's feed: ``/api/pc/list/feed`` (signed with a_bogus; DIYgod/RSSHub
# ``lib/routes/toutiao/user.tsx`` and ``types.ts``: cell_type 0/49 video, 32 微头条, 60 article;
# the author in ``user_info``, ``user.info`` or ``user``), earlier ``/api/pc/list/user/feed``.
FEED = "/api/pc/list/feed|/api/pc/list/user/feed"
FEED_PATHS = {0: "video", 49: "video", 32: "w"}


def _feed_user(item: dict[str, Any]) -> dict[str, Any]:
    user = item.get("user_info") or item.get("user") or {}
    if isinstance(user, dict) and isinstance(user.get("info"), dict):
        user = user["info"]
    return user if isinstance(user, dict) and user.get("name") else {}


def _count(d: dict[str, Any], *keys: str) -> int | None:
    """The first of ``keys`` the card gives a count for ("1.2万" included)."""
    return next((n for k in keys if (n := count(d.get(k))) is not None), None)


def _captcha_card(d: dict[str, Any]) -> bool:
    """The slide-captcha card Toutiao serves in place of results (searxng
    ``searx/engines/toutiao.py``: ``cell_type`` 71, ``decision_conf.type`` "verify")."""
    if d.get("cell_type") != 71 and d.get("template_key") != "71-undefined":
        return False
    decision = d.get("decision_conf")
    if isinstance(decision, str):
        try:
            decision = json.loads(decision)
        except ValueError:
            decision = {}
    return isinstance(decision, dict) and decision.get("type") == "verify"

# What an article / video / 微头条 page says of a post readers cannot see, and why (first match wins).
PAGE_CAUSES: tuple[tuple[str, str], ...] = (
    (r"作者(已)?删除|被作者删除", "author_deleted"),
    (r"违规|违反|涉嫌|屏蔽|下架|不符合.{0,8}规范", "platform_removed"),
    (r"审核中|正在审核", "under_review"),
    (r"仅作者可见|仅自己可见|私密|作者设置", "restricted"),
)
# Toutiao's refusals (docs/crawling.md 平台拒绝代码): the slide-captcha card (cell_type 71) served in place of
# search results.
REFUSALS: dict[str, Refusal] = {
    "71": Refusal("搜索结果被滑块验证卡片替代（cell_type 71，decision_conf verify），这不是“没有结果”", "captcha"),
}

GONE_WORDS = ("内容已删除", "内容已被删除", "文章已删除", "该内容不存在", "文章不存在", "内容不存在", "视频已删除",
              "视频已被删除", "视频不存在")




# Where an impersonator of the school is reported (watcher.takedown; sources in docs/takedown.md).
COMPLAINT = Complaint(
    "今日头条举报 / 侵权投诉",
    "用户主页 →右上角“…”→“举报”→“冒充他人”；以学校名义：头条“设置”→“侵权投诉”",
    ("冒充他人", "侵犯名称权", "诈骗"),
)

PLATFORM = Platform(
    complaint=COMPLAINT,
    name="toutiao", label="今日头条", spider="ToutiaoSpider", order=8,
    base_urls={"search": "https://so.toutiao.com", "www": "https://www.toutiao.com"},
    modes=("discover", "timeline", "check", "mentions"), aliases=("头条", "头条号"),
    # A post is checked at its own page: videos and 微头条 do not live under /article/.
    browser=True, check_by="url", session_hint="在 toutiao.com 完成验证后导出 Cookie（ttwid、tt_webid）",
    # Ours: a reader's pace.
    pace=Pace(interval=3.0, per_minute=15, daily=500),
)


class ToutiaoSpider(BrowserSpider):
    info = PLATFORM

    # -- discovery (plain HTTP: the results are in the server-rendered page) -------------------

    def discover(self, keyword: str) -> Iterator[scrapy.Request]:
        yield self._search(keyword, 0, "", retry=False)

    def _search(self, keyword: str, page_num: int, search_id: str, *, retry: bool, pd: str = "user") -> scrapy.Request:
        q: dict[str, str] = {"keyword": keyword, "pd": pd, "dvpf": "pc"}
        if page_num or retry:
            q |= {"source": "pagination", "action_type": "pagination", "page_num": str(page_num),
                  "search_id": search_id, "from": "search_tab"}
        elif pd == "user":
            q["source"] = "input"
        else:
            # The 资讯 tab as the results page switches to it (searxng ``searx/engines/toutiao.py``).
            q |= {"source": "search_subtab_switch", "action_type": "search_subtab_switch", "from": pd,
                  "cur_tab_title": pd, "page_num": "0"}
        return self.request(f"{self.urls['search']}/search?{urllib.parse.urlencode(q)}", self.parse_search,
                            headers={"Referer": f"{self.urls['search']}/"},
                            cb_kwargs={"keyword": keyword, "page_num": page_num, "retried": retry, "pd": pd})

    def _cards(self, response: Response, keyword: str) -> list[dict[str, Any]]:
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
                if _captcha_card(card["data"]):
                    raise refuse(self, REFUSALS, 71, f"搜索 {keyword}（滑块验证）")
                cards.append(card["data"])
        return cards

    def parse_search(self, response: Response, keyword: str, page_num: int, retried: bool,
                     pd: str = "user") -> Iterator[Any]:
        text = response.text
        cards = self._cards(response, keyword)
        search_id = (_SEARCH_ID.search(text) or [None, ""])[1]
        if not cards:
            if any(m in text for m in NO_RESULT) or page_num > 0:
                yield self.page_done()
                return
            if any(m in response.url.lower() or m in text[:5000] for m in WALL_MARKERS):
                raise self.blocked("头条搜索要求验证（验证码/登录），请降低频率或配置 platforms.toutiao.cookies_file")
            if not retried and search_id:
                yield self._search(keyword, 0, search_id, retry=True, pd=pd)
                return
            raise self.blocked("头条搜索只返回了页面框架、没有结果数据（可能被风控，或页面已改版）")
        found = 0
        for d in cards:
            made = [self._user(d, keyword)] if pd == "user" else list(self._article(d, keyword))
            for item in made:
                if item is not None:
                    found += 1
                    yield item
        yield self.page_done()
        if found and page_num + 1 < self.pages and search_id:
            yield self._search(keyword, page_num + 1, search_id, retry=False, pd=pd)

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

    # -- mentions (plain HTTP: the 资讯 tab of the same server-rendered search) ------------------

    def mentions(self, keyword: str) -> Iterator[scrapy.Request]:
        yield self._search(keyword, 0, "", retry=False, pd="information")

    def _article(self, d: dict[str, Any], keyword: str) -> Iterator[Any]:
        """An article, 微头条 or video card as a mention, its author before it; nothing for
        cards that are neither (related searches, the search bar)."""
        display = d.get("display") if isinstance(d.get("display"), dict) else {}
        info = display.get("info") if isinstance(display.get("info"), dict) else {}
        title_field = display.get("title")
        title = html_text((title_field.get("text") if isinstance(title_field, dict) else title_field) or d.get("title") or "")
        summary = display.get("summary") if isinstance(display.get("summary"), dict) else {}
        text = html_text(d.get("abstract") or summary.get("text") or d.get("content") or d.get("rich_content") or "")
        links = [u for u in (info.get("url"), d.get("article_url"), d.get("share_url"), d.get("source_url"), d.get("url"))
                 if isinstance(u, str) and u and not u.startswith("sslocal://")]
        gid = d.get("group_id") or d.get("item_id") or next(
            (m.group(1) for u in links if (m := _ARTICLE_ID.search(u))), None)
        if not gid or not (title or text):
            return
        user = d.get("user_info") if isinstance(d.get("user_info"), dict) else {}
        name = d.get("media_name") or user.get("name") or d.get("source") or ""
        pages = [d.get(k) or user.get(k) for k in ("media_url", "user_url", "open_url", "source_open_url")]
        token = next((m.group(1) for u in pages if isinstance(u, str) and (m := _TOKEN.search(u))), None)
        author = str(token or d.get("user_id") or user.get("user_id") or "")
        if author and name:
            yield DiscoveredAccount(platform="toutiao", account_id=author, name=str(name),
                                    avatar_url=user.get("avatar_url") or d.get("media_avatar_url"),
                                    verified=bool(user.get("user_verified")) or None,
                                    profile_url=f"{self.urls['www']}/c/user/token/{token}/" if token else None,
                                    keyword=keyword, raw={k: d.get(k) for k in ("user_id", "media_name", "source")})
        url = next((u for u in links if "toutiao.com" in u), None) or f"{self.urls['www']}/article/{gid}/"
        kind = "video" if d.get("has_video") or d.get("video_duration") else "article" if title else "post"
        yield Mention(platform="toutiao", post_id=str(gid), author_id=author, author_name=str(name), title=title,
                      text=text, created_at=when(d.get("publish_time") or d.get("datetime") or d.get("display_time")
                                                 or info.get("time")),
                      comments=_count(d, "comment_count"), likes=_count(d, "digg_count", "like_count"),
                      reposts=_count(d, "forward_count", "share_count"), views=_count(d, "read_count", "play_count"),
                      url=url, keyword=keyword, kind=kind, raw=d)

    # -- timeline (in the browser: the feed call is signed by the page) ------------------------

    def timeline(self, account_id: str) -> Iterator[scrapy.Request]:
        profiled: list[bool] = []
        yield self.page(f"{self.urls['www']}/c/user/token/{account_id}/", (FEED,),
                        lambda d: self.parse_feed(d, account_id, profiled), what=f"头条号 {account_id} 主页",
                        more=lambda d: bool(d.get("has_more")) and bool((d.get("next") or {}).get("max_behot_time")))

    def parse_feed(self, data: dict[str, Any], token: str, profiled: list[bool] | None = None) -> Iterator[Any]:
        if data.get("message") not in ("success", None):
            raise self.blocked(f"今日头条拒绝了主页数据请求（message={data.get('message')}），可能需要 Cookie 或验证")
        items = [i for i in data.get("data") or [] if isinstance(i, dict)]
        if profiled is None or not profiled:
            user = next((u for i in items if (u := _feed_user(i))), {})
            name = user.get("name") or next((i.get("source") for i in items if i.get("source")), None)
            yield ProfileSnapshot(platform="toutiao", account_id=token, name=name,
                                  bio=user.get("description") or user.get("desc"), avatar_url=user.get("avatar_url"),
                                  verified_reason=user.get("verified_content") or None,
                                  profile_url=f"{self.urls['www']}/c/user/token/{token}/", raw={"user_info": user})
            if profiled is not None:
                profiled.append(True)
        for i in items:
            gid = i.get("group_id") or i.get("item_id") or i.get("id")
            if not gid:
                continue
            ts = i.get("publish_time") or i.get("behot_time")
            # 微头条 (cell_type 32) have content and no title; videos (0, 49) live under /video/.
            body = i.get("abstract") or i.get("content") or ""
            yield Post(platform="toutiao", account_id=token, post_id=str(gid),
                       text=f"{i.get('title') or ''}\n{body}".strip(),
                       created_at=datetime.fromtimestamp(int(ts), UTC).isoformat() if ts else None,
                       comments=count(i.get("comment_count")), likes=_count(i, "digg_count", "like_count"),
                       url=f"{self.urls['www']}/{FEED_PATHS.get(i.get('cell_type'), 'article')}/{gid}/", raw=i)

    # -- check (in the browser: the article page renders from its embedded data) ---------------

    def check(self, account_id: str, post_id: str) -> Iterator[scrapy.Request]:
        url, gid = self._post_page(post_id)
        script = ("(() => { let s = window._SSR_HYDRATED_DATA; const rd = document.getElementById('RENDER_DATA');"
                  " if (!s && rd) { try { s = JSON.parse(decodeURIComponent(rd.textContent)); } catch (e) {} }"
                  " if (!s) return null; const d = s.data || s.articleInfo || {}; const v = d.initialVideo || {};"
                  " return {mentions: JSON.stringify(s).includes(" + json.dumps(gid) + "),"
                  " title: d.title || d.articleTitle || (d.articleInfo || {}).title || v.title || d.content || ''}; })()")
        what = "视频" if "/video/" in url else "微头条" if "/w/" in url else "文章"
        yield self.inspect(url, script, lambda d: self.parse_article(d, account_id, gid, what), what=f"{what} {gid}")

    def _post_page(self, post: str) -> tuple[str, str]:
        """(the page to open, the group id) of a post to check: its stored URL when the round
        hands one over, else the article page of a bare ID."""
        if not post.startswith(("http://", "https://")):
            return f"{self.urls['www']}/article/{post}/", post
        m = _POST_PATH.search(urllib.parse.urlsplit(post).path)
        if m is None:
            raise self.failed(f"无法从帖子地址中读出今日头条的内容 ID：{post[:100]}")
        return post, m[1]

    def parse_article(self, seen: dict[str, Any], token: str, gid: str, what: str = "文章") -> Iterator[Any]:
        state = seen.get("state") or {}
        if state.get("mentions") and state.get("title"):
            yield PostCheck("toutiao", token, gid, True, state["title"])
        elif cause := said_cause(seen.get("text", ""), PAGE_CAUSES):
            yield PostCheck("toutiao", token, gid, False, reason=f"今日头条{what}页：{seen['text'][:80]}", cause=cause)
        elif said := next((w for w in GONE_WORDS if w in seen.get("text", "")), None):
            yield PostCheck("toutiao", token, gid, False, reason=f"今日头条{what}页：{said}", cause="unknown")
        else:
            yield PostCheck("toutiao", token, gid, None, reason=f"无法判断：{what}页没有该{what}的数据，也没有说明已删除")
