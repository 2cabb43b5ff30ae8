"""Sensitive periods started by hand (watcher period start/stop): table manual_periods."""

from __future__ import annotations

from watcher.store.steps import LegacyStep, Migration, sql

# This module's share of the steps recorded before the store package (see watcher.store.schema).
LEGACY: dict[LegacyStep, Migration] = {
    ("watch", 1): sql(
        """CREATE TABLE manual_periods (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            start_date TEXT NOT NULL,
            end_date TEXT NOT NULL,
            platforms TEXT,
            cadence INTEGER NOT NULL,
            alert_policy TEXT NOT NULL DEFAULT 'immediate',
            spike_factor REAL NOT NULL DEFAULT 3.0,
            created_by TEXT,
            created_at TEXT NOT NULL,
            stopped_at TEXT
        )""",
    ),
}
# This module's own steps, recorded as component "periods".
MIGRATIONS: list[Migration] = []
