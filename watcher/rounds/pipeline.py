"""The round's item pipeline, in the crawl process: Scrapy's side of :class:`~watcher.rounds.sink.RoundSink`.

Items go into the store in batched transactions (a page, or 50 items), each target's run is
closed on the spider's verdict and analysed as soon as its pages are in — so a round cut short
keeps everything it had analysed. After the timelines of a watch round, the pipeline hands the
spider the post checks that are due, unless the platform refused us this round; at the end their
answers confirm or clear the deletions, and the targets the crawl left unfinished are closed with
the reason the spider knows.
"""

from __future__ import annotations

from typing import Any

from spiders.base import Target
from watcher.rounds import records
from watcher.rounds.sink import RoundSink
from watcher.store import Store

STOP_REASONS = {
    "daemon": "监测服务正在停止，本轮采集被中断（下次启动后重新采集）",
    "timeout": "本轮采集超时被中断（可调大 rate 或减少 pages）",
    "cancel": "本轮采集被取消",
    "scan": "让位于手动扫描，扫描结束后接着采集本轮未完成的目标",
}


class RoundPipeline:
    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> RoundPipeline:
        return cls(crawler)

    def close_reason(self) -> str:
        """Why the crawl is ending, asked while the pipeline closes. Scrapy closes the pipelines
        before it sends ``spider_closed`` with the reason, so the reason is read from the crawler:
        a stop asked of it (SIGTERM or SIGINT to this process — systemd stopping the service's
        whole control group — or the engine's stop) has already cleared ``crawler.crawling``; a
        crawl that ran out of work has not."""
        return "finished" if self.crawler.crawling else "shutdown"

    def open_spider(self, spider: Any = None) -> None:
        spider = self.crawler.spider
        self.store = Store.open(spider.cfg.db_path)
        self.sink = RoundSink(spider.cfg, self.store, spider.platform, spider.mode, spider.round_id,
                              spider.run_ids, spider.by_key)
        if self.sink.wants_followups():
            spider.followups = self.followups

    def process_item(self, item: Any, spider: Any = None) -> Any:
        self.sink.add(item)
        return item

    def followups(self) -> list[Target]:
        spider = self.crawler.spider
        refused = spider.halted is not None or any(p.status == "blocked" for p in spider.problems.values())
        return self.sink.followups(refused=refused)

    def close_spider(self, spider: Any = None) -> None:
        spider = self.crawler.spider
        try:
            self.sink.conclude_checks()
            self._close_unfinished(spider)
        finally:
            self.store.close()

    def _close_unfinished(self, spider: Any) -> None:
        stop = self.sink.stop_reason()
        close_reason = self.close_reason()
        for key in spider.unfinished():
            if stop or close_reason == "shutdown":
                status, reason = "interrupted", STOP_REASONS.get(stop or "", "采集进程收到终止信号，本轮采集被中断")
            elif spider.halted is not None and key not in spider.started:
                status, reason = "blocked", f"本轮因平台受阻提前结束，未采集（{spider.halted.reason}）"
            elif key in spider.problems:
                p = spider.problems[key]
                status, reason = p.status, p.reason
            else:
                status, reason = "failed", f"采集结束时仍未完成（{close_reason}）"
            self.sink.close(key, status, reason)
        stats = self.crawler.stats.get_stats() if self.crawler.stats else {}
        details = {"halted": spider.halted.reason if spider.halted else None,
                   "checks": self.sink.checks(), "close_reason": close_reason,
                   # what the round cost, from Scrapy's own counters
                   "requests": stats.get("downloader/request_count", 0),
                   # a persistent context (the platform's profile) is a browser of its own
                   "browsers": stats.get("playwright/browser_count", 0)
                   + stats.get("playwright/context_count/persistent/True", 0),
                   "browser_contexts": stats.get("playwright/context_count", 0)}
        records.set_round_details(self.store, spider.round_id, details)
