"""On-demand scans: a queue in ``scan_requests`` that the daemon polls every few seconds, or
that ``watcher scan`` runs itself when no daemon is running.

A request is claimed atomically (queued → running), so the daemon and a terminal never run the
same one; progress is written as it goes, so a terminal can show a progress bar for a scan the
daemon is running.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from loguru import logger

from spiders import catalog
from watcher.config import Config
from watcher.findings import KIND_LABELS
from watcher.rounds import records
from watcher.rounds.engine import RoundError, run_round
from watcher.rounds.plan import scan_rounds
from watcher.schedule import ScheduledJob
from watcher.store import Store, utcnow
from watcher.store import findings as stored_findings
from watcher.store import scans as scan_requests
from watcher.store.scans import ScanRequest

Progress = Callable[[int, int, str], None]


def enqueue(store: Store, params: dict[str, Any], requested_by: str = "cli") -> int:
    return scan_requests.enqueue(store, params, requested_by)


def claim(store: Store, request_id: int | None = None) -> ScanRequest | None:
    return scan_requests.claim(store, request_id)


def execute(cfg: Config, request: ScanRequest, progress: Progress | None = None,
            stop: threading.Event | None = None) -> dict[str, Any]:
    """Run the rounds a request stands for; progress counts targets (accounts, keywords) done."""
    params = request.params
    with Store.open(cfg.db_path) as store:
        rounds = scan_rounds(cfg, store, params)
    since = utcnow()
    total = sum(len(targets) for _, _, targets in rounds)
    results: dict[str, int] = {}
    done = 0
    for platform, mode, targets in rounds:
        label = f"{catalog.label(platform)}{catalog.MODE_LABELS[mode]}"

        def report(n: int, _total: int, label: str = label, offset: int = done) -> None:
            _progress(cfg, request.id, offset + n, total, label)
            if progress:
                progress(offset + n, total, label)

        def waiting(why: str, label: str = label, offset: int = done) -> None:
            _progress(cfg, request.id, offset, total, f"{label}：{why}")
            if progress:
                progress(offset, total, f"{label}：{why}")

        report(0, len(targets))
        if stop is not None and stop.is_set():
            break
        try:
            result = run_round(cfg, platform, mode, targets, scan_request_id=request.id, progress=report, stop=stop,
                               waiting=waiting)
        except RoundError as e:
            logger.warning("扫描 #{}：{}", request.id, e)
            continue
        for status, n in result.counts().items():
            results[status] = results.get(status, 0) + n
        done += len(targets)
        _progress(cfg, request.id, done, total, label)
    if any(mode == "mentions" for _, mode, _ in rounds):
        # The mentions just found are judged now, not at the next sentiment job: the findings the
        # analyst asked for are in this scan's summary.
        from watcher import sentiment

        with Store.open(cfg.db_path) as store:
            sentiment.analyze(cfg, store)
    with Store.open(cfg.db_path) as store:
        summary = {"crawls": total, "rounds": len(rounds), "runs": results,
                   "findings": stored_findings.made_by_scan(store, request.id, since, except_kind="crawl_blocked")}
        failed = sum(n for s, n in results.items() if s not in ("ok", "gone"))
        scan_requests.finish(store, request.id, "done" if failed < total or not total else "failed", summary)
    if progress:
        progress(total, total, "完成")
    logger.info("扫描 #{} 完成：{}", request.id, describe(summary))
    return summary


def describe(summary: dict[str, Any]) -> str:
    """A finished scan in a sentence: its crawls by outcome and the findings it produced itself."""
    if not summary:
        return ""
    runs = "，".join(f"{records.STATUS_LABELS.get(k, k)} {v}" for k, v in (summary.get("runs") or {}).items()) or "无"
    made = []
    for kind, n in (summary.get("findings") or {}).items():
        text = f"{KIND_LABELS.get(kind, kind)} {n.get('new', 0)}"
        made.append(text + (f"（另有 {n['updated']} 条内容更新）" if n.get("updated") else ""))
    # summaries written before scans counted their own findings
    made += [f"{KIND_LABELS.get(k, k)} {v}" for k, v in (summary.get("new_findings") or {}).items()]
    return f"共 {summary.get('crawls', 0)} 个采集目标（{runs}）；本次扫描的新发现：{'，'.join(made) or '无'}"


def _progress(cfg: Config, request_id: int, done: int, total: int, label: str) -> None:
    with Store.open(cfg.db_path) as store:
        scan_requests.set_progress(store, request_id, {"done": done, "total": total, "current": label})


def poll(cfg: Config, stop: threading.Event | None = None) -> None:
    """Daemon job: run every queued request, oldest first."""
    while stop is None or not stop.is_set():
        with Store.open(cfg.db_path) as store:
            req = claim(store)
        if req is None:
            return
        execute(cfg, req, stop=stop)


def scheduled_jobs(cfg: Config) -> list[ScheduledJob]:
    return [ScheduledJob(id="scan-queue", func=poll, seconds=cfg.schedule.scan_poll, stoppable=True,
                         description="手动扫描队列")]


def pidfile(cfg: Config) -> Path:
    return cfg.data_path / "daemon.pid"


def daemon_running(cfg: Config) -> bool:
    try:
        pid = int(pidfile(cfg).read_text())
        os.kill(pid, 0)
        return True
    except (OSError, ValueError):
        return False
