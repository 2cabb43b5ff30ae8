"""``watcher demo`` as a newcomer meets it: started from the command line, logged into with the
printed credentials, its story's findings, an alert mail and a decision, in Debian's chromium;
Ctrl-C ends it and removes its temporary directory."""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.test_web_browser import _free_port
from watcher.watch.evidence import CHROMIUM, CHROMIUM_ARGS

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium (/usr/bin/chromium) not installed")]

# Every kind of finding the story makes, by its Chinese label as the findings page shows it.
# The waits below are for conditions, with room for a busy machine (the full suite runs it beside
# other crawls and browsers on two cores): a slow machine only makes the test slower, not fail.
BANNER_SECONDS = 120
STORY_SECONDS = 300
PAGE_TIMEOUT_MS = 90_000
STORY_KINDS = ["疑似仿冒账号", "删帖", "帖子被修改", "账号资料变更", "账号消失/被封/改名", "舆情关注", "舆情激增"]


def _read_banner(proc: subprocess.Popen[str], deadline: float) -> str:
    """The terminal output up to the line that says how to end the demo."""
    out = ""
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 1)
        if ready:
            line = proc.stdout.readline()
            out += line
            if "Ctrl-C" in line:
                return out
        if proc.poll() is not None:
            break
    raise AssertionError(f"watcher demo 没有打印启动说明：\n{out}")


@pytest.mark.slow
def test_demo_from_start_to_a_decision(tmp_path):
    from playwright.sync_api import sync_playwright

    port = _free_port()
    env = {**os.environ, "TMPDIR": str(tmp_path), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "watcher", "demo", "--port", str(port)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env, cwd=tmp_path)
    try:
        banner = _read_banner(proc, time.monotonic() + BANNER_SECONDS)
        password = re.search(r"密码：(\S+)", banner).group(1)
        base = f"http://127.0.0.1:{port}"
        assert base in banner and "demo" in banner
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 800}, locale="zh-CN")
            page.set_default_timeout(PAGE_TIMEOUT_MS)
            page.set_default_navigation_timeout(PAGE_TIMEOUT_MS)
            page.goto(f"{base}/findings")
            page.fill("input[name=username]", "demo")
            page.fill("input[name=password]", password)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/findings")
            deadline = time.monotonic() + STORY_SECONDS
            while True:  # the story unfolds over the daemon's first rounds
                text = page.inner_text("form.bulk table")
                missing = [k for k in STORY_KINDS if k not in text]
                if not missing or time.monotonic() > deadline:
                    break
                time.sleep(2)
                page.reload()
            assert not missing, f"演示中缺少这些发现：{missing}"
            assert "北理工招生办" in text and "北理工计科资讯" in text

            page.click("header >> text=演示邮箱")
            # the impersonation mails, whichever arrived last (sentiment mails follow them)
            mail = page.locator("table.mails a", has_text="仿冒").first
            mail.wait_for()
            mail.click()
            body = page.inner_text("pre.mailbody")
            assert "疑似仿冒" in body and f"{base}/findings/" in body, body

            page.goto(f"{base}/findings?kind=impersonation")
            page.click("text=北理工招生办")
            page.check("input[name=action][value=confirm]")
            page.fill("textarea[name=comment]", "冒用学校招生名义，已联系平台")
            page.click("form[action$='/decide'] button[type=submit]")
            page.wait_for_selector("text=已记录：确认仿冒")
            assert "冒用学校招生名义" in page.inner_text("main")
            browser.close()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            rest, _ = proc.communicate(timeout=90)
        except subprocess.TimeoutExpired:
            proc.kill()
            rest, _ = proc.communicate()
    assert proc.returncode == 0, rest
    assert "临时目录已删除" in rest
    assert not any(tmp_path.glob("campus-watcher-demo-*"))  # nothing left behind
