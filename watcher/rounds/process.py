"""The crawl process of one round: ``python -m watcher.rounds.process`` with the round on stdin.

The daemon (or the CLI) starts this for every round and hands it, as JSON on stdin, the
configuration it holds — already validated, so an edit of the file that the daemon refused never
reaches a crawl — with the round's targets and their run ids. One Scrapy crawler (and for
browser platforms one browser) serves the whole round. A crash or a leak ends with this
process, never the daemon. SIGTERM stops it gracefully: unfinished targets are recorded
``interrupted`` by the pipeline.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import urllib.parse
from pathlib import Path
from typing import Any

from scrapy.crawler import CrawlerProcess

from spiders import catalog
from spiders.base import Target, load_cookies
from watcher import timefmt
from watcher.config import Config
from watcher.logs import remember, setup_logging
from watcher.rounds.settings import build_settings


def payload(cfg: Config, round_id: int, platform: str, mode: str, targets: list[Target],
            run_ids: dict[str, int]) -> str:
    return json.dumps({
        "config": cfg.model_dump(mode="json"), "source": str(cfg.source) if cfg.source else None,
        "round_id": round_id, "platform": platform, "mode": mode,
        "targets": [t.__dict__ for t in targets], "run_ids": run_ids,
    }, ensure_ascii=False)


def main() -> int:
    data: dict[str, Any] = json.loads(sys.stdin.read())
    cfg = Config.model_validate(data["config"])
    cfg.source = Path(data["source"]) if data.get("source") else None
    timefmt.set_zone(cfg.timezone)
    platform, mode = data["platform"], data["mode"]
    setup_logging(cfg.logging, component=f"crawl:{platform}", crashes=cfg.data_path / "crashes")
    # Scrapy's start-up chatter stays out of the journal; the run records say what happened.
    logging.getLogger("scrapy").setLevel(logging.WARNING)
    info = catalog.get(platform)
    pcfg = cfg.platform(platform)
    if pcfg.cookies_file:
        # The session's values are secrets: hidden wherever a log line would show them.
        remember(*load_cookies(cfg.resolve_path(pcfg.cookies_file)).values())
    if pcfg.proxy:
        # One crawl process per platform: the proxy in its environment is this platform's alone
        # (Scrapy's HttpProxyMiddleware reads it, credentials in the URL included).
        remember(urllib.parse.urlsplit(pcfg.proxy).password)
        os.environ["http_proxy"] = os.environ["https_proxy"] = pcfg.proxy
    process = CrawlerProcess(build_settings(cfg, platform, browser=info.browser), install_root_handler=False)
    crawler = process.create_crawler(catalog.spider_class(platform))
    process.crawl(crawler, cfg=cfg, mode=mode, targets=[Target(**t) for t in data["targets"]],
                  run_ids=data["run_ids"], round_id=data["round_id"])
    process.start()
    return 0


if __name__ == "__main__":
    sys.exit(main())
