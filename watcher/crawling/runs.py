"""The crawl_runs table: every crawl is recorded, and a failed or blocked one says why.

Only a run that finished ``ok`` is complete and trustworthy: analysis that concludes something
from absence (a post gone, an account gone) must ignore every other run.
"""

from __future__ import annotations

import os
from typing import Any

from loguru import logger

from watcher.config import PLATFORM_LABELS
from watcher.findings import FindingInput, record
from watcher.store import Store, dumps, utcnow

STATUSES = ("running", "ok", "partial", "blocked", "failed")


def start(store: Store, platform: str, mode: str, target: str | None, scan_request_id: int | None = None) -> int:
    with store.transaction():
        cur = store.conn.execute(
            "INSERT INTO crawl_runs (platform, mode, target, status, pid, scan_request_id, started_at) VALUES (?, ?, ?, 'running', ?, ?, ?)",
            [platform, mode, target, os.getpid(), scan_request_id, utcnow()],
        )
    return int(cur.lastrowid)


def finish(store: Store, run_id: int, status: str, reason: str | None = None, details: dict[str, Any] | None = None) -> None:
    """Close a run; a blocked or failed run also becomes a finding for the central department."""
    if status not in STATUSES[1:]:
        raise ValueError(status)
    with store.transaction():
        row = store.one("SELECT * FROM crawl_runs WHERE id = ?", [run_id])
        if row is None or row["status"] != "running":
            return  # already closed (by the worker itself, or by the runner after a crash)
        store.conn.execute(
            "UPDATE crawl_runs SET status = ?, reason = ?, details = ?, finished_at = ? WHERE id = ?",
            [status, reason, dumps(details or {}), utcnow(), run_id],
        )
        if status in ("blocked", "failed"):
            label = PLATFORM_LABELS.get(row["platform"], row["platform"])
            word = "受阻" if status == "blocked" else "失败"
            record(store, FindingInput(
                kind="crawl_blocked",
                dedupe_key=f"crawl_blocked:{row['platform']}:{status}:{(reason or '')[:60]}",
                title=f"{label}采集{word}：{reason}",
                severity="warning",
                platform=row["platform"],
                details={"reasons": [reason or ""], "mode": row["mode"], "target": row["target"], "run_id": run_id},
                crawl_run_id=run_id,
            ))
    log = logger.warning if status in ("blocked", "failed") else logger.info
    log("采集 #{} {} {} {}：{}{}", run_id, row["platform"], row["mode"], row["target"] or "", status,
        f"（{reason}）" if reason else "")


def get(store: Store, run_id: int) -> dict[str, Any] | None:
    return store.one("SELECT * FROM crawl_runs WHERE id = ?", [run_id])


def latest_per_platform(store: Store) -> list[dict[str, Any]]:
    return store.query(
        """SELECT r.* FROM crawl_runs r JOIN (SELECT platform, MAX(id) AS id FROM crawl_runs GROUP BY platform) m
           ON m.id = r.id ORDER BY r.platform"""
    )


def reap_orphans(store: Store) -> int:
    """Runs left 'running' by a process that no longer exists (killed -9, power loss) are
    closed as failed, so they are neither trusted nor waited for."""
    n = 0
    for row in store.query("SELECT id, pid FROM crawl_runs WHERE status = 'running'"):
        try:
            if row["pid"]:
                os.kill(row["pid"], 0)
                continue
        except OSError:
            pass
        finish(store, row["id"], "failed", "采集进程已不存在（被强制终止），本次结果不完整")
        n += 1
    with store.transaction():
        live = {r["scan_request_id"] for r in store.query("SELECT scan_request_id FROM crawl_runs WHERE status = 'running'")}
        for row in store.query("SELECT id FROM scan_requests WHERE status = 'running'"):
            if row["id"] in live:
                continue
            store.conn.execute("UPDATE scan_requests SET status = 'failed', finished_at = ?, summary = ? WHERE id = ?",
                               [utcnow(), dumps({"error": "执行扫描的进程已终止"}), row["id"]])
    return n
