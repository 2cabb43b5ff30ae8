"""What follows each target of a round, in the crawl process: the one place that joins crawling
to analysis.

* a discovery target (keyword) → every account it found is judged (matching, findings); a mentions
  target (keyword) likewise, for the authors of what it found (sentiment reads the mentions later);
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
from watcher.takedown import cases
from watcher.watch import analyze


def after_target(cfg: Config, store: Store, mode: str, run_id: int) -> None:
    run = records.get_run(store, run_id)
    if run is None:
        return
    try:
        if mode in ("discover", "mentions"):
            # A mention's author is judged like a discovered account: "北理工招生办" posting
            # about the school is an impersonation lead.
            discovery.analyse_run(cfg, store, run_id)
        elif mode == "timeline" and run.status in ("ok", "gone") and cases.is_case_account(store, run.platform,
                                                                                            run.target or ""):
            # A reported impersonator re-checked: its case, not the watch of a registered account.
            cases.after_check(cfg, store, run)
        elif mode == "timeline" and run.status in ("ok", "gone"):
            # No check from inside the analysis: missing posts become pending; the round checks
            # them itself once every timeline is in (:func:`checks_due`) and confirms at its end.
            analyze.analyse_timeline(cfg, store, run_id)
    except Exception:  # noqa: BLE001 - one target's analysis must not cost the round
        logger.exception("分析采集 #{}（{}）时出错，已跳过", run_id, run.target)


def checks_due(store: Store, platform: str, account: str) -> list[str]:
    """The posts of ``account`` to check this round: its pending (待核实) posts whose next check
    is due (:func:`watcher.watch.analyze.due_pending`). Their ID, or their stored URL where the
    platform's page needs it (:attr:`spiders.catalog.Platform.check_by`)."""
    by_url = catalog.get(platform).check_by == "url"
    rows = analyze.due_pending(store, platform, account, limit=analyze.CONFIRM_LIMIT)
    return [(p.url if by_url and p.url else p.post_id) for p in rows]


def confirm_checked(cfg: Config, store: Store, platform: str, account: str, answers: dict[str, bool | None],
                    run_ids: list[int]) -> None:
    """Conclude from this round's answers about ``account``'s posts (``run_ids``: its runs this
    round): a post the platform says is gone is a deletion; no answer proves nothing."""
    try:
        analyze.confirm_pending(cfg, store, platform, account, lambda _p, _a, post: answers.get(post),
                                give_up_after=None)
    except Exception:  # noqa: BLE001
        logger.exception("确认 {} 的删帖时出错，已跳过", account)
