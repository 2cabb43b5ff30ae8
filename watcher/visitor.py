"""Visitor cookies: what a platform's own page hands any browser before its API answers (m.weibo.cn
answers HTTP 432 to a client without them). Taken by the rounds' browser profile, kept by
:mod:`watcher.sessions`."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from spiders import catalog, identity
from spiders.browser import LAUNCH_OPTIONS
from watcher.config import Config


def fetch_visitor(cfg: Config, platform: str, *, wait: float = 15.0) -> list[dict[str, Any]]:
    """Open the platform's page that hands visitor cookies to a browser and take them (DIYgod/RSSHub
    PR #20534 does this for m.weibo.cn, whose API answers 432 to a client without them)."""
    spec = catalog.get(platform).session
    if spec is None or spec.visitor is None:
        return []
    urls = cfg.platform(platform).urls(platform)
    key, path = spec.visitor
    url = urls.get(key, next(iter(urls.values()))) + path
    lock = identity.hold_profile(cfg.data_path, platform)
    try:
        return asyncio.run(_fetch_visitor(cfg, platform, url, wait))
    finally:
        lock.close()


async def _fetch_visitor(cfg: Config, platform: str, url: str, wait: float) -> list[dict[str, Any]]:
    from playwright.async_api import async_playwright

    info = catalog.get(platform)
    profile = identity.profile_dir(cfg.data_path, platform)
    profile.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as pw:
        context = await pw.chromium.launch_persistent_context(**identity.context_options(
            user_agent=info.user_agent, mobile=info.mobile, profile=profile, launch=LAUNCH_OPTIONS))
        try:
            await context.add_init_script(identity.stealth_script(info.user_agent))
            page = context.pages[0] if context.pages else await context.new_page()
            with contextlib.suppress(Exception):  # a slow page still leaves the cookies it set
                await page.goto(url, wait_until="networkidle", timeout=wait * 1000)
            # The visitor system's script sets its cookies after the page loaded: give it a moment.
            deadline = time.monotonic() + wait
            before = -1
            while time.monotonic() < deadline:
                cookies = await context.cookies()
                if cookies and len(cookies) == before:
                    break
                before = len(cookies)
                await asyncio.sleep(1.0)
            return await context.cookies()
        finally:
            await context.close()
