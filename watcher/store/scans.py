"""Scan requests (立即扫描) queued by the CLI or the web for the daemon: table scan_requests."""

from __future__ import annotations

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
