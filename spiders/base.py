"""What every platform spider shares.

A platform spider subclasses :class:`PlatformSpider`, sets ``platform`` and implements the
modes it supports — ``discover(keyword)``, ``timeline(account_id)``, ``check(account_id,
post_id)`` — each yielding requests whose callbacks turn responses into items
(:mod:`spiders.items`). Then it is registered in :mod:`spiders.registry`.

Spiders never write to the store and never judge: they parse. When a platform answers with a
login wall, a captcha, a risk-control code or a body that is not what it should be, the spider
calls :meth:`PlatformSpider.blocked` / :meth:`PlatformSpider.failed`, which stops the crawl and
leaves the reason for the run record; a run that ends that way is never mistaken for "nothing
there".
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from http.cookiejar import MozillaCookieJar
from pathlib import Path
from typing import Any

import scrapy
from scrapy.exceptions import CloseSpider
from scrapy.http import Response

from watcher.config import Config

BROWSER_UA = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/124.0.0.0 Safari/537.36")
MOBILE_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
             "Version/17.0 Mobile/15E148 Safari/604.1")


# Where platforms send a crawler they do not want: login pages and captchas.
WALLS = re.compile(r"passport|login|signin|captcha|antispider|wappass|verify|security", re.I)


class Problem(CloseSpider):
    def __init__(self, status: str, reason: str) -> None:
        super().__init__(f"{status}: {reason}")
        self.status = status
        self.reason = reason


def load_cookies(path: Path | None) -> dict[str, str]:
    """Cookies from a Netscape cookies.txt (as browser extensions export it) or a JSON object /
    list of {name, value} (as devtools export it)."""
    if not path:
        return {}
    text = path.read_text(encoding="utf-8").strip()
    if text.startswith(("{", "[")):
        data = json.loads(text)
        if isinstance(data, dict):
            return {str(k): str(v) for k, v in data.items()}
        return {str(c["name"]): str(c["value"]) for c in data if "name" in c and "value" in c}
    jar = MozillaCookieJar()
    jar.load(str(path), ignore_discard=True, ignore_expires=True)
    return {c.name: c.value or "" for c in jar}


class PlatformSpider(scrapy.Spider):
    platform: str = ""
    modes: tuple[str, ...] = ("discover", "timeline")
    check_by_url = False  # check mode takes the post's URL (which carries what the page needs)
    ua = BROWSER_UA

    def __init__(self, cfg: Config, mode: str, keywords: list[str] | None = None, account: str | None = None,
                 post: str | None = None, run_id: int | None = None, **kwargs: Any) -> None:
        super().__init__(name=self.platform, **kwargs)
        if mode not in self.modes:
            raise ValueError(f"{self.platform} 不支持 {mode} 模式（支持：{', '.join(self.modes)}）")
        self.cfg = cfg
        self.pcfg = cfg.platform(self.platform)
        self.urls = self.pcfg.urls(self.platform)
        self.mode = mode
        self.keywords = keywords or []
        self.account = account
        self.post = post
        self.run_id = run_id
        self.pages = self.pcfg.pages
        self.problem: Problem | None = None
        self.on_page_done: Any = None  # set by the store pipeline
        self.details: dict[str, Any] = {"pages_complete": 0}
        path = cfg.resolve_path(self.pcfg.cookies_file) if self.pcfg.cookies_file else None
        self.cookies = load_cookies(path)

    # -- modes ------------------------------------------------------------------------------

    async def start(self) -> Any:
        for request in self.start_requests():
            yield request

    def start_requests(self) -> Iterator[scrapy.Request]:
        if self.mode == "discover":
            for kw in self.keywords:
                yield from self.discover(kw)
        elif self.mode == "timeline":
            yield from self.timeline(self.account or "")
        else:
            yield from self.check(self.account or "", self.post or "")

    def discover(self, keyword: str) -> Iterator[scrapy.Request]:
        raise NotImplementedError

    def timeline(self, account_id: str) -> Iterator[scrapy.Request]:
        raise NotImplementedError

    def check(self, account_id: str, post_id: str) -> Iterator[scrapy.Request]:
        raise NotImplementedError

    # -- helpers for subclasses ------------------------------------------------------------

    def request(self, url: str, callback: Any, *, follow_redirects: bool = False, **kwargs: Any) -> scrapy.Request:
        """A request with the platform's headers and cookies. Redirects are not followed by
        default: platform APIs redirect only to login or captcha pages, which must be reported
        (and never fetched from wherever they point)."""
        headers = {"User-Agent": self.ua, "Accept-Language": "zh-CN,zh;q=0.9", **kwargs.pop("headers", {})}
        meta = kwargs.pop("meta", {})
        if not follow_redirects:
            meta = {**meta, "dont_redirect": True,
                    "handle_httpstatus_list": [*meta.get("handle_httpstatus_list", []), 301, 302, 303, 307, 308]}
        return scrapy.Request(url, callback=self._guard(callback), headers=headers, cookies=self.cookies,
                              errback=self.on_error, meta=meta, **kwargs)

    def _guard(self, callback: Any) -> Any:
        def guarded(response: Response, **kw: Any) -> Any:
            if 300 <= response.status < 400:
                location = response.headers.get("Location", b"").decode("latin-1")
                if WALLS.search(location):
                    raise self.blocked(f"跳转到登录/验证页（{location[:100]}），需要登录 Cookie 或降低频率："
                                       f"请检查 platforms.{self.platform}.cookies_file 与 rate")
                raise self.failed(f"意外的跳转（HTTP {response.status} → {location[:100]}）")
            return callback(response, **kw)

        return guarded

    def blocked(self, reason: str) -> Problem:
        """Stop: the platform refuses us (login wall, captcha, risk control)."""
        self.problem = self.problem or Problem("blocked", reason)
        return self.problem

    def failed(self, reason: str) -> Problem:
        """Stop: the answer is not what the platform's API returns (changed or broken)."""
        self.problem = self.problem or Problem("failed", reason)
        return self.problem

    def json(self, response: Response, *, login_hosts: tuple[str, ...] = ("passport", "login")) -> dict[str, Any]:
        """The JSON body, or the right Problem raised: a redirect to a login page is a login
        wall; HTML where JSON was expected is a wall or a changed API; a cut body is a failure."""
        host = response.url.split("/")[2] if "//" in response.url else ""
        if any(h in host for h in login_hosts) or any(h in response.url for h in ("/signin", "/login")):
            raise self.blocked(f"跳转到登录页（{response.url[:80]}），需要登录 Cookie：请配置 platforms.{self.platform}.cookies_file")
        body = response.text.strip() if hasattr(response, "text") else ""
        if body.startswith("<"):
            raise self.blocked(f"应为 JSON 却返回了 HTML 页面（可能是登录页或验证码），URL {response.url[:80]}")
        try:
            data = json.loads(body)
        except ValueError as e:
            raise self.failed(f"响应不是完整的 JSON（{e.msg}，第 {e.pos} 字节），URL {response.url[:80]}") from e
        if not isinstance(data, dict):
            raise self.failed(f"响应 JSON 结构异常（应为对象），URL {response.url[:80]}")
        return data

    def page_done(self) -> None:
        """Call after yielding a page's items: they are committed before the next page is fetched."""
        self.details["pages_complete"] = self.details.get("pages_complete", 0) + 1
        if self.on_page_done is not None:
            self.on_page_done()

    def on_error(self, failure: Any) -> None:
        response = getattr(failure.value, "response", None)
        if response is not None and response.status in (403, 418, 429, 412):
            self.blocked(f"HTTP {response.status}（访问被拒或限流），URL {response.url[:80]}")
        else:
            self.failed(f"请求失败：{failure.getErrorMessage()[:200]}")
        self.crawler.engine.close_spider(self, "problem")
