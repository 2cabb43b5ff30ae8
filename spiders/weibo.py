"""Weibo through its mobile web API (m.weibo.cn), as the mobile site itself calls it.

* discover: ``/api/container/getIndex?containerid=100103type=3&q=K&page_type=searchall&page=N``
  → ``data.cards[].card_group[].user`` (card_type 10)
* timeline: ``/api/container/getIndex?type=uid&value=UID`` → ``data.userInfo`` (profile) and
  ``data.tabsInfo.tabs[]``, whose ``weibo`` tab names the container of the posts (usually
  ``107603UID``, sometimes ``230413UID…``: read from the answer — DIYgod/RSSHub
  ``lib/routes/weibo/user.ts`` does the same; only an answer without tabs falls back to
  ``107603UID``, noted in the run), then ``containerid=C&page=N`` →
  ``data.cards[].mblog`` (card_type 9). ``created_at`` comes in every form the mobile site
  writes (``Sat Nov 21 …``, ``11-20``, ``今天 09:00``, ``昨天 21:30``, ``5分钟前``, ``刚刚``):
  :func:`spiders.parsing.when` reads them all.
* a cancelled account answers the profile with ``ok: 0`` and "这里还没有内容" / "用户不存在"
  (dataabc/weibo-crawler ``weibo.py`` treats it as 账号已注销): the account is gone.
* check: ``/statuses/show?id=MID`` → ``data`` for a live post; ``ok: 0`` with a "deleted /
  not found" message for a post that is gone.

Login walls: a redirect to passport.weibo.cn, ``ok: -100`` ("请先登录"), or HTML instead of JSON.
Since late 2025 m.weibo.cn answers anonymous API calls with HTTP 432 (DIYgod/RSSHub issues
#20512 and #20836): :class:`spiders.middlewares.RefusalMiddleware` reports it as blocked with the
advice to log in (``watcher login weibo``). Whether the session is still logged in is what
``/api/config`` says (``data.login``), checked before each round (:mod:`watcher.sessions`).
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterator
from typing import Any

import scrapy
from scrapy.http import Response

from spiders.base import PlatformSpider
from spiders.catalog import Complaint, Pace, Platform, SessionSpec
from spiders.items import DiscoveredAccount, Mention, Post, PostCheck, ProfileSnapshot
from spiders.parsing import count, html_text, when
from spiders.refusals import Refusal, refuse

# What Weibo says of a post that is gone: "此微博已被作者删除", "该微博不存在", "已被删除".
GONE = re.compile(r"(已|被).{0,3}删除|不存在|deleted")
# Why, in Weibo's own words (the texts public crawlers match, e.g. "抱歉，此微博已被作者删除。查看帮助",
# "该微博因违反《微博社区公约》的相关规定，已被删除", "抱歉，由于作者设置，你暂时没有这条微博的查看权限哦",
# "抱歉，作者已设置仅展示半年内微博，此微博已不可见", "根据博主设置，此内容无法访问"), first match wins.
GONE_CAUSES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"被作者删除|作者已删除"), "author_deleted"),
    (re.compile(r"社区公约|法律法规|违反|违规|投诉|屏蔽|相关规定"), "platform_removed"),
    (re.compile(r"审核中|正在审核|待审核"), "under_review"),
    (re.compile(r"作者设置|博主设置|查看权限|仅自己可见|仅.{0,4}可见|不可见|无法访问"), "restricted"),
)
REFUSALS: dict[str, Refusal] = {
    "-100": Refusal("需要登录（ok -100，请先登录）", "login"),
}


def gone_cause(message: str) -> str | None:
    """The cause Weibo's message names; None when it says nothing of a gone or hidden post."""
    cause = next((c for pattern, c in GONE_CAUSES if pattern.search(message)), None)
    if cause is None and GONE.search(message):
        return "unknown"
    return cause
# What it says of an account that is gone (cancelled, banned, never existed).
ACCOUNT_GONE = ("这里还没有内容", "用户不存在", "不存在", "已注销", "注销", "封")

# Where an impersonator of the school is reported (watcher.takedown; sources in docs/takedown.md).
COMPLAINT = Complaint(
    "微博投诉（个人主页举报 / 微博客服侵权投诉）",
    "账号主页 →右上角“…”→“投诉”→“冒充他人”；以学校名义投诉：微博客服中心（kefu.weibo.com）→侵权投诉",
    ("冒充他人", "侵犯名称权/企业名称权", "诈骗"),
)

