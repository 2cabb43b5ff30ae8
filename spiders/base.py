"""What every platform spider shares: targets, outcomes and the edges of a round.

A spider crawls one **round**: several targets of one mode on one platform (the keywords of a
discovery round, the accounts of a watch round, the posts of a check round) in one Scrapy
crawler, so the platform's ``rate`` and ``concurrency`` are the budget of the whole round.

A platform spider subclasses :class:`PlatformSpider`, sets ``info`` to its module's
:class:`~spiders.catalog.Platform` and implements the modes it declares — ``discover(keyword)``,
``timeline(account_id)``, ``check(account_id, post_id_or_url)`` — each yielding requests built
with :meth:`PlatformSpider.request` whose callbacks turn responses into items.

Spiders never write to the store and never judge: they parse. Each target gets its own outcome:
a callback that raises :meth:`blocked`/:meth:`failed`, a download that fails (network →
``unreachable``; a refusal seen by :mod:`spiders.middlewares` → ``blocked``) or a parser that
raises (→ ``failed``) ends that target only. When every request of a target has been answered,
the spider yields a :class:`~spiders.items.TargetDone` after the target's last item, which is
what the round's pipeline closes the target's run on. Two blocked targets, or one rate-limit
answer, halt the round: no new target is started against a platform that is refusing us.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from http.cookiejar import MozillaCookieJar
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import scrapy
from loguru import logger
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.task import deferLater

from spiders import identity
from spiders.catalog import Platform
from spiders.items import Item, PageDone, TargetDone
from spiders.middlewares import Forbidden, Refused

if TYPE_CHECKING:
    from watcher.config import Config

NETWORK_ERRORS: dict[str, str] = {
    # Twisted's exception class names → what the operator reads.
    "DNSLookupError": "域名解析失败",
    "CannotResolveHostError": "域名解析失败",
    "ConnectionRefusedError": "连接被拒绝",
    "TCPTimedOutError": "连接超时",
    "TimeoutError": "等待应答超时",
    "UserTimeoutError": "等待应答超时",
    "ConnectError": "无法建立连接",
    "ConnectionLost": "连接中断",
    "ConnectionDone": "连接被关闭",
    "ResponseNeverReceived": "没有收到应答（连接被重置）",
    "ResponseFailed": "应答传输中断",
    "TunnelError": "代理隧道失败",
    "SSLError": "TLS 握手失败",
    "Error": "网络错误",
}
BROWSER_NETWORK = ("net::ERR_NAME_NOT_RESOLVED", "net::ERR_CONNECTION", "net::ERR_TIMED_OUT", "net::ERR_ADDRESS",
                   "net::ERR_INTERNET_DISCONNECTED", "net::ERR_PROXY", "net::ERR_SSL", "net::ERR_CERT",
                   "net::ERR_EMPTY_RESPONSE", "net::ERR_NETWORK")


class Problem(Exception):
    """Why one target could not be crawled (``blocked`` / ``failed`` / ``unreachable``)."""

    def __init__(self, status: str, reason: str, *, rate_limited: bool = False) -> None:
        super().__init__(f"{status}: {reason}")
        self.status = status
        self.reason = reason
        self.rate_limited = rate_limited


@dataclass(frozen=True)
class Target:
    """One unit of a round: a keyword (discover), an account (timeline) or a post (check).

    ``followup`` marks the post checks a watch round adds for itself once its timelines are in
    (deletions to confirm); their results belong to the account's run ``run_id``."""

    key: str
    account: str | None = None
    keyword: str | None = None
    post: str | None = None
    followup: bool = False
    run_id: int | None = None

    @classmethod
    def for_mode(cls, mode: str, value: str, post: str | None = None) -> Target:
        if mode in ("discover", "mentions"):
            return cls(key=value, keyword=value)
        if mode in ("check", "comments"):
            return cls(key=f"{value}/{post}", account=value, post=post)
        return cls(key=value, account=value)


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
    info: ClassVar[Platform]

    def __init__(self, cfg: Config, mode: str, targets: list[Target], **kwargs: Any) -> None:
        super().__init__(name=self.info.name, **kwargs)
        if not self.info.supports(mode):
            raise ValueError(f"{self.info.label}不支持 {mode}（支持：{', '.join(self.info.modes)}）")
        self.cfg = cfg
        self.pcfg = cfg.platform(self.info.name)
        self.urls = self.pcfg.urls(self.info.name)
        self.mode = mode
        self.targets = list(targets)
        self.by_key: dict[str, Target] = {t.key: t for t in self.targets}
        self.pages = self.pcfg.pages
        self.pace = self.pcfg.pace(self.info.name)
        # The operator's exported cookies, and over them the session saved by ``watcher login``.
        self.configured_cookies = load_cookies(cfg.resolve_path(self.pcfg.cookies_file) if self.pcfg.cookies_file else None)
        self.cookies = identity.session_values(cfg.data_path, self.info.name, self.configured_cookies)
        # The round's pipeline may hand over more targets once the first ones are done (the post
        # checks that confirm deletions): called once, when the crawler runs out of work.
        self.followups: Callable[[], list[Target]] | None = None
        self.halted: Problem | None = None
        self.started: set[str] = set()
        self.problems: dict[str, Problem] = {}
        self._details: dict[str, dict[str, Any]] = {}
        self._open: dict[str, int] = {}
        self._blocked = 0
        self._current: str | None = None

    @property
    def platform(self) -> str:
        return self.info.name

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> PlatformSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._on_idle, signal=signals.spider_idle)
        return spider

    # -- the modes a platform implements -------------------------------------------------------

    def discover(self, keyword: str) -> Iterator[scrapy.Request]:
        raise NotImplementedError

    def timeline(self, account_id: str) -> Iterator[scrapy.Request]:
        raise NotImplementedError

    def check(self, account_id: str, post_id: str) -> Iterator[scrapy.Request]:
        raise NotImplementedError

    def mentions(self, keyword: str) -> Iterator[scrapy.Request]:
        """Other people's content about ``keyword`` (舆情提及): :class:`~spiders.items.Mention` items."""
        raise NotImplementedError

    def comments(self, account_id: str, post_id: str) -> Iterator[scrapy.Request]:
        """The public comments under a registered account's post: ``Mention`` items of kind comment."""
        raise NotImplementedError

    # -- the round ------------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[Any]:
        # Targets start as earlier ones finish, a few at a time (enough to keep the downloader
        # busy at the platform's concurrency): a platform that starts refusing us mid-round
        # sees no request for the targets after that.
        from twisted.internet import reactor  # the one Scrapy installed; importing it earlier would choose it

        in_flight = self.pcfg.concurrency
        for target in self.targets:
            while len(self._open) >= in_flight and self.halted is None:
                await maybe_deferred_to_future(deferLater(reactor, 0.02, lambda: None))
            if self.halted is not None:
                break  # the platform refuses us: do not start anything more this round
            for out in self._begin(target, self.mode):
                yield out

    def _begin(self, target: Target, mode: str) -> Iterator[Any]:
        key = target.key
        self.started.add(key)
        self._open[key] = 1  # held until the target's requests are all out
        self._current = key
        try:
            if mode == "discover":
                made = self.discover(target.keyword or key)
            elif mode == "mentions":
                made = self.mentions(target.keyword or key)
            elif mode == "comments":
                made = self.comments(target.account or "", target.post or "")
            elif mode == "timeline":
                made = self.timeline(target.account or key)
            else:
                made = self.check(target.account or "", target.post or "")
            for request in list(made or ()):
                yield self._adopt(request, key)
        except Problem as p:
            self._note(key, p)
        except Exception as e:  # noqa: BLE001 - a spider bug costs this target, not the round
            self._crash(key, e)
        yield from self._settle(key)

    def _on_idle(self) -> None:
        if self.followups is None or self.halted is not None:
            return
        more, self.followups = self.followups(), None
        requests = [r for t in more for r in self._begin_followup(t) if isinstance(r, scrapy.Request)]
        for request in requests:
            self.crawler.engine.crawl(request)
        if requests:
            raise DontCloseSpider

    def _begin_followup(self, target: Target) -> Iterator[Any]:
        self.by_key[target.key] = target
        self.targets.append(target)
        yield from self._begin(target, "check")

    # -- bookkeeping: which target each request and item belongs to ------------------------------

    def _adopt(self, out: Any, key: str | None) -> Any:
        if isinstance(out, scrapy.Request):
            key = out.meta.setdefault("target", key)
            if key is not None:
                self._open[key] = self._open.get(key, 0) + 1
        elif isinstance(out, Item) and out.target is None:
            out.target = key
        return out

    def _settle(self, key: str | None) -> Iterator[Any]:
        """One request (or the start) of ``key`` is done: after its last, the target is."""
        if key is None or key not in self._open:
            return
        self._open[key] -= 1
        if self._open[key] > 0:
            return
        del self._open[key]
        yield self.outcome(key)

    def outcome(self, key: str) -> TargetDone:
        problem = self.problems.get(key)
        details = self._details.get(key, {})
        if problem is None:
            return TargetDone(target=key, status="ok", details=details)
        if self.mode != "check" and details.get("pages_complete", 0) > 0 and not self.by_key[key].followup:
            return TargetDone(target=key, status="partial", reason=f"{problem.reason}（此前已完成 "
                              f"{details['pages_complete']} 页）", details={**details, "cause": problem.status})
        return TargetDone(target=key, status=problem.status, reason=problem.reason, details=details)

    def unfinished(self) -> list[str]:
        """Targets started but not done, then targets never started (for the round's close)."""
        return [k for k in self._open] + [t.key for t in self.targets if t.key not in self.started]

    def _note(self, key: str | None, problem: Problem) -> None:
        if key is None:
            return
        self.problems.setdefault(key, problem)
        if problem.status == "blocked":
            self._blocked += 1
            if problem.rate_limited or self._blocked >= 2:
                self.halted = self.halted or problem

    def _crash(self, key: str | None, error: Exception) -> None:
        logger.opt(exception=error).warning("{} 解析 {} 时出错", self.info.label, key)
        # The operator reads this reason (round details, platforms status): no Python exception
        # name; the log line above points maintainers to the traceback.
        self._note(key, Problem("failed", f"解析出错（程序内部错误，详情见日志），{self.info.label}的页面或接口可能已改版"))

    @property
    def details(self) -> dict[str, Any]:
        """The current target's run details (``oldest_seen``, counts of skipped cards …)."""
        return self._details.setdefault(self._current or "", {})

    def details_of(self, response: Response) -> dict[str, Any]:
        return self._details.setdefault(response.meta.get("target") or "", {})

    # -- helpers for subclasses -------------------------------------------------------------------

    def request(self, url: str, callback: Any, *, follow_redirects: bool = False, **kwargs: Any) -> scrapy.Request:
        """A request with the platform's identity (see :mod:`spiders.middlewares`). Redirects are
        not followed by default: platform APIs redirect only to login or captcha pages, which
        must be reported (and never fetched from wherever they point)."""
        meta = kwargs.pop("meta", {})
        if not follow_redirects:
            meta = {**meta, "dont_redirect": True,
                    "handle_httpstatus_list": [*meta.get("handle_httpstatus_list", []), 301, 302, 303, 307, 308]}
        kwargs.setdefault("dont_filter", True)  # every request is answered: targets count on it
        return scrapy.Request(url, callback=self.guard(callback), errback=self.on_error, meta=meta, **kwargs)

    def guard(self, callback: Any) -> Any:
        """Run a callback for one target: tag what it yields, turn its failures into the
        target's outcome, and emit the target's end after its last item."""
        if inspect.isasyncgenfunction(callback):
            async def guarded_async(response: Response, **kw: Any) -> AsyncIterator[Any]:
                key = response.meta.get("target")
                try:
                    self._redirected(response)
                    async for out in callback(response, **kw):
                        yield self._adopt(out, key)
                except Problem as p:
                    self._note(key, p)
                except Exception as e:  # noqa: BLE001
                    self._crash(key, e)
                for out in self._settle(key):
                    yield out

            return guarded_async

        def guarded(response: Response, **kw: Any) -> Iterator[Any]:
            key = response.meta.get("target")
            try:
                self._current = key
                self._redirected(response)
                produced = callback(response, **kw)
                it = iter(produced) if produced is not None else iter(())
                while True:
                    self._current = key  # callbacks of other targets may have run meanwhile
                    try:
                        out = next(it)
                    except StopIteration:
                        break
                    yield self._adopt(out, key)
            except Problem as p:
                self._note(key, p)
            except Exception as e:  # noqa: BLE001
                self._crash(key, e)
            yield from self._settle(key)

        return guarded

    def _redirected(self, response: Response) -> None:
        if 300 <= response.status < 400:
            location = response.headers.get("Location", b"").decode("latin-1")
            raise self.failed(f"意外的跳转（HTTP {response.status} → {location[:100]}）")

    def advice(self, *, rate_limited: bool = False) -> str:
        p = self.info.name
        if rate_limited:
            return f"请降低 platforms.{p}.rate（当前 {self.pcfg.rate}/秒），平台冷却结束后会自动重试"
        if self.info.session is not None:
            return (f"需要有效的登录会话：请运行 watcher login {p} 扫码登录，或导入导出的 Cookie"
                    f"（watcher login {p} --cookies 文件，或 platforms.{p}.cookies_file）；仍受阻请降低采集频率")
        hint = self.info.session_hint or "在浏览器中登录后导出 Cookie"
        return f"需要有效的登录会话：请检查 platforms.{p}.cookies_file（{hint}），或降低采集频率"

    def blocked(self, reason: str, *, rate_limited: bool = False) -> Problem:
        """The platform refuses us (login wall, captcha, risk control, rate limit)."""
        return Problem("blocked", reason, rate_limited=rate_limited)

    def failed(self, reason: str) -> Problem:
        """The answer is not what the platform's API returns (changed or broken)."""
        return Problem("failed", reason)

    def json(self, response: Response, *, login_hosts: tuple[str, ...] = ("passport", "login")) -> dict[str, Any]:
        """The JSON body, or the right Problem raised: a redirect to a login page is a login
        wall; HTML where JSON was expected is a wall or a changed API; a cut body is a failure."""
        host = response.url.split("/")[2] if "//" in response.url else ""
        if any(h in host for h in login_hosts) or any(h in response.url for h in ("/signin", "/login")):
            raise self.blocked(f"跳转到登录页（{response.url[:80]}）。{self.advice()}")
        body = response.text.strip() if hasattr(response, "text") else ""
        if body.startswith("<"):
            raise self.blocked(f"应为 JSON 却返回了 HTML 页面（可能是登录页或验证码），URL {response.url[:80]}。{self.advice()}")
        try:
            data = json.loads(body)
        except ValueError as e:
            raise self.failed(f"响应不是完整的 JSON（{e.msg}，第 {e.pos} 字节），URL {response.url[:80]}") from e
        if not isinstance(data, dict):
            raise self.failed(f"响应 JSON 结构异常（应为对象），URL {response.url[:80]}")
        return data

    def page_done(self) -> PageDone:
        """Yield after a page's items: they are committed before the next page is fetched."""
        self.details["pages_complete"] = self.details.get("pages_complete", 0) + 1
        return PageDone()

    def on_error(self, failure: Any) -> Iterator[Any]:
        key = failure.request.meta.get("target") if getattr(failure, "request", None) is not None else None
        self._note(key, self.classify(failure))
        yield from self._settle(key)

    def classify(self, failure: Any) -> Problem:
        """A failed download as the operator should read it, with the remedy for its cause."""
        exc = failure.value
        url = (failure.request.url if getattr(failure, "request", None) is not None else "")[:100]
        if isinstance(exc, Refused):
            return Problem("blocked", exc.reason, rate_limited=exc.rate_limited)
        if isinstance(exc, Forbidden):
            return Problem("failed", f"{exc.reason}，URL {url}")
        if isinstance(exc, HttpError):
            status = exc.response.status
            if status >= 500:
                return Problem("failed", f"{self.info.label}服务器错误 HTTP {status}（已重试 {self.pcfg.retries} 次），"
                                         f"URL {url}；平台恢复后下一轮会重试")
            return Problem("failed", f"HTTP {status}（接口可能已变更），URL {url}")
        name = type(exc).__name__
        text = str(exc)
        if name in NETWORK_ERRORS or any(m in text for m in BROWSER_NETWORK):
            what = NETWORK_ERRORS.get(name, "网络错误")
            return Problem("unreachable", f"无法连接{self.info.label}：{what}（{text[:120]}），URL {url}。"
                                          "请检查服务器的网络、DNS 与代理设置；平台地址见 "
                                          f"platforms.{self.info.name}.base_url")
        return Problem("failed", f"请求失败（{name}: {text[:160]}），URL {url}")
