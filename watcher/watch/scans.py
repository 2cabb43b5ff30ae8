"""On-demand scans: a queue in ``scan_requests`` that the daemon polls every few seconds, or
that ``watcher scan`` runs itself when no daemon is running.

A request is claimed atomically (queued → running), so the daemon and a terminal never run the
same one; progress is written as it goes, so a terminal can show a progress bar for a scan the
daemon is running.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from loguru import logger

from spiders.registry import SPIDERS, spider_class
from watcher.config import Config
from watcher.crawling.jobs import keywords, watch_targets
from watcher.store import Store, dumps, loads, utcnow

Progress = Callable[[int, int, str], None]


def enqueue(store: Store, params: dict[str, Any], requested_by: str = "cli") -> int:
    with store.transaction():
        cur = store.conn.execute(
            "INSERT INTO scan_requests (params, status, requested_by, requested_at) VALUES (?, 'queued', ?, ?)",
            [dumps(params), requested_by, utcnow()])
    return int(cur.lastrowid)


def claim(store: Store, request_id: int | None = None) -> dict[str, Any] | None:
    with store.transaction():
        row = store.one("SELECT * FROM scan_requests WHERE status = 'queued'" + (" AND id = ?" if request_id else "")
                        + " ORDER BY id LIMIT 1", [request_id] if request_id else [])
        if row is None:
            return None
        store.conn.execute("UPDATE scan_requests SET status = 'running', started_at = ? WHERE id = ? AND status = 'queued'",
                           [utcnow(), row["id"]])
    return row


def plan(cfg: Config, store: Store, params: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """The crawls a request stands for: (platform, mode, kwargs)."""
    platforms = [params["platform"]] if params.get("platform") else [p for p in cfg.enabled_platforms() if p in SPIDERS]
    steps: list[tuple[str, str, dict[str, Any]]] = []
    if params.get("discover", True) and not params.get("account"):
        steps += [(p, "discover", {"keywords": params.get("keywords") or keywords(cfg)}) for p in platforms
                  if "discover" in spider_class(p).modes]
    if params.get("watch", True):
        for p in platforms:
            if p == "wechat":
                continue
            ids = [params["account"]] if params.get("account") else watch_targets(cfg, store, p)
            steps += [(p, "timeline", {"account": i}) for i in ids]
    return steps


def execute(cfg: Config, request: dict[str, Any], progress: Progress | None = None) -> dict[str, Any]:
    from watcher.crawling.runner import run_crawl

    params = loads(request["params"], {})
    with Store.open(cfg.db_path) as store:
        steps = plan(cfg, store, params)
        before = store.scalar("SELECT COALESCE(MAX(id), 0) FROM findings")
    results: dict[str, int] = {}
    for i, (platform, mode, kw) in enumerate(steps, start=1):
        label = f"{platform} {mode} {kw.get('account') or ','.join(kw.get('keywords', []))}"
        if progress:
            progress(i - 1, len(steps), label)
        run = run_crawl(cfg, platform, mode, scan_request_id=request["id"], **kw)
        results[run.get("status", "failed")] = results.get(run.get("status", "failed"), 0) + 1
        with Store.open(cfg.db_path) as store, store.transaction():
            store.conn.execute("UPDATE scan_requests SET progress = ? WHERE id = ?",
                               [dumps({"done": i, "total": len(steps), "current": label}), request["id"]])
    with Store.open(cfg.db_path) as store:
        new = store.query("SELECT kind, COUNT(*) AS n FROM findings WHERE id > ? GROUP BY kind", [before])
        summary = {"crawls": len(steps), "runs": results, "new_findings": {r["kind"]: r["n"] for r in new}}
        with store.transaction():
            store.conn.execute("UPDATE scan_requests SET status = ?, finished_at = ?, summary = ? WHERE id = ?",
                               ["done" if results.get("failed", 0) < len(steps) or not steps else "failed", utcnow(),
                                dumps(summary), request["id"]])
    if progress:
        progress(len(steps), len(steps), "完成")
    logger.info("扫描 #{} 完成：{}", request["id"], summary)
    return summary


def poll(cfg: Config) -> None:
    """Daemon job: run every queued request, oldest first."""
    while True:
        with Store.open(cfg.db_path) as store:
            req = claim(store)
        if req is None:
            return
        execute(cfg, req)


def pidfile(cfg: Config) -> Path:
    return cfg.data_path / "daemon.pid"


def daemon_running(cfg: Config) -> bool:
    try:
        pid = int(pidfile(cfg).read_text())
        os.kill(pid, 0)
        return True
    except (OSError, ValueError):
        return False
