"""The registry (备案台账) of approved accounts and its filings (变更备案): tables registry_accounts, filings."""

from __future__ import annotations

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
