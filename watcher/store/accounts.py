"""Accounts the platforms showed us: discovered accounts (accounts), which run saw them (crawl_seen), and registered accounts' profiles over time (profile_snapshots)."""

from __future__ import annotations

from watcher.store.steps import LegacyStep, Migration, sql

# This module's share of the steps recorded before the store package (see watcher.store.schema).
LEGACY: dict[LegacyStep, Migration] = {
    ("core", 1): sql(
        """CREATE TABLE accounts (
            platform TEXT NOT NULL,
            account_id TEXT NOT NULL,
            name TEXT,
            bio TEXT,
            avatar_url TEXT,
            avatar_path TEXT,
            verified INTEGER,
            verified_type TEXT,
            verified_reason TEXT,
            followers INTEGER,
            profile_url TEXT,
            keyword TEXT,
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            verdict TEXT,
            score INTEGER,
            matched TEXT,
            unit TEXT,
            reasons TEXT,
            PRIMARY KEY (platform, account_id)
        )""",
        """CREATE TABLE profile_snapshots (
            id INTEGER PRIMARY KEY,
            platform TEXT NOT NULL,
            account_id TEXT NOT NULL,
            crawl_run_id INTEGER REFERENCES crawl_runs(id),
            taken_at TEXT NOT NULL,
            name TEXT,
            bio TEXT,
            avatar_url TEXT,
            avatar_sha256 TEXT,
            verified INTEGER,
            verified_reason TEXT,
            followers INTEGER,
            following INTEGER,
            posts_count INTEGER,
            status TEXT NOT NULL DEFAULT 'ok',
            raw_sha256 TEXT
        )""",
        "CREATE INDEX snapshots_account ON profile_snapshots(platform, account_id, taken_at)",
    ),
    ("core", 2): sql(
        "ALTER TABLE accounts ADD COLUMN match_algo TEXT",
        """CREATE TABLE crawl_seen (
            crawl_run_id INTEGER,
            platform TEXT NOT NULL,
            account_id TEXT NOT NULL,
            PRIMARY KEY (crawl_run_id, platform, account_id)
        )""",
    ),
    ("core", 3): sql(
        "ALTER TABLE accounts ADD COLUMN raw TEXT",
        "ALTER TABLE profile_snapshots ADD COLUMN raw TEXT",
    ),
    ("watch", 2): sql(
        "ALTER TABLE profile_snapshots ADD COLUMN avatar_phash TEXT",
        "ALTER TABLE profile_snapshots ADD COLUMN avatar_path TEXT",
        "ALTER TABLE profile_snapshots ADD COLUMN analysed_at TEXT",
        "UPDATE profile_snapshots SET analysed_at = taken_at",
    ),
}
# This module's own steps, recorded as component "accounts".
MIGRATIONS: list[Migration] = []
