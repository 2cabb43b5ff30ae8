"""Where the components that follow crawled links may go: the avatar downloader and the evidence
browser (screenshots).

A link in platform data is written by whoever runs the account, so a fetch that follows it is a
request the impersonator chooses. :class:`FetchPolicy` allows only:

* http(s) URLs that :func:`watcher.cleaning.parse_url` accepts (no ``user@host``, no malformed
  host or port, no ``file:``, ``data:`` or ``javascript:``);
* on a platform's own hosts — the descriptors' ``base_urls`` (:mod:`spiders.catalog`), the hosts
  alerts may link to (:data:`alerts.messages.PLATFORM_HOSTS`, repeated here so that ``watcher``
  does not import ``alerts``) and the image CDNs their avatars are served from
  (:data:`MEDIA_HOSTS`) — or, for the website platform (whose pages link anywhere), any host;
* and only where the host resolves to public addresses: every address it resolves to must be
  global — loopback, private, link-local (169.254.169.254, the cloud metadata service),
  shared, multicast and reserved ranges are refused, however the address is written
  (``2130706433``, ``0x7f.1``, ``[::ffff:127.0.0.1]``: the resolver reads them all).

The one exception is what the operator configured: the ``host:port`` of a platform's
``base_url`` override and of each watched site is allowed as it is, so a local test server or an
intranet site can be crawled and shot — but only that ``host:port``, never another port of the
same machine that page data points at.

The downloader checks every request of a redirect chain (an httpx event hook) and the browser
every request it makes (a Playwright route; redirects are answered to the browser one hop at a
time so each hop is checked). What is left: a host that resolves public at the check and private
at the connection (DNS rebinding) — the window is one resolver answer.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

from spiders import catalog
from watcher.cleaning import BadURL, parse_url, printable
from watcher.config import Config

# The platforms' hosts that show accounts and posts (the same list alerts link to).
PLATFORM_HOSTS = ("weibo.com", "weibo.cn", "bilibili.com", "mp.weixin.qq.com", "weixin.sogou.com", "douyin.com",
                  "kuaishou.com", "xiaohongshu.com", "zhihu.com", "toutiao.com", "tieba.baidu.com")
# Where the platforms serve avatars and covers from, as their answers show (tests/fixtures):
# Weibo sinaimg.cn, Bilibili hdslb.com/biliimg.com, Douyin douyinpic.com, Kuaishou
# yximgs.com/kwimgs.com, Xiaohongshu xhscdn.com, Zhihu zhimg.com, Toutiao toutiaoimg.com/pstatp.com
# /byteimg.com, WeChat qpic.cn/qlogo.cn (and Sogou's sogoucdn.com), Tieba bdimg.com/bdstatic.com.
MEDIA_HOSTS = ("sinaimg.cn", "hdslb.com", "biliimg.com", "douyinpic.com", "douyinstatic.com", "yximgs.com",
               "kwimgs.com", "xhscdn.com", "zhimg.com", "toutiaoimg.com", "pstatp.com", "byteimg.com", "qpic.cn",
               "qlogo.cn", "sogoucdn.com", "bdimg.com", "bdstatic.com", "himg.baidu.com")
# Platforms whose pages link anywhere: their links are allowed to any public host.
OPEN_PLATFORMS = frozenset({"website"})


class Refused(Exception):
    """Raised by :meth:`FetchPolicy.check` (and the fetches built on it) for a URL that must not
    be fetched; the message says why, in Chinese."""


def _host_port(url: str) -> tuple[str, int]:
    u = httpx.URL(url)
    return u.host.lower().rstrip("."), u.port or (443 if u.scheme == "https" else 80)


def public_address(ip: str) -> bool:
    """Whether ``ip`` is a global unicast address (not loopback, private, link-local, shared,
    multicast, reserved or unspecified)."""
    addr = ipaddress.ip_address(ip.split("%", 1)[0])
    if isinstance(addr, ipaddress.IPv6Address):
        # IPv6 forms that carry an IPv4 address a gateway would reach: mapped, 6to4
        # (2002:7f00:1:: is 127.0.0.1), NAT64 (64:ff9b::/96), Teredo's client.
        embedded = addr.ipv4_mapped or addr.sixtofour or (addr.teredo[1] if addr.teredo else None)
        if embedded is None and addr in _NAT64:
            embedded = ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
        if embedded is not None and not public_address(str(embedded)):
            return False
        if addr.ipv4_mapped is not None:
            addr = addr.ipv4_mapped
    return addr.is_global and not addr.is_multicast and not addr.is_reserved


_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (the system resolver, as the connection will use)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as e:
        raise Refused(f"主机名无法解析（{printable(str(e))[:100]}）") from None
    return sorted({str(info[4][0]) for info in infos})


@dataclass
class FetchPolicy:
    """Which URLs a fetch may request; see the module's docstring."""

    trusted: set[tuple[str, int]] = field(default_factory=set)  # configured host:port, allowed as is
    platform_hosts: set[str] = field(default_factory=set)
    resolver: Any = resolve  # (host, port) → addresses; replaceable in tests

    @classmethod
    def from_config(cls, cfg: Config) -> FetchPolicy:
        hosts = set(PLATFORM_HOSTS) | set(MEDIA_HOSTS)
        for p in catalog.all_platforms():
            hosts.update(h for h in (_host(u) for u in p.base_urls.values()) if h)
        trusted: set[tuple[str, int]] = set()
        for pc in cfg.platforms.values():
            configured: list[str] = []
            if isinstance(pc.base_url, str):
                configured.append(pc.base_url)
            elif isinstance(pc.base_url, dict):
                configured += list(pc.base_url.values())
            configured += [str(site.get("url") or "") for site in pc.sites]
            trusted.update(hp for hp in (_try_host_port(u) for u in configured) if hp)
        return cls(trusted=trusted, platform_hosts=hosts)

    def on_platform_host(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        return any(host == h or host.endswith("." + h) for h in self.platform_hosts)

    def check(self, url: str, platform: str | None = None) -> str:
        """``url`` (checked, as it will be requested) when it may be fetched; :class:`Refused`
        with the reason otherwise. ``platform`` is where the link came from: a platform not in
        :data:`OPEN_PLATFORMS` may only lead to platform hosts."""
        try:
            url = parse_url(url)
            host, port = _host_port(url)
        except (BadURL, ValueError, httpx.InvalidURL) as e:
            raise Refused(str(e) if isinstance(e, BadURL) else "地址无法解析") from None
        if (host, port) in self.trusted:
            return url
        if platform not in OPEN_PLATFORMS and not self.on_platform_host(host):
            raise Refused(f"{host} 不是平台自己的地址")
        for ip in self.resolver(host, port):
            if not public_address(ip):
                raise Refused(f"{host} 指向内部地址 {ip}（本机、内网、链路本地或组播地址）")
        return url

    def needs_script(self, url: str) -> bool:
        """Whether a page needs JavaScript to show anything: the platforms' pages are apps;
        a website's page, or anything else, is shown without running its scripts."""
        try:
            host, _ = _host_port(url)
        except (ValueError, httpx.InvalidURL):
            return False
        return self.on_platform_host(host)


def _host(url: str) -> str | None:
    try:
        return httpx.URL(url).host.lower() or None
    except (ValueError, httpx.InvalidURL):
        return None


def _try_host_port(url: str) -> tuple[str, int] | None:
    try:
        return _host_port(url) if url else None
    except (ValueError, httpx.InvalidURL):
        return None


# -- bounded downloads ----------------------------------------------------------------------------

DEADLINE_SECONDS = 20.0
# Each wait for the next bytes; with the deadline checked between them, a server that drips one
# byte at a time is cut at the deadline plus at most one of these.
READ_TIMEOUT_SECONDS = 3.0
MAX_REDIRECTS = 5


def client(policy: FetchPolicy, platform: str | None = None, **kwargs: Any) -> httpx.Client:
    """An httpx client whose every request — the first and each redirect — passes ``policy``.
    ``trust_env`` is off: a proxy from the environment would make the address check moot."""

    def check(request: httpx.Request) -> None:
        policy.check(str(request.url), platform)

    return httpx.Client(timeout=httpx.Timeout(READ_TIMEOUT_SECONDS, connect=5.0), follow_redirects=True,
                        max_redirects=MAX_REDIRECTS, trust_env=False, event_hooks={"request": [check]},
                        headers={"User-Agent": "Mozilla/5.0"}, **kwargs)


def download(http: httpx.Client, url: str, *, max_bytes: int, deadline: float = DEADLINE_SECONDS,
             accept: Iterable[str] = ()) -> tuple[bytes, str]:
    """The body at ``url`` and its content type, read through ``http`` (see :func:`client`):
    at most ``max_bytes`` (a declared length beyond it is refused before reading), within
    ``deadline`` seconds in all, of a content type starting with one of ``accept`` (any when
    empty). :class:`Refused` with the reason otherwise."""
    end = time.monotonic() + deadline
    try:
        with http.stream("GET", url) as resp:
            ctype = resp.headers.get("content-type", "").split(";")[0].strip().lower()
            if resp.status_code != 200:
                raise Refused(f"服务器应答 HTTP {resp.status_code}")
            accept = tuple(accept)
            if accept and not ctype.startswith(accept):
                raise Refused(f"不是所需的内容类型（{printable(ctype)[:60] or '未声明'}）")
            declared = resp.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise Refused(f"文件过大（声明 {int(declared)} 字节，上限 {max_bytes}）")
            chunks, size = [], 0
            for chunk in resp.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise Refused(f"文件过大（超过 {max_bytes} 字节，已中止）")
                if time.monotonic() > end:
                    raise Refused(f"下载超过 {deadline:g} 秒，已中止")
                chunks.append(chunk)
            return b"".join(chunks), ctype
    except httpx.TimeoutException:
        raise Refused("服务器应答超时") from None
    except httpx.TooManyRedirects:
        raise Refused(f"重定向超过 {MAX_REDIRECTS} 次") from None
    except httpx.HTTPError as e:
        raise Refused(f"下载失败（{printable(str(e))[:120] or '连接错误'}）") from None
    except ValueError:  # a host IDNA rejects (http://xn--/), raised while the request is built
        raise Refused("地址无法解析") from None


# -- the crawl ------------------------------------------------------------------------------------

class GuardMiddleware:
    """Scrapy downloader middleware: on the platforms whose requests follow links from page data
    (:data:`OPEN_PLATFORMS`: a website's post checks open the links its pages listed), every
    request — each redirect hop comes through here again — passes :class:`FetchPolicy`. The other
    platforms' spiders build their URLs on their configured hosts and follow no redirect."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.policy: FetchPolicy | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> GuardMiddleware:
        return cls(crawler)

    def process_request(self, request: Any, spider: Any = None) -> None:
        from spiders.middlewares import Forbidden

        spider = self.crawler.spider
        if spider.platform not in OPEN_PLATFORMS:
            return
        if self.policy is None:
            self.policy = FetchPolicy.from_config(spider.cfg)
        try:
            self.policy.check(request.url, spider.platform)
        except Refused as e:
            raise Forbidden(f"地址不予访问：{e}") from None


# -- the crawl's browser ---------------------------------------------------------------------------

def browser_abort(policy: FetchPolicy) -> Any:
    """scrapy-playwright's ``PLAYWRIGHT_ABORT_REQUEST`` for the browser-driven spiders: a page
    the platform serves renders strangers' data (avatar and cover URLs in search results), so
    every request the page makes is refused when it goes to an address written as a loopback,
    private, link-local or otherwise internal IP (or ``localhost``), or by a scheme other than
    http(s)/data/blob — except the configured ``host:port`` of the platform itself (a local test
    server). Host names are not resolved here: that would put a resolver wait on every image of
    the page; a name that resolves inside stays the residual risk the module's docstring names."""

    def abort(request: Any) -> bool:
        url = str(getattr(request, "url", ""))
        scheme = url.split(":", 1)[0].lower()
        if scheme in ("data", "blob", "about"):
            return False
        if scheme not in ("http", "https"):
            return True
        try:
            host, port = _host_port(url)
        except (ValueError, httpx.InvalidURL):
            return True
        if (host, port) in policy.trusted:
            return False
        if host == "localhost" or host.endswith(".localhost"):
            return True
        try:
            return not public_address(host.strip("[]"))
        except ValueError:  # a name, not an address
            return False

    return abort


# -- failures, as operators read them --------------------------------------------------------------

def problem_detail(e: BaseException) -> str:
    """The library's own short detail of a failure, in brackets (operators read a Chinese
    summary first, then this; never a Python exception name)."""
    text = printable(str(e)).strip()[:160]
    return f"（{text}）" if text else ""


def network_problem(e: BaseException) -> str:
    """What went wrong with a network request, in Chinese, then the detail."""
    if isinstance(e, httpx.TimeoutException | TimeoutError):
        what = "超时"
    elif isinstance(e, httpx.ConnectError | ConnectionError):
        what = "无法连接（地址、端口或防火墙）"
    elif isinstance(e, ssl.SSLError):
        what = "TLS 握手或证书校验失败"
    elif isinstance(e, httpx.InvalidURL | httpx.UnsupportedProtocol):
        what = "地址无效"
    else:
        what = "网络错误"
    return what + problem_detail(e)
