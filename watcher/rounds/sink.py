"""Where a round's items land, wherever they were crawled: the crawl process's own Scrapy pipeline
(:class:`watcher.rounds.pipeline.RoundPipeline`) or, with ``crawl.redis_url``, the daemon reading
what the workers pushed to Redis (:mod:`watcher.distributed.dispatch`). Both feed the same
:class:`RoundSink`, so an item is stored, a target's run closed and analysed, and a watch round's
post checks chosen and concluded by one code path.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from loguru import logger

from spiders import catalog
from spiders.base import Target
from spiders.items import PageDone, PostCheck, ProfileSnapshot, TargetDone
from watcher import ingest
from watcher.cleaning import clean_item
from watcher.config import Config
from watcher.rounds import analysis, records
from watcher.store import Store

BATCH = 50


class RoundSink:
    """Items of one round into the store in batched transactions; each target's run closed on its
    :class:`~spiders.items.TargetDone` and analysed at once.

    ``targets`` is the round's key → target mapping; the caller may add the round's own post
    checks to it (``followup`` targets, whose items belong to their account's run)."""

    def __init__(self, cfg: Config, store: Store, platform: str, mode: str, round_id: int,
                 run_ids: Mapping[str, int], targets: Mapping[str, Target]) -> None:
        self.cfg = cfg
        self.store = store
        self.platform = platform
        self.mode = mode
        self.round_id = round_id
        self.run_ids = run_ids
        self.targets = targets
        self.buffer: list[Any] = []
        self.gone: set[str] = set()
        self.closed: set[str] = set()
        self.blocked: set[str] = set()
        # account → {post checked this round: the platform's answer (exists None: it could not say)}
        self.answers: dict[str, dict[str, PostCheck]] = defaultdict(dict)

    # -- items ------------------------------------------------------------------------------------

    def add(self, item: Any) -> None:
        # The edge where crawled text enters: cleaned here, whichever process crawled it.
        item = clean_item(item)
        if item is None:
            return
        if isinstance(item, TargetDone):
            self.flush()
            self.finish_target(item)
            return
        if isinstance(item, PageDone):
            self.flush()
            return
        if isinstance(item, ProfileSnapshot) and item.status == "gone":
            self.gone.add(item.target or "")
        if isinstance(item, PostCheck):
            target = self.targets.get(item.target or "")
            if target is not None and target.followup:
                self.answers[target.account or ""][target.post or ""] = item
            elif target is not None and self.mode == "check":
                # A direct check (a new post's early-life check): concluded by the post's own ID.
                self.answers[target.account or item.account_id][item.post_id] = item
        self.buffer.append(item)
        if len(self.buffer) >= BATCH:
            self.flush()

    def run_id(self, key: str | None) -> int | None:
        target = self.targets.get(key or "")
        if target is not None and target.followup:
            return target.run_id
        return self.run_ids.get(key or "")

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
        key = done.target or ""
        target = self.targets.get(key)
        if target is not None and target.followup:
            if done.status != "ok":
                logger.info("核查 {} 未成功（{}），待下一轮重试", key, done.reason)
            return
        run_id = self.run_ids.get(key)
        if run_id is None or key in self.closed:
            return
        self.closed.add(key)
        if done.status == "blocked" or (done.details or {}).get("cause") == "blocked":
            self.blocked.add(key)
        status = "gone" if done.status == "ok" and key in self.gone else done.status
        records.close_run(self.store, run_id, status, done.reason, done.details)
        analysis.after_target(self.cfg, self.store, self.mode, run_id)

    # -- the checks a watch round adds for itself -------------------------------------------------

    def wants_followups(self) -> bool:
        return self.mode == "timeline" and catalog.get(self.platform).supports("check")

    def followups(self, *, refused: bool) -> list[Target]:
        """The post checks due after this round's timelines (posts missing from a timeline,
        waiting for the platform to confirm a deletion); none when the platform refused us."""
        if refused or self.blocked:
            return []  # the platform refused us this round: no checks until it cools down
        targets = []
        for key, run_id in self.run_ids.items():
            if (run := records.get_run(self.store, run_id)) is None or run.status != "ok":
                continue
            account = self.targets[key].account or key
            for post in analysis.checks_due(self.store, self.platform, account):
                targets.append(Target(key=f"check:{account}/{post}", account=account, post=post,
                                      followup=True, run_id=run_id))
        if targets:
            logger.info("{} 本轮核查 {} 个待核实帖子", catalog.label(self.platform), len(targets))
        return targets

    # -- the end of the round ---------------------------------------------------------------------

    def conclude_checks(self) -> None:
        """The answers of this round's post checks confirm or clear the deletions they were for."""
        self.flush()
        for account, answers in self.answers.items():
            if self.mode == "check":
                analysis.confirm_direct(self.cfg, self.store, self.platform, account, answers)
                continue
            analysis.confirm_checked(self.cfg, self.store, self.platform, account, answers,
                                     [self.run_ids[k] for k, t in self.targets.items()
                                      if not t.followup and (t.account or k) == account and k in self.run_ids])

    def checks(self) -> int:
        return sum(len(v) for v in self.answers.values())

    def stop_reason(self) -> str | None:
        rnd = records.get_round(self.store, self.round_id)
        return rnd.stop_reason if rnd else None

    def close(self, key: str, status: str, reason: str) -> None:
        """Close a target the crawl left unfinished (never a post check: those have no run)."""
        target = self.targets.get(key)
        run_id = self.run_ids.get(key)
        if run_id is None or (target is not None and target.followup):
            return
        records.close_run(self.store, run_id, status, reason)
