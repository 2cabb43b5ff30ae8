"""Bilibili through its web API, with the public wbi signature.

* keys: ``/x/web-interface/nav`` → ``data.wbi_img`` (answers ``code -101`` when not logged
  in, but still carries the keys)
* discover: ``/x/web-interface/wbi/search/type?search_type=bili_user&keyword=K&page=N`` →
  ``data.result[]`` (mid, uname, usign, upic, fans, official_verify)
* timeline: the profile from ``/x/space/wbi/acc/info?mid=M`` with a session, or without one from
  the user card ``/x/web-interface/card?mid=M&photo=true`` (``data.card``: name, face, sign, fans,
  attention, ``Official``; ``spacesta`` −2 = banned; ``data.follower``, ``data.archive_count``),
  which needs neither a login nor a wbi signature (bilibili-API-collect ``docs/user/info.md``
  "用户名片信息"); then ``/x/space/wbi/arc/search?mid=M&pn=N&ps=30`` → ``data.list.vlist[]`` (videos)
* check: ``/x/web-interface/view?bvid=BV…`` → code 0 live; −404 gone (cause not said); 62002 / 62012
  hidden (稿件不可见 / 仅 UP 主自己可见); 62004 under review — hidden and under review are no deletion.

Risk control: −352 (风控校验失败), −412 (请求被拦截), −101 on endpoints that need a login,
HTTP 412 (MediaCrawler issue #834: even when logged in, after bursts).

What the public record says a visitor must carry (SocialSisterYi/bilibili-API-collect):

* ``buvid3`` / ``buvid4`` device cookies, from ``/x/frontend/finger/spi`` (``data.b_3`` /
  ``data.b_4``; ``docs/misc/buvid3_4.md``), fetched once unless the session has them and kept
  under the data dir for the next rounds (a browser keeps its device ids too);
* on the space endpoints (``acc/info``, ``arc/search``) the ``dm_img_list`` / ``dm_img_str`` /
  ``dm_cover_img_str`` / ``dm_img_inter`` parameters the web page adds (the WebGL version and
  renderer, base64 without its last two characters): without them ``arc/search`` answers −352
  (issue #868);
* ``acc/info`` needs a session (SESSDATA with bili_jct, DedeUserID and buvid3; ``docs/user/info.md``):
  it is asked only when the round carries SESSDATA, and a refusal while the session does not log
  us in is reported as "needs a (valid) session", with the way to log in; without a session the
  card above gives the same profile fields.
  Whether the session still logs us in is ``nav``'s ``data.isLogin`` (:mod:`watcher.sessions`).
"""

from __future__ import annotations

import base64
import html
import json
import re
import urllib.parse
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import scrapy
from scrapy.http import Response

from spiders import identity
from spiders.base import PlatformSpider
from spiders.catalog import Complaint, Pace, Platform, SessionSpec
from spiders.items import DiscoveredAccount, Mention, Post, PostCheck, ProfileSnapshot
from spiders.parsing import count, https
from spiders.refusals import Refusal, refuse
from spiders.signing import wbi

# Bilibili's refusals (docs/crawling.md 平台拒绝代码): −352 risk control on a visitor without a session,
# −412 the exit address intercepted for a while, −101 not logged in, −509/−799 too frequent.
REFUSALS: dict[str, Refusal] = {
    "-352": Refusal("风控校验失败（-352），匿名或设备信息不全的请求易被拒", "login"),
    "-412": Refusal("请求被拦截（-412），本机出口地址被暂时拦截", "wait"),
    "-101": Refusal("账号未登录（-101）", "login"),
    "-509": Refusal("请求过于频繁（-509）", "slow_down"),
    "-799": Refusal("请求过于频繁（-799）", "slow_down"),
}
RISK = {int(k): v.meaning for k, v in REFUSALS.items()}
# What /x/web-interface/view says of a video readers cannot see (bilibili-API-collect
# docs/video/info.md): −404 啥都木有 (the video no longer exists: deleted, by whom the answer does
# not say), 62002 稿件不可见 (locked or hidden), 62004 稿件审核中, 62012 仅 UP 主自己可见.
GONE = {-404: ("稿件不存在（-404）", "unknown"), 62002: ("稿件不可见（62002）", "restricted"),
        62004: ("稿件审核中（62004）", "under_review"), 62012: ("稿件仅 UP 主自己可见（62012）", "restricted")}
_TAGS = re.compile(r"<[^>]+>")
SPACE_PATHS = ("/x/space/wbi/acc/info", "/x/space/wbi/arc/search")


def _webgl(text: str) -> str:
    # The page sends the WebGL strings base64-encoded with the last two characters cut off.
    return base64.b64encode(text.encode()).decode()[:-2]


