"""One crawl in its own process: ``python -m watcher.crawling.worker --config C --run-id N …``.

The runner starts this; a crash or a leak here ends with this process, never the daemon. The
run record is closed by the item pipeline (ok / blocked / failed with the reason); exit codes:
0 ok, 3 blocked, 4 failed, anything else a crash the runner records itself.
"""

from __future__ import annotations

import argparse
import logging
import sys

from scrapy.crawler import CrawlerProcess

from spiders.registry import spider_class
from spiders.settings import build_settings
from watcher.config import load_config
from watcher.crawling import runs
from watcher.logs import setup_logging
from watcher.store import Store


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--platform", required=True)
    ap.add_argument("--mode", required=True, choices=["discover", "timeline", "check"])
    ap.add_argument("--keyword", action="append", default=[])
    ap.add_argument("--account")
    ap.add_argument("--post")
    ap.add_argument("--run-id", type=int, required=True)
    args = ap.parse_args(argv)
    cfg = load_config(args.config)
    setup_logging(cfg.logging, component=f"crawl:{args.platform}")
    # Scrapy's start-up chatter stays out of the journal; the run record says what happened.
    logging.getLogger("scrapy").setLevel(logging.WARNING)
    cls = spider_class(args.platform)
    settings = build_settings(cfg, args.platform, browser=getattr(cls, "browser", False))
    process = CrawlerProcess(settings, install_root_handler=False)
    crawler = process.create_crawler(cls)
    process.crawl(crawler, cfg=cfg, mode=args.mode, keywords=args.keyword, account=args.account,
                  post=args.post, run_id=args.run_id)
    process.start()
    with Store.open(cfg.db_path) as store:
        run = runs.get(store, args.run_id)
    return {"ok": 0, "partial": 0, "blocked": 3, "failed": 4}.get(run["status"] if run else "", 5)


if __name__ == "__main__":
    sys.exit(main())
