"""Sessions kept and renewed: ``watcher login`` by QR against a local fake login page, the next
round carrying the session, and one 登录失效 finding while it is lapsed."""

import json
import random
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from spiders import identity
from spiders.browser import CHROMIUM
from tests.conftest import write_config
from tests.fakeplatform import FIXTURES, FakePlatform
from watcher import platform_status, qrterm, sessions
from watcher.cli import main_group
from watcher.config import load_config
from watcher.login import qr_png_path
from watcher.logs import redact
from watcher.rounds.engine import run_one
from watcher.store import Store
from watcher.store.findings import list_findings

UID = "1891724861"
LOGGED_IN = '{"ok":1,"data":{"login":true,"st":"a1b2c3","uid":"7000000001"}}'
LOGGED_OUT = '{"ok":1,"data":{"login":false,"st":"","uid":""}}'
needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed")


def qr_modules(seed: int = 7, n: int = 21) -> list[list[bool]]:
    """A version-1 QR code's layout: three finder patterns, timing lines, seeded data modules."""
    rnd = random.Random(seed)
    m = [[rnd.random() < 0.5 for _ in range(n)] for _ in range(n)]
    for r0, c0 in ((0, 0), (0, n - 7), (n - 7, 0)):
        for r in range(-1, 8):
            for c in range(-1, 8):
                if 0 <= r0 + r < n and 0 <= c0 + c < n:
                    ring = max(abs(r - 3), abs(c - 3))
                    m[r0 + r][c0 + c] = ring in (0, 1, 3)
    for i in range(8, n - 8):
        m[6][i] = m[i][6] = i % 2 == 0
    return m


def qr_png(modules: list[list[bool]], scale: int = 6, quiet: int = 4) -> bytes:
    n = len(modules)
    img = Image.new("L", ((n + 2 * quiet) * scale,) * 2, 255)
    for r, row in enumerate(modules):
        for c, dark in enumerate(row):
            if dark:
                img.paste(0, ((c + quiet) * scale, (r + quiet) * scale, (c + quiet + 1) * scale, (r + quiet + 1) * scale))
    import io

    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def read_back(text: str) -> list[list[bool]]:
    """The modules a terminal rendering shows (True = dark), quiet zone removed."""
    rows: list[list[bool]] = []
    for line in text.splitlines():
        rows.extend([[ch not in "█▀" for ch in line], [ch not in "█▄" for ch in line]])
    n = len(rows[0]) - 2 * qrterm.QUIET
    return [row[qrterm.QUIET:qrterm.QUIET + n] for row in rows[qrterm.QUIET:qrterm.QUIET + n]]


def test_the_terminal_shows_the_same_code_module_for_module():
    for seed, scale in ((1, 4), (2, 7), (3, 10)):
        modules = qr_modules(seed)
        assert read_back(qrterm.render(qrterm.matrix(qr_png(modules, scale)))) == modules
    with pytest.raises(qrterm.NotAQrCode):
        qrterm.matrix(qr_png([[False] * 21 for _ in range(21)]))


def test_a_page_that_draws_its_qr_huge_is_scaled_down_or_refused():
    import struct
    import zlib

    modules = qr_modules(4)
    big = qr_png(modules, 45)  # 29 modules at 45 px: 1,485 px a side, scanned at 800
    assert read_back(qrterm.render(qrterm.matrix(big))) == modules
    # A header that claims 20,000 × 20,000 pixels is refused before a pixel is decoded.
    header = struct.pack(">IIBBBBB", 20000, 20000, 8, 0, 0, 0, 0)
    ihdr = struct.pack(">I", 13) + b"IHDR" + header + struct.pack(">I", zlib.crc32(b"IHDR" + header))
    started = time.monotonic()
    with pytest.raises(qrterm.NotAQrCode, match="过大"):
        qrterm.matrix(b"\x89PNG\r\n\x1a\n" + ihdr + big[33:])
    assert time.monotonic() - started < 2