# What a desktop Chrome on Windows reports through WebGL (bilibili-API-collect issue #868).
DM_PARAMS = {
    "dm_img_list": "[]",
    "dm_img_str": _webgl("WebGL 1.0 (OpenGL ES 2.0 Chromium)"),
    "dm_cover_img_str": _webgl("ANGLE (Intel, Intel(R) UHD Graphics 620 (0x00003EA0) Direct3D11 vs_5_0 ps_5_0, "
                               "D3D11)Google Inc. (Intel)"),
    "dm_img_inter": json.dumps({"ds": [], "wh": [0, 0, 0], "of": [0, 0, 0]}, separators=(",", ":")),
}

# Where an impersonator of the school is reported (watcher.takedown; sources in docs/takedown.md).
COMPLAINT = Complaint(
    "哔哩哔哩举报与侵权申诉",
    "用户空间 →右上角“…”→“举报”→“冒充他人”；以学校名义：哔哩哔哩帮助中心→“侵权申诉”",
    ("冒充他人", "侵犯名称权", "诈骗"),
)

PLATFORM = Platform(
    complaint=COMPLAINT,
    name="bilibili", label="哔哩哔哩", spider="BilibiliSpider", order=2,
    base_urls={"api": "https://api.bilibili.com", "www": "https://www.bilibili.com", "space": "https://space.bilibili.com",
               "passport": "https://passport.bilibili.com"},
    modes=("discover", "timeline", "check", "mentions", "comments"), aliases=("b站", "B站", "bilibili", "B 站"),
    session_hint="运行 watcher login bilibili 扫码登录，或登录 bilibili.com 后导出 Cookie（SESSDATA、bili_jct、buvid3）",
    session=SessionSpec(probe=("api", "api", "/x/web-interface/nav", "data.isLogin"),
                        # The QR panel of the passport page (MediaCrawler bilibili/login.py reads the same one).
                        login=("passport", "/login"),
                        qr="div.login-scan-box img, .login-scan__qrcode img, img[src*='qrcode'], canvas",
                        done_cookie="SESSDATA",
                        loses="采集不会中断（用户资料改用无需登录的名片接口），但匿名请求更易被风控拒绝（-352、HTTP 412）"),
    # Ours: MediaCrawler issue #834 reports HTTP 412 after bursts even when logged in.
    pace=Pace(interval=2.0, per_minute=30, daily=2000),
    # The uploads list (/x/space/wbi/arc/search) gives plays and comments, not likes or shares.
    counts=("followers", "comments"),
)


