"""Sensitive periods started by hand (watcher period start/stop): table manual_periods."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
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


@dataclass(frozen=True)
class ManualPeriod:
    """A sensitive period started by hand (``watcher period start``); ``platforms`` as stored,
    comma-separated (empty: every platform)."""

    id: int
    name: str
    start_date: str
    end_date: str
    platforms: str | None
    cadence: int
    alert_policy: str
    spike_factor: float
    created_by: str | None
    created_at: str
    stopped_at: str | None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> ManualPeriod:
        return cls(**{f: row[f] for f in _PERIOD_FIELDS})


_PERIOD_FIELDS = tuple(f.name for f in fields(ManualPeriod))


def running(store: Database) -> list[ManualPeriod]:
    """Manual periods not stopped (whether their dates cover today is the caller's question)."""
    if "manual_periods" not in store.db.table_names():
        return []  # read before the first migration (``watcher match`` without a database)
    return [ManualPeriod.from_row(r) for r in store.query("SELECT * FROM manual_periods WHERE stopped_at IS NULL")]


def recent(store: Database, limit: int = 20) -> list[ManualPeriod]:
    return [ManualPeriod.from_row(r) for r in
            store.query("SELECT * FROM manual_periods ORDER BY id DESC LIMIT ?", [limit])]


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