@pytest.fixture
def site(tmp_path):
    """A fake m.weibo.cn + passport.weibo.com: the SSO login page with its QR, the config call
    that says whether we are logged in, and an account's profile and posts."""
    files = tmp_path / "site"
    files.mkdir()
    for name in ("sso_signin.html", "profile.json", "posts_p1.json"):
        shutil.copy(FIXTURES / "weibo" / name, files / name)
    modules = qr_modules()
    (files / "qr.png").write_bytes(qr_png(modules))
    fake = FakePlatform(files)
    fake.route("/sso/signin", {"entry": "miniblog"}, "sso_signin.html", content_type="text/html; charset=utf-8")
    fake.route("/sso/qrcode/image", {}, "qr.png", content_type="image/png")
    fake.scan = fake.route("/sso/qrcode/check", {}, body='{"retcode":50114001,"msg":"未使用"}')
    fake.config = fake.route("/api/config", {}, body=LOGGED_IN)
    fake.route("/api/container/getIndex", {"type": "uid", "value": UID}, "profile.json")
    fake.route("/api/container/getIndex", {"value": UID, "containerid": f"107603{UID}", "page": "1"}, "posts_p1.json")
    fake.modules = modules
    with fake:
        yield fake


def _config(tmp_path, fake):
    path = write_config(tmp_path / "c", platforms={"weibo": {"enabled": True, "base_url": fake.base_url, "rate": 50,
                                                             "retries": 0, "pages": 1}})
    return path, load_config(path)


def _session_findings(cfg):
    with Store.open(cfg.db_path) as s:
        return list_findings(s, kind="session_lapsed")


@needs_chromium
def test_qr_login_saves_the_session_the_next_round_uses(tmp_path, site):
    path, cfg = _config(tmp_path, site)
    png = qr_png_path(cfg, "weibo")
    waiting = []

    def scan() -> None:  # the phone: once the QR is shown, confirm the login
        deadline = time.monotonic() + 60
        while not platform_status.pending_login(cfg, "weibo") and time.monotonic() < deadline:
            time.sleep(0.1)
        waiting.append(platform_status.pending_login(cfg, "weibo"))  # what the 平台状态 page shows
        site.scan.body = '{"retcode":20000000,"data":{"sub":"_2A25SUBfromqr","subp":"0033WrSXqPx"}}'

    phone = threading.Thread(target=scan, daemon=True)
    phone.start()
    result = CliRunner().invoke(main_group, ["login", "weibo", "--config", str(path), "--timeout", "60"])
    phone.join()
    assert result.exit_code == 0, result.output
    # the QR was shown in the terminal, module for module, and saved as a PNG
    art = "\n".join(line for line in result.output.splitlines() if line and set(line) <= set("█▀▄ "))
    assert read_back(art) == site.modules
    assert qrterm.matrix(png.read_bytes()) == site.modules
    assert waiting[0] and waiting[0]["deadline"] and platform_status.pending_login(cfg, "weibo") is None
    assert "有效" in result.output
    saved = {c["name"]: c["value"] for c in identity.saved_cookies(cfg.data_path, "weibo")}
    assert saved["SUB"] == "_2A25SUBfromqr"
    # the login page saw a browser, not a crawler
    page = next(h for p, _, h in site.requests if p == "/sso/signin")
    assert "HeadlessChrome" not in page["User-Agent"] and "Mozilla/5.0" in page["User-Agent"]

    run = run_one(cfg, "weibo", "timeline", UID)
    assert run.status == "ok", run
    api = [h for p, _, h in site.requests if p in ("/api/container/getIndex", "/api/config")]
    assert api and all("SUB=_2A25SUBfromqr" in h.get("Cookie", "") for h in api)
    assert sessions.saved_status(cfg, "weibo").state == "valid"
    assert not _session_findings(cfg)


