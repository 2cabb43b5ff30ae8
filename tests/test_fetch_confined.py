"""Issue #24: the fetches that follow crawled links — avatar downloads and the evidence browser —
go only to platform hosts (or, for websites, public addresses), bounded in bytes and time.

A hostile platform is two local servers: the "platform" (configured as a platform's base_url, so
allowed) and an "internal" service on another port that page data points at, which must never
receive a request."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from watcher.crawling import avatars
from watcher.fetchguard import FetchPolicy, Refused, client, download, public_address
from watcher.store.accounts import Account
from watcher.store.findings import FindingInput, get, record
from watcher.watch import evidence

PUBLIC = {"tvax1.sinaimg.cn": ["101.6.6.6"], "i0.hdslb.com": ["120.92.1.1"], "news.example.org": ["93.184.216.34"],
          "rebind.sinaimg.cn": ["93.184.216.34", "10.1.2.3"], "meta.sinaimg.cn": ["169.254.169.254"],
          "v6.sinaimg.cn": ["::ffff:127.0.0.1"]}


def fake_resolver(host, port):
    if host not in PUBLIC:
        raise Refused("主机名无法解析")
    return PUBLIC[host]


class Server:
    """A local HTTP server with programmable answers; records every request it gets."""

    def __init__(self, answers):
        self.answers = answers
        self.requests: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):  # noqa: N802
                outer.requests.append(self.path)
                answer = outer.answers.get(self.path)
                if answer is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                answer(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_port}"

    def __enter__(self):
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def body(data: bytes, ctype="image/png", length=True):
    def answer(h):
        h.send_response(200)
        h.send_header("Content-Type", ctype)
        if length:
            h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)
    return answer


def redirect(to):
    def answer(h):
        h.send_response(302)
        h.send_header("Location", to)
        h.end_headers()
    return answer


def endless(chunk=b"x" * 65536, pause=0.0):
    """A body without a declared length that never ends (a 300 MB "image", or a slow drip)."""
    def answer(h):
        h.send_response(200)
        h.send_header("Content-Type", "image/jpeg")
        h.end_headers()
        try:
            for _ in range(100_000):
                h.wfile.write(chunk)
                h.wfile.flush()
                if pause:
                    time.sleep(pause)
        except OSError:
            pass  # the client hung up: what the test wants
    return answer


# -- the policy ------------------------------------------------------------------------------------

@pytest.mark.parametrize("url, platform, why", [
    ("file:///etc/passwd", "weibo", "只接受 http/https"),
    ("javascript:alert(1)", "website", "只接受 http/https"),
    ("http://tvax1.sinaimg.cn@127.0.0.1/a.jpg", "weibo", "用户名@"),
    ("http://xn--/a.png", "weibo", "无法解析"),
    ("http://[::1", "weibo", "无法解析"),
    ("http://127.0.0.1:6379/", "weibo", "不是平台自己的地址"),
    ("http://evil.example/a.jpg", "weibo", "不是平台自己的地址"),
    ("http://rebind.sinaimg.cn/a.jpg", "weibo", "内部地址 10.1.2.3"),
    ("http://meta.sinaimg.cn/latest/meta-data", "weibo", "内部地址 169.254.169.254"),
    ("http://v6.sinaimg.cn/a.jpg", "weibo", "内部地址"),
    ("http://169.254.169.254/latest/meta-data", "website", "内部地址"),
    ("http://2130706433/", "website", "内部地址 127.0.0.1"),
    ("http://0x7f.1/", "website", "内部地址 127.0.0.1"),
    ("http://[::1]:8080/", "website", "内部地址"),
])
def test_policy_refuses_what_is_not_a_public_platform_address(url, platform, why):
    numeric = {"2130706433": ["127.0.0.1"], "0x7f.1": ["127.0.0.1"], "::1": ["::1"], "169.254.169.254": ["169.254.169.254"]}

    def resolver(host, port):  # literal addresses as the system resolver reads them
        return numeric[host] if host in numeric else fake_resolver(host, port)

    with pytest.raises(Refused, match=why):
        FetchPolicy(platform_hosts={"sinaimg.cn", "weibo.com"}, resolver=resolver).check(url, platform)


@pytest.mark.parametrize("ip", ["2002:7f00:1::", "2002:a9fe:a9fe::1", "64:ff9b::7f00:1", "::ffff:10.0.0.1"])
def test_ipv6_forms_that_embed_an_internal_ipv4_address_are_internal(ip):
    # 6to4 2002:7f00:1:: carries 127.0.0.1 (2002:a9fe:a9fe:: the metadata service) and Python
    # calls it global; a host with a 6to4 or NAT64 gateway would deliver it there.
    assert not public_address(ip)
    assert public_address("2400:3200::1") and public_address("2002:808:808::1")


def test_the_system_resolver_reads_a_decimal_address_as_loopback():
    with pytest.raises(Refused, match="127.0.0.1"):
        FetchPolicy().check("http://2130706433:9/", "website")


def test_platform_hosts_and_public_websites_are_allowed(cfg):
    policy = FetchPolicy.from_config(cfg)
    policy.resolver = fake_resolver
    assert policy.check("https://tvax1.sinaimg.cn/crop/a.jpg", "weibo") == "https://tvax1.sinaimg.cn/crop/a.jpg"
    assert policy.check("//i0.hdslb.com/bfs/face/a.jpg", "bilibili") == "https://i0.hdslb.com/bfs/face/a.jpg"
    assert policy.check("https://news.example.org/a", "website")
    with pytest.raises(Refused):
        policy.check("https://news.example.org/a", "weibo")  # a weibo link to elsewhere: not a weibo page


def test_only_the_configured_host_and_port_are_trusted_as_they_are(cfg):
    cfg.platforms["weibo"].base_url = "http://127.0.0.1:18080"
    cfg.platforms["website"].sites = [{"id": "news", "url": "http://10.0.0.8/news", "name": "新闻网"}]
    policy = FetchPolicy.from_config(cfg)
    assert policy.check("http://127.0.0.1:18080/u/1", "weibo")
    assert policy.check("http://10.0.0.8/news/1.html", "website")
    for url in ("http://127.0.0.1:18081/", "http://127.0.0.1/", "http://10.0.0.8:8080/"):
        with pytest.raises(Refused):
            policy.check(url, "website")


# -- bounded downloads ------------------------------------------------------------------------------

def _policy(server: Server) -> FetchPolicy:
    return FetchPolicy(trusted={("127.0.0.1", server.httpd.server_port)}, platform_hosts={"sinaimg.cn"},
                       resolver=fake_resolver)


def test_a_redirect_to_an_internal_address_is_refused_before_it_is_requested():
    with Server({"/secret": body(b"internal")}) as internal, \
            Server({"/a.png": redirect(f"{internal.base}/secret"), "/ok.png": body(b"\x89PNG ok")}) as platform, \
            client(_policy(platform), "weibo") as http:
        assert download(http, f"{platform.base}/ok.png", max_bytes=1000, accept=("image/",)) == (b"\x89PNG ok",
                                                                                                "image/png")
        with pytest.raises(Refused, match="不是平台自己的地址"):
            download(http, f"{platform.base}/a.png", max_bytes=1000)
    assert internal.requests == []


def test_byte_cap_refuses_a_declared_giant_and_cuts_an_undeclared_one():
    with Server({"/big.png": body(b"x" * 5000), "/endless.jpg": endless()}) as platform, \
            client(_policy(platform), "weibo") as http:
        with pytest.raises(Refused, match="声明 5000 字节"):
            download(http, f"{platform.base}/big.png", max_bytes=1000)
        started = time.monotonic()
        with pytest.raises(Refused, match="文件过大"):
            download(http, f"{platform.base}/endless.jpg", max_bytes=256 * 1024)
        assert time.monotonic() - started < 5


def test_a_slow_drip_is_cut_at_the_deadline():
    with Server({"/drip.jpg": endless(b"x", pause=0.2)}) as platform, client(_policy(platform), "weibo") as http:
        started = time.monotonic()
        with pytest.raises(Refused, match="超过 1 秒"):
            download(http, f"{platform.base}/drip.jpg", max_bytes=10**6, deadline=1.0)
        assert time.monotonic() - started < 2


def test_avatar_downloads_skip_internal_addresses_and_do_not_retry_a_failure(cfg, store, monkeypatch):
    monkeypatch.setattr(avatars, "_failed", {})
    cfg.matching.download_avatars = True
    with Server({"/secret.png": body(b"internal")}) as internal, \
            Server({"/big.jpg": body(b"x" * (avatars.MAX_BYTES + 1), "image/jpeg"),
                    "/hop.jpg": redirect(f"{internal.base}/secret.png")}) as platform:
        cfg.platforms["douyin"].base_url = platform.base
        urls = {"1": f"{platform.base}/big.jpg", "2": f"{platform.base}/hop.jpg", "3": f"{internal.base}/secret.png",
                "4": "http://127.0.0.1@" + internal.base.removeprefix("http://") + "/secret.png",
                "5": "http://2130706433:" + str(internal.httpd.server_port) + "/secret.png", "6": "http://xn--/a.png",
                "7": "http://169.254.169.254/latest/meta-data"}
        accounts = []
        for aid, url in urls.items():
            store.db["accounts"].insert({"platform": "douyin", "account_id": aid, "name": "n" + aid, "avatar_url": url,
                                         "first_seen": "t", "last_seen": "t"})
            accounts.append(Account("douyin", aid, "t", "t", name="n" + aid, avatar_url=url))
        for _ in range(3):  # three searches of one round
            out = avatars.download_missing(cfg, store, accounts)
            assert all(a.avatar_path is None for a in out)
    assert internal.requests == []
    assert platform.requests.count("/big.jpg") == 1 and platform.requests.count("/hop.jpg") == 1


# -- the evidence browser -----------------------------------------------------------------------------

needs_browser = pytest.mark.skipif(not Path(evidence.CHROMIUM).exists(), reason="Debian chromium not installed")


def _finding(store, url, key="1"):
    rec = record(store, FindingInput(kind="impersonation", dedupe_key=f"impersonation:weibo:{key}", title="疑似仿冒",
                                     platform="weibo", account_id=key, account_name="北理工表白墙",
                                     details={"reasons": ["名称含本校简称"], "profile_url": url}))
    return get(store, rec.id)


@pytest.mark.browser
@needs_browser
def test_the_evidence_browser_never_reaches_a_file_or_an_internal_page(cfg, store):
    with Server({"/secret": body(b"<h1>INTERNAL</h1>", "text/html")}) as internal:
        page = (f"<h1>profile</h1><img src='{internal.base}/secret'><iframe src='file:///etc/passwd'></iframe>"
                f"<iframe src='{internal.base}/secret'></iframe>").encode()
        with Server({"/u/1": body(page, "text/html"), "/u/2": redirect(f"{internal.base}/secret"),
                     "/u/3": redirect("/u/1")}) as platform:
            cfg.platforms["weibo"].base_url = platform.base
            shot = [evidence.capture(cfg, store, _finding(store, url, str(i)))
                    for i, url in enumerate([f"{platform.base}/u/1", f"{platform.base}/u/2", f"{platform.base}/u/3",
                                             "file:///etc/passwd", f"{internal.base}/secret",
                                             "http://169.254.169.254/latest/meta-data"])]
    assert [[r["kind"] for r in rows] for rows in shot] == [["raw", "screenshot"], ["raw"], ["raw", "screenshot"],
                                                            ["raw"], ["raw"], ["raw"]]
    assert internal.requests == []
    assert platform.requests.count("/u/1") == 2 and platform.requests.count("/u/2") == 1


def test_a_stopping_daemon_takes_no_screenshot(cfg, store, monkeypatch):
    stop = threading.Event()
    shots = []
    monkeypatch.setattr(evidence, "screenshot", lambda url, **kw: shots.append(url) or b"png")
    for i in range(3):
        _finding(store, f"https://weibo.com/u/{i}", str(i))
    stop.set()
    assert evidence.collect(cfg, store, stop=stop) == 0
    assert shots == []
    job = evidence.scheduled_jobs(cfg)[0]
    assert job.stoppable  # the daemon hands the evidence job its stop event


def test_the_screenshot_itself_ends_when_the_daemon_stops():
    stop = threading.Event()
    stop.set()
    with pytest.raises(evidence.Stopped):
        evidence.screenshot("https://weibo.com/u/1", policy=FetchPolicy(platform_hosts={"weibo.com"},
                                                                       resolver=fake_resolver_public), stop=stop)


def fake_resolver_public(host, port):
    return ["101.6.6.6"]


def slow(data: bytes, seconds: float, then: threading.Event):
    """A page that takes ``seconds`` to answer; ``then`` is set as its request arrives (SIGTERM
    while the browser waits for it)."""
    def answer(h):
        then.set()
        time.sleep(seconds)
        body(data, "text/html")(h)
    return answer


@pytest.mark.browser
@needs_browser
def test_a_screenshot_under_way_ends_without_a_picture_when_the_daemon_stops():
    stop = threading.Event()
    with Server({"/u/1": slow(b"<h1>profile</h1><img src='/a.png'>", 1.5, stop)}) as platform:
        policy = FetchPolicy(trusted={("127.0.0.1", platform.httpd.server_port)})
        started = time.monotonic()
        with pytest.raises(evidence.Stopped):
            evidence.screenshot(f"{platform.base}/u/1", policy=policy, platform="weibo", stop=stop)
    assert time.monotonic() - started < 10
    assert platform.requests == ["/u/1"]  # nothing the page holds was fetched after the stop


# -- the crawl: a website's links -----------------------------------------------------------------------

def test_a_websites_links_to_internal_addresses_are_never_requested(cfg):
    from types import SimpleNamespace

    import scrapy

    from spiders.middlewares import Forbidden
    from watcher import fetchguard
    from watcher.fetchguard import GuardMiddleware

    cfg.platforms["website"].sites = [{"id": "news", "url": "http://127.0.0.1:18080/news", "name": "新闻网"}]
    spider = SimpleNamespace(platform="website", cfg=cfg)
    guard = GuardMiddleware(SimpleNamespace(spider=spider))
    assert guard.process_request(scrapy.Request("http://127.0.0.1:18080/news/1.html")) is None
    let_through = []
    # 2130706433 is 127.0.0.1: on the configured site's own port it would be that site (w3lib ≥ 2.6
    # writes it 127.0.0.1 before any middleware sees it), so the decimal form is tried elsewhere.
    for url in ("http://127.0.0.1:6379/", "http://169.254.169.254/latest/meta-data", "http://2130706433:6379/",
                "http://0x7f.1:8080/"):
        try:
            guard.process_request(scrapy.Request(url))
        except Forbidden as e:
            assert "地址不予访问" in str(e)
        else:
            let_through.append(url)
    # Which one, and what the policy held, if this ever fails.
    assert not let_through, (let_through, guard.policy and guard.policy.trusted,
                             [guard.policy.resolver(*fetchguard._host_port(u)) for u in let_through])
    spider.platform = "weibo"  # URLs built on the configured host: not this middleware's concern
    assert guard.process_request(scrapy.Request("http://127.0.0.1:6379/")) is None
