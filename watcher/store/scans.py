"""Scan requests (立即扫描) queued by the CLI or the web for the daemon: table scan_requests."""

from __future__ import annotations

from watcher.store.db import Database, dumps, utcnow
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
