"""Baidu Tieba: the threads of a forum (吧) — the school's own forum is where complaints and
rumours about it surface first.

* timeline (account = forum name, e.g. 北京理工大学): ``/f?kw=NAME&ie=utf-8&pn=50·(page-1)`` — the
  thread list is an HTML fragment that Tieba ships inside an HTML comment (rendered by the page's
  script); each ``li.j_thread_list`` carries a ``data-field`` JSON (id, author_name, reply_num)
  and the title link ``a.j_th_tit``.
* check (post = thread id): ``/p/ID`` — "该贴已被删除" / HTTP 404 means gone; a 2026 thread page
  (script shell) is asked through ``/c/f/pb/page_pc`` when there is a session: a ``thread`` means
  it exists, the platform's own "deleted" words that it is gone, anything else proves nothing.
* discover: Tieba has no public account search, but a forum named after the school is the
  account people mistake for an official one. ``/f/search/fm?ie=utf-8&qw=K&pn=N`` (搜索吧) lists
  ``div.search-forum-list > div.forum-item``: ``a.forum-name`` (data-fid, href ``/f?kw=NAME``),
  member and post counts after ``.member-icon`` / ``.post-icon``, ``.forum-brief``; the next page
  is the ``下一页>`` link of ``div.pager-search``; ``div.search_noresult`` means nothing found.

Baidu's security check (``wappass.baidu.com`` redirect, "百度安全验证") is a captcha: blocked.

In 2026 the PC site moved forum lists, search and thread pages to signed JSON APIs fetched by the
page's script (NanmiCoder/MediaCrawler f328ee3, ``media_platform/tieba/client.py`` and
``help.py``): every call carries the PC client's marks and an MD5 ``sign`` (:mod:`spiders.signing.tieba`);
the forum list also needs the ``tbs`` token that ``GET /c/s/pc/sync`` (``data.anti.tbs``) gives a
logged-in visitor (BDUSS). Where Tieba still serves the HTML lists, this spider reads them; where
the page is the script-driven shell it calls the same APIs the page calls:

* forum: ``POST /c/f/frs/page_pc`` (form: ``kw`` percent-encoded, ``pn``, ``rn=30``,
  ``sort_type=-1``, ``is_newfrs=1``, ``is_newfeed=1``, ``rn_need=10``, ``tbs``) → ``forum``
  (``name``, ``member_num``, ``thread_num``) and the page's thread ids in ``forum.tids``
  (``"10376710029,10636556989,"``); a thread is then ``POST /c/f/pb/page_pc`` (``kz=TID``,
  ``pn=1``, ``tbs``) → ``thread`` (id, title, reply_num, create_time) and ``first_floor``
  (``content`` as ``[{type, text}]``). Where the answer also lists ``thread_list`` entries they
  are read directly (no call per thread).
* post search (mentions): ``GET /mo/q/search/multsearch`` (``word``, ``pn``, ``rn``, ``st=1``
  newest first, ``needbrand=1``, ``sug_type=2``, ``come_from=search``) → ``data.card_list[]``;
  cards with ``cardInfo`` ``thread`` carry ``data`` (tid, title, content, time, post_num,
  forum_name, ``user.show_nickname``).

Without a session the forum list is reported as blocked "needs a login" (with the way to log in),
never as an empty forum; the forum search (discover) has no JSON counterpart on record, so its
shell page is a failure that says so.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Iterator
from typing import Any

import scrapy
from parsel import Selector
from scrapy.http import Response

from spiders.base import PlatformSpider
from spiders.catalog import Complaint, Pace, Platform, SessionSpec
from spiders.items import DiscoveredAccount, Mention, Post, PostCheck, ProfileSnapshot
from spiders.parsing import count, when
from spiders.signing import tieba as tieba_sign

_COMMENTS = re.compile(r"<!--|-->")
GONE = ("该贴已被删除", "很抱歉，该贴已被删除", "贴子不存在", "该吧被合并")
# What the 2026 script-driven pages carry instead of the HTML lists.
JSON_SHELL = ("/c/f/frs/page_pc", "/c/s/pc/", "/c/f/pb/page_pc", "frs/page_pc", "tb-pc-frs", "__NEXT_DATA__")


def _number(text: str | None) -> int | None:
    digits = re.sub(r"[^0-9]", "", text or "")
    return int(digits) if digits else None


# Tieba's answers to a call without a (working) login: error_code 1 "用户未登录或登录失败".
LOGIN_ERROR = re.compile(r"登录|login", re.I)
# Threads read in full per forum page when the answer lists only their ids (one call each).
THREADS_PER_PAGE = 10

# Where an impersonator of the school is reported (watcher.takedown; sources in docs/takedown.md).
COMPLAINT = Complaint(
    "百度贴吧举报 / 百度侵权投诉",
    "吧主页或用户主页 →“举报”→“冒充他人”；以学校名义：百度“侵权投诉”平台（help.baidu.com）",
    ("冒充他人/假冒官方", "侵犯名称权", "诈骗"),
)

PLATFORM = Platform(
    complaint=COMPLAINT,
    name="tieba", label="百度贴吧", spider="TiebaSpider", order=9,
    base_urls={"www": "https://tieba.baidu.com", "passport": "https://passport.baidu.com"},
    modes=("discover", "timeline", "check", "mentions"), aliases=("贴吧", "百度"),
    watch="registered_or_school", session_hint="运行 watcher login tieba 扫码登录，或登录 tieba.baidu.com 后导出 Cookie（BDUSS、STOKEN）",
    # Logged in is the BDUSS cookie (MediaCrawler tieba/client.py checks the same); the QR is
    # the passport page's (tieba/login.py: img.tang-pass-qrcode-img).
    session=SessionSpec(probe=("cookie", "BDUSS"), login=("passport", "/v2/?login&u=https%3A%2F%2Ftieba.baidu.com%2F"),
                        qr="img.tang-pass-qrcode-img, img[src*='qrcode']", done_cookie="BDUSS",
                        loses="2026 年改版后吧的帖子列表（签名 JSON 接口需要登录会话与 tbs）；HTML 页面与帖子搜索不受影响"),
    # Ours: Baidu's security check follows bursts.
    pace=Pace(interval=2.0, per_minute=20, daily=1000),
)


class TiebaSpider(PlatformSpider):
    info = PLATFORM
    tbs: str | None = None  # the logged-in session's token for the JSON API, fetched once a round

    def _captcha(self, response: Response) -> None:
        if "wappass.baidu.com" in response.url or "百度安全验证" in response.text[:5000]:
            raise self.blocked("百度安全验证（验证码），请降低频率或配置 Cookie（platforms.tieba.cookies_file）")

    @staticmethod
    def _is_shell(text: str) -> bool:
        return any(m in text for m in JSON_SHELL)

    @staticmethod
    def _rewritten(what: str, text: str) -> str:
        """Why a page without the HTML list cannot be read, for the operator."""
        if any(m in text for m in JSON_SHELL):
            return (f"{what}已改为由页面脚本调用签名 JSON 接口加载内容（2026 年改版，见 MediaCrawler f328ee3），"
                    "其中没有可读的 HTML 列表，公开记录中也没有“搜索吧”的 JSON 接口：本版本无法搜索吧名，"
                    "备案的吧与帖子搜索不受影响；期间请人工在贴吧搜索学校名称")
        return f"{what}没有帖子/结果列表，也没有“无结果”提示（页面可能已改版）"

    def discover(self, keyword: str) -> Iterator[scrapy.Request]:
        yield self._search(keyword, 1)

    def _search(self, keyword: str, page: int) -> scrapy.Request:
        q = urllib.parse.urlencode({"ie": "utf-8", "qw": keyword, "pn": str(page)})
        return self.request(f"{self.urls['www']}/f/search/fm?{q}", self.parse_search,
                            cb_kwargs={"keyword": keyword, "page": page})

    def parse_search(self, response: Response, keyword: str, page: int) -> Iterator[Any]:
        self._captcha(response)
        if "<html" not in response.text[:3000].lower():
            raise self.failed("贴吧搜索返回的不是 HTML 页面")
        forums = response.css("div.search-forum-list div.forum-item")
        if not forums:
            if response.css(".search_noresult") or page > 1:
                yield self.page_done()
                return
            raise self.failed(self._rewritten(f"贴吧搜索「{keyword}」的页面", response.text))
        for f in forums:
            link = f.css("a.forum-name")
            name = "".join(link.css("::text").getall()).strip()
            kw = urllib.parse.parse_qs(urllib.parse.urlparse(link.attrib.get("href", "")).query).get("kw", [name])[0]
            if not kw:
                continue
            yield DiscoveredAccount(
                platform="tieba", account_id=kw, name=f"{name or kw}吧", bio=" ".join(
                    t.strip() for t in f.css(".forum-brief ::text").getall() if t.strip()),
                avatar_url=f.css("a.forum-pic img::attr(src), img::attr(src)").get(),
                followers=_number(f.css(".member-icon + span::text").get()),
                profile_url=f"{self.urls['www']}/f?kw={urllib.parse.quote(kw)}", keyword=keyword,
                raw={"fid": link.attrib.get("data-fid"), "posts": _number(f.css(".post-icon + span::text").get())})
        yield self.page_done()
        nxt = [a for a in response.css("div.pager-search a") if "下一页" in "".join(a.css("::text").getall())]
        if nxt and page < self.pages:
            yield self._search(keyword, page + 1)

    def timeline(self, account_id: str) -> Iterator[scrapy.Request]:
        yield self._forum(account_id, 1)

    def _forum(self, kw: str, page: int) -> scrapy.Request:
        q = urllib.parse.urlencode({"kw": kw, "ie": "utf-8", "pn": str(50 * (page - 1))})
        return self.request(f"{self.urls['www']}/f?{q}", self.parse_forum, cb_kwargs={"kw": kw, "page": page})

    def parse_forum(self, response: Response, kw: str, page: int) -> Iterator[Any]:
        self._captcha(response)
        if "<html" not in response.text[:3000].lower():
            raise self.failed("贴吧返回的不是 HTML 页面")
        # The thread list arrives commented out; un-comment it to parse it like the browser does.
        page_html = Selector(text=_COMMENTS.sub("", response.text))
        threads = page_html.css("li.j_thread_list")
        if page == 1:
            name = page_html.css("a.card_title_fname::text").get(default="").strip() or f"{kw}吧"
            if not threads and ("抱歉，根据相关法律法规" in response.text or "本吧暂不开放" in response.text):
                yield ProfileSnapshot(platform="tieba", account_id=kw, name=name, status="gone")
                return
            if not threads and not page_html.css("#thread_list, .threadlist_bright"):
                if self._is_shell(response.text):
                    yield from self._json_forum(kw)
                    return
                raise self.failed(self._rewritten(f"贴吧「{kw}」的页面", response.text))
            yield ProfileSnapshot(platform="tieba", account_id=kw, name=name,
                                  bio=page_html.css("p.card_slogan::text").get(default="").strip(),
                                  profile_url=response.url)
        for li in threads:
            try:
                data = json.loads(li.attrib.get("data-field", "{}"))
            except ValueError:
                data = {}
            tid = str(data.get("id") or "")
            title = li.css("a.j_th_tit::attr(title)").get() or "".join(li.css("a.j_th_tit ::text").getall()).strip()
            if not tid or not title:
                continue
            abstract = " ".join(t.strip() for t in li.css(".threadlist_abs ::text").getall() if t.strip())
            yield Post(platform="tieba", account_id=kw, post_id=tid, text=f"{title}\n{abstract}".strip(),
                       comments=data.get("reply_num"), url=f"{self.urls['www']}/p/{tid}", raw=data)
        yield self.page_done()
        if threads and page < self.pages and page_html.css("a.next.pagination-item"):
            yield self._forum(kw, page + 1)

    def check(self, account_id: str, post_id: str) -> Iterator[scrapy.Request]:
        yield self.request(f"{self.urls['www']}/p/{post_id}", self.parse_check,
                           cb_kwargs={"kw": account_id, "tid": post_id}, meta={"handle_httpstatus_list": [404]})

    def parse_check(self, response: Response, kw: str, tid: str) -> Iterator[Any]:
        self._captcha(response)
        if response.status == 404 or any(g in response.text for g in GONE):
            yield PostCheck("tieba", kw, tid, False, reason="帖子已被删除")
        elif "j_l_post" in response.text or "core_title_txt" in response.text:
            yield PostCheck("tieba", kw, tid, True, response.css("title::text").get(default=""))
        elif self._is_shell(response.text) and self.cookies.get("BDUSS"):
            # The 2026 thread page loads the thread from the signed API: ask it the same way.
            yield from self._with_tbs(self._pb_check, kw, tid)
        else:
            yield PostCheck("tieba", kw, tid, None, reason="页面无法判断帖子是否存在")

    # -- mentions ---------------------------------------------------------------------------
    # Posts about the school in any forum: the post search ``/f/search/res?ie=utf-8&qw=K&rn=20&pn=N&sm=1``
    # (newest first) lists ``div.s_post``: ``span.p_title a`` (title, href ``/p/TID?pid=PID``),
    # ``div.p_content`` (excerpt), the forum ``a.p_forum`` and the author ``a[href*="/home/main"]``
    # (``font.p_violet``), ``font.p_date``; the next page is the ``下一页>`` link of ``div.pager``;
    # ``.search_noresult`` (or no post and no pager) means nothing found.

    def mentions(self, keyword: str) -> Iterator[scrapy.Request]:
        yield self._post_search(keyword, 1)

    def _post_search(self, keyword: str, page: int) -> scrapy.Request:
        q = urllib.parse.urlencode({"ie": "utf-8", "qw": keyword, "rn": "20", "pn": str(page), "sm": "1"})
        return self.request(f"{self.urls['www']}/f/search/res?{q}", self.parse_post_search,
                            cb_kwargs={"keyword": keyword, "page": page})

    def parse_post_search(self, response: Response, keyword: str, page: int) -> Iterator[Any]:
        self._captcha(response)
        if "<html" not in response.text[:3000].lower():
            raise self.failed("贴吧帖子搜索返回的不是 HTML 页面")
        posts = response.css("div.s_post")
        if not posts:
            if response.css(".search_noresult") or page > 1:
                yield self.page_done()
                return
            if self._is_shell(response.text) or "multsearch" in response.text:
                yield self._multsearch(keyword, 1)
                return
            raise self.failed(f"贴吧帖子搜索「{keyword}」的页面既没有结果也没有“无结果”提示（页面可能已改版）")
        for p in posts:
            link = p.css("span.p_title a")
            href = link.attrib.get("href", "")
            tid = re.search(r"/p/(\d+)", href)
            if not tid:
                continue
            pid = urllib.parse.parse_qs(urllib.parse.urlparse(href).query).get("pid", [""])[0]
            author = "".join(p.css("a[href*='/home/main'] ::text").getall()).strip()
            forum = "".join(p.css("a.p_forum ::text").getall()).strip()
            yield Mention(platform="tieba", post_id=f"{tid.group(1)}:{pid}" if pid else tid.group(1),
                          author_id=author, author_name=author,
                          title=" ".join("".join(link.css("::text").getall()).split()),
                          text=" ".join("".join(p.css("div.p_content ::text").getall()).split()),
                          created_at=when(p.css("font.p_date::text").get()),
                          url=f"{self.urls['www']}/p/{tid.group(1)}" + (f"?pid={pid}#{pid}" if pid else ""),
                          keyword=keyword, raw={"forum": forum, "href": href})
        yield self.page_done()
        nxt = [a for a in response.css("div.pager a") if "下一页" in "".join(a.css("::text").getall())]
        if nxt and page < self.pages:
            yield self._post_search(keyword, page + 1)


    # -- the 2026 PC JSON API (see the module's docstring) ------------------------------------

    def _api(self, path: str, params: dict[str, Any], callback: Any, *, post: bool = False,
             **cb: Any) -> scrapy.Request:
        data = tieba_sign.signed(params)
        headers = {"Referer": f"{self.urls['www']}/", "Accept": "application/json, text/plain, */*"}
        url = f"{self.urls['www']}{path}"
        if post:
            headers["Content-Type"] = "application/x-www-form-urlencoded;charset=UTF-8"
            return self.request(url, callback, method="POST", body=urllib.parse.urlencode(data), headers=headers,
                                cb_kwargs=cb)
        return self.request(f"{url}?{urllib.parse.urlencode(data)}", callback, headers=headers, cb_kwargs=cb)

    def _api_data(self, response: Response, what: str) -> dict[str, Any]:
        self._captcha(response)
        data = self.json(response)
        code = data.get("error_code", data.get("no", 0))
        if str(code) in ("0", "None"):
            return data
        said = f"error_code={code} {str(data.get('error_msg') or data.get('error') or '')[:60]}"
        if str(code) == "1" or LOGIN_ERROR.search(said):
            raise self.blocked(f"贴吧要求登录（{what}：{said}）。{self.advice()}")
        raise self.failed(f"贴吧接口拒绝了请求（{what}：{said}），接口可能已改版")

    def _json_forum(self, kw: str) -> Iterator[scrapy.Request]:
        if not self.cookies.get("BDUSS"):
            raise self.blocked(f"贴吧「{kw}」的帖子列表已改为签名 JSON 接口（2026 年改版，MediaCrawler f328ee3），"
                               f"需要登录会话（BDUSS）才能读取，当前没有会话。{self.advice()}")
        yield from self._with_tbs(self._frs, kw, 1)

    def _with_tbs(self, then: Any, *args: Any) -> Iterator[scrapy.Request]:
        """``then(*args)`` once the session's tbs is known (fetched once a round)."""
        if self.tbs:
            yield then(*args)
        else:
            yield self._api("/c/s/pc/sync", {}, self.parse_sync, then=then, args=args)

    def parse_sync(self, response: Response, then: Any, args: tuple[Any, ...]) -> Iterator[Any]:
        data = self._api_data(response, "获取 tbs")
        tbs = ((data.get("data") or {}).get("anti") or {}).get("tbs")
        if not tbs:
            raise self.blocked(f"贴吧会话未登录（/c/s/pc/sync 没有给出 tbs），无法读取改版后的贴吧接口。{self.advice()}")
        self.tbs = str(tbs)
        yield then(*args)

    def _pb(self, thread: str, callback: Any, /, **cb: Any) -> scrapy.Request:
        return self._api("/c/f/pb/page_pc", {"pn": 1, "lz": 0, "r": 2, "mark_type": 0, "back": 0, "fr": "", "kz": thread,
                                             "session_request_times": 1, "tbs": self.tbs}, callback, post=True, **cb)

    def _pb_check(self, kw: str, tid: str) -> scrapy.Request:
        return self._pb(tid, self.parse_pb_check, kw=kw, tid=tid)

    def parse_pb_check(self, response: Response, kw: str, tid: str) -> Iterator[Any]:
        self._captcha(response)
        data = self.json(response)
        code = data.get("error_code", data.get("no", 0))
        said = str(data.get("error_msg") or data.get("error") or "")
        thread = data.get("thread") if isinstance(data.get("thread"), dict) else None
        if str(code) in ("0", "None") and thread:
            yield PostCheck("tieba", kw, tid, True, str(thread.get("title") or ""), raw=thread)
        elif any(g in said for g in GONE):  # only the platform's own words make a post gone
            yield PostCheck("tieba", kw, tid, False, reason=said[:60], raw=data)
        elif str(code) == "1" or LOGIN_ERROR.search(said):
            raise self.blocked(f"贴吧要求登录（帖子 {tid}：error_code={code} {said[:60]}）。{self.advice()}")
        else:
            yield PostCheck("tieba", kw, tid, None, reason=f"无法判断：error_code={code} {said[:60]}", raw=data)

    def _frs(self, kw: str, page: int) -> scrapy.Request:
        # The page sends the forum name percent-encoded inside the form (and signs it so).
        return self._api("/c/f/frs/page_pc", {"kw": urllib.parse.quote(kw), "pn": page, "sort_type": -1, "is_newfrs": 1,
                                              "is_newfeed": 1, "rn": 30, "rn_need": 10, "tbs": self.tbs},
                         self.parse_frs, post=True, kw=kw, page=page)

    def parse_frs(self, response: Response, kw: str, page: int) -> Iterator[Any]:
        data = self._api_data(response, f"贴吧「{kw}」的帖子列表")
        forum = data.get("forum") if isinstance(data.get("forum"), dict) else {}
        if not forum.get("name") and not forum.get("id"):
            raise self.failed(f"贴吧「{kw}」的帖子列表应答中没有 forum（接口可能已改版）")
        if page == 1:
            yield ProfileSnapshot(platform="tieba", account_id=kw, name=f"{forum.get('name') or kw}吧",
                                  bio=str(forum.get("slogan") or ""), followers=count(forum.get("member_num")),
                                  posts_count=count(forum.get("thread_num")),
                                  profile_url=f"{self.urls['www']}/f?kw={urllib.parse.quote(kw)}", raw=forum)
        listed = [t for t in data.get("thread_list") or [] if isinstance(t, dict) and (t.get("tid") or t.get("id"))]
        tids = [t.strip() for t in str(forum.get("tids") or "").split(",") if t.strip()]
        for t in listed:
            yield self._thread_post(kw, t, t)
        yield self.page_done()
        if not listed:
            for tid in tids[:THREADS_PER_PAGE]:
                yield self._pb(tid, self.parse_thread, kw=kw, tid=tid)
        if (listed or tids) and page < self.pages:
            yield self._frs(kw, page + 1)

    def parse_thread(self, response: Response, kw: str, tid: str) -> Iterator[Any]:
        data = self._api_data(response, f"帖子 {tid}")
        thread = data.get("thread") if isinstance(data.get("thread"), dict) else {}
        if not thread:
            raise self.failed(f"贴吧帖子 {tid} 的应答中没有 thread（接口可能已改版）")
        yield self._thread_post(kw, thread, data.get("first_floor") or {}, tid)
        yield self.page_done()

    def _thread_post(self, kw: str, thread: dict[str, Any], floor: dict[str, Any], tid: str | None = None) -> Post:
        tid = str(thread.get("id") or thread.get("tid") or tid)
        body = _content_text(floor.get("content")) or _content_text(thread.get("abstract"))
        created = thread.get("create_time") or floor.get("time")
        return Post(platform="tieba", account_id=kw, post_id=tid,
                    text=f"{thread.get('title') or ''}\n{body}".strip(), comments=count(thread.get("reply_num")),
                    created_at=when(created),
                    url=f"{self.urls['www']}/p/{tid}", raw=thread)

    def _multsearch(self, keyword: str, page: int) -> scrapy.Request:
        return self._api("/mo/q/search/multsearch", {"word": keyword, "pn": page, "rn": 20, "st": 1, "needbrand": 1,
                                                     "sug_type": 2, "come_from": "search"},
                         self.parse_multsearch, keyword=keyword, page=page)

    def parse_multsearch(self, response: Response, keyword: str, page: int) -> Iterator[Any]:
        data = self._api_data(response, f"帖子搜索「{keyword}」")
        cards = (data.get("data") or {}).get("card_list") or []
        found = 0
        for card in cards:
            item = card.get("data") if isinstance(card, dict) else None
            if "thread" not in (card.get("cardInfo"), card.get("cardStyle")) or not isinstance(item, dict):
                continue
            tid = str(item.get("tid") or "")
            if not tid:
                continue
            found += 1
            user = item.get("user") if isinstance(item.get("user"), dict) else {}
            author = str(user.get("show_nickname") or user.get("user_name") or "")
            created = item.get("time") or item.get("create_time")
            yield Mention(platform="tieba", post_id=tid, author_id=author, author_name=author,
                          title=" ".join(str(item.get("title") or "").split()),
                          text=" ".join(str(item.get("content") or "").split()),
                          created_at=when(created),
                          comments=count(item.get("post_num")), url=f"{self.urls['www']}/p/{tid}", keyword=keyword,
                          raw={"forum": item.get("forum_name"), "tid": tid})
        yield self.page_done()
        if found and page < self.pages:
            yield self._multsearch(keyword, page + 1)


def _content_text(content: Any) -> str:
    """A floor's content: a string, or the API's ``[{type, text}]`` pieces (text pieces only)."""
    if isinstance(content, str):
        return " ".join(content.split())
    if not isinstance(content, list):
        return ""
    return " ".join("".join(str(c.get("text") or c.get("c") or "") for c in content if isinstance(c, dict)).split())
