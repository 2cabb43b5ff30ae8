"""Downloader middlewares every platform shares: who we say we are, and how a platform says no.

* :class:`IdentityMiddleware` gives every request the platform's user agent and language, and
  the operator's session cookies (``platforms.<p>.cookies_file``), so no request ever goes out
  as ``Scrapy/2.x``.
* :class:`PacingMiddleware` keeps a reader's pace beyond Scrapy's spacing: at most
  ``per_minute`` requests in any minute, and no more than the day's budget (counted per
  platform across processes under the data dir); a spent budget ends the round as blocked.
* :class:`RefusalMiddleware` turns a platform's refusal into :class:`Refused` before any parser
  sees it: an HTTP status the platform uses for risk control or rate limiting (its descriptor's
  ``block_statuses``, unless the request says it reads that status itself), a redirect to a login or captcha page, or a short answer that says "too
  frequent" (a short JSON body: pages are left to the spiders, which read them whole). The
  spider's errback records the target as blocked, with advice for the cause.
"""

from __future__ import annotations

import re
import time
from collections import deque
from typing import Any

from scrapy.exceptions import IgnoreRequest
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.task import deferLater

from spiders import identity
from spiders.catalog import BUDGET_SPENT

# Where platforms send a crawler they do not want: login pages and captchas (Zhihu's is
# /account/unhuman, "系统监测到您的网络环境存在异常").
WALL_URL = re.compile(r"passport|/login|signin|captcha|antispider|wappass|/verify|security-check|sec\.douyin|unhuman",
                      re.I)


class Refused(IgnoreRequest):
    """Raised by :class:`RefusalMiddleware`; handled by the spider's errback (blocked)."""

    def __init__(self, reason: str, *, rate_limited: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.rate_limited = rate_limited


class Forbidden(IgnoreRequest):
    """Raised by a downloader middleware that may not let a request go out (an address from page
    data that points inside our network); the spider's errback records the target as failed
    with ``reason``, which is Chinese."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class IdentityMiddleware:
    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> IdentityMiddleware:
        return cls(crawler)

    def process_request(self, request: Any, spider: Any = None) -> None:
        spider = self.crawler.spider
        request.headers["User-Agent"] = spider.info.user_agent
        request.headers.setdefault("Accept-Language", "zh-CN,zh;q=0.9,en;q=0.6")
        # A Chrome sends client hints that agree with its user agent; the browser spiders' pages
        # send the same ones (spiders.identity).
        for name, value in identity.client_hints(spider.info.user_agent).items():
            request.headers.setdefault(name, value)
        if spider.cookies and isinstance(request.cookies, dict):
            # Runs before Scrapy's cookie middleware, which sends what the request carries: the
            # session from the cookies file goes on every request unless the request set its own.
            request.cookies = {**spider.cookies, **request.cookies}
        return None


class PacingMiddleware:
    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.recent: deque[float] = deque()

    @classmethod
    def from_crawler(cls, crawler: Any) -> PacingMiddleware:
        return cls(crawler)

    def wait_for(self, now: float, per_minute: int) -> float:
        """Seconds to wait before the next request so that no minute holds more than
        ``per_minute`` of them (0 when it may go now)."""
        while self.recent and now - self.recent[0] >= 60.0:
            self.recent.popleft()
        if not per_minute or len(self.recent) < per_minute:
            return 0.0
        return 60.0 - (now - self.recent[0])

    async def process_request(self, request: Any, spider: Any = None) -> None:
        spider = self.crawler.spider
        pace = spider.pace
        while (wait := self.wait_for(time.monotonic(), pace.per_minute)) > 0:
            from twisted.internet import reactor

            await maybe_deferred_to_future(deferLater(reactor, wait, lambda: None))
        self.recent.append(time.monotonic())
        if pace.daily:
            used = identity.spend(spider.cfg.data_path, spider.info.name)
            if used > pace.daily:
                raise Refused(f"今日对{spider.info.label}的请求{BUDGET_SPENT}（{pace.daily} 次，"
                              f"platforms.{spider.info.name}.daily_budget），明天 0 点（北京时间）自动恢复；"
                              f"常常不够用时请调长巡检间隔或减少页数（watcher check-config 给出可行的间隔）",
                              rate_limited=True)
        return None


class RefusalMiddleware:
    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> RefusalMiddleware:
        return cls(crawler)

    def process_response(self, request: Any, response: Any, spider: Any = None) -> Any:
        spider = self.crawler.spider
        info = spider.info
        where = response.url[:100]
        handled = request.meta.get("handle_httpstatus_list") or ()
        if response.status in info.block_statuses and response.status not in handled:
            # A refusal that says "too frequent" is a rate limit whatever its status (Weibo's 432
            # is both: bare for a visitor without cookies, "请求过于频繁" for one going too fast).
            limited = response.status in info.rate_limit_statuses or _says_slow_down(response, info)
            why = "访问过于频繁被限流" if limited else "访问被拒（风控）"
            raise Refused(f"HTTP {response.status}：{why}（{where}）。{spider.advice(rate_limited=limited)}",
                          rate_limited=limited)
        if 300 <= response.status < 400:
            location = response.headers.get("Location", b"").decode("latin-1")
            if WALL_URL.search(location):
                raise Refused(f"跳转到登录或验证码页面（{location[:100]}）。{spider.advice()}")
        if WALL_URL.search(response.url) and not WALL_URL.search(request.url):
            raise Refused(f"被带到登录或验证码页面（{where}）。{spider.advice()}")
        if _says_slow_down(response, info):
            text = (response.body or b"").decode("utf-8", "replace")
            raise Refused(f"平台回答“{_snippet(text)}”（限流）。{spider.advice(rate_limited=True)}", rate_limited=True)
        return response


def _says_slow_down(response: Any, info: Any) -> bool:
    """A short JSON answer that says "too frequent" (pages are left to the spiders)."""
    body = (getattr(response, "body", b"") or b"").lstrip()
    if len(body) >= 600 or body[:1] != b"{":
        return False
    return bool(re.search(info.rate_limit_text, body.decode("utf-8", "replace"), re.I))


def _snippet(text: str) -> str:
    m = re.search(r'"(?:msg|message|status_msg|error_msg)"\s*:\s*"([^"]{1,60})"', text)
    return m[1] if m else re.sub(r"\s+", " ", text)[:60]