class BilibiliSpider(PlatformSpider):
    info = PLATFORM

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.keys: tuple[str, str] | None = None
        self.logged_in = bool(self.cookies.get("SESSDATA"))

    def _headers(self) -> dict[str, str]:
        return {"Referer": f"{self.urls['www']}/", "Origin": self.urls["www"]}

    def _code(self, data: dict[str, Any], what: str, *, needs_session: bool = False) -> int:
        code = data.get("code")
        if code in RISK and needs_session and (not self.logged_in or code == -101):
            raise self.blocked(f"哔哩哔哩{what}需要有效的登录会话（SESSDATA），接口回答{RISK[code]}：{data.get('message', '')}。"
                               f"{self.advice()}")
        if code in RISK:
            raise refuse(self, REFUSALS, code, what, str(data.get("message") or ""))
        if not isinstance(code, int):
            raise self.failed(f"哔哩哔哩应答缺少 code（{what}）")
        return code

    # Every signed call first needs the device cookies and the day's keys from nav.
    def _with_keys(self, then: Any) -> Iterator[scrapy.Request]:
        if self.keys is not None:  # fetched for an earlier target of this round
            yield from then()
            return
        if "buvid3" not in self.cookies:
            yield self.request(f"{self.urls['api']}/x/frontend/finger/spi", self.parse_finger, headers=self._headers(),
                               cb_kwargs={"then": then}, meta={"handle_httpstatus_list": [404]})
            return
        yield self._nav(then)

    def _nav(self, then: Any) -> scrapy.Request:
        return self.request(f"{self.urls['api']}/x/web-interface/nav", self.parse_nav, headers=self._headers(),
                            cb_kwargs={"then": then}, dont_filter=True)

    def parse_finger(self, response: Response, then: Any) -> Iterator[Any]:
        """The device ids a browser gets on its first visit; every later call carries them."""
        data = self.json(response) if response.status == 200 else {}
        ids = data.get("data") or {}
        if data.get("code") == 0 and ids.get("b_3"):
            got = {"buvid3": str(ids["b_3"]), **({"buvid4": str(ids["b_4"])} if ids.get("b_4") else {})}
            self.cookies.update(got)
            identity.keep_visitor_cookies(self.cfg.data_path, "bilibili", got, ".bilibili.com")
        else:
            # The endpoint moved or refused: a locally made id of the same shape still avoids most −352s.
            self.logger.warning("哔哩哔哩 finger/spi 没有给出 buvid3（HTTP %s），改用本地生成的设备号", response.status)
            self.cookies["buvid3"] = f"{uuid.uuid4()}{int(uuid.uuid4().int % 100000):05d}infoc".upper()
        yield self._nav(then)

    def parse_nav(self, response: Response, then: Any) -> Iterator[Any]:
        data = self.json(response)
        img = ((data.get("data") or {}).get("wbi_img") or {})
        if not img.get("img_url") or not img.get("sub_url"):
            self._code(data, "获取 wbi 密钥")
            raise self.failed("nav 应答中没有 wbi_img，无法计算 wbi 签名")
        self.keys = (wbi.key_from_url(img["img_url"]), wbi.key_from_url(img["sub_url"]))
        # nav says whether the session logs us in (bilibili-API-collect docs/login/login_info.md).
        self.logged_in = self.logged_in and bool((data.get("data") or {}).get("isLogin"))
        yield from then()

    def signed(self, path: str, params: dict[str, Any], callback: Any, **cb: Any) -> scrapy.Request:
        assert self.keys is not None
        if path in SPACE_PATHS:
            params = {**params, **DM_PARAMS}
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
        yield self.page_done()
        if page < min(int(body.get("numPages") or 1), self.pages):
            yield self._search(keyword, page + 1)

    # -- timeline ---------------------------------------------------------------------------

    def timeline(self, account_id: str) -> Iterator[scrapy.Request]:
        yield from self._with_keys(lambda: [self._profile(account_id)])

    def _profile(self, mid: str) -> scrapy.Request:
        # Decided after nav: a session that no longer logs us in reads the card like a visitor.
        if self.logged_in:
            return self.signed("/x/space/wbi/acc/info", {"mid": mid}, self.parse_profile, mid=mid)
        query = urllib.parse.urlencode({"mid": mid, "photo": "true"})
        return self.request(f"{self.urls['api']}/x/web-interface/card?{query}", self.parse_card,
                            headers={"Referer": f"{self.urls['space']}/{mid}", "Origin": self.urls["www"]},
                            cb_kwargs={"mid": mid})

    def parse_card(self, response: Response, mid: str) -> Iterator[Any]:
        """The user card: the profile a visitor without a session can read."""
        data = self.json(response)
        code = self._code(data, f"用户 {mid} 名片")
        if code == -404:
            yield ProfileSnapshot(platform="bilibili", account_id=mid, status="gone", raw=data)
            return
        body = data.get("data") if isinstance(data.get("data"), dict) else {}
        card = body.get("card") if isinstance(body.get("card"), dict) else None
        if code != 0 or card is None:
            raise self.failed(f"获取哔哩哔哩用户 {mid} 名片失败：code={code} {data.get('message', '')}")
        official = card.get("Official") or card.get("official_verify") or {}
        yield ProfileSnapshot(platform="bilibili", account_id=mid, name=card.get("name"), bio=card.get("sign"),
                              avatar_url=https(card.get("face")), verified=official.get("type", -1) in (0, 1),
                              verified_reason=official.get("title") or official.get("desc") or None,
                              followers=count(body.get("follower", card.get("fans"))),
                              following=count(card.get("attention")), posts_count=count(body.get("archive_count")),
                              profile_url=f"{self.urls['space']}/{mid}",
                              # 用户状态 −2: banned (the card's spacesta); the account still exists
                              raw={**card, "banned": card.get("spacesta") == -2})
        yield self._videos(mid, 1)

    def parse_profile(self, response: Response, mid: str) -> Iterator[Any]:
        data = self.json(response)
        code = self._code(data, f"用户 {mid} 资料", needs_session=True)
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
        yield self.page_done()
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
            said, cause = GONE[code]
            yield PostCheck("bilibili", mid, bvid, False, reason=said, raw=data, cause=cause)
        else:
            yield PostCheck("bilibili", mid, bvid, None, reason=f"无法判断：code={code} {data.get('message', '')}", raw=data)

    # -- mentions ---------------------------------------------------------------------------
    # Videos about the school: ``/x/web-interface/wbi/search/type?search_type=video&keyword=K&page=N``
    # (signed) → ``data.result[]`` (bvid, aid, mid, author, title with <em> highlights,
    # description, pubdate, play, review = comments, like, favorites); ``data.numPages``.

    def mentions(self, keyword: str) -> Iterator[scrapy.Request]:
        yield from self._with_keys(lambda: [self._video_search(keyword, 1)])

    def _video_search(self, keyword: str, page: int) -> scrapy.Request:
        return self.signed("/x/web-interface/wbi/search/type",
                           {"search_type": "video", "keyword": keyword, "page": page, "order": "pubdate"},
                           self.parse_mentions, keyword=keyword, page=page)

    def parse_mentions(self, response: Response, keyword: str, page: int) -> Iterator[Any]:
        data = self.json(response)
        if self._code(data, f"搜索视频 {keyword}") != 0:
            raise self.failed(f"哔哩哔哩视频搜索失败：code={data.get('code')} {data.get('message', '')}")
        body = data.get("data") or {}
        for v in body.get("result") or []:
            if v.get("type", "video") != "video" or not (v.get("bvid") or v.get("aid")):
                continue
            mid = str(v.get("mid") or "")
            author = html.unescape(v.get("author") or "")
            if mid:
                yield DiscoveredAccount(platform="bilibili", account_id=mid, name=author,
                                        avatar_url=https(v.get("upic")),
                                        profile_url=f"{self.urls['space']}/{mid}", keyword=keyword, raw={"mid": mid})
            bvid = v.get("bvid") or str(v.get("aid"))
            yield Mention(platform="bilibili", post_id=bvid, author_id=mid, author_name=author,
                          title=html.unescape(_TAGS.sub("", v.get("title") or "")),
                          text=html.unescape(v.get("description") or ""),
                          created_at=datetime.fromtimestamp(v["pubdate"], UTC).isoformat() if v.get("pubdate") else None,
                          comments=count(v.get("review")), likes=count(v.get("like")), views=count(v.get("play")),
                          url=f"{self.urls['www']}/video/{bvid}", keyword=keyword, kind="video", raw=v)
        yield self.page_done()
        if page < min(int(body.get("numPages") or 1), self.pages):
            yield self._video_search(keyword, page + 1)

    # -- comments ---------------------------------------------------------------------------
    # Comments under a registered account's video: the video's aid from
    # ``/x/web-interface/view?bvid=BV…``, then ``/x/v2/reply/main?type=1&oid=AID&mode=3&next=N``
    # → ``data.replies[]`` (rpid, mid, member.uname, content.message, ctime, like) and
    # ``data.cursor`` (is_end, next).

    def comments(self, account_id: str, post_id: str) -> Iterator[scrapy.Request]:
        yield self.request(f"{self.urls['api']}/x/web-interface/view?bvid={post_id}", self.parse_comment_video,
                           headers=self._headers(), cb_kwargs={"mid": account_id, "bvid": post_id})

    def parse_comment_video(self, response: Response, mid: str, bvid: str) -> Iterator[Any]:
        data = self.json(response)
        if self._code(data, f"稿件 {bvid}") != 0 or not (data.get("data") or {}).get("aid"):
            raise self.failed(f"获取稿件 {bvid} 失败：code={data.get('code')} {data.get('message', '')}")
        yield self._replies(mid, bvid, int(data["data"]["aid"]), 0, 1)

    def _replies(self, mid: str, bvid: str, aid: int, cursor: int, page: int) -> scrapy.Request:
        return self.request(f"{self.urls['api']}/x/v2/reply/main?type=1&oid={aid}&mode=3&next={cursor}",
                            self.parse_replies, headers=self._headers(),
                            cb_kwargs={"mid": mid, "bvid": bvid, "aid": aid, "page": page})

    def parse_replies(self, response: Response, mid: str, bvid: str, aid: int, page: int) -> Iterator[Any]:
        data = self.json(response)
        code = self._code(data, f"稿件 {bvid} 的评论")
        if code == 12002:  # 评论区已关闭: an answer, no comments
            return
        if code != 0:
            raise self.failed(f"获取稿件 {bvid} 的评论失败：code={code} {data.get('message', '')}")
        body = data.get("data") or {}
        for r in body.get("replies") or []:
            if not r.get("rpid"):
                continue
            member = r.get("member") or {}
            yield Mention(platform="bilibili", post_id=f"reply:{r['rpid']}", author_id=str(r.get("mid") or ""),
                          author_name=member.get("uname") or "", text=(r.get("content") or {}).get("message") or "",
                          created_at=datetime.fromtimestamp(r["ctime"], UTC).isoformat() if r.get("ctime") else None,
                          likes=count(r.get("like")), comments=count(r.get("rcount")),
                          url=f"{self.urls['www']}/video/{bvid}", kind="comment", raw=r)
        yield self.page_done()
        cursor = body.get("cursor") or {}
        if not cursor.get("is_end", True) and cursor.get("next") and page < self.pages:
            yield self._replies(mid, bvid, aid, int(cursor["next"]), page + 1)
