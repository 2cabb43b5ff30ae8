"""Registered websites: an RSS/Atom feed or an HTML news page, configured under
``platforms.website.sites`` as ``{id, name, url}``.

* timeline (account = site id): the page's title and description as the profile; feed entries
  (or, for an HTML page, its article links) as posts.
* check (post = the article URL): HTTP 404/410 means gone; 200 means it is there.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from typing import Any

import scrapy
from scrapy.http import Response

from spiders.base import PlatformSpider
from spiders.catalog import Platform
from spiders.items import Post, PostCheck, ProfileSnapshot


def _date(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip()
    try:
        return parsedate_to_datetime(value).isoformat()
    except (TypeError, ValueError):
        return value if value[:4].isdigit() else None


PLATFORM = Platform(
    name="website", label="网站", spider="WebsiteSpider", order=10,
    base_urls={},
    modes=("timeline", "check"), aliases=("网页", "web", "官网", "RSS"),
    check_by="url", watch="sites",
)


class WebsiteSpider(PlatformSpider):
    info = PLATFORM

    def _site(self, site_id: str) -> dict[str, str]:
        for s in self.pcfg.sites:
            if s.get("id") == site_id:
                return s
        raise self.failed(f"配置 platforms.website.sites 中没有 id 为 {site_id!r} 的网站")

    def timeline(self, account_id: str) -> Iterator[scrapy.Request]:
        site = self._site(account_id)
        yield self.request(site["url"], self.parse_page, cb_kwargs={"site": site}, follow_redirects=True)

    def parse_page(self, response: Response, site: dict[str, str]) -> Iterator[Any]:
        sid = site["id"]
        body = response.text.lstrip()[:500].lower()
        if body.startswith("<?xml") or "<rss" in body or "<feed" in body:
            # The XML parser recovers from a cut document and would return its first half as if
            # it were the whole feed.
            if not response.text.rstrip().lower().endswith(("</rss>", "</feed>", "</rdf:rdf>")):
                raise self.failed(f"网站 {site['url']} 的 RSS/Atom 不完整（文档没有结束标记，可能传输中断）")
            response.selector.remove_namespaces()
            title = response.xpath("//channel/title/text() | /feed/title/text()").get(default=site.get("name", ""))
            yield ProfileSnapshot(platform="website", account_id=sid, name=title.strip(),
                                  bio=response.xpath("//channel/description/text() | /feed/subtitle/text()").get(default="").strip(),
                                  profile_url=site["url"])
            for entry in response.xpath("//item | //entry"):
                link = entry.xpath("link/@href").get() or entry.xpath("link/text()").get(default="")
                guid = entry.xpath("guid/text() | id/text()").get() or link
                text = " ".join(t.strip() for t in entry.xpath("title/text() | description/text() | summary/text()").getall())
                yield Post(platform="website", account_id=sid, post_id=guid.strip(), text=text.strip(),
                           created_at=_date(entry.xpath("pubDate/text() | published/text() | updated/text()").get()),
                           url=response.urljoin(link.strip()))
        else:
            if "<html" not in body and "<!doctype" not in body:
                raise self.failed(f"网站 {site['url']} 返回的既不是 RSS/Atom 也不是 HTML")
            yield ProfileSnapshot(platform="website", account_id=sid,
                                  name=(response.css("title::text").get() or site.get("name", "")).strip(),
                                  bio=response.css("meta[name=description]::attr(content)").get(default="").strip(),
                                  profile_url=site["url"])
            seen = set()
            for a in response.css("main a, article a, .news a, .list a, ul li a"):
                href, text = a.attrib.get("href"), " ".join(a.css("::text").getall()).strip()
                if not href or len(text) < 6 or href.startswith(("#", "javascript")):
                    continue
                url = response.urljoin(href)
                if url in seen:
                    continue
                seen.add(url)
                yield Post(platform="website", account_id=sid, post_id=hashlib.sha1(url.encode()).hexdigest()[:16],
                           text=text, url=url)
        yield self.page_done()

    def check(self, account_id: str, post_id: str) -> Iterator[scrapy.Request]:
        yield self.request(post_id, self.parse_check, cb_kwargs={"site": account_id, "url": post_id},
                           meta={"handle_httpstatus_list": [404, 410]}, follow_redirects=True)

    def parse_check(self, response: Response, site: str, url: str) -> Iterator[Any]:
        if response.status in (404, 410):
            yield PostCheck("website", site, url, False, reason=f"HTTP {response.status}")
        else:
            yield PostCheck("website", site, url, True, " ".join(response.css("title::text").getall()).strip())
