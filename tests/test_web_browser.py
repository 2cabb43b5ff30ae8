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
