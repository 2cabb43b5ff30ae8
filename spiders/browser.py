"""Platforms whose API requests are signed by the page's own JavaScript (Douyin's a_bogus,
Xiaohongshu's x-s …): the spider opens the platform's public page in a real Chromium through
scrapy-playwright and reads the JSON the page itself fetched, as a user's browser would.

A page that shows a login panel or a captcha, or that never makes the expected API call, is a
blocked crawl with that reason — never an empty result.

The browser is the platform's own persistent profile (:mod:`spiders.identity`) with the
descriptor's user agent set on the context — so ``navigator.userAgent`` and every request the
page makes say the same, and none says Scrapy or HeadlessChrome — the session's cookies added to
it, and automation hidden (``navigator.webdriver`` false). Scrapy's own headers are not laid over
the browser's (``PLAYWRIGHT_PROCESS_REQUEST_HEADERS: None``): the page's requests are the
browser's, as a reader's would be.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import scrapy
from loguru import logger
from scrapy.http import Response

from spiders import identity
from spiders.base import PlatformSpider, Problem
from spiders.items import PageDone

CHROMIUM = os.environ.get("CAMPUS_WATCHER_CHROMIUM", "/usr/bin/chromium")
LAUNCH_OPTIONS = {
    "executable_path": CHROMIUM,
    "headless": True,
    "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
             "--no-first-run", "--disable-sync"],
}
WALL_MARKERS = ("captcha", "verify", "login", "passport", "验证码", "安全验证", "扫码登录", "登录后")

Parser = Callable[[dict[str, Any]], Iterator[Any]]


def _post_data(resp: Any) -> str:
    try:
        return resp.request.post_data or ""
    except Exception:  # noqa: BLE001 - a binary body is no GraphQL call
        return ""


def _matches(marker: str, url: str, body: str) -> bool:
    """Whether a response answers ``marker`` (see :meth:`BrowserSpider.page`)."""
    for alternative in marker.split("|"):
        path, _, operation = alternative.partition("#")
        if path in url and (not operation or f'"operationName":"{operation}"' in body.replace(" ", "")):
            return True
    return False


_CHUNK_SIZE = re.compile(r"^[0-9a-f]{1,10}$")


def read_stream(text: str) -> dict[str, Any] | None:
    """An answer streamed as JSON objects, each after a line with its length in hex (Douyin's
    ``/aweme/v1/web/general/search/stream/``, the first screen of its search; later batches come
    from ``general/search/single``), as one answer: the objects' ``data`` lists joined, every
    other key from the last object that has it. None when any line is neither a length nor a
    whole JSON object — a cut stream is not an answer."""
    merged: dict[str, Any] = {}
    data: list[Any] = []
    parts = 0
    for line in (raw.strip() for raw in text.splitlines()):
        if not line or _CHUNK_SIZE.match(line):
            continue
        try:
            part = json.loads(line)
        except ValueError:
            return None
        if not isinstance(part, dict):
            return None
        parts += 1
        if isinstance(part.get("data"), list):
            data.extend(part["data"])
        merged.update({k: v for k, v in part.items() if k != "data"})
    if not parts:
        return None
    return {**merged, "data": data}


def _label(marker: str) -> str:
    return "或".join(a.replace("#", " ") for a in marker.split("|"))


def browser_settings(timeout_s: int) -> dict[str, Any]:
    return {
        "DOWNLOAD_HANDLERS": {"http": "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler",
                              "https": "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler"},
        "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
        "PLAYWRIGHT_BROWSER_TYPE": "chromium",
        "PLAYWRIGHT_LAUNCH_OPTIONS": LAUNCH_OPTIONS,
        "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": timeout_s * 1000,
        "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": 2,
        # The context is made by the first page's request (BrowserSpider._meta), not at start-up:
        # scrapy-playwright creates start-up contexts outside the lock its requests take, so a
        # request arriving first (a slow start) would get a plain browser without our identity.
        "PLAYWRIGHT_PROCESS_REQUEST_HEADERS": None,
    }


PAGE_WAIT_ENV = "CAMPUS_WATCHER_PAGE_WAIT"


def page_wait(default: float) -> float:
    """Seconds a page is given to make the API calls a spider waits for: ``$CAMPUS_WATCHER_PAGE_WAIT``
    when it is a number from 1 to 120 (a slow link wants longer; the tests' local fake pages,
    which answer at once, less), else ``default``. The crawl process inherits it from the service."""
    raw = os.environ.get(PAGE_WAIT_ENV, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not 1 <= value <= 120:
        logger.warning("环境变量 {}={!r} 无效（应为 1 到 120 的秒数），页面等待时间仍为 {} 秒", PAGE_WAIT_ENV, raw, default)
        return default
    return value


class BrowserSpider(PlatformSpider):
    browser = True
    wait_seconds = 12.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.wait_seconds = page_wait(self.wait_seconds)
        data = self.cfg.data_path
        # Held until this crawl process ends: a second round of this platform (the CLI's while
        # the daemon's runs) waits here rather than open the same profile twice.
        self._profile_lock = identity.hold_profile(data, self.platform)
        self.browser_cookies = identity.browser_cookies(data, self.platform, self.configured_cookies,
                                                        list(self.urls.values()))
        self._context_ready = False
        # The session the context was given: a fleet worker re-reads a renewed session file while
        # it runs (watcher.distributed.worker.reload_cookies), and its browser must follow.
        self._context_session = dict(self.cookies)
        self._stealth = identity.stealth_script(self.info.user_agent)
        # One persistent context: the platform's profile, with its identity (a persistent
        # context is its own browser, so it carries the launch options too).
        profile = identity.profile_dir(data, self.platform)
        profile.mkdir(parents=True, exist_ok=True)
        self.context_options = identity.context_options(user_agent=self.info.user_agent, mobile=self.info.mobile,
                                                        profile=profile, launch=LAUNCH_OPTIONS)

    async def init_page(self, page: Any, request: Any) -> None:
        """Before the page's first navigation: the session into the context (once), and the
        script that hides automation into every page of it."""
        renewed = self.cookies != self._context_session
        if renewed:
            self._context_session = dict(self.cookies)
            self.browser_cookies = identity.browser_cookies(self.cfg.data_path, self.platform, self.configured_cookies,
                                                            list(self.urls.values()))
        first = not self._context_ready
        if first:
            self._context_ready = True
            await page.context.add_init_script(self._stealth)
        elif renewed:
            # A new login replaces the old one whole: cookies only the old session had (a user
            # id, a token of the account logged out) must not ride along with the new session's.
            await page.context.clear_cookies()
        if (first or renewed) and self.browser_cookies:
            await page.context.add_cookies(self.browser_cookies)
        await page.add_init_script(self._stealth)

    def _meta(self, **more: Any) -> dict[str, Any]:
        return {"playwright": True, "playwright_include_page": True, "playwright_page_init_callback": self.init_page,
                "playwright_context": "profile", "playwright_context_kwargs": self.context_options, **more}

    def page(self, url: str, expect: tuple[str, ...], parse: Parser, *, what: str, responses: int = 1,
             more: Callable[[dict[str, Any]], bool | None] | None = None, paged: str | None = None,
             state: tuple[str, tuple[str, ...]] | None = None, tab: str | None = None,
             streamed: tuple[str, ...] = ()) -> scrapy.Request:
        """Open ``url`` and collect the JSON of every response the page's own script fetched
        that matches one of the ``expect`` markers; ``parse`` turns each into items once all of
        them (and at least ``responses`` answers) have arrived.

        A marker is an API path (``/aweme/v1/web/aweme/post/``); ``path#operation`` matches a
        GraphQL call by its ``operationName`` (a shared ``/graphql`` URL carries many
        operations: any answer is not the one wanted); ``a|b`` accepts either (a platform
        moving an API, as Kuaishou moved its works list to ``/rest/v/profile/feed``).

        ``state = (script, markers)``: pages that render from embedded data (Xiaohongshu's
        ``__INITIAL_STATE__``, Douyin's ``RENDER_DATA``) no longer call those APIs; the value of
        ``script`` stands in for them, handed to ``parse`` as ``{"__state__": value}``.
        ``tab``: the text of a tab a reader clicks to make the page fetch what is wanted
        (Xiaohongshu's search ignores ``type=user`` until 用户 is clicked).

        ``streamed``: API paths whose answer is a stream of JSON objects rather than one (see
        :func:`read_stream`).

        ``more(json)`` says whether the platform has another page (None: this answer is not
        about pages); the spider then scrolls as a reader would, so that the page's own script
        fetches (and signs) it, up to ``platforms.<p>.pages`` pages. ``paged`` names the marker
        whose answers ``more`` reads (default: the last of ``expect``)."""
        captured: list[dict[str, Any]] = []
        sources: list[str] = []
        seen: set[str] = set()

        async def on_response(resp: Any) -> None:
            marker = next((m for m in expect if _matches(m, resp.url, _post_data(resp))), None)
            if marker is None:
                return
            try:
                if any(path in resp.url for path in streamed):
                    captured.append(read_stream(await resp.text()) or {"__unreadable__": resp.url})
                else:
                    captured.append(await resp.json())
            except Exception:  # noqa: BLE001 - a cut or non-JSON body is judged below
                captured.append({"__unreadable__": resp.url})
            sources.append(marker)
            # Only now: the wait below must not stop before this body is in hand.
            seen.add(marker)

        return scrapy.Request(
            url, callback=self.guard(self.after_page), errback=self.on_error, dont_filter=True,
            meta=self._meta(playwright_page_event_handlers={"response": on_response}),
            cb_kwargs={"captured": captured, "seen": seen, "expect": expect, "parse": parse, "what": what,
                       "responses": responses, "more": more, "paged": paged or expect[-1], "sources": sources,
                       "state": state, "tab": tab},
        )

    async def _arrive(self, page: Any, expect: tuple[str, ...], seen: set[str], captured: list[dict[str, Any]],
                      sources: list[str], responses: int, state: tuple[str, tuple[str, ...]] | None,
                      tab: str | None) -> None:
        """Wait for the expected answers, clicking ``tab`` if they do not come by themselves and
        taking the embedded state for the markers it stands for once only those are missing."""
        waited, clicked = 0.0, tab is None
        while waited < self.wait_seconds:
            missing = [m for m in expect if m not in seen]
            if not missing and len(captured) >= responses:
                return
            if not clicked and waited >= 1.5:
                clicked = True
                with contextlib.suppress(Exception):  # no such tab: the page says why below
                    await page.get_by_text(tab, exact=True).first.click(timeout=3000)
            if state is not None and missing and set(missing) <= set(state[1]) and waited >= 1.0:
                try:
                    value = await page.evaluate(state[0])
                except Exception:  # noqa: BLE001 - a page navigating away (a redirect) mid-evaluation
                    value = None
                if value is not None:
                    captured.append({"__state__": value})
                    sources.append("__state__")
                    seen.update(missing)
                    return
            await asyncio.sleep(0.25)
            waited += 0.25

    async def after_page(self, response: Response, captured: list[dict[str, Any]], seen: set[str],
                         expect: tuple[str, ...], parse: Parser, what: str, responses: int,
                         more: Callable[[dict[str, Any]], bool | None] | None, paged: str,
                         sources: list[str], state: tuple[str, tuple[str, ...]] | None = None,
                         tab: str | None = None) -> AsyncIterator[Any]:
        page = response.meta["playwright_page"]
        try:
            await self._arrive(page, expect, seen, captured, sources, responses, state, tab)
            pages = 1

            def has_more() -> bool:
                # Answers arrive in any order; the newest one that speaks of pages decides.
                for data, marker in zip(reversed(captured), reversed(sources), strict=True):
                    if marker == paged and "__unreadable__" not in data and (said := more(data)) is not None:
                        return said
                return False

            while more is not None and pages < self.pages and has_more():
                before = sources.count(paged)
                loaded = False
                # The page may still be handling the last answer and ignore a scroll that comes
                # too early, as it would a reader's: scroll again until it loads or time is up.
                for _ in range(max(1, int(self.wait_seconds))):
                    await page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
                    await page.mouse.wheel(0, 4000)
                    if loaded := await self._wait(lambda before=before: sources.count(paged) > before, 1.0):
                        break
                if not loaded:
                    break  # the page did not load more: take what we have
                pages += 1
            content = (await page.content())[:20000]
            url = page.url
        finally:
            await page.close()
        missing = [m for m in expect if m not in seen]
        if missing or len(captured) < responses:
            if any(m in url.lower() or m in content for m in WALL_MARKERS):
                raise self.wall(what, url)
            names = "、".join(_label(m) for m in (missing or expect))
            raise self.blocked(f"{what}：页面没有发出 {names} 接口请求，页面中也没有可读的内嵌数据"
                               f"（可能需要登录会话，或页面已改版）。{self.advice()}")
        for data in captured:
            if "__unreadable__" in data:
                raise self.failed(f"{what}：接口应答不是完整的 JSON（{data['__unreadable__'][:80]}）")
            for item in parse(data):
                yield item
        # Counted only once every answer parsed: a refusal inside an answer is not a page done.
        self.details_of(response)["pages_complete"] = len(captured)
        yield PageDone()

    def wall(self, what: str, url: str) -> Problem:
        """The page ended on a login or verification page: blocked. A platform whose wall names
        its own refusal code (Xiaohongshu's ``/website-login/error?error_code=…``) says which."""
        return self.blocked(f"{what}：页面要求登录或验证码（{url[:80]}）。{self.advice()}")

    async def _wait(self, done: Callable[[], bool], seconds: float | None = None) -> bool:
        waited = 0.0
        while not done() and waited < (self.wait_seconds if seconds is None else seconds):
            await asyncio.sleep(0.25)
            waited += 0.25
        return done()

    def inspect(self, url: str, script: str, parse: Parser, *, what: str) -> scrapy.Request:
        """Open ``url`` and hand ``parse`` what a reader of the page sees: ``{"url": where the
        page ended up, "state": the value of the JavaScript expression ``script`` (the page's
        server-rendered data, e.g. ``window.__INITIAL_STATE__``), "text": the start of its
        visible text}`` — for pages that render from embedded data instead of calling an API."""
        return scrapy.Request(
            url, callback=self.guard(self.after_inspect), errback=self.on_error, dont_filter=True,
            meta=self._meta(),
            cb_kwargs={"script": script, "parse": parse, "what": what},
        )

    async def after_inspect(self, response: Response, script: str, parse: Parser, what: str) -> AsyncIterator[Any]:
        page = response.meta["playwright_page"]
        found: list[Any] = []
        try:
            async def state() -> bool:
                try:
                    value = await page.evaluate(script)
                except Exception:  # noqa: BLE001 - a page navigating away (a redirect) mid-evaluation
                    value = None
                if value is not None:
                    found.append(value)
                return value is not None

            waited = 0.0
            while not await state() and waited < self.wait_seconds / 3:
                await asyncio.sleep(0.25)  # the page may still be rendering, or redirecting to an error page
                waited += 0.25
            text = await page.evaluate("document.body ? document.body.innerText.slice(0, 5000) : ''")
            url = page.url
        finally:
            await page.close()
        if not found and any(m in url.lower() for m in WALL_MARKERS):
            raise self.wall(what, url)
        for item in parse({"url": url, "state": found[-1] if found else None, "text": text}):
            yield item
        yield PageDone()
