"""错敏检查 of a registered account's new and edited posts, called by the watch analysis after
each complete timeline crawl (:func:`watcher.watch.analyze.analyse_account`).

Which texts are still to check is kept in the store (``compliance_checked``, one row a post
version), not in the analysis' own bookkeeping: a run killed half-way checks the rest next time,
and each version is checked once, its findings and its mark written in one transaction. A post
first seen when it is already older than ``compliance.lookback_days`` is not new (an account
just registered brings years of posts); its edits are.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from loguru import logger

from watcher import findings, registry
from watcher.compliance.checks import CHECK_LABELS, Checker, raw_record
from watcher.config import Config
from watcher.store import Store, accounts
from watcher.store import compliance as stored
from watcher.store.findings import record


def _older_than(created_at: str | None, limit: datetime) -> bool:
    if not created_at:
        return False
    try:
        t = datetime.fromisoformat(created_at)
    except ValueError:
        return False
    return (t if t.tzinfo else t.replace(tzinfo=UTC)) < limit


def check_account(cfg: Config, store: Store, platform: str, account_id: str, run_id: int | None = None, *,
                  now: datetime | None = None) -> int:
    """Check the account's posts whose current text was never checked; returns the findings made.
    Only registered accounts are checked: other people's posts are not ours to correct."""
    if not cfg.compliance.enabled:
        return 0
    reg = registry.find_account(store, platform, account_id)
    if reg is None:
        return 0
    name = accounts.latest_name(store, platform, account_id) or reg.account_name
    now = now or datetime.now(UTC)
    oldest = now - timedelta(days=cfg.compliance.lookback_days)
    check = Checker(cfg)  # compiled per account: cheap beside the crawl, and never stale after a reload
    made = 0
    for v in stored.unchecked_versions(store, platform, account_id):
        edited = v.versions > 1
        try:
            issues = [] if (not edited and _older_than(v.created_at, oldest)) else check.check(v.text, raw_record(v.raw))
        except Exception:  # noqa: BLE001 - one odd post must not stop the others; it is retried next run
            logger.exception("错敏检查帖子 {} 时出错", v.post_id)
            continue
        with store.transaction():
            for issue in issues:
                before, after = issue.surroundings(v.text or "")
                f = findings.compliance(
                    platform, account_id, name, reg.unit, post_id=v.post_id, url=v.url, check=issue.check,
                    check_label=CHECK_LABELS[issue.check], passage=issue.passage, before=before, after=after,
                    reason=issue.reason, text_sha256=v.text_sha256, created_at=v.created_at, edited=edited,
                    run_id=run_id)
                # An edit that keeps an error already reported (or judged) is not news: recording it
                # again would make a new revision (its surroundings moved) and send it again.
                if not stored.finding_exists(store, f.dedupe_key):
                    made += record(store, f).created
            stored.mark_checked(store, v.version_id, len(issues))
    if made:
        logger.info("{} {}：错敏检查发现 {} 处问题", platform, account_id, made)
    return made