@pytest.mark.slow
@needs_chromium
def test_qr_login_on_a_browser_platform_and_its_next_round(tmp_path):
    """Douyin: the login panel's QR, the scan, the session (sessionid) in the next round's browser."""
    files = tmp_path / "site"
    files.mkdir()
    for name in ("login_panel.html", "identity_page.html", "profile.json", "posts_p2.json"):
        shutil.copy(FIXTURES / "douyin" / name, files / name)
    modules = qr_modules(11)
    (files / "qr.png").write_bytes(qr_png(modules, scale=5))
    fake = FakePlatform(files)
    fake.route("/", {}, "login_panel.html", content_type="text/html; charset=utf-8")
    fake.route("/qr.png", {}, "qr.png", content_type="image/png")
    scan = fake.route("/passport/web/check_qrconnect/", {}, body='{"data":{"status":"1"}}')
    fake.route("/user/MS4wLjABAAAAbitofficial", {}, "identity_page.html", content_type="text/html; charset=utf-8")
    fake.route("/aweme/v1/web/user/profile/other/", {}, "profile.json")
    fake.route("/aweme/v1/web/aweme/post/", {}, "posts_p2.json")
    with fake:
        path = write_config(tmp_path / "c", platforms={"douyin": {"enabled": True, "base_url": fake.base_url,
                                                                  "rate": 50, "retries": 0, "timeout": 30}})
        cfg = load_config(path)
        png = qr_png_path(cfg, "douyin")

        def confirm() -> None:
            deadline = time.monotonic() + 60
            while not png.exists() and time.monotonic() < deadline:
                time.sleep(0.1)
            scan.body = '{"data":{"status":"3","sessionid":"dysess0001"}}'

        threading.Thread(target=confirm, daemon=True).start()
        result = CliRunner().invoke(main_group, ["login", "douyin", "--config", str(path), "--timeout", "60"])
        assert result.exit_code == 0, result.output
        art = "\n".join(line for line in result.output.splitlines() if line and set(line) <= set("█▀▄ "))
        assert read_back(art) == modules and "有效" in result.output
        run = run_one(cfg, "douyin", "timeline", "MS4wLjABAAAAbitofficial")
    assert run.status == "ok", run
    api = [h for p, _, h in fake.requests if p.startswith("/aweme/")]
    assert api and all("sessionid=dysess0001" in h.get("Cookie", "") for h in api)
    assert sessions.saved_status(cfg, "douyin").state == "valid"


def test_a_lapsed_session_raises_one_finding_resolved_once_it_works(tmp_path, site):
    path, cfg = _config(tmp_path, site)
    cookies = tmp_path / "weibo-cookies.txt"
    cookies.write_text("# Netscape HTTP Cookie File\n"
                       ".weibo.cn\tTRUE\t/\tFALSE\t0\tSUB\t_2A25imported\n"
                       ".weibo.cn\tTRUE\t/\tFALSE\t0\tSUBP\t0033imported\n", encoding="utf-8")
    result = CliRunner().invoke(main_group, ["login", "weibo", "--config", str(path), "--cookies", str(cookies)])
    assert result.exit_code == 0, result.output
    site.config.body = LOGGED_OUT
    for _ in range(2):
        run_one(cfg, "weibo", "timeline", UID)
    found = _session_findings(cfg)
    assert len(found) == 1 and found[0].status == "open", found
    f = found[0]
    assert f.title == "微博登录失效" and f.unit == cfg.central_unit().id
    details = f.details
    assert details["session_age"] and "watcher login weibo" in details["remedy"] and "巡检" in details["loses"]
    with Store.open(cfg.db_path) as s:
        assert s.scalar("SELECT revision FROM findings WHERE id = ?", [f.id]) == 1  # sent once
    status = CliRunner().invoke(main_group, ["platforms", "status", "--config", str(path), "--json"])
    weibo = next(r for r in json.loads(status.output) if r["platform"] == "weibo")
    assert weibo["session_state"] == "lapsed" and weibo["requests_today"] >= 4

    site.config.body = LOGGED_IN  # a new session (here: the platform takes the old one again)
    run_one(cfg, "weibo", "timeline", UID)
    assert [f.status for f in _session_findings(cfg)] == ["resolved"]


