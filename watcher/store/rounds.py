"""The record of rounds: crawl_rounds, crawl_runs (one per target), platform_state."""

from __future__ import annotations

import sqlite_utils

from watcher.store.steps import LegacyStep, Migration, sql

RUN_STATUSES = ("queued", "running", "ok", "partial", "blocked", "failed", "unreachable", "gone", "interrupted")


def _rounds(db: sqlite_utils.Database) -> None:
    statuses = ", ".join(f"'{s}'" for s in RUN_STATUSES)
    # SQLite cannot change a CHECK constraint: rebuild crawl_runs. Findings reference it, so the
    # foreign-key check waits for the end of the transaction, when the new table is in place.
    db.execute("PRAGMA defer_foreign_keys = ON")
    db.execute(f"""CREATE TABLE crawl_runs_new (
            id INTEGER PRIMARY KEY,
            platform TEXT NOT NULL,
            mode TEXT NOT NULL,
            target TEXT,
            status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ({statuses})),
            reason TEXT,
            items INTEGER NOT NULL DEFAULT 0,
            pid INTEGER,
            scan_request_id INTEGER,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            details TEXT,
            round_id INTEGER
        )""")
    db.execute("""INSERT INTO crawl_runs_new (id, platform, mode, target, status, reason, items, pid, scan_request_id,
                  started_at, finished_at, details)
                  SELECT id, platform, mode, target, status, reason, items, pid, scan_request_id, started_at,
                  finished_at, details FROM crawl_runs""")
    db.execute("DROP TABLE crawl_runs")
    db.execute("ALTER TABLE crawl_runs_new RENAME TO crawl_runs")
    db.execute("CREATE INDEX crawl_runs_platform ON crawl_runs(platform, started_at)")
    db.execute("CREATE INDEX crawl_runs_round ON crawl_runs(round_id)")
    db.execute("CREATE INDEX crawl_runs_target ON crawl_runs(platform, target, mode, status)")
    db.execute(f"""CREATE TABLE crawl_rounds (
            id INTEGER PRIMARY KEY,
            platform TEXT NOT NULL,
            mode TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'running' CHECK (status IN ({statuses})),
            reason TEXT,
            targets INTEGER NOT NULL DEFAULT 0,
            scan_request_id INTEGER,
            pid INTEGER,
            stop_reason TEXT,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            details TEXT
        )""")
    db.execute("CREATE INDEX crawl_rounds_platform ON crawl_rounds(platform, mode, started_at)")
    db.execute("""CREATE TABLE platform_state (
            platform TEXT PRIMARY KEY,
            cooldown_until TEXT,
            cooldown_level INTEGER NOT NULL DEFAULT 0,
            blocked_since TEXT,
            blocked_rounds INTEGER NOT NULL DEFAULT 0,
            reason TEXT,
            finding_id INTEGER,
            last_ok_at TEXT,
            last_round_id INTEGER,
            updated_at TEXT
        )""")


# This module's share of the steps recorded before the store package (see watcher.store.schema).
LEGACY: dict[LegacyStep, Migration] = {
    ("core", 1): sql(
        """CREATE TABLE crawl_runs (
            id INTEGER PRIMARY KEY,
            platform TEXT NOT NULL,
            mode TEXT NOT NULL,
            target TEXT,
            status TEXT NOT NULL DEFAULT 'running'
                CHECK (status IN ('running', 'ok', 'partial', 'blocked', 'failed')),
            reason TEXT,
            items INTEGER NOT NULL DEFAULT 0,
            pid INTEGER,
            scan_request_id INTEGER,
            started_at TEXT NOT NULL,
            finished_at TEXT
        )""",
        "CREATE INDEX crawl_runs_platform ON crawl_runs(platform, started_at)",
    ),
    ("core", 2): sql(
        "ALTER TABLE crawl_runs ADD COLUMN details TEXT",
    ),
    # A round crawls many targets of one platform in one process; each target keeps its own run
    # with an honest status (a run cut short is 'interrupted', a network failure 'unreachable',
    # never 'ok'); a platform that refused us cools down.
    ("core", 4): _rounds,
}
# This module's own steps, recorded as component "rounds".
MIGRATIONS: list[Migration] = []