PLATFORM = Platform(
    complaint=COMPLAINT,
    name="weibo", label="微博", spider="WeiboSpider", order=1,
    base_urls={"api": "https://m.weibo.cn", "passport": "https://passport.weibo.com"},
    modes=("discover", "timeline", "check", "mentions", "comments"), aliases=("新浪微博", "sina"),
    # 432 is how m.weibo.cn turns away a visitor without a session, not a "slow down".
    rate_limit_statuses=(418, 429),
    mobile=True, session_hint="运行 watcher login weibo 扫码登录，或在 m.weibo.cn 登录后导出 Cookie（SUB、SUBP）",
    # m.weibo.cn's own config call says whether the visitor is logged in (data.login).
    session=SessionSpec(probe=("api", "api", "/api/config", "data.login"),
                        # The SSO page with the QR code MediaCrawler's weibo/login.py also uses.
                        login=("passport", "/sso/signin?entry=miniblog&source=miniblog"),
                        qr="img[src*='qrcode'], img.w-full.h-full, canvas", done_cookie="SUB",
                        loses="搜索仿冒账号、巡检备案账号、核查删帖（未登录时 m.weibo.cn 的接口返回 HTTP 432 或要求登录）",
                        required=True, visitor=("api", "/")),
    # A conservative pace of ours (the public record gives none for m.weibo.cn; 432s come in bursts).
    pace=Pace(interval=3.0, per_minute=20, daily=1500),
)


def posts_container(profile: dict[str, Any]) -> str | None:
    """The container id of the account's posts, from the profile answer's tabs."""
    tabs = (((profile.get("data") or {}).get("tabsInfo") or {}).get("tabs")) or []
    for tab in tabs if isinstance(tabs, list) else []:
        if isinstance(tab, dict) and "weibo" in (tab.get("tabKey"), tab.get("tab_type")) and tab.get("containerid"):
            return str(tab["containerid"])
    return None


