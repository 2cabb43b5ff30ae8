"""The registry (备案台账) of approved accounts and its filings (变更备案): tables registry_accounts, filings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
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


@dataclass(frozen=True)
class RegistryAccount:
    """One approved account in the registry (备案台账), as stored."""

    id: int
    platform: str
    account_type: str | None
    account_name: str
    account_id: str
    purpose: str | None
    opened_date: str | None
    unit: str
    tier: int
    head_name: str | None
    head_title: str | None
    head_phone: str | None
    head_mobile: str | None
    head_email: str | None
    operator_name: str | None
    operator_title: str | None
    operator_phone: str | None
    operator_mobile: str | None
    operator_email: str | None
    followers: int | None
    status: str
    registered_date: str | None
    last_review_date: str | None
    closed_date: str | None
    created_at: str
    updated_at: str

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> RegistryAccount:
        return cls(**{f: row[f] for f in _ACCOUNT_FIELDS})


@dataclass(frozen=True)
class Filing:
    """One filing (备案) about a registry account: its registration, a change or its closing."""

    id: int
    registry_id: int
    kind: str
    field: str | None
    old_value: str | None
    new_value: str | None
    filed_date: str
    note: str | None
    actor: str | None
    created_at: str

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Filing:
        return cls(**{f: row[f] for f in _FILING_FIELDS})


_ACCOUNT_FIELDS = tuple(f.name for f in fields(RegistryAccount))
_FILING_FIELDS = tuple(f.name for f in fields(Filing))


def find(store: Database, platform: str, account_id: str) -> RegistryAccount | None:
    row = store.one("SELECT * FROM registry_accounts WHERE platform = ? AND account_id = ?", [platform, account_id])
    return RegistryAccount.from_row(row) if row else None


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
                  status: str | None = None, search: str | None = None) -> list[RegistryAccount]:
    clause, params = where({"platform": platform, "unit": unit, "status": status}, search=search,
                           search_columns=("account_name", "account_id", "unit"))
    return [RegistryAccount.from_row(r) for r in
            store.query(f"SELECT * FROM registry_accounts{clause} ORDER BY tier, platform, account_name", params)]


def filings_for(store: Database, registry_id: int) -> list[Filing]:
    return [Filing.from_row(r) for r in
            store.query("SELECT * FROM filings WHERE registry_id = ? ORDER BY filed_date, id", [registry_id])]


def units(store: Database) -> list[str]:
    """Every unit that has a registered account."""
    return [r["unit"] for r in store.query("SELECT DISTINCT unit FROM registry_accounts ORDER BY unit")]


def is_empty(store: Database) -> bool:
    return not store.scalar("SELECT COUNT(*) FROM registry_accounts")
