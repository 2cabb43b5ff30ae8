"""Scrapy settings for one platform's round, built from the watcher config (the only settings
source): the platform's ``rate`` and ``concurrency`` are the budget of the whole round."""

from __future__ import annotations

from typing import Any

from spiders.browser import browser_settings
from watcher.config import Config


def build_settings(cfg: Config, platform: str, *, browser: bool = False) -> dict[str, Any]:
    p = cfg.platform(platform)
    settings = {
        "BOT_NAME": "campus-watcher",
        # Platform APIs are not pages for search engines; the operator decides what to crawl,
        # at a rate set per platform below.
        "ROBOTSTXT_OBEY": False,
        # The slower of the operator's rate and the platform's reader pace; Scrapy spreads each
        # wait over 0.5–1.5× of it (4 s → 2–6 s, the "4 s ± 2" of the public record).
        "DOWNLOAD_DELAY": max(1.0 / p.rate, p.pace(platform).interval),
        "RANDOMIZE_DOWNLOAD_DELAY": True,
        "CONCURRENT_REQUESTS": p.concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": p.concurrency,
        "AUTOTHROTTLE_ENABLED": True,
        "AUTOTHROTTLE_START_DELAY": max(1.0 / p.rate, p.pace(platform).interval),
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(p.concurrency),
        "RETRY_ENABLED": True,
        "RETRY_TIMES": p.retries,
        "RETRY_HTTP_CODES": [500, 502, 503, 504, 522, 524, 408],
        "DOWNLOAD_TIMEOUT": p.timeout,
        "COOKIES_ENABLED": True,
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,
        "LOG_LEVEL": "WARNING",
        "HTTPERROR_ALLOW_ALL": False,
        "REQUEST_FINGERPRINTER_IMPLEMENTATION": "2.7",
        "ITEM_PIPELINES": {"watcher.rounds.pipeline.RoundPipeline": 300},
        # Identity runs before Scrapy's cookie middleware (700) and its user-agent default (500);
        # refusals are read before redirects (600) and retries (550) see the answer.
        # Addresses from page data are checked before anything else happens to a request.
        "DOWNLOADER_MIDDLEWARES": {"watcher.fetchguard.GuardMiddleware": 430,
                                   "spiders.middlewares.PacingMiddleware": 440,
                                   "spiders.middlewares.IdentityMiddleware": 450,
                                   "spiders.middlewares.RefusalMiddleware": 650},
    }
    if browser:
        from watcher.fetchguard import FetchPolicy, browser_abort

        settings.update(browser_settings(p.timeout))
        # What the platform's page itself loads (strangers' avatar URLs) stays off internal addresses.
        settings["PLAYWRIGHT_ABORT_REQUEST"] = browser_abort(FetchPolicy.from_config(cfg))
    return settings
