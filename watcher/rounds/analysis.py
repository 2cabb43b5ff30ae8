"""What follows each target of a round, in the crawl process: the one place that joins crawling
to analysis.

* a discovery target (keyword) → every account it found is judged (matching, findings);
* a watch target (account) that ended ``ok``/``gone`` → change analysis (profile, edits, account
  gone; posts missing from the timeline wait for a check);
* the post checks the round made → deletions confirmed or cleared.

A failure of analysis is logged and costs only that target's analysis, never the round.
"""

from __future__ import annotations

from loguru import logger

from spiders import catalog
from watcher.config import Config
from watcher.crawling import discovery
from watcher.rounds import records
from watcher.store import Store
from watcher.watch import analyze


def after_target(cfg: Config, store: Store, mode: str, run_id: int) -> None:
    run = records.get_run(store, run_id)
    if run is None:
        return
    try:
        if mode == "discover":
            discovery.analyse_run(cfg, store, run_id)
        elif mode == "timeline" and run["status"] in ("ok", "gone"):
            # No check from inside the analysis: the round checks missing posts itself once
            # every timeline is in (:func:`checks_due`), and confirms them at its end.
            analyze.analyse_timeline(cfg, store, run_id, checker=_no_check)
    except Exception:  # noqa: BLE001 - one target's analysis must not cost the round
        logger.exception("分析采集 #{}（{}）时出错，已跳过", run_id, run["target"])


def _no_check(*_args: object) -> None:
    return None


def checks_due(store: Store, platform: str, account: str) -> list[str]:
    """The posts of ``account`` to check this round: in the window of its previous complete
    crawl, missing from this one. Their ID, or their stored URL where the platform's page needs
    it (:attr:`spiders.catalog.Platform.check_by`)."""
    runs = store.query("SELECT id FROM crawl_runs WHERE platform = ? AND target = ? AND mode = 'timeline' "
                       "AND status = 'ok' ORDER BY id DESC LIMIT 2", [platform, account])
    if len(runs) < 2:
        return []
    by_url = catalog.get(platform).check_by == "url"
    rows = store.query("SELECT post_id, url FROM posts WHERE platform = ? AND account_id = ? AND status = 'live' "
                       "AND last_crawl_run_id = ?", [platform, account, runs[1]["id"]])
    return [(p["url"] if by_url and p["url"] else p["post_id"]) for p in rows]


def confirm_checked(cfg: Config, store: Store, platform: str, account: str, answers: dict[str, bool | None],
                    run_ids: list[int]) -> None:
    """Conclude from this round's answers about ``account``'s posts (``run_ids``: its runs this
    round): a post the platform says is gone is a deletion; no answer proves nothing."""
    try:
        for run_id in run_ids:
            analyze.analyse_timeline(cfg, store, run_id, checker=lambda _c, _p, _a, post: answers.get(post))
    except Exception:  # noqa: BLE001
        logger.exception("确认 {} 的删帖时出错，已跳过", account)
