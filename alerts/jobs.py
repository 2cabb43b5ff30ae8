"""Daemon job: plan, escalate and deliver alerts every half minute."""

from __future__ import annotations

from alerts.dispatch import run_once
from watcher.config import Config
from watcher.jobs import ScheduledJob
from watcher.store import Store


def _dispatch(cfg: Config) -> None:
    with Store.open(cfg.db_path) as store:
        run_once(store, cfg)


def scheduled_jobs(cfg: Config) -> list[ScheduledJob]:
    if not cfg.units:
        return []
    return [ScheduledJob(id="alerts", func=_dispatch, seconds=cfg.schedule.alerts_every, description="告警：分派、升级与发送")]
