"""The registry (备案台账) of approved accounts and its filings (变更备案): tables registry_accounts, filings."""

from __future__ import annotations

from typing import Any

from watcher.store.db import Database, utcnow, where
from watcher.store.steps import LegacyStep, Migration, sql

# This module's share of the steps recorded before the store package (see watcher.store.schema).
LEGACY: dict[LegacyStep, Migration] = {
    ("core", 1): sql(
        """CREATE TABLE registry_accounts (
            id INTEGER PRIMARY KEY,
            platform TEXT NOT NULL,
            account_type TEXT,
            account_name TEXT NOT NULL,
            account_id TEXT NOT NULL,
            purpose TEXT,
            opened_date TEXT,
            unit TEXT NOT NULL,
            tier INTEGER NOT NULL CHECK (tier IN (1, 2, 3)),
            head_name TEXT, head_title TEXT, head_phone TEXT, head_mobile TEXT, head_email TEXT,
            operator_name TEXT, operator_title TEXT, operator_phone TEXT, operator_mobile TEXT,
            operator_email TEXT,
            followers INTEGER,
            status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'closed')),
            registered_date TEXT,
            last_review_date TEXT,
            closed_date TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            UNIQUE (platform, account_id)
        )""",
        """CREATE TABLE filings (
            id INTEGER PRIMARY KEY,
            registry_id INTEGER NOT NULL REFERENCES registry_accounts(id),
            kind TEXT NOT NULL CHECK (kind IN ('register', 'change', 'close', 'review')),
            field TEXT,
            old_value TEXT,
            new_value TEXT,
            filed_date TEXT NOT NULL,
            note TEXT,
            actor TEXT,
            created_at TEXT NOT NULL
        )""",
        "CREATE INDEX filings_registry ON filings(registry_id, filed_date)",
    ),
}
# This module's own steps, recorded as component "registry".
MIGRATIONS: list[Migration] = []


def find(store: Database, platform: str, account_id: str) -> dict[str, Any] | None:
    return store.one("SELECT * FROM registry_accounts WHERE platform = ? AND account_id = ?", [platform, account_id])


def insert(store: Database, values: dict[str, Any], now: str) -> int:
    """A new registry row from validated ``values`` (column → value); returns its id."""
    return int(store.db["registry_accounts"].insert({**values, "created_at": now, "updated_at": now}).last_rowid)


def update(store: Database, registry_id: int, changed: dict[str, Any], now: str) -> None:
    """Set ``changed`` columns (names from the validated record, never from users)."""
    store.db["registry_accounts"].update(registry_id, {**changed, "updated_at": now})


def add_filing(store: Database, registry_id: int, kind: str, field: str | None, old: Any, new: Any,
               filed_date: str, note: str | None, actor: str | None) -> None:
    store.conn.execute(
        """INSERT INTO filings (registry_id, kind, field, old_value, new_value, filed_date, note, actor, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [registry_id, kind, field, None if old is None else str(old), None if new is None else str(new),
         filed_date, note, actor, utcnow()],
    )


def list_accounts(store: Database, *, platform: str | None = None, unit: str | None = None,
                  status: str | None = None, search: str | None = None) -> list[dict[str, Any]]:
    clause, params = where({"platform": platform, "unit": unit, "status": status}, search=search,
                           search_columns=("account_name", "account_id", "unit"))
    return store.query(f"SELECT * FROM registry_accounts{clause} ORDER BY tier, platform, account_name", params)


def filings_for(store: Database, registry_id: int) -> list[dict[str, Any]]:
    return store.query("SELECT * FROM filings WHERE registry_id = ? ORDER BY filed_date, id", [registry_id])


def units(store: Database) -> list[str]:
    """Every unit that has a registered account."""
    return [r["unit"] for r in store.query("SELECT DISTINCT unit FROM registry_accounts ORDER BY unit")]


def is_empty(store: Database) -> bool:
    return not store.scalar("SELECT COUNT(*) FROM registry_accounts")
