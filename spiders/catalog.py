"""The platforms campus-watcher knows, found in the spider modules themselves.

Each platform module (``spiders/weibo.py`` …) declares one :class:`Platform` as ``PLATFORM``
beside its spider class. This module imports every module of the package and collects them, as
Scrapy's spider loader does; nothing else keeps a list of platforms. Labels, aliases, base URLs,
modes and what a watch round targets are all read from here, so adding a platform is one spider
module (plus its tests and its row in docs/crawling.md).

Spider modules must not import ``watcher`` at run time (``watcher.config`` imports this module).
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from functools import cache
from typing import Literal

MODES = ("discover", "timeline", "check", "mentions", "comments")
MODE_LABELS = {"discover": "仿冒发现", "timeline": "备案账号巡检", "check": "帖子核查", "mentions": "舆情提及",
               "comments": "评论舆情"}

DESKTOP_UA = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/131.0.0.0 Safari/537.36")
MOBILE_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
             "Version/17.5 Mobile/15E148 Safari/604.1")

# What most platforms answer when they refuse a crawler: 403 forbidden, 412 precondition (Bilibili's
# and Baidu's risk control), 418 (Weibo/Zhihu anti-bot), 429 too many requests, 432 (m.weibo.cn
# since late 2025, RSSHub issues #20512 and #20836).
BLOCK_STATUSES = (403, 412, 418, 429, 432)
RATE_LIMIT_STATUSES = (418, 429, 432)
# Short JSON answers that say "slow down", whatever the HTTP status (Weibo ``{"ok":0,"msg":"请求过于频繁"}``,
# Bilibili −509/−799 "请求过于频繁，请稍后再试").
# How a spent daily budget is worded (spiders.middlewares): the round engine recognises it and
# pauses the platform until the budget's next day, not for a cool-down that would only hit the
# budget again.
BUDGET_SPENT = "已用完每日预算"
RATE_LIMIT_TEXT = r"过于频繁|操作频繁|请求频繁|访问频繁|频率过快|too many requests|rate limit"


@dataclass(frozen=True)
class Pace:
    """A reader's pace on one platform. ``interval``: seconds between requests on average
    (Scrapy spreads each wait over 0.5–1.5× of it: 4 s means 2–6 s); ``per_minute`` and
    ``daily``: at most that many requests a minute / a day (0: no cap). The operator's
    ``platforms.<p>.rate`` can only make it slower."""

    interval: float = 0.0
    per_minute: int = 0
    daily: int = 0


@dataclass(frozen=True)
class SessionSpec:
    """How a platform says whether we are logged in, and how a person logs in.

    ``probe``: ``("api", base, path, field)`` — GET ``base_urls[base] + path``; the dotted
    ``field`` of the JSON answer is true when logged in — or ``("cookie", name)`` — the session
    holds an unexpired cookie ``name`` (platforms whose check endpoint is itself signed).
    ``login``: the platform's own login page, as ``(base_urls key, path)``; ``qr``: the CSS
    selector of its QR code image; ``done_cookie``: the cookie the platform sets once the scan is
    confirmed. ``loses``: what stops working without a session (Chinese, for the operator)."""

    probe: tuple[str, ...]
    login: tuple[str, str]
    qr: str
    done_cookie: str
    loses: str
    required: bool = False  # the platform's main modes do not work anonymously at all
    # A page that hands a browser visitor cookies, fetched before a round without a session
    # (``(base_urls key, path)``; Weibo's m.weibo.cn since its 432s, DIYgod/RSSHub PR #20534).
    visitor: tuple[str, str] | None = None


@dataclass(frozen=True)
class Complaint:
    """Where a platform takes a complaint about an account impersonating the school, as its own
    help pages and report menus name it (sources in docs/takedown.md): ``channel`` is the
    platform's name for it, ``path`` how a person clicks there, ``categories`` what to choose
    (the first fits an impersonator; one naming 诈骗 fits an account that asks for money)."""

    channel: str
    path: str
    categories: tuple[str, ...]
    note: str = ""


@dataclass(frozen=True)
class Platform:
    """One platform, as its spider module declares it."""

    name: str                      # the code used in config, database and CLI: ``weibo``
    label: str                     # what people read: 微博
    spider: str                    # the spider class's name in the same module
    order: int                     # position in lists shown to people
    base_urls: dict[str, str]      # every one overridable by ``platforms.<name>.base_url``
    modes: tuple[str, ...]         # the modes the spider truly supports
    aliases: tuple[str, ...] = ()  # other names people write in registries and CLI input
    browser: bool = False          # needs a real browser (the page's own script signs requests)
    check_by: Literal["id", "url"] = "id"  # a post check takes the post's ID, or its stored URL
    # What a watch round crawls: the registered accounts; the configured sites (website); the
    # registered forums or, when none, the forums named after the school (Tieba).
    watch: Literal["registered", "sites", "registered_or_school"] = "registered"
    mobile: bool = False           # identify as a phone (the API is the mobile site's)
    block_statuses: tuple[int, ...] = BLOCK_STATUSES
    rate_limit_statuses: tuple[int, ...] = RATE_LIMIT_STATUSES
    rate_limit_text: str = RATE_LIMIT_TEXT
    session_hint: str = field(default="", compare=False)  # what to do when the platform wants a login
    limits: str = field(default="", compare=False)  # what cannot be done there, and why
    pace: Pace = Pace()
    session: SessionSpec | None = field(default=None, compare=False)  # None: nothing to log in to
    # The counts a watch round reads for a registered account: followers from its profile, and
    # reposts/comments/likes from its posts. A count left out is one the platform does not show
    # there (Bilibili's video list has no likes or shares); reports say 未观测 and do not score it.
    counts: tuple[str, ...] = ("followers", "reposts", "comments", "likes")
    # Its complaint channel for impersonators (watcher.takedown); None: the generic advice.
    complaint: Complaint | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        unknown = set(self.modes) - set(MODES)
        if unknown:
            raise ValueError(f"{self.name}: unknown modes {sorted(unknown)}")

    @property
    def user_agent(self) -> str:
        return MOBILE_UA if self.mobile else DESKTOP_UA

    def supports(self, mode: str) -> bool:
        return mode in self.modes

    @property
    def watchable(self) -> bool:
        return "timeline" in self.modes


class UnknownPlatform(ValueError):
    """Raised by :func:`get`/:func:`resolve` for a name no spider module declares."""


@cache
def _catalog() -> dict[str, tuple[Platform, str]]:
    import spiders

    found: dict[str, tuple[Platform, str]] = {}
    for mod in pkgutil.iter_modules(spiders.__path__):
        if mod.ispkg or mod.name.startswith("_"):
            continue
        module = importlib.import_module(f"spiders.{mod.name}")
        info = getattr(module, "PLATFORM", None)
        if isinstance(info, Platform):
            if info.name in found:
                raise RuntimeError(f"platform {info.name} declared twice")
            found[info.name] = (info, module.__name__)
    return dict(sorted(found.items(), key=lambda kv: kv[1][0].order))


def all_platforms() -> list[Platform]:
    return [info for info, _ in _catalog().values()]


def names() -> tuple[str, ...]:
    return tuple(_catalog())


def get(name: str) -> Platform:
    try:
        return _catalog()[name][0]
    except KeyError:
        raise UnknownPlatform(f"未知平台 {name!r}；可选：{'、'.join(p.label + '（' + p.name + '）' for p in all_platforms())}") from None


def label(name: str | None) -> str:
    if not name:
        return ""
    entry = _catalog().get(name)
    return entry[0].label if entry else name


def labels() -> dict[str, str]:
    return {p.name: p.label for p in all_platforms()}


def resolve(text: str) -> str:
    """A platform's code from what a person wrote: its code, its Chinese label or an alias."""
    key = (text or "").strip()
    for p in all_platforms():
        if key.lower() == p.name or key == p.label or key in p.aliases or key.lower() in (a.lower() for a in p.aliases):
            return p.name
    raise UnknownPlatform(f"平台 {text!r} 无法识别，可填：{'、'.join(p.label for p in all_platforms())} 或 "
                          f"{', '.join(names())}")


def spider_class(name: str) -> type:
    info, module = _catalog()[get(name).name]
    return getattr(importlib.import_module(module), info.spider)