@needs_chromium
def test_without_a_session_the_round_takes_visitor_cookies_first(tmp_path, site):
    """m.weibo.cn answers 432 to a client without visitor cookies; like RSSHub (PR #20534) the
    round first lets a browser take the ones the site hands any visitor, and carries them."""
    site.route("/", {}, "visitor_root.html", content_type="text/html; charset=utf-8")
    shutil.copy(FIXTURES / "weibo" / "visitor_root.html", site.directory / "visitor_root.html")
    path = write_config(tmp_path / "c", platforms={"weibo": {
        "enabled": True, "base_url": site.base_url, "rate": 50, "retries": 0, "pages": 1, "visitor_cookies": True}})
    cfg = load_config(path)
    run = run_one(cfg, "weibo", "timeline", UID)
    assert run.status == "ok", run
    api = [h for p, _, h in site.requests if p == "/api/container/getIndex"]
    assert api and all("SUB=_2AkMvisitor0001" in h.get("Cookie", "") for h in api)
    # not a login: no session to check, no 登录失效 finding, and the next round reuses them
    assert sessions.saved_status(cfg, "weibo").state == "none" and not _session_findings(cfg)
    run_one(cfg, "weibo", "timeline", UID)
    assert [p for p, _, _ in site.requests].count("/") == 1


def test_importing_a_broken_cookies_file_says_why(tmp_path, site):
    path, _ = _config(tmp_path, site)
    bad = tmp_path / "cookies.json"
    bad.write_text('[{"name": "SUB"}]', encoding="utf-8")
    result = CliRunner().invoke(main_group, ["login", "weibo", "--config", str(path), "--cookies", str(bad)])
    assert result.exit_code == 3 and "第 1 项缺少 name 或 value" in result.output


def _behind_proxy(tmp_path, proxy=None):
    """Weibo at an address that does not resolve: only a proxy can reach it; a session imported."""
    options = {"enabled": True, "base_url": "http://m.weibo.invalid", "rate": 50, "retries": 0}
    cfg = load_config(write_config(tmp_path / "c", platforms={"weibo": {**options, **({"proxy": proxy} if proxy else {})}}))
    cookies = tmp_path / "weibo-cookies.json"
    cookies.write_text('{"SUB": "_2A25proxied", "SUBP": "0033proxied"}', encoding="utf-8")
    sessions.import_cookies(cfg, "weibo", cookies)
    return cfg


def test_the_session_check_goes_through_the_platforms_proxy(tmp_path, site):
    """As the crawls do (tests/test_rounds_proxy.py), the check asks through platforms.<p>.proxy,
    which sees the absolute URL a client sends to an HTTP proxy, with the session's cookies."""
    cfg = _behind_proxy(tmp_path, proxy=site.base_url)
    status = sessions.check(cfg, "weibo")
    assert status.state == "valid", status
    asked = [(p, h) for p, _, h in site.requests if p == "/api/config"]
    assert asked and "SUB=_2A25proxied" in asked[0][1]["Cookie"]
    site.config.body = LOGGED_OUT
    assert sessions.check(cfg, "weibo").state == "lapsed"


def test_without_the_proxy_the_check_cannot_tell(tmp_path, monkeypatch):
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    status = sessions.check(_behind_proxy(tmp_path), "weibo")
    # not reachable is not "lapsed": no 登录失效 finding for a network problem
    assert status.state == "unknown" and "无法检查登录状态" in status.detail, status
    assert "Error" not in status.detail and ("网络错误" in status.detail or "无法连接" in status.detail), status


def test_a_proxy_that_refuses_says_it_was_the_proxy_and_hides_its_password(tmp_path):
    # a closed port on this machine: the proxy is down
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = _behind_proxy(tmp_path, proxy=f"http://watcher:s3cret-pw@127.0.0.1:{port}")
    status = sessions.check(cfg, "weibo")
    assert status.state == "unknown" and "platforms.weibo.proxy" in status.detail, status
    # the check registered the proxy's password as a secret: no log line shows it
    assert "s3cret-pw" not in redact(f"代理 http://watcher:s3cret-pw@127.0.0.1:{port} 拒绝连接")
