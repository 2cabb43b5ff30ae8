"""The annual report in Debian's chromium: screenshotted on screen, printed to PDF with its charts."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.report_helpers import seed_year
from watcher.reports import annual, render
from watcher.watch.evidence import CHROMIUM, CHROMIUM_ARGS

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium (/usr/bin/chromium) not installed")]


@pytest.fixture
def report_html(cfg, store, tmp_path):
    seed_year(store)
    r = annual.build(cfg, store, 2025, today=date(2026, 1, 10))
    return render.write_html(annual.render_html(r), tmp_path / "年度报告-2025.html")


def test_annual_report_screenshot_shows_the_charts(report_html, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900}, locale="zh-CN")
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(report_html.as_uri())
        charts = page.query_selector_all("svg.chart")
        assert len(charts) == 4
        boxes = [c.bounding_box() for c in charts]
        assert all(b and b["width"] > 300 and b["height"] > 60 for b in boxes)  # one bar: 70 px high
        # the bars and lines are drawn: each bar has a width (growth of A1 and B1, the most and the least
        # active of three accounts: one each), each unit a line
        assert page.eval_on_selector_all("svg.chart rect.bar", "rs => rs.filter(r => r.getBBox().width > 0).length") == 4
        assert page.eval_on_selector_all("svg.chart polyline.series", "ls => ls.length") == 2
        # the stylesheet applied (a table border from report.css, not the browser default)
        assert page.eval_on_selector("body", "b => getComputedStyle(b).maxWidth") == "1100px"
        shot = tmp_path / "annual.png"
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    assert shot.stat().st_size > 30_000 and not errors


def test_annual_report_pdf_has_the_charts(report_html, tmp_path):
    from pdfminer.high_level import extract_pages, extract_text
    from pdfminer.layout import LTCurve, LTLine, LTRect

    pdf = render.print_pdf(report_html, tmp_path / "annual.pdf")
    assert pdf.read_bytes().startswith(b"%PDF")
    text = extract_text(str(pdf))
    for title in ("各单位每月发帖数", "粉丝增长（增长最多的账号）", "最活跃的账号（年内发帖数）", "最不活跃的账号（年内发帖数）"):
        assert title in text  # the charts' own titles, drawn as SVG text
    assert "01月" in text and "12月" in text and "计院微博" in text  # axis and bar labels
    # the text copies and searches as typed: no Kangxi radical or radical-supplement stand-ins
    assert "北京理工大学" in text and not [c for c in text if 0x2E80 <= ord(c) <= 0x2FDF]
    lines = curves = 0
    for layout in extract_pages(str(pdf)):
        stack = list(layout)
        while stack:
            item = stack.pop()
            lines += isinstance(item, LTLine)
            curves += isinstance(item, LTCurve) and not isinstance(item, LTRect | LTLine)
            stack.extend(getattr(item, "_objs", []))
    # the charts are vectors: 5 grid lines of the monthly chart and the zero axis of each of the 3 bar
    # charts (the tables draw their borders as rectangles, so a page without charts has no lines)
    assert lines >= 8 and curves >= 2


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_report_in_the_web_app_under_its_csp(cfg, store, tmp_path):
    """The 报表 page's HTML report in chromium, served by the app with its strict CSP: the
    stylesheet and the SVG charts load without one violation."""
    import time

    from playwright.sync_api import sync_playwright

    from tests.web_helpers import PASSWORD
    from watcher.web import auth
    from watcher.web.server import WebThread, server

    seed_year(store)
    auth.add_user(store, "xcb", PASSWORD, "central")
    port = _free_port()
    srv = server(cfg, "127.0.0.1", port)
    srv.install_signal_handlers = lambda: None
    web = WebThread(srv)
    web.thread.start()
    deadline = time.monotonic() + 15
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1200, "height": 900}, locale="zh-CN")
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "404" not in m.text else None)
            missing: list[str] = []
            page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
            page.goto(f"{base}/reports")
            page.fill("input[name=username]", "xcb")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/reports")
            page.fill("form[action='/reports/annual'] input[name=year]", "2025")
            page.click("form[action='/reports/annual'] button")
            page.wait_for_selector("svg.chart")
            assert len(page.query_selector_all("svg.chart")) == 4
            assert page.eval_on_selector("body", "b => getComputedStyle(b).maxWidth") == "1100px"
            page.screenshot(path=str(tmp_path / "web-annual.png"), full_page=True)
            browser.close()
    finally:
        web.stop()
    assert not errors, errors  # a CSP violation is reported on the console
    assert all(u.endswith("/favicon.ico") for u in missing), missing  # the browser's own guess, not ours
    assert (tmp_path / "web-annual.png").stat().st_size > 30_000
