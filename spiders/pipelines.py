"""The one item pipeline: items into the store, in batched transactions (a page, or 50 items,
whichever comes first), and the run record closed with the spider's verdict."""

from __future__ import annotations

from typing import Any

from watcher import ingest
from watcher.crawling import runs
from watcher.store import Store

BATCH = 50


class StorePipeline:
    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> StorePipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        spider = self.crawler.spider
        self.store = Store.open(spider.cfg.db_path)
        self.buffer: list[Any] = []
        spider.on_page_done = lambda: self.flush(spider)

    def process_item(self, item: Any) -> Any:
        spider = self.crawler.spider
        if spider.problem is not None and spider.problem.status == "blocked" and spider.mode == "timeline":
            # Half a timeline from a run that hit a wall must not look like a complete one.
            return item
        self.buffer.append(item)
        if len(self.buffer) >= BATCH:
            self.flush(spider)
        return item

    def flush(self, spider: Any) -> None:
        if self.buffer:
            ingest.save_batch(self.store, self.buffer, spider.run_id)
            self.buffer = []

    def close_spider(self) -> None:
        spider = self.crawler.spider
        try:
            self.flush(spider)
            if spider.run_id is not None:
                if spider.problem is not None:
                    runs.finish(self.store, spider.run_id, spider.problem.status, spider.problem.reason, spider.details)
                else:
                    runs.finish(self.store, spider.run_id, "ok", None, spider.details)
        finally:
            self.store.close()
