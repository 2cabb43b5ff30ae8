"""Daemon jobs of the watch: filing deadlines and dormancy, evidence."""

from __future__ import annotations

from watcher.config import Config
from watcher.jobs import ScheduledJob
from watcher.store import Store
from watcher.watch import evidence
from watcher.watch.filings import check_dormant, check_filings


def _deadlines(cfg: Config) -> None:
    with Store.open(cfg.db_path) as store:
        check_filings(cfg, store)
        check_dormant(cfg, store)


def _evidence(cfg: Config) -> None:
    with Store.open(cfg.db_path) as store:
        evidence.collect(cfg, store)
        evidence.prune(cfg, store)


def scheduled_jobs(cfg: Config) -> list[ScheduledJob]:
    return [
        ScheduledJob(id="deadlines", func=_deadlines, seconds=3600, run_at_start=True,
                     description="变更备案时限与僵尸账号"),
        ScheduledJob(id="evidence", func=_evidence, seconds=cfg.schedule.evidence_every, description="证据留存与清理"),
    ]