class WeiboSpider(PlatformSpider):
    info = PLATFORM

    def _api(self, **params: str) -> str:
        return f"{self.urls['api']}/api/container/getIndex?{urllib.parse.urlencode(params)}"

    def _check_ok(self, data: dict[str, Any], response: Response) -> bool:
        ok = data.get("ok")
        if ok == 1:
            return True
        if ok == -100 or "登录" in str(data.get("msg", "")):
            raise refuse(self, REFUSALS, -100, "请求（要求登录）", f"ok={ok} {data.get('msg', '')}")
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
        yield self.page_done()
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
            if any(h in msg for h in ACCOUNT_GONE):
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
        container = posts_container(data)
        if container is None:
            # An answer without tabs (seen in some mobile answers): the container the mobile site
            # has long used, noted in the run so a changed API shows up there.
            container = f"107603{uid}"
            self.details["container"] = f"{container}（资料中没有 tabsInfo，按惯例）"
        yield self._posts(uid, container, 1)

    def _posts(self, uid: str, container: str, page: int) -> scrapy.Request:
        return self.request(self._api(type="uid", value=uid, containerid=container, page=str(page)),
                            self.parse_posts, cb_kwargs={"uid": uid, "container": container, "page": page})

    def parse_posts(self, response: Response, uid: str, container: str, page: int) -> Iterator[Any]:
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
        yield self.page_done()
        if oldest:
            self.details["oldest_seen"] = oldest
        if cards and page < self.pages:
            yield self._posts(uid, container, page + 1)

    # -- check ------------------------------------------------------------------------------

    def check(self, account_id: str, post_id: str) -> Iterator[scrapy.Request]:
        yield self.request(f"{self.urls['api']}/statuses/show?id={post_id}", self.parse_check,
                           cb_kwargs={"uid": account_id, "mid": post_id})

    def parse_check(self, response: Response, uid: str, mid: str) -> Iterator[Any]:
        data = self.json(response)
        if data.get("ok") == 1 and isinstance(data.get("data"), dict):
            yield PostCheck("weibo", uid, mid, True, html_text(data["data"].get("text") or ""), raw=data)
        elif data.get("ok") == -100 or "登录" in str(data.get("msg", "")):
            raise refuse(self, REFUSALS, -100, f"微博 {mid} 的核查（无法确认是否被删除）", str(data.get("msg", "")))
        elif cause := gone_cause(str(data.get("msg", ""))):
            yield PostCheck("weibo", uid, mid, False, reason=str(data.get("msg")), raw=data, cause=cause)
        else:
            yield PostCheck("weibo", uid, mid, None, reason=f"无法判断：ok={data.get('ok')} {data.get('msg', '')}", raw=data)

    # -- mentions ---------------------------------------------------------------------------
    # Posts that mention the school: the mobile search container for posts
    # (``containerid=100103type=1&q=K``) → ``data.cards[]``: a post card (card_type 9) or a group
    # (card_type 11) of them; the next page is ``data.cardlistInfo.page``. The authors are yielded
    # as discovered accounts, so a post signed "北理工招生办" is judged like any other account.

    def mentions(self, keyword: str) -> Iterator[scrapy.Request]:
        yield self._mention_search(keyword, 1)

    def _mention_search(self, keyword: str, page: int) -> scrapy.Request:
        url = self._api(containerid=f"100103type=1&q={keyword}", page_type="searchall", page=str(page))
        return self.request(url, self.parse_mentions, cb_kwargs={"keyword": keyword, "page": page},
                            headers={"Referer": f"{self.urls['api']}/search", "X-Requested-With": "XMLHttpRequest"})

    def parse_mentions(self, response: Response, keyword: str, page: int) -> Iterator[Any]:
        data = self.json(response)
        if not self._check_ok(data, response):
            if page == 1 and data.get("msg") and "没有" not in str(data.get("msg")):
                raise self.failed(f"微博搜索 {keyword} 失败：ok={data.get('ok')} {data.get('msg', '')}")
            return  # ok: 0 "这里还没有内容": no (more) posts, an answer
        cards = (data.get("data") or {}).get("cards") or []
        for card in cards:
            for item in card.get("card_group") or [card]:
                mblog = item.get("mblog") if item.get("card_type") == 9 else None
                if isinstance(mblog, dict) and mblog.get("id"):
                    yield from self._mention(mblog, keyword)
        yield self.page_done()
        next_page = ((data.get("data") or {}).get("cardlistInfo") or {}).get("page")
        if cards and next_page and int(next_page) > page and page < self.pages:
            yield self._mention_search(keyword, int(next_page))

    def _mention(self, mblog: dict[str, Any], keyword: str) -> Iterator[Any]:
        user = mblog.get("user") if isinstance(mblog.get("user"), dict) else {}
        uid = str(user.get("id") or "")
        if uid:
            yield DiscoveredAccount(
                platform="weibo", account_id=uid, name=user.get("screen_name") or "",
                bio=user.get("description") or "", avatar_url=user.get("avatar_hd") or user.get("profile_image_url"),
                verified=bool(user.get("verified")), verified_type=str(user.get("verified_type", "")) or None,
                verified_reason=user.get("verified_reason"), followers=count(user.get("followers_count")),
                profile_url=f"https://m.weibo.cn/u/{uid}", keyword=keyword, raw=user)
        yield Mention(platform="weibo", post_id=str(mblog["id"]), author_id=uid,
                      author_name=user.get("screen_name") or "", text=_with_original(mblog),
                      created_at=when(mblog.get("created_at")), reposts=count(mblog.get("reposts_count")),
                      comments=count(mblog.get("comments_count")), likes=count(mblog.get("attitudes_count")),
                      url=f"https://m.weibo.cn/detail/{mblog['id']}", keyword=keyword, raw=mblog)

    # -- comments ---------------------------------------------------------------------------
    # The hot comments under a registered account's post: ``/comments/hotflow?id=MID&mid=MID&max_id_type=0``
    # → ``data.data[]`` (id, created_at, text, like_count, user); the next page passes
    # ``data.max_id`` (0: the last page). A post without comments answers ``ok: 0``.

    def comments(self, account_id: str, post_id: str) -> Iterator[scrapy.Request]:
        yield self._comment_page(account_id, post_id, None, 1)

    def _comment_page(self, uid: str, mid: str, max_id: int | None, page: int) -> scrapy.Request:
        params = {"id": mid, "mid": mid, "max_id_type": "0", **({"max_id": str(max_id)} if max_id else {})}
        return self.request(f"{self.urls['api']}/comments/hotflow?{urllib.parse.urlencode(params)}",
                            self.parse_comments, cb_kwargs={"uid": uid, "mid": mid, "page": page},
                            headers={"Referer": f"{self.urls['api']}/detail/{mid}", "X-Requested-With": "XMLHttpRequest"})

    def parse_comments(self, response: Response, uid: str, mid: str, page: int) -> Iterator[Any]:
        data = self.json(response)
        if not self._check_ok(data, response):
            return  # ok: 0 without a login message: no (more) comments
        body = data.get("data") or {}
        for c in body.get("data") or []:
            user = c.get("user") if isinstance(c.get("user"), dict) else {}
            if not c.get("id"):
                continue
            yield Mention(platform="weibo", post_id=f"comment:{c['id']}", author_id=str(user.get("id") or ""),
                          author_name=user.get("screen_name") or "", text=html_text(c.get("text") or ""),
                          created_at=when(c.get("created_at")), likes=count(c.get("like_count")),
                          url=f"https://m.weibo.cn/detail/{mid}", kind="comment", raw=c)
        yield self.page_done()
        max_id = body.get("max_id")
        if max_id and page < self.pages:
            yield self._comment_page(uid, mid, int(max_id), page + 1)


def _with_original(mblog: dict[str, Any]) -> str:
    """A repost's text as people read it: the reposter's words, then "//@原作者:原文". m.weibo.cn
    gives the reposted post apart, in ``retweeted_status``; without it a repost ("转发微博") is
    judged, and clustered, as a story of its own instead of joining the original's incident."""
    own = html_text(mblog.get("text") or "")
    original = mblog.get("retweeted_status")
    if not isinstance(original, dict) or not original.get("text"):
        return own
    author = original.get("user") if isinstance(original.get("user"), dict) else {}
    return f"{own}//@{author.get('screen_name') or '原微博'}:{html_text(original.get('text') or '')}"
