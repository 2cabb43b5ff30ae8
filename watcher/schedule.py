"""The daemon's schedule: what it runs when, gathered from the modules that do the work.

Each module that has periodic work (sentiment, alert dispatch, crawl rounds, scan requests, filing
deadlines, evidence) exposes ``scheduled_jobs(cfg) -> list[ScheduledJob]`` and is listed in
``JOB_PROVIDERS``; the daemon asks them again on every config reload, so a
changed cadence or a newly enabled platform takes effect without a restart.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from watcher.config import Config

JOB_PROVIDERS: list[str] = [
    "watcher.sentiment",
    "alerts.dispatch",
    "alerts.brief",
    "watcher.rounds.plan",
    "watcher.rounds.scans",
    "watcher.watch.filings",
    "watcher.watch.evidence",
    "watcher.reports.reminders",
    "watcher.compliance.linkage",
    "watcher.takedown.cases",
]


@dataclass
class ScheduledJob:
    id: str
    func: Callable[..., Any]
    # Exactly one of: run every ``seconds``; or a cron spec such as {"hour": 9, "minute": 0}.
    seconds: int | None = None
    cron: dict[str, Any] | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)
    # Run once right after start (after a jitter) instead of waiting a whole interval.
    run_at_start: bool = False
    # The job runs crawl rounds: the daemon hands it its stop event (``stop=``), which ends a
    # round in progress as ``interrupted`` when the daemon stops.
    stoppable: bool = False
    description: str = ""


def collect(cfg: Config) -> list[ScheduledJob]:
    jobs: list[ScheduledJob] = []
    for name in JOB_PROVIDERS:
        jobs.extend(importlib.import_module(name).scheduled_jobs(cfg))
    return jobs
