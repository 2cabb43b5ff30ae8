"""The review app in Debian's chromium, driven by Playwright."""

import socket
import time
from pathlib import Path

import pytest

from tests.web_helpers import PASSWORD, seed
from watcher.crawling.discovery import matcher_for
from watcher.matching import Candidate
from watcher.store import Store
from watcher.watch.evidence import CHROMIUM, CHROMIUM_ARGS

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium (/usr/bin/chromium) not installed")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(cfg):
    from watcher.web.server import WebThread, server

    ids = seed(cfg)
    port = _free_port()
    srv = server(cfg, "127.0.0.1", port)
    srv.install_signal_handlers = lambda: None
    web = WebThread(srv)
    web.thread.start()
    deadline = time.monotonic() + 15
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", ids, cfg
    web.stop()


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser.new_page(viewport={"width": 1280, "height": 800}, locale="zh-CN")
        browser.close()


def test_review_false_positive_then_next_match_is_clear(served, page):
    base, ids, cfg = served
    page.goto(f"{base}/findings")
    assert "/login" in page.url
    page.fill("input[name=username]", "xcb")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/findings")
    page.click("text=北理工表白墙")
    page.wait_for_selector("img.shot")
    # The element exists before its bytes arrive: wait for the image itself to finish loading.
    page.wait_for_function("() => { const i = document.querySelector('img.shot'); return i.complete && i.naturalWidth > 0; }")
    width = page.eval_on_selector("img.shot", "img => img.naturalWidth")
    assert width == 640  # the evidence screenshot really loaded
    page.check("input[name=action][value=false_positive]")
    page.select_option("select[name=rule]", "allow")
    page.fill("textarea[name=comment]", "学生自发的树洞，经核实不冒充学校")
    page.click("form[action$='/decide'] button[type=submit]")
    page.wait_for_selector("text=误报")
    assert "标记误报" in page.content()
    with Store.open(cfg.db_path) as store:
        assert store.one("SELECT status FROM findings WHERE id = ?", [ids["7712345601"]])["status"] == "false_positive"
        matcher = matcher_for(cfg, store)
    result = matcher.match(Candidate("douyin", "another-id", "北理工表白墙"))
    assert result.verdict == "clear" and "白名单" in result.reasons[0]


def test_unit_reviewer_gets_403_in_the_browser(served, page):
    base, ids, _ = served
    page.goto(f"{base}/login")
    page.fill("input[name=username]", "cs")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    response = page.goto(f"{base}/findings/{ids['7712345601']}")
    assert response.status == 403 and "不属于您的单位" in page.content()


