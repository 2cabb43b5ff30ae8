"""Sensitive periods started by hand (watcher period start/stop): table manual_periods."""

from __future__ import annotations

from typing import Any

from watcher.store.db import Database, utcnow
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


def running(store: Database) -> list[dict[str, Any]]:
    """Manual periods not stopped (whether their dates cover today is the caller's question)."""
    if "manual_periods" not in store.db.table_names():
        return []  # read before the first migration (``watcher match`` without a database)
    return store.query("SELECT * FROM manual_periods WHERE stopped_at IS NULL")


def recent(store: Database, limit: int = 20) -> list[dict[str, Any]]:
    return store.query("SELECT * FROM manual_periods ORDER BY id DESC LIMIT ?", [limit])


def start(store: Database, name: str, start_date: str, end_date: str, platforms: list[str], cadence: int,
          created_by: str) -> None:
    with store.transaction():
        store.conn.execute(
            """INSERT INTO manual_periods (name, start_date, end_date, platforms, cadence, created_by, created_at)
               VALUES (?, ?, ?, ?, ?, ?, ?)""",
            [name, start_date, end_date, ",".join(platforms), cadence, created_by, utcnow()])


def stop(store: Database, name: str) -> int:
    """Stop the running manual periods called ``name``; returns how many."""
    with store.transaction():
        return store.conn.execute("UPDATE manual_periods SET stopped_at = ? WHERE name = ? AND stopped_at IS NULL",
                                  [utcnow(), name]).rowcount
