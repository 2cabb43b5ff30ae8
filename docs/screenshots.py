"""Regenerate the README screenshots (1280×800) from seeded demo data.

    .venv/bin/python docs/screenshots.py
"""

from __future__ import annotations

import socket
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.conftest import write_config  # noqa: E402
from tests.web_helpers import PASSWORD, seed  # noqa: E402
from watcher.config import load_config  # noqa: E402
from watcher.watch.evidence import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from watcher.web.server import WebThread, server  # noqa: E402


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cfg = load_config(write_config(Path(tmp)))
        ids = seed(cfg)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        srv = server(cfg, "127.0.0.1", port)
        srv.install_signal_handlers = lambda: None
        web = WebThread(srv)
        web.thread.start()
        while not srv.started:
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 800}, locale="zh-CN")
            page.goto(f"{base}/login")
            page.fill("input[name=username]", "xcb")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/")
            out = ROOT / "docs" / "screenshots"
            page.screenshot(path=str(out / "dashboard.png"))
            page.goto(f"{base}/findings/{ids['7712345601']}")
            page.wait_for_function("() => { const i = document.querySelector('img.shot'); return i && i.complete && i.naturalWidth > 0; }")
            page.screenshot(path=str(out / "finding.png"))
            browser.close()
        web.stop()


if __name__ == "__main__":
    main()
