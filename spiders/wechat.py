"""WeChat official accounts, found through Sogou's WeChat search (weixin.sogou.com).

* discover: ``/weixin?type=1&query=K&ie=utf8&page=N`` — an HTML list (``ul.news-list2 > li``)
  with the account name, WeChat ID (``label[name=em_weixinhao]``), introduction and the
  verified entity.
* timeline/check: WeChat shows an account's article list only inside WeChat (login); this is
  reported as blocked with that reason, never as an empty timeline.

Sogou's anti-spider answer is a redirect to ``/antispider/`` whose captcha image is
``/antispider/util/seccode.php`` (Chyroc/WechatSogou ``wechatsogou/api.py`` reads ``antispider`` in
the answer's URL), or the same captcha page served in place of the results with HTTP 200: the
notice "用户您好，您的访问过于频繁，为确认本次访问为正常用户行为，需要您协助验证", the
``seccodeImage`` captcha and a ``sendLog('verify_page'…)`` call, which public Sogou crawlers test
the body for. Both are blocked, with what to do.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import scrapy
from scrapy.http import Response

from spiders.base import PlatformSpider
from spiders.catalog import Complaint, Pace, Platform
from spiders.items import DiscoveredAccount, Mention

# Where an impersonator of the school is reported (watcher.takedown; sources in docs/takedown.md).
COMPLAINT = Complaint(
    "微信公众平台侵权投诉",
    "公众号主页 →右上角“…”→“投诉”→“混淆他人投诉”；或 mp.weixin.qq.com 页面底部“侵权投诉”→“我要投诉”（需以权利人身份实名认证）",
    ("混淆他人（假冒仿冒）", "名称侵权（企业名称权/商号权）", "商标权侵权", "诈骗"),
    note="权利人为学校，投诉人为代理人时须上传授权书",
)

PLATFORM = Platform(
    complaint=COMPLAINT,
    name="wechat", label="微信公众号", spider="WechatSpider", order=3,
    base_urls={"search": "https://weixin.sogou.com", "mp": "https://mp.weixin.qq.com"},
    modes=("discover", "mentions"),
    limits="公众号的文章列表只在微信内（登录后）可见，无法公开巡检或核查删帖；请用网站/RSS 镜像或人工巡检", aliases=("微信", "公众号", "微信公众平台", "视频号"),
    session_hint="在 weixin.sogou.com 完成验证后导出 Cookie（SNUID、SUID）",
    # Ours: Sogou serves its antispider page after a handful of quick searches.
    pace=Pace(interval=6.0, per_minute=8, daily=200),
    # Reads, likes and followers are in the account's own back office only.
    counts=(),
)


# What the captcha page says and carries, whatever its URL and status.
ANTISPIDER = ("seccodeImage", "seccodeInput", "异常访问请求", "您的访问过于频繁", "需要您协助验证", "antispider/util/seccode",
              "sendLog('verify_page'")


class WechatSpider(PlatformSpider):
    info = PLATFORM

    def discover(self, keyword: str) -> Iterator[scrapy.Request]:
        yield self._search(keyword, 1)

    def _search(self, keyword: str, page: int) -> scrapy.Request:
        q = urllib.parse.urlencode({"type": "1", "query": keyword, "ie": "utf8", "page": str(page)})
        return self.request(f"{self.urls['search']}/weixin?{q}", self.parse_search,
                            cb_kwargs={"keyword": keyword, "page": page},
                            headers={"Referer": f"{self.urls['search']}/"})

    def parse_search(self, response: Response, keyword: str, page: int) -> Iterator[Any]:
        head = response.text[:20000]
        if "antispider" in response.url or any(m in head for m in ANTISPIDER):
            raise self.blocked("搜狗微信搜索要求输入验证码（antispider 验证页），本轮停止；平台冷却后自动重试。"
                               "如频繁出现，请降低 platforms.wechat 的频率，或在浏览器中完成验证后导出 Cookie（SNUID、SUID）"
                               "到 platforms.wechat.cookies_file")
        if "<html" not in response.text[:2000].lower():
            raise self.failed("搜狗微信搜索返回的不是 HTML 页面")
        items = response.css("ul.news-list2 > li")
        if not items and not response.css("#noresult_part1_container, .no-sosuo"):
            raise self.failed("搜狗微信搜索结果页结构异常：没有结果列表也没有“无结果”提示（页面可能已改版）")
        for li in items:
            name = "".join(li.css("p.tit a ::text").getall()).strip()
            wxid = li.css("label[name=em_weixinhao]::text").get(default="").strip()
            if not name or not wxid:
                continue
            fields = {dt.css("::text").get(default="").strip().rstrip("：:"): "".join(dd.css("::text").getall()).strip()
                      for dt, dd in zip(li.css("dl dt"), li.css("dl dd"), strict=False)}
            verified = fields.get("微信认证")
            avatar = li.css("div.img-box img::attr(src)").get()
            yield DiscoveredAccount(
                platform="wechat", account_id=wxid, name=name, bio=fields.get("功能介绍", ""),
                avatar_url=urllib.parse.urljoin(response.url, avatar) if avatar else None,
                verified=bool(verified), verified_reason=verified or None,
                profile_url=urllib.parse.urljoin(response.url, li.css("p.tit a::attr(href)").get(default="")) or None,
                keyword=keyword)
        yield self.page_done()
        if items and page < self.pages and response.css("#sogou_next"):
            yield self._search(keyword, page + 1)

    # -- mentions ---------------------------------------------------------------------------
    # Articles about the school: ``/weixin?type=2&query=K&ie=utf8&page=N`` — ``ul.news-list > li``
    # with ``div.txt-box h3 a`` (title, a ``/link?url=…`` redirect), ``p.txt-info`` (excerpt),
    # ``div.s-p`` (``t`` = publication epoch seconds) and ``a.account`` (the official account's
    # name; Sogou gives no WeChat ID here, so the author is not judged again: the discover round's
    # account search already finds accounts by name, with their IDs); ``#sogou_next`` is the next page. Each ``li`` carries ``d`` / the ``sogou_vr_…_box_N`` id, the article's key.

    def mentions(self, keyword: str) -> Iterator[scrapy.Request]:
        yield self._articles(keyword, 1)

    def _articles(self, keyword: str, page: int) -> scrapy.Request:
        q = urllib.parse.urlencode({"type": "2", "query": keyword, "ie": "utf8", "page": str(page)})
        return self.request(f"{self.urls['search']}/weixin?{q}", self.parse_articles,
                            cb_kwargs={"keyword": keyword, "page": page},
                            headers={"Referer": f"{self.urls['search']}/"})

    def parse_articles(self, response: Response, keyword: str, page: int) -> Iterator[Any]:
        head = response.text[:20000]
        if "antispider" in response.url or any(m in head for m in ANTISPIDER):
            raise self.blocked("搜狗微信文章搜索要求输入验证码（antispider 验证页），本轮停止；平台冷却后自动重试。"
                               "如频繁出现，请降低 platforms.wechat 的频率，或在浏览器中完成验证后导出 Cookie（SNUID、SUID）"
                               "到 platforms.wechat.cookies_file")
        if "<html" not in response.text[:2000].lower():
            raise self.failed("搜狗微信文章搜索返回的不是 HTML 页面")
        items = response.css("ul.news-list > li")
        if not items and not response.css("#noresult_part1_container, .no-sosuo"):
            raise self.failed("搜狗微信文章搜索结果页结构异常：没有结果列表也没有“无结果”提示（页面可能已改版）")
        for li in items:
            link = li.css("div.txt-box h3 a")
            href = link.attrib.get("href", "")
            key = li.attrib.get("d") or li.attrib.get("id") or href
            if not href or not key:
                continue
            account = "".join(li.css("div.s-p a.account ::text").getall()).strip()
            epoch = li.css("div.s-p::attr(t)").get()
            yield Mention(platform="wechat", post_id=key, author_id=f"name:{account}" if account else "",
                          author_name=account, title=" ".join("".join(link.css("::text").getall()).split()),
                          text=" ".join("".join(li.css("p.txt-info ::text").getall()).split()),
                          created_at=datetime.fromtimestamp(int(epoch), UTC).isoformat() if epoch and epoch.isdigit()
                          else None, url=urllib.parse.urljoin(response.url, href), keyword=keyword, kind="article")
        yield self.page_done()
        if items and page < self.pages and response.css("#sogou_next"):
            yield self._articles(keyword, page + 1)
