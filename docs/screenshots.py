"""Regenerate the README screenshots from ``watcher demo``, as a newcomer sees it.

    make screenshots            # or: .venv/bin/python docs/screenshots.py

Starts the demo on a free port in a temporary directory, logs in with the printed demo login,
waits for the story's findings and mails and screenshots the review site (1280×800) with Debian's
chromium. Then it runs the README's December review on the demo's data with the same commands
(``watcher registry review``, ``watcher publish``, ``watcher report annual``) and screenshots the
public page and the annual report. Ctrl-C (SIGINT) ends the demo; the directory is removed.
"""

from __future__ import annotations

import os
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from watcher.config import load_config
from watcher.reports.calendar import local_today, review_year
from watcher.watch.evidence import CHROMIUM, CHROMIUM_ARGS

OUT = Path(__file__).resolve().parent / "screenshots"
STORY_KINDS = ["疑似仿冒账号", "删帖", "帖子被修改", "账号资料变更", "账号消失/被封/改名", "舆情关注", "舆情激增"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def banner(proc: subprocess.Popen[str]) -> str:
    out, deadline = "", time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if select.select([proc.stdout], [], [], 1)[0]:
            line = proc.stdout.readline()
            out += line
            if "Ctrl-C" in line:
                return out
    raise SystemExit(f"watcher demo 未能启动：\n{out}")


def shoot(base: str, password: str) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800}, locale="zh-CN")
        page.goto(f"{base}/login")
        page.fill("input[name=username]", "demo")
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            page.goto(f"{base}/findings")
            if all(k in page.inner_text("form.bulk table") for k in STORY_KINDS):
                break
            time.sleep(2)
        time.sleep(12)  # the alerts of the last findings are on their way
        page.goto(f"{base}/")
        page.screenshot(path=str(OUT / "dashboard.png"))
        page.goto(f"{base}/findings")
        page.screenshot(path=str(OUT / "findings.png"))
        page.goto(f"{base}/findings?kind=impersonation")
        page.click("text=北理工招生办")
        page.wait_for_function("() => [...document.querySelectorAll('img.avatar')].every(i => i.complete && i.naturalWidth > 0)")
        page.screenshot(path=str(OUT / "finding.png"))
        page.goto(f"{base}/findings?kind=deletion")
        page.click("main table a >> nth=0")
        page.screenshot(path=str(OUT / "deletion.png"))
        page.goto(f"{base}/demo/mail")
        page.click("table.mails a >> nth=-1")
        page.screenshot(path=str(OUT / "mail.png"))
        browser.close()


def watcher(root: Path, *args: str) -> str:
    """One ``watcher`` command on the demo's config, as the README writes it."""
    done = subprocess.run([sys.executable, "-m", "watcher", *args, "-c", str(root / "watcher.yaml")], cwd=root,
                          capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise SystemExit(f"watcher {' '.join(args)} 失败：\n{done.stdout}{done.stderr}")
    print(f"$ watcher {' '.join(args)}\n{done.stdout}", end="")
    return done.stdout


def december(root: Path) -> None:
    """The README's December review on the demo's registry: record some results, publish the
    public page, write the annual report; screenshot both."""
    year = str(review_year(load_config(root / "watcher.yaml"), local_today()))
    watcher(root, "registry", "review", "微博", "1891724861", "--year", year, "--status", "合格", "--note", "材料齐全")
    watcher(root, "registry", "review", "微信公众号", "gh_bit_official", "--year", year, "--status", "限期整改",
            "--note", "半年未更新，限期一个月整改")
    watcher(root, "registry", "review", "--unit", "计算机学院", "--year", year, "--status", "已提交")
    watcher(root, "publish", "--out", str(root / "public"))
    watcher(root, "report", "annual", "--year", year, "--no-pdf", "--out", str(root / "reports"))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1000, "height": 620}, locale="zh-CN")
        page.goto((root / "public" / "index.html").as_uri())
        page.screenshot(path=str(OUT / "public.png"), full_page=True)
        page = browser.new_page(viewport={"width": 1150, "height": 1400}, locale="zh-CN")
        page.goto((root / "reports" / f"年度报告-{year}.html").as_uri())
        page.wait_for_selector("svg.chart")
        page.screenshot(path=str(OUT / "annual-report.png"))
        browser.close()


def main() -> None:
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="campus-watcher-screenshots-") as tmp:
        root = Path(tmp) / "demo"
        proc = subprocess.Popen([sys.executable, "-m", "watcher", "demo", "--port", str(port), "--dir", str(root)],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"})
        try:
            password = re.search(r"密码：(\S+)", banner(proc)).group(1)
            shoot(f"http://127.0.0.1:{port}", password)
            december(root)
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=60)
    print(f"截图已写入 {OUT}")


if __name__ == "__main__":
    main()
