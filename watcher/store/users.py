"""Reviewers and what they did: users (with session epochs), login_throttle, audit_log."""

from __future__ import annotations

from watcher.store.steps import LegacyStep, Migration, sql

# This module's share of the steps recorded before the store package (see watcher.store.schema).
LEGACY: dict[LegacyStep, Migration] = {
    ("web", 1): sql(
        """CREATE TABLE users (
            username TEXT PRIMARY KEY,
            password_hash TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('admin', 'central', 'unit')),
            unit TEXT,
            disabled INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL
        )""",
        """CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            target TEXT,
            details TEXT,
            created_at TEXT NOT NULL
        )""",
    ),
    ("web", 2): sql(
        "ALTER TABLE users ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0",
        """CREATE TABLE login_throttle (
            scope TEXT NOT NULL CHECK (scope IN ('account', 'address')),
            key TEXT NOT NULL,
            failures INTEGER NOT NULL DEFAULT 0,
            window_start TEXT NOT NULL,
            locked_until TEXT,
            PRIMARY KEY (scope, key)
        )""",
    ),
}
# This module's own steps, recorded as component "users".
MIGRATIONS: list[Migration] = []
