"""Alerting: which finding revisions were planned (alert_plans) and each message to send (deliveries)."""

from __future__ import annotations

from watcher.store.steps import LegacyStep, Migration, sql

# This module's share of the steps recorded before the store package (see watcher.store.schema).
LEGACY: dict[LegacyStep, Migration] = {
    ("core", 1): sql(
        """CREATE TABLE deliveries (
            id INTEGER PRIMARY KEY,
            finding_id INTEGER REFERENCES findings(id),
            revision INTEGER NOT NULL DEFAULT 1,
            unit TEXT NOT NULL,
            channel TEXT NOT NULL,
            dedupe_key TEXT NOT NULL UNIQUE,
            status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed', 'suppressed')),
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            next_attempt_at TEXT,
            created_at TEXT NOT NULL,
            sent_at TEXT
        )""",
        "CREATE INDEX deliveries_status ON deliveries(status, next_attempt_at)",
    ),
    ("alerts", 1): sql(
        """CREATE TABLE alert_plans (
            finding_id INTEGER NOT NULL REFERENCES findings(id),
            revision INTEGER NOT NULL,
            planned_at TEXT NOT NULL,
            route TEXT,
            PRIMARY KEY (finding_id, revision)
        )""",
        "ALTER TABLE deliveries ADD COLUMN role TEXT",
        "ALTER TABLE deliveries ADD COLUMN purpose TEXT NOT NULL DEFAULT 'immediate'",
        "ALTER TABLE deliveries ADD COLUMN confirmation TEXT",
        "CREATE INDEX deliveries_channel_sent ON deliveries(channel, status, sent_at)",
    ),
    ("alerts", 2): sql(
        """CREATE TABLE deliveries_new (
            id INTEGER PRIMARY KEY,
            finding_id INTEGER REFERENCES findings(id),
            revision INTEGER NOT NULL DEFAULT 1,
            unit TEXT NOT NULL,
            channel TEXT NOT NULL,
            dedupe_key TEXT NOT NULL UNIQUE,
            status TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'suppressed')),
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            next_attempt_at TEXT,
            created_at TEXT NOT NULL,
            sent_at TEXT,
            role TEXT,
            purpose TEXT NOT NULL DEFAULT 'immediate',
            confirmation TEXT,
            claimed_by TEXT,
            claimed_at TEXT
        )""",
        """INSERT INTO deliveries_new (id, finding_id, revision, unit, channel, dedupe_key, status, attempts,
               last_error, next_attempt_at, created_at, sent_at, role, purpose, confirmation)
           SELECT id, finding_id, revision, unit, channel, dedupe_key, status, attempts, last_error,
               next_attempt_at, created_at, sent_at, role, purpose, confirmation FROM deliveries""",
        "DROP TABLE deliveries",
        "ALTER TABLE deliveries_new RENAME TO deliveries",
        "CREATE INDEX deliveries_status ON deliveries(status, next_attempt_at)",
        "CREATE INDEX deliveries_channel_sent ON deliveries(channel, status, sent_at)",
    ),
}
# This module's own steps, recorded as component "deliveries".
MIGRATIONS: list[Migration] = []
