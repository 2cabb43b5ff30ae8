"""Reviewers and what they did: users (with session epochs), login_throttle, audit_log."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from watcher.store.db import Database, dumps, utcnow
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


@dataclass(frozen=True)
class UserRow:
    username: str
    password_hash: str
    role: str
    unit: str | None
    disabled: bool
    session_epoch: int
    created_at: str


def _user(row: dict[str, Any]) -> UserRow:
    return UserRow(row["username"], row["password_hash"], row["role"], row["unit"], bool(row["disabled"]),
                   row["session_epoch"], row["created_at"])


def get(store: Database, username: str) -> UserRow | None:
    row = store.one("SELECT * FROM users WHERE username = ?", [username])
    return _user(row) if row else None


def enabled(store: Database, username: str) -> UserRow | None:
    row = store.one("SELECT * FROM users WHERE username = ? AND disabled = 0", [username])
    return _user(row) if row else None


def all_users(store: Database) -> list[UserRow]:
    return [_user(r) for r in store.query("SELECT * FROM users ORDER BY username")]


def insert(store: Database, username: str, password_hash: str, role: str, unit: str | None) -> None:
    with store.transaction():
        store.conn.execute("INSERT INTO users (username, password_hash, role, unit, created_at) VALUES (?, ?, ?, ?, ?)",
                           [username, password_hash, role, unit, utcnow()])


def update(store: Database, username: str, **values: Any) -> bool:
    """Change columns of a user (names from code) and end all their sessions (bump the epoch);
    False when there is no such user."""
    assignments = ", ".join(f"{col} = ?" for col in values)
    with store.transaction():
        cur = store.conn.execute(
            f"UPDATE users SET {assignments}, session_epoch = session_epoch + 1 WHERE username = ?",
            [*values.values(), username])
    return cur.rowcount > 0


def end_sessions(store: Database, username: str) -> None:
    with store.transaction():
        store.conn.execute("UPDATE users SET session_epoch = session_epoch + 1 WHERE username = ?", [username])


# -- login throttle ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Throttle:
    failures: int
    window_start: str
    locked_until: str | None


def throttle(store: Database, scope: str, key: str) -> Throttle | None:
    row = store.one("SELECT failures, window_start, locked_until FROM login_throttle WHERE scope = ? AND key = ?",
                    [scope, key])
    return Throttle(row["failures"], row["window_start"], row["locked_until"]) if row else None


def set_throttle(store: Database, scope: str, key: str, t: Throttle) -> None:
    store.conn.execute(
        """INSERT INTO login_throttle (scope, key, failures, window_start, locked_until) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT(scope, key) DO UPDATE SET failures = excluded.failures, window_start = excluded.window_start,
           locked_until = excluded.locked_until""",
        [scope, key, t.failures, t.window_start, t.locked_until])


def clear_throttle(store: Database, scope: str, key: str) -> None:
    store.conn.execute("DELETE FROM login_throttle WHERE scope = ? AND key = ?", [scope, key])


# -- audit log ----------------------------------------------------------------------------------------


def audit(store: Database, actor: str, action: str, target: str | None = None, details: Any = None) -> None:
    with store.transaction():
        store.conn.execute("INSERT INTO audit_log (actor, action, target, details, created_at) VALUES (?, ?, ?, ?, ?)",
                           [actor, action, target, dumps(details) if details is not None else None, utcnow()])


@dataclass(frozen=True)
class AuditEntry:
    """One line of the audit trail; ``details`` stays the JSON text as written (the 操作记录
    page shows it verbatim)."""

    id: int
    actor: str
    action: str
    target: str | None
    details: str | None
    created_at: str


def recent_audit(store: Database, limit: int = 300) -> list[AuditEntry]:
    return [AuditEntry(**r) for r in store.query(
        "SELECT id, actor, action, target, details, created_at FROM audit_log ORDER BY id DESC LIMIT ?", [limit])]


def any_user(store: Database) -> bool:
    return store.scalar("SELECT EXISTS (SELECT 1 FROM users)") == 1
