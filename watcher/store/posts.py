"""Posts of watched accounts: posts (with the pending state of a missing post), post_versions, post_checks."""

from __future__ import annotations

from watcher.store.steps import LegacyStep, Migration, sql

# This module's share of the steps recorded before the store package (see watcher.store.schema).
LEGACY: dict[LegacyStep, Migration] = {
    ("core", 1): sql(
        """CREATE TABLE posts (
            platform TEXT NOT NULL,
            post_id TEXT NOT NULL,
            account_id TEXT NOT NULL,
            text TEXT,
            created_at TEXT,
            reposts INTEGER, comments INTEGER, likes INTEGER,
            url TEXT,
            text_sha256 TEXT,
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            last_crawl_run_id INTEGER,
            status TEXT NOT NULL DEFAULT 'live',
            PRIMARY KEY (platform, post_id)
        )""",
        "CREATE INDEX posts_account ON posts(platform, account_id, created_at)",
        """CREATE TABLE post_versions (
            id INTEGER PRIMARY KEY,
            platform TEXT NOT NULL,
            post_id TEXT NOT NULL,
            seen_at TEXT NOT NULL,
            text TEXT,
            text_sha256 TEXT NOT NULL,
            UNIQUE (platform, post_id, text_sha256)
        )""",
    ),
    ("core", 2): sql(
        """CREATE TABLE post_checks (
            id INTEGER PRIMARY KEY,
            platform TEXT NOT NULL,
            account_id TEXT NOT NULL,
            post_id TEXT NOT NULL,
            crawl_run_id INTEGER,
            checked_at TEXT NOT NULL,
            exists_flag INTEGER,
            reason TEXT
        )""",
    ),
    ("core", 3): sql(
        "ALTER TABLE posts ADD COLUMN raw TEXT",
    ),
    ("watch", 2): sql(
        "ALTER TABLE posts ADD COLUMN seen_rank INTEGER",
        "ALTER TABLE posts ADD COLUMN missing_since TEXT",
        "ALTER TABLE posts ADD COLUMN next_check_at TEXT",
        "ALTER TABLE posts ADD COLUMN check_attempts INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE posts ADD COLUMN last_check_at TEXT",
        "ALTER TABLE posts ADD COLUMN last_check_reason TEXT",
        "ALTER TABLE posts ADD COLUMN present_checked_at TEXT",
        "UPDATE posts SET present_checked_at = last_seen",
        "CREATE INDEX posts_last_run ON posts(last_crawl_run_id, seen_rank)",
        "CREATE INDEX posts_pending ON posts(platform, account_id, status, next_check_at)",
        "ALTER TABLE post_versions ADD COLUMN reported_at TEXT",
        "UPDATE post_versions SET reported_at = seen_at",
    ),
}
# This module's own steps, recorded as component "posts".
MIGRATIONS: list[Migration] = []
