"""Logging the department's account in from a headless server: the platform's own QR login.

:func:`qr_login` opens the platform's real login page in Chromium — the platform's own
persistent profile and identity (:mod:`spiders.identity`), so the session is made by the very
browser the rounds use — shows the page's QR code in the terminal and saves it as a PNG, waits
for the scan (the platform sets its login cookie once the phone confirms), lets the platform
carry the login over to the site the spider reads, and saves the session (storage_state) for
the next rounds. A QR code that the page refreshes (they expire after a minute or two) is shown
again. MediaCrawler (``media_platform/*/login.py``) logs in the same way: the QR element of the
page, then the login cookie polled.

A slider or SMS check after the scan (MediaCrawler issue #266) needs a person at a browser:
the operator then logs in on a desktop browser and imports the exported cookies
(``watcher login P --cookies FILE``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from spiders import catalog, identity
from spiders.browser import LAUNCH_OPTIONS
from watcher import qrterm
from watcher.config import Config
from watcher.platform_status import login_marker, qr_png_path
from watcher.sessions import SessionError

Echo = Callable[[str], None]


def login_url(cfg: Config, platform: str) -> str:
    spec = catalog.get(platform).session
    if spec is None:
        raise SessionError(f"{catalog.label(platform)}不需要登录（公开页面即可采集）")
    urls = cfg.platform(platform).urls(platform)
    key, path = spec.login
    return urls.get(key, next(iter(urls.values()))) + path


def qr_login(cfg: Config, platform: str, *, echo: Echo, timeout: float = 180.0,
             png: Path | None = None) -> dict[str, Any]:
    """Run the QR login; the storage_state of the logged-in browser. Raises SessionError.

    The QR image always goes to the data dir's ``login-qr.png`` too, with a marker saying until
    when the login waits: the web app's 平台状态 page shows it to central reviewers, so the
    person holding the department's phone need not be at the server's terminal."""
    url = login_url(cfg, platform)
    pngs = [qr_png_path(cfg, platform)]
    if png is not None and png.resolve() != pngs[0].resolve():
        pngs.append(png)
    lock = identity.hold_profile(cfg.data_path, platform)  # not while a round uses the profile
    try:
        return asyncio.run(_qr_login(cfg, platform, url, echo, timeout, pngs))
    finally:
        login_marker(cfg, platform).unlink(missing_ok=True)
        lock.close()


async def _qr_login(cfg: Config, platform: str, url: str, echo: Echo, timeout: float,
                    pngs: list[Path]) -> dict[str, Any]:
    from playwright.async_api import Error as PlaywrightError
    from playwright.async_api import async_playwright

    info = catalog.get(platform)
    spec = info.session
    assert spec is not None
    profile = identity.profile_dir(cfg.data_path, platform)
    profile.mkdir(parents=True, exist_ok=True)
    options = identity.context_options(user_agent=info.user_agent, mobile=info.mobile, profile=profile,
                                       launch=LAUNCH_OPTIONS)
    async with async_playwright() as pw:
        try:
            context = await pw.chromium.launch_persistent_context(**options)
        except PlaywrightError as e:
            raise SessionError(f"无法启动 Chromium（{LAUNCH_OPTIONS['executable_path']}）：{str(e).splitlines()[0]}") from e
        try:
            await context.add_init_script(identity.stealth_script(info.user_agent))
            page = context.pages[0] if context.pages else await context.new_page()
            try:
                await page.goto(url, wait_until="domcontentloaded", timeout=cfg.platform(platform).timeout * 1000)
                qr = page.locator(spec.qr).first
                await qr.wait_for(state="visible", timeout=30_000)
            except PlaywrightError as e:
                raise SessionError(f"{info.label}登录页（{url}）没有显示二维码：{str(e).splitlines()[0]}；"
                                   f"可改用浏览器登录后导出 Cookie，再运行 watcher login {platform} --cookies 文件") from e
            shown = await _show(qr, pngs, echo, info.label)
            deadline = time.monotonic() + timeout
            now = datetime.now(UTC)
            identity.write_json(login_marker(cfg, platform), {
                "started_at": now.isoformat(timespec="seconds"),
                "deadline": (now + timedelta(seconds=timeout)).isoformat(timespec="seconds")})
            while not await _logged_in(context, spec.done_cookie):
                if time.monotonic() > deadline:
                    raise SessionError(f"等待扫码超时（{int(timeout)} 秒）：{info.label}没有确认登录；请重新运行 watcher login {platform}")
                await asyncio.sleep(1.0)
                shown = await _refreshed(qr, pngs, echo, info.label, shown)
            echo(f"{info.label}已确认扫码，正在保存登录会话……")
            # The platform carries the login over to the site the spider reads (SSO), as it does
            # for a reader who logs in and then opens it.
            site = next(iter(cfg.platform(platform).urls(platform).values()))
            # If it fails, the login cookie is in hand; the site sets the rest on the first round.
            with contextlib.suppress(PlaywrightError):
                await page.goto(site + "/", wait_until="domcontentloaded", timeout=cfg.platform(platform).timeout * 1000)
            return await context.storage_state()
        finally:
            await context.close()


async def _logged_in(context: Any, cookie: str) -> bool:
    return any(c.get("name") == cookie and c.get("value") for c in await context.cookies())


async def _show(qr: Any, pngs: list[Path], echo: Echo, label: str) -> bytes:
    shot = await qr.screenshot()
    for png in pngs:
        png.parent.mkdir(parents=True, exist_ok=True)
        png.write_bytes(shot)
    try:
        echo(qrterm.render(qrterm.matrix(shot)))
    except qrterm.NotAQrCode as e:
        echo(f"（无法在终端中绘制二维码：{e}）")
    echo(f"请用{label} App 扫描上方二维码并在手机上确认登录（二维码图片也已保存到 {pngs[-1]}，"
         "并显示在网站的“平台状态”页面上）")
    return shot


async def _refreshed(qr: Any, pngs: list[Path], echo: Echo, label: str, shown: bytes) -> bytes:
    """Show the QR code again if the page replaced it (an expired code)."""
    try:
        if not await qr.is_visible():
            return shown
        shot = await qr.screenshot()
    except Exception:  # noqa: BLE001 - the page navigates away once the scan is confirmed
        return shown
    try:
        if qrterm.matrix(shot) == qrterm.matrix(shown):
            return shown
    except qrterm.NotAQrCode:
        return shown
    echo("二维码已刷新：")
    return await _show(qr, pngs, echo, label)
