"""The round's item pipeline, in the crawl process: items into the store in batched transactions
(a page, or 50 items), each target's run closed on the spider's verdict, and its analysis run
as soon as its pages are in — so a round cut short keeps everything it had analysed.

After the timelines of a watch round, the pipeline hands the spider the post checks that are due
(posts missing from a timeline, waiting for the platform to confirm a deletion), unless the
platform refused us this round; at the end their answers confirm or clear the deletions.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from loguru import logger
from scrapy import signals

from spiders.base import Target
from spiders.items import PostCheck, ProfileSnapshot, TargetDone
from watcher import ingest
from watcher.rounds import analysis, records
from watcher.store import Store

BATCH = 50

STOP_REASONS = {
    "daemon": "监测服务正在停止，本轮采集被中断（下次启动后重新采集）",
    "timeout": "本轮采集超时被中断（可调大 rate 或减少 pages）",
    "cancel": "本轮采集被取消",
}


class RoundPipeline:
    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.close_reason = "finished"
        crawler.signals.connect(self._closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Any) -> RoundPipeline:
        return cls(crawler)

    def _closed(self, spider: Any, reason: str) -> None:
        self.close_reason = reason

    def open_spider(self, spider: Any = None) -> None:
        spider = self.crawler.spider
        self.store = Store.open(spider.cfg.db_path)
        self.buffer: list[Any] = []
        self.gone: set[str] = set()
        self.closed: set[str] = set()
        # account → {post checked this round: the platform's answer (None: it could not say)}
        self.answers: dict[str, dict[str, bool | None]] = defaultdict(dict)
        spider.on_page_done = self.flush
        if spider.mode == "timeline" and spider.info.supports("check"):
            spider.followups = self.followups

    # -- items ------------------------------------------------------------------------------------

    def process_item(self, item: Any, spider: Any = None) -> Any:
        if isinstance(item, TargetDone):
            self.flush()
            self.finish_target(item)
            return item
        if isinstance(item, ProfileSnapshot) and item.status == "gone":
            self.gone.add(item.target or "")
        if isinstance(item, PostCheck):
            target = self.crawler.spider.by_key.get(item.target or "")
            if target is not None and target.followup:
                self.answers[target.account or ""][target.post or ""] = item.exists
        self.buffer.append(item)
        if len(self.buffer) >= BATCH:
            self.flush()
        return item

    def run_id(self, key: str | None) -> int | None:
        spider = self.crawler.spider
        target = spider.by_key.get(key or "")
        if target is not None and target.followup:
            return target.run_id
        return spider.run_ids.get(key or "")

    def flush(self) -> None:
        if not self.buffer:
            return
        groups: dict[int | None, list[Any]] = defaultdict(list)
        for item in self.buffer:
            groups[self.run_id(item.target)].append(item)
        for run_id, items in groups.items():
            ingest.save_batch(self.store, items, run_id)
        self.buffer = []

    def finish_target(self, done: TargetDone) -> None:
        spider = self.crawler.spider
        key = done.target or ""
        target = spider.by_key.get(key)
        if target is not None and target.followup:
            if done.status != "ok":
                logger.info("核查 {} 未成功（{}），待下一轮重试", key, done.reason)
            return
        run_id = spider.run_ids.get(key)
        if run_id is None or key in self.closed:
            return
        self.closed.add(key)
        status = "gone" if done.status == "ok" and key in self.gone else done.status
        records.close_run(self.store, run_id, status, done.reason, done.details)
        analysis.after_target(spider.cfg, self.store, spider.mode, run_id)

    # -- the checks a watch round adds for itself -------------------------------------------------

    def followups(self) -> list[Target]:
        spider = self.crawler.spider
        if spider.halted is not None or spider.problems and any(p.status == "blocked" for p in spider.problems.values()):
            return []  # the platform refused us this round: no checks until it cools down
        ok = [(key, run_id) for key, run_id in spider.run_ids.items()
              if (records.get_run(self.store, run_id) or {}).get("status") == "ok"]
        targets = []
        for key, run_id in ok:
            account = spider.by_key[key].account or key
            for post in analysis.checks_due(self.store, spider.platform, account):
                targets.append(Target(key=f"check:{account}/{post}", account=account, post=post,
                                      followup=True, run_id=run_id))
        if targets:
            logger.info("{} 本轮核查 {} 个待核实帖子", spider.info.label, len(targets))
        return targets

    # -- the end of the round ---------------------------------------------------------------------

    def close_spider(self, spider: Any = None) -> None:
        spider = self.crawler.spider
        try:
            self.flush()
            for account, answers in self.answers.items():
                analysis.confirm_checked(spider.cfg, self.store, spider.platform, account, answers,
                                         [spider.run_ids[k] for k, t in spider.by_key.items()
                                          if not t.followup and (t.account or k) == account and k in spider.run_ids])
            self._close_unfinished(spider)
        finally:
            self.store.close()

    def _close_unfinished(self, spider: Any) -> None:
        stop = (records.get_round(self.store, spider.round_id) or {}).get("stop_reason")
        for key in spider.unfinished():
            target = spider.by_key.get(key)
            run_id = spider.run_ids.get(key)
            if run_id is None or (target is not None and target.followup):
                continue
            if stop or self.close_reason == "shutdown":
                status, reason = "interrupted", STOP_REASONS.get(stop or "", "采集进程收到终止信号，本轮采集被中断")
            elif spider.halted is not None and key not in spider.started:
                status, reason = "blocked", f"本轮因平台受阻提前结束，未采集（{spider.halted.reason}）"
            elif key in spider.problems:
                p = spider.problems[key]
                status, reason = p.status, p.reason
            else:
                status, reason = "failed", f"采集结束时仍未完成（{self.close_reason}）"
            records.close_run(self.store, run_id, status, reason)
        stats = self.crawler.stats.get_stats() if self.crawler.stats else {}
        details = {"halted": spider.halted.reason if spider.halted else None,
                   "checks": sum(len(v) for v in self.answers.values()), "close_reason": self.close_reason,
                   # what the round cost, from Scrapy's own counters
                   "requests": stats.get("downloader/request_count", 0),
                   "browsers": stats.get("playwright/browser_count", 0),
                   "browser_contexts": stats.get("playwright/context_count", 0)}
        records.set_round_details(self.store, spider.round_id, details)
