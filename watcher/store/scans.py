"""Scan requests (立即扫描) queued by the CLI or the web for the daemon: table scan_requests."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from watcher.store.db import Database, dumps, loads, utcnow
from watcher.store.steps import LegacyStep, Migration, sql

# This module's share of the steps recorded before the store package (see watcher.store.schema).
LEGACY: dict[LegacyStep, Migration] = {
    ("core", 1): sql(
        """CREATE TABLE scan_requests (
            id INTEGER PRIMARY KEY,
            params TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
            requested_by TEXT,
            requested_at TEXT NOT NULL,
            started_at TEXT,
            finished_at TEXT,
            progress TEXT,
            summary TEXT
        )""",
    ),
}
# This module's own steps, recorded as component "scans".
MIGRATIONS: list[Migration] = []


@dataclass(frozen=True)
class ScanRequest:
    """An on-demand scan (立即扫描), its JSON columns decoded: ``params`` what to scan,
    ``progress`` the daemon's latest word on it, ``summary`` its result (empty until then)."""

    id: int
    params: dict[str, Any]
    status: str
    requested_by: str | None
    requested_at: str
    started_at: str | None
    finished_at: str | None
    progress: dict[str, Any]
    summary: dict[str, Any]

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> ScanRequest:
        return cls(id=row["id"], params=_object(row["params"]), status=row["status"], requested_by=row["requested_by"],
                   requested_at=row["requested_at"], started_at=row["started_at"], finished_at=row["finished_at"],
                   progress=_object(row["progress"]), summary=_object(row["summary"]))


def _object(value: str | None) -> dict[str, Any]:
    parsed = loads(value, {})
    return parsed if isinstance(parsed, dict) else {}


def fail_orphaned(store: Database, live: set[int | None], error: str) -> int:
    """Scan requests marked running whose round is not (``live``: the running rounds' request
    ids): their process is gone. Returns how many were closed as failed."""
    n = 0
    with store.transaction():
        for row in store.query("SELECT id FROM scan_requests WHERE status = 'running'"):
            if row["id"] in live:
                continue
            store.conn.execute("UPDATE scan_requests SET status = 'failed', finished_at = ?, summary = ? WHERE id = ?",
                               [utcnow(), dumps({"error": error}), row["id"]])
            n += 1
    return n


def enqueue(store: Database, params: dict[str, Any], requested_by: str) -> int:
    with store.transaction():
        cur = store.conn.execute(
            "INSERT INTO scan_requests (params, status, requested_by, requested_at) VALUES (?, 'queued', ?, ?)",
            [dumps(params), requested_by, utcnow()])
    return int(cur.lastrowid)


def get(store: Database, request_id: int) -> ScanRequest | None:
    row = store.one("SELECT * FROM scan_requests WHERE id = ?", [request_id])
    return ScanRequest.from_row(row) if row else None


def ahead_of(store: Database, request_id: int) -> int:
    """Scans queued or running before this one (they run first, one at a time)."""
    return int(store.scalar("SELECT COUNT(*) FROM scan_requests WHERE id < ? AND status IN ('queued', 'running')",
                            [request_id]))


def claim(store: Database, request_id: int | None = None) -> ScanRequest | None:
    """The oldest queued request (or ``request_id`` if still queued), now marked running."""
    with store.transaction():
        row = store.one("SELECT * FROM scan_requests WHERE status = 'queued'" + (" AND id = ?" if request_id else "")
                        + " ORDER BY id LIMIT 1", [request_id] if request_id else [])
        if row is None:
            return None
        store.conn.execute("UPDATE scan_requests SET status = 'running', started_at = ? WHERE id = ? AND status = 'queued'",
                           [utcnow(), row["id"]])
    return ScanRequest.from_row(row)


def finish(store: Database, request_id: int, status: str, summary: dict[str, Any]) -> None:
    with store.transaction():
        store.conn.execute("UPDATE scan_requests SET status = ?, finished_at = ?, summary = ? WHERE id = ?",
                           [status, utcnow(), dumps(summary), request_id])


def set_progress(store: Database, request_id: int, progress: dict[str, Any]) -> None:
    with store.transaction():
        store.conn.execute("UPDATE scan_requests SET progress = ? WHERE id = ?", [dumps(progress), request_id])