@pytest.fixture
def attacker_site():
    """A same-site page on another port that tries to frame the review app (clickjacking)."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    target = {}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):  # noqa: N802 - http.server's hook name
            body = (f'<!doctype html><h1>抽奖</h1><iframe id="victim" src="{target["url"]}" width="900" '
                    f'height="700"></iframe>').encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/", target
    httpd.shutdown()


def _login(page, base, username):
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def test_decision_form_cannot_be_framed(served, page, attacker_site):
    base, ids, _ = served
    _login(page, base, "xcb")
    victim = f"{base}/findings/{ids['9001']}"
    page.goto(victim)
    assert page.locator("form[action$='/decide']").count() == 1       # logged in: the form is there
    # the stylesheet is a static file, so the strict CSP still lets the page be styled
    assert page.eval_on_selector("header", "h => getComputedStyle(h).backgroundColor") == "rgb(11, 94, 60)"
    attacker, target = attacker_site
    target["url"] = victim
    page.goto(attacker, wait_until="load")  # "load" waits for the iframe's navigation to end, blocked or not
    child = [f for f in page.frames if f != page.main_frame]
    assert child, "the iframe element exists"
    for frame in child:
        assert "/decide" not in frame.content() and "处理" not in frame.content()


@pytest.fixture
def alert_receivers():
    from tests.alerts_helpers import BotServer, start_smtp

    controller, sink = start_smtp()
    bots = BotServer()
    yield controller, sink, bots
    bots.stop()
    controller.stop()


def test_hostile_name_stays_text_in_every_alert_format_as_rendered(tmp_path, alert_receivers, page, monkeypatch):
    """Each alert as its receiver shows it: markdown rendered (HTML allowed, as in the chat
    clients), then every bare address autolinked the way chat and mail clients do."""
    from markdown_it import MarkdownIt

    from alerts import dispatch
    from alerts.channels import Sender
    from alerts.secrets import Credentials
    from tests.test_security import HOSTILE, NOW, _alert_config, _bodies, _hostile

    monkeypatch.delenv("WATCHER_SMTP_PASSWORD", raising=False)
    receivers = alert_receivers
    cfg, store = _alert_config(tmp_path, receivers)
    cfg.alerts.smtp.username = None
    _hostile(store, profile_url="http://evil.example/login")
    dispatch.run_once(cfg, store, NOW, Sender(cfg.alerts.smtp, Credentials()))
    md = MarkdownIt("commonmark", {"html": True})
    sections = []
    for fmt, body in _bodies(receivers).items():
        rendered = md.render(body) if fmt in ("dingtalk", "wecom") else f"<pre>{html_escape(body)}</pre>"
        sections.append(f'<section id="{fmt}">{rendered}</section>')
    page.set_content("<!doctype html><meta charset=utf-8>" + "".join(sections))
    page.evaluate("""() => {
        const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        const nodes = []; while (walker.nextNode()) nodes.push(walker.currentNode);
        for (const n of nodes) {
            if (n.parentElement.closest('a')) continue;
            const parts = n.textContent.split(/(https?:\\/\\/[^\\s<>"'（）()]+)/);
            if (parts.length === 1) continue;
            const frag = document.createDocumentFragment();
            parts.forEach((p, i) => { if (i % 2) { const a = document.createElement('a'); a.href = p; a.textContent = p;
                frag.appendChild(a); } else frag.appendChild(document.createTextNode(p)); });
            n.replaceWith(frag);
        }
    }""")
    for fmt in ("dingtalk", "wecom", "feishu", "webhook", "email"):
        hrefs = page.eval_on_selector_all(f"#{fmt} a", "as => as.map(a => a.href)")
        assert hrefs and all(h.startswith("https://watch.example.edu.cn/findings/") for h in hrefs), (fmt, hrefs)
        text = page.inner_text(f"#{fmt}")
        assert "北理工官方认证" in text and page.locator(f"#{fmt} img, #{fmt} script").count() == 0, fmt
        assert HOSTILE not in text or fmt in ("webhook", "email")  # chat formats: brackets made full-width


def html_escape(text: str) -> str:
    import html

    return html.escape(text)


def test_public_page_search_works_under_a_strict_csp(cfg, tmp_path, page):
    """The published page needs no inline script or style: served with CSP ``default-src 'self'``
    its search box still filters."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    from watcher import registry
    from watcher.web.publish import publish

    out = tmp_path / "pub"
    with Store.open(cfg.db_path) as store:
        registry.import_file(store, cfg.registry_path)
        publish(cfg, store, out)

    class Strict(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def end_headers(self):
            self.send_header("Content-Security-Policy", "default-src 'self'")
            super().end_headers()

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Strict, directory=str(out)))
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        violations = []
        page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
        page.goto(f"http://127.0.0.1:{httpd.server_address[1]}/index.html")
        assert page.eval_on_selector("th", "th => getComputedStyle(th).backgroundColor") == "rgb(243, 244, 246)"
        page.fill("#q", "zzz-不存在的账号")
        page.wait_for_selector("#none:not([hidden])")
        page.fill("#q", "1891724861")
        page.wait_for_selector("#none[hidden]", state="attached")
        assert page.locator("#rows tr:not([hidden])").count() == 1
        assert violations == []
    finally:
        httpd.shutdown()
