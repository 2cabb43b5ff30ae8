"""Xiaohongshu (小红书) through its web pages in Chromium; the page's JS adds the x-s / x-t
signature to its calls to edith.xiaohongshu.com.

* discover: page ``/search_result?keyword=K&type=user`` → ``/api/sns/web/v1/search/usersearch``
  → ``data.users[]`` (id, name, image, red_id, fans, sub_title, red_official_verified). The 2026
  page ignores ``type=user`` and searches notes; the user search fires only once the reader
  clicks the 用户 tab, which the spider does.
* timeline: page ``/user/profile/USER_ID`` → ``/api/sns/web/v1/user/otherinfo`` (basic_info,
  interactions) and ``/api/sns/web/v1/user_posted?num=30&cursor=C&user_id=…`` (notes: note_id,
  display_title, interact_info, xsec_token; ``cursor`` / ``has_more`` for the next batch, which the
  page fetches when the reader scrolls). The 2026 page renders the profile and the first notes
  from ``window.__INITIAL_STATE__`` (``user.userPageData``, ``user.notes``; MediaCrawler
  ``media_platform/xhs/extractor.py`` reads the same) without calling those APIs: the state is
  read then; notes links keep their ``xsec_token``.

* check (post = the note's URL with its ``xsec_token``, or its id): the note page renders from
  ``window.__INITIAL_STATE__`` (``note.noteDetailMap[NOTE_ID].note``); a note that is gone sends
  the page to ``/404?…error_code=…&error_msg=…``. Only an explicit "笔记不存在"/deleted answer
  means deleted; "当前笔记暂时无法浏览" (no token, private, under review) proves nothing.

* mentions: page ``/search_result?keyword=K&source=web_explore_feed`` — the 全部 tab the page opens
  on posts ``/api/sns/web/v1/search/notes`` ({keyword, page, page_size: 20, search_id, sort,
  note_type}; MediaCrawler ``media_platform/xhs/client.py`` ``get_note_by_keyword``) →
  ``data.items[]``: ``model_type: "note"`` entries (others are query suggestions) with ``id``,
  ``xsec_token`` and ``note_card`` (display_title, type, user {user_id, nickname, avatar},
  interact_info {liked_count "1.2万", comment_count, shared_count}, corner_tag_info
  ``publish_time`` "3天前" / "11-20"); ``data.has_more`` (the page posts ``page + 1`` as the reader
  scrolls). A page that shows the notes without the spider seeing that call: they are read
  from its ``__INITIAL_STATE__.search.feeds`` (camelCase, the same notes). Note links keep the
  ``xsec_token`` (``xsec_source=pc_search``): without it a note page only says "暂时无法浏览".

``code`` ≠ 0 is a refusal: blocked, with the remedy its code names (:data:`REFUSALS`: −100 login
expired, −104 / 300011 the account restricted, 300012 risky exit address, 300013 访问频次异常,
461 captcha).
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Iterator
from typing import Any

import scrapy

from spiders.base import Problem
from spiders.browser import BrowserSpider
from spiders.catalog import Complaint, Pace, Platform, SessionSpec
from spiders.items import DiscoveredAccount, Mention, Post, PostCheck, ProfileSnapshot
from spiders.parsing import count, said_cause, when
from spiders.refusals import Refusal, refuse


def _note_url(www: str, note: dict[str, Any], source: str = "pc_user") -> str:
    # Without its xsec_token a note page only says "暂时无法浏览"; keep the token the list gave.
    token = note.get("xsec_token")
    q = f"?{urllib.parse.urlencode({'xsec_token': token, 'xsec_source': source})}" if token else ""
    return f"{www}/explore/{note['note_id']}{q}"


# The profile page's embedded state (Vue reactive objects: copied out as plain JSON).
PROFILE_STATE = """(() => {
  const u = window.__INITIAL_STATE__ && window.__INITIAL_STATE__.user;
  const page = u && (u.userPageData && (u.userPageData._rawValue || u.userPageData._value || u.userPageData));
  if (!page || !page.basicInfo) return null;
  const notes = u.notes && (u.notes._rawValue || u.notes._value || u.notes);
  return JSON.parse(JSON.stringify({page: page, notes: Array.isArray(notes) ? (notes[0] || []) : []}));
})()"""

# The search page's own state: the notes its search put there, as the page renders them
# (xpzouying/xiaohongshu-mcp ``xiaohongshu/search.go`` reads ``search.feeds`` the same way), for
# the page that shows results without the spider seeing its search call. Empty: not an answer.
SEARCH_STATE = """(() => {
  const s = window.__INITIAL_STATE__ && window.__INITIAL_STATE__.search;
  const f = s && s.feeds;
  const feeds = f && (Array.isArray(f) ? f : (f._rawValue || f._value || f.value));
  if (!Array.isArray(feeds) || !feeds.length) return null;
  return JSON.parse(JSON.stringify({feeds: feeds}));
})()"""
_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")


def _snake(value: Any) -> Any:
    """The page state's camelCase (noteCard, xsecToken, interactInfo.likedCount) as the API's
    snake_case, so one parser reads both."""
    if isinstance(value, dict):
        return {_CAMEL.sub(r"_\1", k).lower(): _snake(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_snake(v) for v in value]
    return value


# What the note page says when the note itself is gone (not merely hidden from us).
GONE_CODES = ("-510001",)
GONE_WORDS = ("笔记不存在", "已被删除", "已删除")
# Why, in the error page's words (first match wins). MediaCrawler's media_platform/xhs/exception.py
# names −510001 "当前内容无法展示" a private note and "笔记状态异常" an abnormal one; "暂时无法浏览"
# without a cause is a note hidden from this visitor (no xsec_token), which proves nothing.
NOTE_CAUSES: tuple[tuple[str, str], ...] = (
    (r"作者(已)?删除|被作者删除", "author_deleted"),
    (r"违规|违反|涉嫌|屏蔽|下架|社区规范", "platform_removed"),
    (r"审核中|正在审核", "under_review"),
    (r"仅自己可见|仅作者可见|私密|当前内容无法展示", "restricted"),
)
# Xiaohongshu's refusals by ``code`` (docs/crawling.md 平台拒绝代码). 300011 and −104 say the signed-in
# account itself is restricted: another account's login lifts them; 300013 (访问频次异常, an
# answer or a redirect to /website-login/error, MediaCrawler issue #522) is a rate limit that
# neither a login nor a new account lifts; 300012 blocks the exit address.
REFUSALS: dict[str, Refusal] = {
    "-100": Refusal("登录已过期（-100）", "login"),
    "-104": Refusal("登录的账号没有权限访问（-104），请换一个正常的账号登录", "login"),
    "300011": Refusal("当前账号存在异常（300011），请换一个正常的账号登录", "login"),
    "300012": Refusal("网络连接异常（300012）：本机出口地址被风控", "wait"),
    "300013": Refusal("访问频次异常（300013），请勿频繁操作", "slow_down"),
    "461": Refusal("需要完成验证码（461）", "captcha"),
}


# Where an impersonator of the school is reported (watcher.takedown; sources in docs/takedown.md).
COMPLAINT = Complaint(
    "小红书举报 / 侵权投诉",
    "用户主页 →右上角“…”→“举报”→“冒充他人”；以学校名义：小红书“设置”→“帮助与客服”→“侵权投诉”",
    ("冒充他人", "侵犯名称权/商标权", "诈骗"),
)

PLATFORM = Platform(
    complaint=COMPLAINT,
    name="xiaohongshu", label="小红书", spider="XiaohongshuSpider", order=6,
    base_urls={"www": "https://www.xiaohongshu.com", "api": "https://edith.xiaohongshu.com"},
    modes=("discover", "timeline", "check", "mentions"), aliases=("红书", "xhs", "RED"),
    browser=True, check_by="url", session_hint="登录 xiaohongshu.com 后导出 Cookie（web_session、a1）",
    # The public record: 4 s ± 2, ≤ 10 a minute; about six searches an hour on one keyword trips its risk control.
    pace=Pace(interval=4.0, per_minute=10, daily=300),
    session=SessionSpec(probe=("cookie", "web_session"), login=("www", "/explore"),
                        # The QR of the login dialog (MediaCrawler media_platform/xhs/login.py: img.qrcode-img).
                        qr="img.qrcode-img, .qrcode img, canvas", done_cookie="web_session",
                        loses="搜索、主页与笔记（未登录时返回 code -100 或跳转登录）", required=True),
)


NOTE_SEARCH = "/api/sns/web/v1/search/notes"


class XiaohongshuSpider(BrowserSpider):
    info = PLATFORM

    def _data(self, data: dict[str, Any], what: str) -> dict[str, Any]:
        if data.get("code") not in (0, None) or data.get("success") is False:
            if str(data.get("code")) in REFUSALS:
                raise refuse(self, REFUSALS, data.get("code"), what, str(data.get("msg") or ""))
            raise self.blocked(f"小红书拒绝了{what}（code={data.get('code')} {data.get('msg', '')}），需要登录 Cookie 或验证码。"
                               f"{self.advice()}")
        return data.get("data") or {}

    def wall(self, what: str, url: str) -> Problem:
        """A page sent to /website-login/error names its refusal code in the address
        (``error_code=300013&error_msg=访问频次异常…``): that code, not a login page."""
        query = urllib.parse.parse_qs(urllib.parse.urlparse(url).query)
        code = (query.get("error_code") or [""])[0]
        if code in REFUSALS:
            return refuse(self, REFUSALS, code, what, (query.get("error_msg") or [""])[0])
        return super().wall(what, url)

    def discover(self, keyword: str) -> Iterator[scrapy.Request]:
        url = f"{self.urls['www']}/search_result?keyword={urllib.parse.quote(keyword)}&type=user"
        yield self.page(url, ("/api/sns/web/v1/search/usersearch",), lambda d: self.parse_users(d, keyword),
                        what=f"搜索用户 {keyword}", more=lambda d: bool((d.get("data") or {}).get("has_more")),
                        tab="用户")

    def parse_users(self, data: dict[str, Any], keyword: str) -> Iterator[Any]:
        for u in self._data(data, f"搜索用户 {keyword}").get("users") or []:
            if not u.get("id"):
                continue
            yield DiscoveredAccount(platform="xiaohongshu", account_id=str(u["id"]), name=u.get("name") or "",
                                    bio=u.get("desc") or u.get("sub_title") or "", avatar_url=u.get("image"),
                                    verified=bool(u.get("red_official_verified")),
                                    verified_reason=u.get("red_official_verify_content") or None,
                                    followers=count(u.get("fans")),
                                    profile_url=f"{self.urls['www']}/user/profile/{u['id']}", keyword=keyword, raw=u)

    def timeline(self, account_id: str) -> Iterator[scrapy.Request]:
        yield self.page(f"{self.urls['www']}/user/profile/{account_id}",
                        ("/api/sns/web/v1/user/otherinfo", "/api/sns/web/v1/user_posted"),
                        lambda d: self.parse_profile(d, account_id), what=f"用户 {account_id} 主页",
                        paged="/api/sns/web/v1/user_posted",
                        more=lambda d: bool((d.get("data") or {}).get("has_more")),
                        state=(PROFILE_STATE, ("/api/sns/web/v1/user/otherinfo", "/api/sns/web/v1/user_posted")))

    def parse_profile(self, data: dict[str, Any], uid: str) -> Iterator[Any]:
        if "__state__" in data:
            yield from self.parse_state(data["__state__"], uid)
            return
        d = self._data(data, f"用户 {uid} 的数据")
        if "basic_info" in d:
            b = d["basic_info"]
            counts = {i.get("type"): count(i.get("count")) for i in d.get("interactions") or []}
            yield ProfileSnapshot(platform="xiaohongshu", account_id=uid, name=b.get("nickname"), bio=b.get("desc"),
                                  avatar_url=b.get("imageb") or b.get("images"), followers=counts.get("fans"),
                                  following=counts.get("follows"), profile_url=f"{self.urls['www']}/user/profile/{uid}",
                                  raw=d)
        for n in d.get("notes") or []:
            if not n.get("note_id"):
                continue
            yield Post(platform="xiaohongshu", account_id=uid, post_id=str(n["note_id"]),
                       text=n.get("display_title") or "", likes=count((n.get("interact_info") or {}).get("liked_count")),
                       url=_note_url(self.urls["www"], n), raw=n)

    def parse_state(self, state: dict[str, Any], uid: str) -> Iterator[Any]:
        """The profile and first notes as the page rendered them (camelCase keys)."""
        page = state.get("page") or {}
        b = page.get("basicInfo") or {}
        counts = {i.get("type"): count(i.get("count")) for i in page.get("interactions") or []}
        yield ProfileSnapshot(platform="xiaohongshu", account_id=uid, name=b.get("nickname"), bio=b.get("desc"),
                              avatar_url=b.get("imageb") or b.get("images"), followers=counts.get("fans"),
                              following=counts.get("follows"), profile_url=f"{self.urls['www']}/user/profile/{uid}",
                              raw=page)
        for entry in state.get("notes") or []:
            card = entry.get("noteCard") or entry
            note_id = card.get("noteId") or entry.get("id")
            if not note_id:
                continue
            token = card.get("xsecToken") or entry.get("xsecToken")
            yield Post(platform="xiaohongshu", account_id=uid, post_id=str(note_id),
                       text=card.get("displayTitle") or "", likes=count((card.get("interactInfo") or {}).get("likedCount")),
                       url=_note_url(self.urls["www"], {"note_id": note_id, "xsec_token": token}), raw=entry)

    def check(self, account_id: str, post_id: str) -> Iterator[scrapy.Request]:
        if post_id.startswith(("http://", "https://")):
            url, note_id = post_id, urllib.parse.urlparse(post_id).path.rstrip("/").rsplit("/", 1)[-1]
        else:
            url, note_id = f"{self.urls['www']}/explore/{post_id}", post_id
        script = ("(() => { const s = window.__INITIAL_STATE__; const m = s && s.note && s.note.noteDetailMap;"
                  f" return m ? JSON.parse(JSON.stringify(m[{json.dumps(note_id)}] || {{}})) : null; }})()")
        yield self.inspect(url, script, lambda d: self.parse_note(d, account_id, note_id), what=f"笔记 {note_id}")

    def parse_note(self, seen: dict[str, Any], uid: str, note_id: str) -> Iterator[Any]:
        note = (seen.get("state") or {}).get("note") or {}
        if note.get("noteId") == note_id:
            yield PostCheck("xiaohongshu", uid, note_id, True, f"{note.get('title', '')}\n{note.get('desc', '')}".strip(),
                            raw=note)
            return
        query = urllib.parse.parse_qs(urllib.parse.urlparse(seen["url"]).query)
        code = (query.get("error_code") or [""])[0]
        message = (query.get("error_msg") or [""])[0] or seen.get("text", "")[:200]
        if code in REFUSALS:
            raise refuse(self, REFUSALS, code, f"笔记 {note_id} 的核查", message)
        if cause := said_cause(message, NOTE_CAUSES):
            yield PostCheck("xiaohongshu", uid, note_id, False, reason=f"小红书：{message}（error_code={code or '无'}）",
                            cause=cause)
        elif code in GONE_CODES or any(w in message for w in GONE_WORDS):
            yield PostCheck("xiaohongshu", uid, note_id, False, reason=f"小红书：{message or code}", cause="unknown")
        else:
            yield PostCheck("xiaohongshu", uid, note_id, None,
                            reason=f"无法判断：{message or '页面没有笔记数据'}（error_code={code or '无'}）")

    # -- mentions ---------------------------------------------------------------------------

    def mentions(self, keyword: str) -> Iterator[scrapy.Request]:
        url = f"{self.urls['www']}/search_result?{urllib.parse.urlencode({'keyword': keyword, 'source': 'web_explore_feed'})}"
        yield self.page(url, (NOTE_SEARCH,), lambda d: self.parse_mentions(d, keyword),
                        what=f"搜索笔记 {keyword}", more=lambda d: None if "__state__" in d
                        else bool((d.get("data") or {}).get("has_more")),
                        state=(SEARCH_STATE, (NOTE_SEARCH,)))

    def parse_mentions(self, data: dict[str, Any], keyword: str) -> Iterator[Any]:
        if "__state__" in data:
            entries = _snake(data["__state__"].get("feeds") or [])
        else:
            entries = self._data(data, f"搜索笔记 {keyword}").get("items") or []
        for entry in entries:
            card = entry.get("note_card") if isinstance(entry, dict) else None
            if entry.get("model_type", "note") != "note" or not isinstance(card, dict) or not entry.get("id"):
                continue  # 相关搜索 / 热门搜索 cards between the notes
            yield from self._mention(entry, card, keyword)

    def _mention(self, entry: dict[str, Any], card: dict[str, Any], keyword: str) -> Iterator[Any]:
        user = card.get("user") if isinstance(card.get("user"), dict) else {}
        uid = str(user.get("user_id") or user.get("userId") or "")
        name = user.get("nickname") or user.get("nick_name") or ""
        if uid:
            yield DiscoveredAccount(platform="xiaohongshu", account_id=uid, name=name, avatar_url=user.get("avatar"),
                                    profile_url=f"{self.urls['www']}/user/profile/{uid}", keyword=keyword, raw=user)
        interact = card.get("interact_info") or {}
        published = next((str(t.get("text") or "") for t in card.get("corner_tag_info") or []
                          if isinstance(t, dict) and t.get("type") == "publish_time"), "")
        published = published.removeprefix("编辑于").strip()  # an edited note says "编辑于 3天前"
        note_id = str(entry["id"])
        yield Mention(platform="xiaohongshu", post_id=note_id, author_id=uid, author_name=name,
                      title=card.get("display_title") or "", created_at=when(published),
                      reposts=count(interact.get("shared_count")), comments=count(interact.get("comment_count")),
                      likes=count(interact.get("liked_count")),
                      url=_note_url(self.urls["www"], {"note_id": note_id, "xsec_token": entry.get("xsec_token")},
                                    "pc_search"),
                      keyword=keyword, kind="video" if card.get("type") == "video" else "post", raw=entry)
