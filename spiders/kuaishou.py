"""Kuaishou (快手) through its web pages in Chromium; the pages call the GraphQL endpoint
``/graphql`` with the operations below, carrying the cookies Kuaishou requires.

* discover: page ``/search/author?searchKey=K`` → ``visionSearchUser.users[]`` (user_id, user_name,
  user_text, headurl, fansCount, verified)
* timeline: page ``/profile/USER_ID`` → ``visionProfile.userProfile`` (or, where the page
  renders it without the call, its embedded ``window.INIT_STATE``) and the works list: since
  2026-08 the page's signed ``POST /rest/v/profile/feed`` ({user_id, pcursor, page: profile} →
  ``{result, pcursor, feeds[].photo}``; ``result`` 50 = an unsigned call; MediaCrawler 2e558f1,
  ``media_platform/kuaishou/client.py``), before it ``visionProfilePhotoList`` over GraphQL —
  either is read. ``pcursor`` ("no_more" at the end) is what the page sends for the next batch
  as the reader scrolls.
* GraphQL answers share one URL: each is matched by its ``operationName`` (any ``/graphql``
  answer is not the one wanted).
* mentions: page ``/search/video?searchKey=K`` → the page's signed ``POST /rest/v/search/feed``
  ({keyword, pcursor, page: search, searchSessionId} → ``{result, pcursor, feeds[],
  searchSessionId}``; MediaCrawler ``search_info_by_keyword_v2``): ``feeds[].photo`` (id, caption,
  timestamp in ms, realLikeCount / likeCount, viewCount, commentCount) and ``feeds[].author``
  (id, name, headerUrl). ``pcursor`` ("no_more" at the end) as for the works list.

* check: page ``/short-video/PHOTO_ID`` renders from ``window.__APOLLO_STATE__`` (its
  ``defaultClient`` holds ``VisionVideoDetailPhoto:PHOTO_ID`` for a live video). Only a page that
  says the work was deleted / does not exist means deleted; anything else proves nothing.

``result`` ≠ 1 is Kuaishou refusing the call: 2 is server-side rate limiting on the signed
``/rest/v/…`` calls (MediaCrawler 071c8c0 backs off 5·2^n s and re-signs; Tommy131/KuaishouParser
issue #12 reads the same 2 on live.kuaishou.com as a per-address limit), 50 an unsigned call,
2001 and 400002 a captcha; anything else is read as a login or verification wall.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import scrapy

from spiders.base import Problem
from spiders.browser import BrowserSpider
from spiders.catalog import Complaint, Pace, Platform, SessionSpec
from spiders.items import DiscoveredAccount, Mention, Post, PostCheck, ProfileSnapshot
from spiders.parsing import count, https, said_cause, when
from spiders.refusals import Refusal, refuse

GONE_WORDS = ("作品已删除", "作品已被删除", "该作品已删除", "视频已删除", "作品不存在", "视频不存在")
# What the work's page says of a work readers cannot see, and why (first match wins): the
# author's own deletion, Kuaishou's removal for a violation, a review, a private work.
PAGE_CAUSES: tuple[tuple[str, str], ...] = (
    (r"作者(已)?删除|被作者删除", "author_deleted"),
    (r"违规|违反|涉嫌|屏蔽|下架|处罚", "platform_removed"),
    (r"审核中|正在审核", "under_review"),
    (r"仅作者可见|仅自己可见|私密|已隐藏|无权查看|暂不可见", "restricted"),
)


def _next_cursor(data: dict[str, Any], op: str | None = None) -> bool | None:
    """Whether the answer (GraphQL ``op``, or a REST list) says there is a further batch; None
    for an answer that says nothing about it."""
    answer = (data.get("data") or {}).get(op) if "data" in data else data if "feeds" in data else None
    if answer is None:
        return None
    return bool(answer.get("feeds")) and answer.get("pcursor") not in (None, "", "no_more")


RATE_LIMITED, UNSIGNED, CAPTCHA = 2, 50, 400002
# Kuaishou's refusals by ``result`` (docs/crawling.md 平台拒绝代码): 2 server-side rate limiting (MediaCrawler
# 071c8c0), 50 an unsigned call, 2001 and 400002 a captcha to solve.
REFUSALS: dict[str, Refusal] = {
    "2": Refusal("服务端限流：请求过于频繁（result=2）", "slow_down"),
    "50": Refusal("未签名的请求：页面没有为接口签名（result=50）", "signing"),
    "2001": Refusal("要求验证码（result=2001）", "captcha"),
    "400002": Refusal("要求验证码（result=400002）", "captcha"),
}

WORKS = "/rest/v/profile/feed|/graphql#visionProfilePhotoList"
SEARCH_FEED = "/rest/v/search/feed"
# The profile the page rendered from its embedded state: the object that carries the user's
# profile (user_id) and counts, wherever the state keeps it.
PROFILE_STATE = """(() => {
  const uid = %s;
  const roots = [window.INIT_STATE, window.__APOLLO_STATE__].filter(Boolean);
  const seen = new Set();
  const find = (o, depth) => {
    if (!o || typeof o !== 'object' || depth > 8 || seen.has(o)) return null;
    seen.add(o);
    const p = o.profile;
    if (p && typeof p === 'object' && String(p.user_id || p.userId || '') === uid) return o;
    for (const k of Object.keys(o)) { const r = find(o[k], depth + 1); if (r) return r; }
    return null;
  };
  for (const r of roots) { const hit = find(r, 0); if (hit) return JSON.parse(JSON.stringify(hit)); }
  return null;
})()"""


# Where an impersonator of the school is reported (watcher.takedown; sources in docs/takedown.md).
COMPLAINT = Complaint(
    "快手举报 / 侵权投诉",
    "用户主页 →右上角“…”→“举报”→“冒充他人”；以学校名义：快手“设置”→“帮助与客服”→“侵权投诉”",
    ("冒充他人", "侵犯名称权", "诈骗"),
)

PLATFORM = Platform(
    complaint=COMPLAINT,
    name="kuaishou", label="快手", spider="KuaishouSpider", order=5,
    base_urls={"www": "https://www.kuaishou.com", "passport": "https://passport.kuaishou.com"},
    modes=("discover", "timeline", "check", "mentions"), aliases=("快手号",),
    browser=True, session_hint="登录 kuaishou.com 后导出 Cookie（userId、kuaishou.server.web_st）",
    # As Douyin (same reader-pace advice in MediaCrawler's CRAWLER_MAX_SLEEP_SEC).
    pace=Pace(interval=4.0, per_minute=10, daily=300),
    session=SessionSpec(probe=("cookie", "userId"),
                        login=("passport", "/pc/account/login/?sid=kuaishou.server.web"),
                        qr="img.qrcode-img, .qrcode img, canvas", done_cookie="userId",
                        loses="搜索与作品列表（未登录时页面要求登录或验证）"),
    counts=("followers", "comments", "likes"),  # a photo shows no share count
)


class KuaishouSpider(BrowserSpider):
    info = PLATFORM

    def refusal(self, result: Any, what: str) -> Problem:
        """Kuaishou's ``result`` ≠ 1 as the operator should read it, with the remedy for its cause."""
        if str(result) in REFUSALS:
            return refuse(self, REFUSALS, result, what.strip())
        return self.blocked(f"快手拒绝了{what}（result={result}，可能需要登录或验证）。{self.advice()}")

    def _op(self, data: dict[str, Any], name: str) -> dict[str, Any] | None:
        op = (data.get("data") or {}).get(name)
        if op is None:
            return None
        if op.get("result") != 1:
            raise self.refusal(op.get("result"), f" {name}")
        return op

    def discover(self, keyword: str) -> Iterator[scrapy.Request]:
        url = f"{self.urls['www']}/search/author?searchKey={urllib.parse.quote(keyword)}"
        yield self.page(url, ("/graphql#visionSearchUser",), lambda d: self.parse_search(d, keyword),
                        what=f"搜索用户 {keyword}",
                        more=lambda d: ((d.get("data") or {}).get("visionSearchUser") or {}).get("pcursor")
                        not in (None, "", "no_more"))

    def parse_search(self, data: dict[str, Any], keyword: str) -> Iterator[Any]:
        op = self._op(data, "visionSearchUser")
        for u in (op or {}).get("users") or []:
            if not u.get("user_id"):
                continue
            detail = (u.get("verifiedDetail") or {}).get("description")
            yield DiscoveredAccount(platform="kuaishou", account_id=str(u["user_id"]), name=u.get("user_name") or "",
                                    bio=u.get("user_text") or "", avatar_url=u.get("headurl"),
                                    verified=bool(u.get("verified")), verified_reason=detail,
                                    followers=count(u.get("fansCount")),
                                    profile_url=f"{self.urls['www']}/profile/{u['user_id']}", keyword=keyword, raw=u)

    def timeline(self, account_id: str) -> Iterator[scrapy.Request]:
        yield self.page(f"{self.urls['www']}/profile/{account_id}", ("/graphql#visionProfile", WORKS),
                        lambda d: self.parse_profile(d, account_id), what=f"用户 {account_id} 主页",
                        paged=WORKS, more=lambda d: _next_cursor(d, "visionProfilePhotoList"),
                        state=(PROFILE_STATE % json.dumps(account_id), ("/graphql#visionProfile",)))

    def parse_profile(self, data: dict[str, Any], uid: str) -> Iterator[Any]:
        prof = {"userProfile": data["__state__"]} if "__state__" in data else self._op(data, "visionProfile")
        if prof is not None:
            up = prof.get("userProfile") or {}
            p, counts = up.get("profile") or {}, up.get("ownerCount") or {}
            yield ProfileSnapshot(platform="kuaishou", account_id=uid, name=p.get("user_name"), bio=p.get("user_text"),
                                  avatar_url=p.get("headurl"), followers=count(counts.get("fan")),
                                  following=count(counts.get("follow")), posts_count=count(counts.get("photo_public")),
                                  profile_url=f"{self.urls['www']}/profile/{uid}", raw=up)
        if "data" not in data and "result" in data:  # the REST list
            if data.get("result") != 1:
                raise self.refusal(data.get("result"), "作品列表 /rest/v/profile/feed")
            feeds: dict[str, Any] | None = data
        else:
            feeds = self._op(data, "visionProfilePhotoList")
        for feed in (feeds or {}).get("feeds") or []:
            photo = feed.get("photo") or {}
            if not photo.get("id"):
                continue
            ts = photo.get("timestamp")
            yield Post(platform="kuaishou", account_id=uid, post_id=str(photo["id"]), text=photo.get("caption") or "",
                       created_at=datetime.fromtimestamp(ts / 1000, UTC).isoformat() if ts else None,
                       likes=count(photo.get("likeCount")),
                       url=f"{self.urls['www']}/short-video/{photo['id']}", raw=photo)

    def check(self, account_id: str, post_id: str) -> Iterator[scrapy.Request]:
        script = ("(() => { const s = window.__APOLLO_STATE__; const c = s && s.defaultClient; if (!c) return null;"
                  f" const p = c['VisionVideoDetailPhoto:' + {json.dumps(post_id)}];"
                  " return p ? JSON.parse(JSON.stringify(p)) : {}; })()")
        yield self.inspect(f"{self.urls['www']}/short-video/{post_id}", script,
                           lambda d: self.parse_video(d, account_id, post_id), what=f"作品 {post_id}")

    def parse_video(self, seen: dict[str, Any], uid: str, photo_id: str) -> Iterator[Any]:
        photo = seen.get("state") or {}
        if str(photo.get("id") or "") == photo_id:
            yield PostCheck("kuaishou", uid, photo_id, True, photo.get("caption"), raw=photo)
        elif cause := said_cause(seen.get("text", ""), PAGE_CAUSES):
            yield PostCheck("kuaishou", uid, photo_id, False, reason=f"快手作品页：{seen['text'][:80]}", cause=cause)
        elif any(w in seen.get("text", "") for w in GONE_WORDS):
            said = next(w for w in GONE_WORDS if w in seen["text"])
            yield PostCheck("kuaishou", uid, photo_id, False, reason=f"快手作品页：{said}", cause="unknown")
        else:
            yield PostCheck("kuaishou", uid, photo_id, None, reason="无法判断：作品页没有该作品的数据，也没有说明已删除")

    # -- mentions ---------------------------------------------------------------------------

    def mentions(self, keyword: str) -> Iterator[scrapy.Request]:
        url = f"{self.urls['www']}/search/video?searchKey={urllib.parse.quote(keyword)}"
        yield self.page(url, (SEARCH_FEED,), lambda d: self.parse_mentions(d, keyword), what=f"搜索视频 {keyword}",
                        more=_next_cursor)

    def parse_mentions(self, data: dict[str, Any], keyword: str) -> Iterator[Any]:
        if data.get("result") != 1:
            raise self.refusal(data.get("result"), f"视频搜索 {keyword}")
        for feed in data.get("feeds") or []:
            photo = feed.get("photo") if isinstance(feed, dict) else None
            if isinstance(photo, dict) and photo.get("id"):
                yield from self._mention(photo, feed.get("author") if isinstance(feed.get("author"), dict) else {},
                                         keyword)

    def _mention(self, photo: dict[str, Any], author: dict[str, Any], keyword: str) -> Iterator[Any]:
        uid = str(author.get("id") or "")
        name = author.get("name") or ""
        if uid:
            yield DiscoveredAccount(platform="kuaishou", account_id=uid, name=name,
                                    avatar_url=https(author.get("headerUrl")),
                                    profile_url=f"{self.urls['www']}/profile/{uid}", keyword=keyword, raw=author)
        photo_id = str(photo["id"])
        # realLikeCount is the exact figure; likeCount is what the page shows ("1.1w").
        likes = count(photo.get("realLikeCount"))
        yield Mention(platform="kuaishou", post_id=photo_id, author_id=uid, author_name=name,
                      text=photo.get("caption") or "", created_at=when(photo.get("timestamp")),
                      likes=count(photo.get("likeCount")) if likes is None else likes,
                      comments=count(photo.get("commentCount")), views=count(photo.get("viewCount")),
                      url=f"{self.urls['www']}/short-video/{photo_id}", keyword=keyword, kind="video",
                      raw={"photo": photo, "author": author})
