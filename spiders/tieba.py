"""Baidu Tieba: the threads of a forum (吧) — the school's own forum is where complaints and
rumours about it surface first.

* timeline (account = forum name, e.g. 北京理工大学): ``/f?kw=NAME&ie=utf-8&pn=50·(page-1)`` — the
  thread list is an HTML fragment that Tieba ships inside an HTML comment (rendered by the page's
  script); each ``li.j_thread_list`` carries a ``data-field`` JSON (id, author_name, reply_num)
  and the title link ``a.j_th_tit``.
* check (post = thread id): ``/p/ID`` — "该贴已被删除" / HTTP 404 means gone.
* discover: Tieba has no public account search, but a forum named after the school is the
  account people mistake for an official one. ``/f/search/fm?ie=utf-8&qw=K&pn=N`` (搜索吧) lists
  ``div.search-forum-list > div.forum-item``: ``a.forum-name`` (data-fid, href ``/f?kw=NAME``),
  member and post counts after ``.member-icon`` / ``.post-icon``, ``.forum-brief``; the next page
  is the ``下一页>`` link of ``div.pager-search``; ``div.search_noresult`` means nothing found.

Baidu's security check (``wappass.baidu.com`` redirect, "百度安全验证") is a captcha: blocked.

In 2026 the PC site moved forum lists, search and thread pages to signed JSON APIs fetched by the
page's script (``/c/f/frs/page_pc``, ``/c/s/pc/search``, ``/c/f/pb/page_pc``: a ``tbs`` token
from the logged-in ``/c/s/pc/sync`` and an MD5 ``sign`` over the sorted parameters; MediaCrawler
f328ee3, ``media_platform/tieba/client.py``). Where Tieba still serves the HTML lists, this
spider reads them; a page that is only the new script-driven shell is reported as failed with
that reason (never as an empty forum) — reading those APIs needs a logged-in browser session and
is not done here yet.
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
from spiders.catalog import Pace, Platform
from spiders.items import DiscoveredAccount, Mention, Post, PostCheck, ProfileSnapshot
from spiders.parsing import when

_COMMENTS = re.compile(r"<!--|-->")
GONE = ("该贴已被删除", "很抱歉，该贴已被删除", "贴子不存在", "该吧被合并")
# What the 2026 script-driven pages carry instead of the HTML lists.
JSON_SHELL = ("/c/f/frs/page_pc", "/c/s/pc/", "/c/f/pb/page_pc", "frs/page_pc", "tb-pc-frs", "__NEXT_DATA__")


def _number(text: str | None) -> int | None:
    digits = re.sub(r"[^0-9]", "", text or "")
    return int(digits) if digits else None


PLATFORM = Platform(
    name="tieba", label="百度贴吧", spider="TiebaSpider", order=9,
    base_urls={"www": "https://tieba.baidu.com"},
    modes=("discover", "timeline", "check", "mentions"), aliases=("贴吧", "百度"),
    watch="registered_or_school", session_hint="登录 tieba.baidu.com 后导出 Cookie（BDUSS）",
    # Ours: Baidu's security check follows bursts.
    pace=Pace(interval=2.0, per_minute=20, daily=1000),
)


class TiebaSpider(PlatformSpider):
    info = PLATFORM

    def _captcha(self, response: Response) -> None:
        if "wappass.baidu.com" in response.url or "百度安全验证" in response.text[:5000]:
            raise self.blocked("百度安全验证（验证码），请降低频率或配置 Cookie（platforms.tieba.cookies_file）")

    @staticmethod
    def _rewritten(what: str, text: str) -> str:
        """Why a page without the HTML list cannot be read, for the operator."""
        if any(m in text for m in JSON_SHELL):
            return (f"{what}已改为由页面脚本调用签名 JSON 接口加载内容（/c/f/frs/page_pc 等，2026 年改版；"
                    "见 MediaCrawler f328ee3），其中没有可读的 HTML 列表；读取这些接口需要登录会话与签名，"
                    "本版本尚不支持：请关注 campus-watcher 的更新，期间请人工巡检贴吧")
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
