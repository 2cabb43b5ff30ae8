"""Douyin (抖音) through its web pages in Chromium; the page's own JS signs the API calls
(a_bogus / X-Bogus).

* discover: page ``/search/K?type=user`` → the page calls
  ``/aweme/v1/web/discover/search/?search_channel=aweme_user_web&keyword=K…`` →
  ``user_list[].user_info`` (sec_uid, nickname, signature, avatar_thumb, follower_count,
  enterprise_verify_reason / custom_verify)
* timeline: page ``/user/SEC_UID`` → ``/aweme/v1/web/user/profile/other/`` (``user``) and
  ``/aweme/v1/web/aweme/post/`` (``aweme_list[]``: aweme_id, desc, create_time, statistics;
  ``has_more`` / ``max_cursor``: the page asks for the next batch when the reader scrolls)
  The 2025–26 page streams the profile in its own data (React server chunks ``self.__pace_f``,
  earlier the URL-encoded ``<script id="RENDER_DATA">`` whose ``user.user`` DIYgod/RSSHub
  ``lib/routes/douyin/user.ts`` reads) instead of calling ``profile/other``: the spider then reads
  the user (``secUid``, ``nickname``, ``desc``, ``followerCount`` …) from there.
* check: page ``/video/AWEME_ID`` → ``/aweme/v1/web/aweme/detail/``: ``aweme_detail`` for a live
  video; ``aweme_detail: null`` with ``filter_detail`` ("因作品权限或已被删除…") when it is gone
* mentions: page ``/search/K?type=video`` → the page's ``/aweme/v1/web/search/item/``
  (``search_channel=aweme_video_web``) or, on the 综合 tab, ``/aweme/v1/web/general/search/single/``
  (whose first screen the 2026 page fetches streamed from ``general/search/stream/``: JSON
  objects after hex length lines, read by :func:`spiders.browser.read_stream`)
  (MediaCrawler ``media_platform/douyin/client.py`` ``search_info_by_keyword``) → ``data[].aweme_info``
  (aweme_id, desc, create_time, author, statistics), ``has_more`` / ``cursor`` (the page asks for the
  next batch as the reader scrolls). Douyin's risk control answers the search with
  ``status_code: 0``, no results and ``search_nil_info.search_nil_type: "verify_check"``
  (cv-cat/DouYin_Spider issue #27, mytv-android/myDV issue #118): that is blocked, never "no mentions".

``status_code`` ≠ 0 means Douyin refused the call (8 / 2483: not logged in; anything else risk
control or a login wall). An unsigned search answers 200 with ``data: []`` and ``search_nil_info``
``{"search_nil_type": "params_check", "search_nil_item": "invalid_app"}`` (public 2026 notes):
the page's signing is missing, blocked, never "no mentions"; ``antispam_check`` / ``hit_shark`` are
risk control. Other ``search_nil_type`` values (``hit_limit``, a keyword the platform restricts)
are an answer with no results.

Why a post is gone (``aweme/detail`` → ``aweme_detail: null``, ``filter_detail.filter_reason``,
one message "因作品权限或已被删除…" for all): ``status_deleted`` the author deleted it;
``status_self_see`` / ``status_audit_self_see`` / ``author_secret`` private; ``status_reviewing`` /
``status_audit`` under review; ``status_audit_not_pass``, ``content_classification``,
``cross_border_violation``, ``copyright_geo_filter`` / ``copyright_foreign``, ``author_level_ban``
removed or blocked by Douyin (the reasons a 2026 replication of a Douyin deletion study counts as
platform removals; z-mio/parse_hub_bot issue #25 shows the shape); several joined by ``&`` — the
platform's removal wins. ``core_dep`` and other reasons: gone, cause unknown.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import scrapy

from spiders.browser import BrowserSpider
from spiders.catalog import Complaint, Pace, Platform, SessionSpec
from spiders.items import DiscoveredAccount, Mention, Post, PostCheck, ProfileSnapshot
from spiders.parsing import count, https, when
from spiders.refusals import Refusal, refuse

# Douyin's refusals, by the code it answers with (docs/crawling.md 平台拒绝代码).
REFUSALS: dict[str, Refusal] = {
    "verify_check": Refusal("搜索要求人机验证（search_nil_info verify_check）", "captcha"),
    "params_check": Refusal("请求参数校验未通过：页面没有为搜索签名（search_nil_info params_check）", "signing"),
    "invalid_app": Refusal("应用标识无效：未签名的请求（search_nil_info invalid_app）", "signing"),
    "antispam_check": Refusal("反作弊拦截（search_nil_info antispam_check）", "slow_down"),
    "hit_shark": Refusal("风控拦截（search_nil_info hit_shark）", "slow_down"),
    "8": Refusal("用户未登录（status_code 8）", "login"),
    "2483": Refusal("需要登录（status_code 2483）", "login"),
}
# search_nil_info values that are a refusal, not "no results".
NIL_REFUSALS = ("verify_check", "params_check", "invalid_app", "antispam_check", "hit_shark")

# filter_detail.filter_reason of a post that is gone → why (see the module's docstring).
FILTER_CAUSES: dict[str, str] = {
    "status_deleted": "author_deleted",
    "status_self_see": "restricted", "status_audit_self_see": "restricted", "author_secret": "restricted",
    "status_friend_see": "restricted",
    "status_reviewing": "under_review", "status_audit": "under_review",
    "status_audit_not_pass": "platform_removed", "content_classification": "platform_removed",
    "cross_border_violation": "platform_removed", "copyright_geo_filter": "platform_removed",
    "copyright_foreign": "platform_removed", "author_level_ban": "platform_removed",
}
# When several reasons are joined by "&", the strongest decides.
CAUSE_ORDER = ("platform_removed", "author_deleted", "under_review", "restricted")


def gone_cause(filter_reason: str) -> str:
    """The cause a ``filter_reason`` (possibly several joined by ``&``) names; ``unknown`` else."""
    causes = {FILTER_CAUSES.get(part.strip()) for part in (filter_reason or "").split("&")}
    return next((c for c in CAUSE_ORDER if c in causes), "unknown")


def _first(urls: dict[str, Any] | None) -> str | None:
    lst = (urls or {}).get("url_list") or []
    return lst[0] if lst else None


# Where an impersonator of the school is reported (watcher.takedown; sources in docs/takedown.md).
COMPLAINT = Complaint(
    "抖音侵权投诉",
    "账号主页 →右上角“…”→“举报”→“冒充他人”；以学校名义：抖音 App“设置”→“反馈与帮助”→“侵权投诉”",
    ("冒充他人", "侵犯名称权/名誉权", "商标侵权", "诈骗"),
)

PLATFORM = Platform(
    complaint=COMPLAINT,
    name="douyin", label="抖音", spider="DouyinSpider", order=4,
    base_urls={"www": "https://www.douyin.com"},
    modes=("discover", "timeline", "check", "mentions"), aliases=("douyin", "抖音号"),
    browser=True, session_hint="登录 douyin.com 后导出 Cookie（sessionid）",
    # The public record (issue #19, docs/platforms.md): about 4 s ± 2 between requests, ≤ 10 a minute.
    pace=Pace(interval=4.0, per_minute=10, daily=300),
    session=SessionSpec(probe=("cookie", "sessionid"), login=("www", "/"),
                        # The login panel's QR (MediaCrawler media_platform/douyin/login.py reads the same one).
                        qr="#animate_qrcode_container img, img[aria-label='二维码'], canvas", done_cookie="sessionid",
                        loses="搜索与主页常被要求登录或验证（未登录时页面不发出接口请求）"),
)


# The user object the page streamed or embedded, found by its secUid wherever the data keeps it.
USER_STATE = """(() => {
  const sec = %s;
  const roots = [];
  const rd = document.getElementById('RENDER_DATA');
  if (rd) { try { roots.push(JSON.parse(decodeURIComponent(rd.textContent))); } catch (e) {} }
  for (const chunk of [...(self.__pace_f || []), ...(self.__next_f || [])]) {
    if (!Array.isArray(chunk) || typeof chunk[1] !== 'string' || !chunk[1].includes(sec)) continue;
    for (const line of chunk[1].split('\\n')) {
      const at = line.search(/[\\[{]/);
      if (at >= 0 && line.includes(sec)) { try { roots.push(JSON.parse(line.slice(at))); } catch (e) {} }
    }
  }
  const seen = new Set();
  const find = (o, depth) => {
    if (!o || typeof o !== 'object' || depth > 12 || seen.has(o)) return null;
    seen.add(o);
    if (o.secUid === sec && o.nickname !== undefined) return o;
    for (const k of Object.keys(o)) { const r = find(o[k], depth + 1); if (r) return r; }
    return null;
  };
  for (const r of roots) { const u = find(r, 0); if (u) return JSON.parse(JSON.stringify(u)); }
  return null;
})()"""


# The video search the search page makes (the 视频 tab), or the 综合 tab's mixed search, whose
# first screen comes streamed (general/search/stream: JSON objects after hex length lines; public
# 2026 crawlers listen for it and for single's later batches) and its next batches whole.
STREAM_SEARCH = "/aweme/v1/web/general/search/stream/"
VIDEO_SEARCH = f"/aweme/v1/web/search/item/|/aweme/v1/web/general/search/single/|{STREAM_SEARCH}"


class DouyinSpider(BrowserSpider):
    info = PLATFORM

    def _ok(self, data: dict[str, Any], what: str) -> None:
        code = data.get("status_code", 0)
        if code == 0:
            return
        if str(code) in REFUSALS:
            raise refuse(self, REFUSALS, code, what, str(data.get("status_msg") or ""))
        raise self.blocked(f"抖音拒绝了{what}（status_code={code} {data.get('status_msg', '')}）。{self.advice()}")

    def _searched(self, data: dict[str, Any], what: str) -> None:
        """A search answer Douyin refused while saying 200: ``search_nil_info`` names why."""
        self._ok(data, what)
        nil = data.get("search_nil_info") or {}
        for key in ("search_nil_type", "search_nil_item"):
            said = str(nil.get(key) or "")
            if said in NIL_REFUSALS:
                raise refuse(self, REFUSALS, said, what, f"search_nil_info: {nil.get('search_nil_type', '')} "
                                                          f"{nil.get('search_nil_item', '')}，这不是“没有结果”")

    def discover(self, keyword: str) -> Iterator[scrapy.Request]:
        url = f"{self.urls['www']}/search/{urllib.parse.quote(keyword)}?type=user"
        yield self.page(url, ("/aweme/v1/web/discover/search/",), lambda d: self.parse_users(d, keyword),
                        what=f"搜索用户 {keyword}", more=lambda d: bool(d.get("has_more")))

    def parse_users(self, data: dict[str, Any], keyword: str) -> Iterator[Any]:
        self._searched(data, f"搜索用户 {keyword}")
        for entry in data.get("user_list") or []:
            u = entry.get("user_info") or {}
            sec = u.get("sec_uid")
            if not sec:
                continue
            reason = u.get("enterprise_verify_reason") or u.get("custom_verify") or None
            yield DiscoveredAccount(platform="douyin", account_id=sec, name=u.get("nickname") or "",
                                    bio=u.get("signature") or "", avatar_url=_first(u.get("avatar_thumb")),
                                    verified=bool(reason), verified_reason=reason, followers=u.get("follower_count"),
                                    profile_url=f"{self.urls['www']}/user/{sec}", keyword=keyword, raw=u)

    def timeline(self, account_id: str) -> Iterator[scrapy.Request]:
        yield self.page(f"{self.urls['www']}/user/{account_id}",
                        ("/aweme/v1/web/user/profile/other/", "/aweme/v1/web/aweme/post/"),
                        lambda d: self.parse_user_page(d, account_id), what=f"用户 {account_id} 主页",
                        paged="/aweme/v1/web/aweme/post/", more=lambda d: bool(d.get("has_more")),
                        state=(USER_STATE % json.dumps(account_id), ("/aweme/v1/web/user/profile/other/",)))

    def parse_user_page(self, data: dict[str, Any], sec: str) -> Iterator[Any]:
        if "__state__" in data:
            u = data["__state__"]
            reason = u.get("enterpriseVerifyReason") or u.get("customVerify") or None
            yield ProfileSnapshot(platform="douyin", account_id=sec, name=u.get("nickname"), bio=u.get("desc"),
                                  avatar_url=https(u.get("avatar300Url") or u.get("avatarUrl")), verified=bool(reason),
                                  verified_reason=reason, followers=count(u.get("followerCount")),
                                  following=count(u.get("followingCount")), posts_count=count(u.get("awemeCount")),
                                  profile_url=f"{self.urls['www']}/user/{sec}", raw=u)
            return
        self._ok(data, f"用户 {sec} 的数据")
        if isinstance(data.get("user"), dict):
            u = data["user"]
            reason = u.get("enterprise_verify_reason") or u.get("custom_verify") or None
            yield ProfileSnapshot(platform="douyin", account_id=sec, name=u.get("nickname"), bio=u.get("signature"),
                                  avatar_url=_first(u.get("avatar_larger") or u.get("avatar_thumb")),
                                  verified=bool(reason), verified_reason=reason, followers=u.get("follower_count"),
                                  following=u.get("following_count"), posts_count=u.get("aweme_count"),
                                  profile_url=f"{self.urls['www']}/user/{sec}", raw=u)
        for a in data.get("aweme_list") or []:
            stats = a.get("statistics") or {}
            created = datetime.fromtimestamp(a["create_time"], UTC).isoformat() if a.get("create_time") else None
            yield Post(platform="douyin", account_id=sec, post_id=str(a.get("aweme_id")), text=a.get("desc") or "",
                       created_at=created, comments=stats.get("comment_count"), likes=stats.get("digg_count"),
                       reposts=stats.get("share_count"), url=f"{self.urls['www']}/video/{a.get('aweme_id')}", raw=a)

    def check(self, account_id: str, post_id: str) -> Iterator[scrapy.Request]:
        yield self.page(f"{self.urls['www']}/video/{post_id}", ("/aweme/v1/web/aweme/detail/",),
                        lambda d: self.parse_detail(d, account_id, post_id), what=f"作品 {post_id}")

    def parse_detail(self, data: dict[str, Any], sec: str, aweme_id: str) -> Iterator[Any]:
        self._ok(data, f"作品 {aweme_id} 的数据")
        detail = data.get("aweme_detail")
        if isinstance(detail, dict):
            yield PostCheck("douyin", sec, aweme_id, True, detail.get("desc"), raw=detail)
            return
        filtered = data.get("filter_detail") if isinstance(data.get("filter_detail"), dict) else {}
        why = str(filtered.get("filter_reason") or "")
        said = str(filtered.get("detail_msg") or filtered.get("notice") or "")
        if why:
            # The message is the same for every reason ("因作品权限或已被删除"): the reason decides.
            yield PostCheck("douyin", sec, aweme_id, False, reason=f"filter_reason={why}" + (f"：{said}" if said else ""),
                            raw=data, cause=gone_cause(why))
        elif "删除" in said or "不存在" in said:
            yield PostCheck("douyin", sec, aweme_id, False, reason=said, raw=data, cause="unknown")
        else:
            yield PostCheck("douyin", sec, aweme_id, None, reason=f"无法判断：{said or '没有作品数据'}", raw=data)

    # -- mentions ---------------------------------------------------------------------------

    def mentions(self, keyword: str) -> Iterator[scrapy.Request]:
        url = f"{self.urls['www']}/search/{urllib.parse.quote(keyword)}?type=video"
        yield self.page(url, (VIDEO_SEARCH,), lambda d: self.parse_mentions(d, keyword), what=f"搜索视频 {keyword}",
                        more=lambda d: bool(d.get("has_more")), streamed=(STREAM_SEARCH,))

    def parse_mentions(self, data: dict[str, Any], keyword: str) -> Iterator[Any]:
        self._searched(data, f"搜索视频 {keyword}")
        for entry in data.get("data") or []:
            aweme = entry.get("aweme_info") if isinstance(entry, dict) else None
            if not isinstance(aweme, dict):
                mix = (entry.get("aweme_mix_info") or {}).get("mix_items") if isinstance(entry, dict) else None
                aweme = mix[0] if isinstance(mix, list) and mix and isinstance(mix[0], dict) else None
            if aweme and aweme.get("aweme_id"):
                yield from self._mention(aweme, keyword)

    def _mention(self, a: dict[str, Any], keyword: str) -> Iterator[Any]:
        author = a.get("author") if isinstance(a.get("author"), dict) else {}
        sec = author.get("sec_uid") or ""
        if sec:
            reason = author.get("enterprise_verify_reason") or author.get("custom_verify") or None
            yield DiscoveredAccount(platform="douyin", account_id=sec, name=author.get("nickname") or "",
                                    bio=author.get("signature") or "", avatar_url=_first(author.get("avatar_thumb")),
                                    verified=bool(reason), verified_reason=reason,
                                    followers=count(author.get("follower_count")),
                                    profile_url=f"{self.urls['www']}/user/{sec}", keyword=keyword, raw=author)
        stats = a.get("statistics") or {}
        aweme_id = str(a["aweme_id"])
        yield Mention(platform="douyin", post_id=aweme_id, author_id=sec, author_name=author.get("nickname") or "",
                      text=a.get("desc") or "", created_at=when(a.get("create_time")),
                      reposts=count(stats.get("share_count")), comments=count(stats.get("comment_count")),
                      # The web search reports play_count 0 for every video: unknown, not "never watched".
                      likes=count(stats.get("digg_count")), views=count(stats.get("play_count")) or None,
                      url=f"{self.urls['www']}/video/{aweme_id}", keyword=keyword, kind="video", raw=a)
