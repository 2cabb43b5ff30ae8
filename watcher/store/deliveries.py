"""Alerting: which finding revisions were planned (alert_plans) and each message to send (deliveries)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from watcher.store.db import Database
from watcher.store.findings import Finding
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


@dataclass(frozen=True)
class Delivery:
    """One alert to one channel of one unit about one revision of a finding (``channel``: the
    unit's id and the channel's place, see alerts.dispatch.channel_key)."""

    id: int
    finding_id: int | None
    revision: int | None
    unit: str
    channel: str
    dedupe_key: str
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: str | None
    created_at: str
    sent_at: str | None
    role: str | None
    purpose: str | None
    confirmation: str | None
    claimed_by: str | None
    claimed_at: str | None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Delivery:
        return cls(**{f: row[f] for f in _DELIVERY_FIELDS})


@dataclass(frozen=True)
class UnfinishedDelivery:
    """A delivery pending, being sent or failed, as ``watcher alerts status`` lists it, with its
    finding's title (None: no finding)."""

    id: int
    finding_id: int | None
    unit: str
    channel: str
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: str | None
    title: str | None


_DELIVERY_FIELDS = tuple(f.name for f in fields(Delivery))


def for_finding(store: Database, finding_id: int) -> list[Delivery]:
    """What was sent (or not) about one finding."""
    return [Delivery.from_row(r) for r in store.query("SELECT * FROM deliveries WHERE finding_id = ? ORDER BY id",
                                                      [finding_id])]


# -- planning ------------------------------------------------------------------------------------


def unplanned(store: Database, statuses: tuple[str, ...]) -> list[Finding]:
    """Findings in ``statuses`` whose current revision has no plan yet."""
    return [Finding.from_row(r) for r in store.query(
        f"""SELECT f.* FROM findings f LEFT JOIN alert_plans p ON p.finding_id = f.id AND p.revision = f.revision
            WHERE p.finding_id IS NULL AND f.status IN ({','.join('?' * len(statuses))})""",
        list(statuses),
    )]


def add_plan(store: Database, finding_id: int, revision: int, planned_at: str, route: str) -> None:
    store.conn.execute("INSERT OR IGNORE INTO alert_plans (finding_id, revision, planned_at, route) VALUES (?, ?, ?, ?)",
                       [finding_id, revision, planned_at, route])


def add(store: Database, *, finding_id: int, revision: int, unit: str, channel: str, dedupe_key: str,
        next_attempt_at: str, created_at: str, role: str | None, purpose: str) -> int:
    """A pending delivery, unless one with ``dedupe_key`` exists; returns 1 if added, else 0."""
    cur = store.conn.execute(
        """INSERT OR IGNORE INTO deliveries (finding_id, revision, unit, channel, dedupe_key, status, attempts,
           next_attempt_at, created_at, role, purpose) VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?, ?)""",
        [finding_id, revision, unit, channel, dedupe_key, next_attempt_at, created_at, role, purpose],
    )
    return cur.rowcount


def open_without_escalation(store: Database, created_before: str) -> list[Finding]:
    """Findings still 'open' that were created before ``created_before`` and were never escalated."""
    return [Finding.from_row(r) for r in store.query(
        """SELECT f.* FROM findings f WHERE f.status = 'open' AND f.created_at <= ?
           AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.finding_id = f.id AND d.purpose = 'escalation')""",
        [created_before],
    )]


# -- sending: claim, then record the outcome --------------------------------------------------------


def sent_since(store: Database, channel: str, since: str) -> int:
    return store.scalar("SELECT COUNT(*) FROM deliveries WHERE channel = ? AND status = 'sent' AND sent_at > ?",
                        [channel, since]) or 0


def requeue_claimed_before(store: Database, before: str, error: str) -> int:
    """Claims taken before ``before`` go back to pending; returns how many."""
    with store.transaction():
        cur = store.conn.execute(
            """UPDATE deliveries SET status = 'pending', claimed_by = NULL, claimed_at = NULL,
               last_error = ? WHERE status = 'sending' AND claimed_at <= ?""", [error, before])
    return cur.rowcount


def claim_due(store: Database, token: str, now: str) -> list[Delivery]:
    """One UPDATE moves every due pending delivery to 'sending' under ``token``; returns them."""
    with store.transaction():
        store.conn.execute(
            """UPDATE deliveries SET status = 'sending', claimed_by = ?, claimed_at = ?
               WHERE status = 'pending' AND next_attempt_at <= ?""", [token, now, now])
    return [Delivery.from_row(r) for r in
            store.query("SELECT * FROM deliveries WHERE status = 'sending' AND claimed_by = ? ORDER BY id", [token])]


def release(store: Database, token: str, ids: list[int], **values: Any) -> None:
    """Leave 'sending' with ``values`` (column names from code), only where ``token`` still
    holds the claim."""
    sets = ", ".join(f"{k} = ?" for k in values)
    with store.transaction():
        for i in ids:
            store.conn.execute(
                f"UPDATE deliveries SET {sets}, claimed_by = NULL, claimed_at = NULL "
                "WHERE id = ? AND status = 'sending' AND claimed_by = ?", [*values.values(), i, token])


def mark_sent(store: Database, token: str, ids: list[int], sent_at: str, confirmation: str) -> None:
    with store.transaction():
        for i in ids:
            store.conn.execute(
                """UPDATE deliveries SET status = 'sent', attempts = attempts + 1, sent_at = ?, confirmation = ?,
                   last_error = NULL, claimed_by = NULL, claimed_at = NULL WHERE id = ? AND claimed_by = ?""",
                [sent_at, confirmation, i, token],
            )


def mark_failed_attempt(store: Database, token: str, delivery_id: int, *, attempts: int, error: str, status: str,
                        next_attempt_at: str) -> None:
    store.conn.execute(
        """UPDATE deliveries SET attempts = ?, last_error = ?, status = ?, next_attempt_at = ?,
           claimed_by = NULL, claimed_at = NULL WHERE id = ? AND claimed_by = ?""",
        [attempts, error, status, next_attempt_at, delivery_id, token],
    )


# -- status ------------------------------------------------------------------------------------------


def counts(store: Database) -> dict[str, int]:
    """How many deliveries there are in each status (status → count)."""
    return {r["status"]: r["n"] for r in store.query("SELECT status, COUNT(*) AS n FROM deliveries GROUP BY status")}


def unfinished(store: Database, limit: int = 200) -> list[UnfinishedDelivery]:
    """Deliveries pending, being sent or failed, with their finding's title."""
    return [UnfinishedDelivery(**r) for r in store.query(
        """SELECT d.id, d.finding_id, d.unit, d.channel, d.status, d.attempts, d.last_error, d.next_attempt_at, f.title
           FROM deliveries d LEFT JOIN findings f ON f.id = d.finding_id
           WHERE d.status IN ('pending', 'sending', 'failed') ORDER BY d.status, d.next_attempt_at LIMIT ?""", [limit])]
