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
from watcher.cleaning import printable
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
            failed = discovery.analyse_run(cfg, store, run_id).get("failed", 0)
            if failed:
                # The crawl went well but not its judging: the run (and so the round) says so
                # instead of 完成; the accounts are judged again by the next run that sees them.
                records.analysis_failed(store, run_id, f"{failed} 个账号判定出错（详见日志），其余已判定；下一轮重新判定")
        elif mode == "timeline" and run.status in ("ok", "gone") and cases.is_case_account(store, run.platform,
                                                                                            run.target or ""):
            # A reported impersonator re-checked: its case, not the watch of a registered account.
            cases.after_check(cfg, store, run)
        elif mode == "timeline" and run.status in ("ok", "gone"):
            # No check from inside the analysis: missing posts become pending; the round checks
            # them itself once every timeline is in (:func:`checks_due`) and confirms at its end.
            analyze.analyse_timeline(cfg, store, run_id)
    except Exception as e:  # noqa: BLE001 - one target's analysis must not cost the round
        logger.error("分析采集 #{}（{}）时出错，已跳过：{}", run_id, printable(str(run.target))[:100],
                     printable(str(e))[:200] or "数据无法处理")
        logger.opt(exception=e).debug("分析出错的详情")
        records.analysis_failed(store, run_id, "采集完成但分析出错（详见日志），本目标的结果未分析")


def checks_due(store: Store, platform: str, account: str) -> list[str]:
    """The posts of ``account`` to check this round: its pending (待核实) posts whose next check
    is due (:func:`watcher.watch.analyze.due_pending`). Their ID, or their stored URL where the
    platform's page needs it (:attr:`spiders.catalog.Platform.check_by`)."""
    by_url = catalog.get(platform).check_by == "url"
    rows = analyze.due_pending(store, platform, account, limit=analyze.CONFIRM_LIMIT)
    return [(p.url if by_url and p.url else p.post_id) for p in rows]


def confirm_checked(cfg: Config, store: Store, platform: str, account: str, answers: dict[str, analyze.Answer],
                    run_ids: list[int]) -> None:
    """Conclude from this round's answers about ``account``'s posts (``run_ids``: its runs this
    round): a post the platform says is gone is a deletion; no answer proves nothing."""
    try:
        analyze.confirm_pending(cfg, store, platform, account, lambda _p, _a, post: answers.get(post),
                                give_up_after=None)
    except Exception:  # noqa: BLE001
        logger.exception("确认 {} 的删帖时出错，已跳过", account)


def confirm_direct(cfg: Config, store: Store, platform: str, account: str, answers: dict[str, analyze.Answer]) -> None:
    """Conclude from a check round's answers (the early-life checks of new posts): a post the
    platform says is gone or hidden is concluded at once, with its cause."""
    try:
        analyze.confirm_checked_live(cfg, store, platform, account, answers)
    except Exception:  # noqa: BLE001
        logger.exception("确认 {} 的新帖核查结果时出错，已跳过", account)
