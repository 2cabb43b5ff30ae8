"""The record of rounds: crawl_rounds, crawl_runs (one per target), platform_state."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

import sqlite_utils

from spiders.base import Target
from watcher.store.db import Database, dumps, loads, utcnow
from watcher.store.steps import LegacyStep, Migration, sql

RUN_STATUSES = ("queued", "running", "ok", "partial", "blocked", "failed", "unreachable", "gone", "interrupted")


def _rounds(db: sqlite_utils.Database) -> None:
    statuses = ", ".join(f"'{s}'" for s in RUN_STATUSES)
    # SQLite cannot change a CHECK constraint: rebuild crawl_runs. profile_snapshots reference it:
    # deferring the check was not enough (dropping the table counts every reference as broken);
    # the runner now runs each step with foreign keys off and checks them before the commit.
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


DONE = ("ok", "partial", "blocked", "failed", "unreachable", "gone", "interrupted")


@dataclass(frozen=True)
class CrawlRun:
    """One target's crawl within a round (``target``: its key, e.g. an account id or a keyword),
    ``details`` decoded."""

    id: int
    platform: str
    mode: str
    target: str | None
    status: str
    reason: str | None
    items: int
    pid: int | None
    scan_request_id: int | None
    started_at: str
    finished_at: str | None
    details: dict[str, Any]
    round_id: int | None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> CrawlRun:
        return cls(**{**{f: row[f] for f in _RUN_FIELDS}, "details": _details(row["details"])})


@dataclass(frozen=True)
class CrawlRound:
    """One round: a platform crawled in one mode over a list of targets, ``details`` decoded."""

    id: int
    platform: str
    mode: str
    status: str
    reason: str | None
    targets: int
    scan_request_id: int | None
    pid: int | None
    stop_reason: str | None
    started_at: str
    finished_at: str | None
    details: dict[str, Any]

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> CrawlRound:
        return cls(**{**{f: row[f] for f in _ROUND_FIELDS}, "details": _details(row["details"])})


@dataclass(frozen=True)
class LatestRound(CrawlRound):
    """A platform's last round with its platform's cool-down, for the dashboard and the CLI."""

    cooldown_until: str | None = None
    blocked_since: str | None = None
    blocked_rounds: int | None = None
    last_ok_at: str | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> LatestRound:
        return cls(**{**{f: row[f] for f in _LATEST_FIELDS}, "details": _details(row["details"])})

    @property
    def cooling(self) -> bool:
        """Whether the platform is cooling down right now."""
        return bool(self.cooldown_until) and datetime.fromisoformat(self.cooldown_until or "") > datetime.now(UTC)


def _details(value: str | None) -> dict[str, Any]:
    parsed = loads(value, {})
    return parsed if isinstance(parsed, dict) else {}


_RUN_FIELDS = tuple(f.name for f in fields(CrawlRun))
_ROUND_FIELDS = tuple(f.name for f in fields(CrawlRound))
_LATEST_FIELDS = tuple(f.name for f in fields(LatestRound))


def open_round(store: Database, platform: str, mode: str, targets: list[Target],
               scan_request_id: int | None = None) -> tuple[int, dict[str, int]]:
    """Record a round and one queued run per target; returns the round id and key → run id."""
    now = utcnow()
    with store.transaction():
        rid = int(store.conn.execute(
            "INSERT INTO crawl_rounds (platform, mode, status, targets, scan_request_id, pid, started_at) "
            "VALUES (?, ?, 'running', ?, ?, ?, ?)",
            [platform, mode, len(targets), scan_request_id, os.getpid(), now]).lastrowid)
        runs = {}
        for t in targets:
            runs[t.key] = int(store.conn.execute(
                "INSERT INTO crawl_runs (platform, mode, target, status, pid, scan_request_id, started_at, round_id) "
                "VALUES (?, ?, ?, 'queued', ?, ?, ?, ?)",
                [platform, mode, t.key, os.getpid(), scan_request_id, now, rid]).lastrowid)
    return rid, runs


def start_run(store: Database, run_id: int) -> None:
    with store.transaction():
        store.conn.execute("UPDATE crawl_runs SET status = 'running', started_at = ? WHERE id = ? AND status = 'queued'",
                           [utcnow(), run_id])


def close_run(store: Database, run_id: int, status: str, reason: str | None = None,
              details: dict[str, Any] | None = None) -> bool:
    """Close one target's run; False when it was already closed."""
    if status not in DONE:
        raise ValueError(status)
    with store.transaction():
        cur = store.conn.execute(
            "UPDATE crawl_runs SET status = ?, reason = ?, details = ?, finished_at = ? "
            "WHERE id = ? AND status IN ('queued', 'running')",
            [status, reason, dumps(details or {}), utcnow(), run_id])
    return cur.rowcount > 0


def analysis_failed(store: Database, run_id: int, reason: str) -> bool:
    """A run that crawled completely but whose analysis failed: ``partial`` with the reason,
    never 完成. False when the run was not ``ok`` (nothing to correct; ``gone`` keeps saying so)."""
    with store.transaction():
        cur = store.conn.execute("UPDATE crawl_runs SET status = 'partial', reason = ? WHERE id = ? AND status = 'ok'",
                                 [reason, run_id])
    return cur.rowcount > 0


def close_unfinished(store: Database, round_id: int, status: str, reason: str) -> int:
    with store.transaction():
        cur = store.conn.execute(
            "UPDATE crawl_runs SET status = ?, reason = ?, finished_at = ? "
            "WHERE round_id = ? AND status IN ('queued', 'running')", [status, reason, utcnow(), round_id])
    return cur.rowcount


def get_run(store: Database, run_id: int) -> CrawlRun | None:
    row = store.one("SELECT * FROM crawl_runs WHERE id = ?", [run_id])
    return CrawlRun.from_row(row) if row else None


def round_runs(store: Database, round_id: int) -> list[CrawlRun]:
    return [CrawlRun.from_row(r) for r in store.query("SELECT * FROM crawl_runs WHERE round_id = ? ORDER BY id",
                                                      [round_id])]


def get_round(store: Database, round_id: int) -> CrawlRound | None:
    row = store.one("SELECT * FROM crawl_rounds WHERE id = ?", [round_id])
    return CrawlRound.from_row(row) if row else None


def set_stop_reason(store: Database, round_id: int, why: str) -> None:
    """Why the round is being stopped (``daemon``, ``timeout``): the crawl process reads it to word
    the runs it leaves unfinished."""
    with store.transaction():
        store.conn.execute("UPDATE crawl_rounds SET stop_reason = COALESCE(stop_reason, ?) WHERE id = ?", [why, round_id])


def progress(store: Database, round_id: int) -> tuple[int, int]:
    row = store.one("SELECT COUNT(*) AS total, SUM(status NOT IN ('queued', 'running')) AS done FROM crawl_runs "
                    "WHERE round_id = ?", [round_id]) or {}
    return int(row.get("done") or 0), int(row.get("total") or 0)


def close_round(store: Database, round_id: int, status: str, reason: str | None, details: dict[str, Any]) -> None:
    with store.transaction():
        store.conn.execute(
            "UPDATE crawl_rounds SET status = ?, reason = ?, details = ?, finished_at = ? WHERE id = ? AND status = 'running'",
            [status, reason, dumps(details), utcnow(), round_id])


def set_round_details(store: Database, round_id: int, details: dict[str, Any]) -> None:
    with store.transaction():
        store.conn.execute("UPDATE crawl_rounds SET details = ? WHERE id = ?", [dumps(details), round_id])


def last_round_started(store: Database, platform: str, mode: str) -> str | None:
    """When the last scheduled round of this kind started (on-demand scans do not count)."""
    return store.scalar("SELECT MAX(started_at) FROM crawl_rounds WHERE platform = ? AND mode = ? "
                        "AND scan_request_id IS NULL", [platform, mode])


@dataclass
class PlatformState:
    platform: str
    cooldown_until: datetime | None
    cooldown_level: int
    blocked_since: str | None
    blocked_rounds: int
    reason: str | None
    last_ok_at: str | None

    def cooling(self, now: datetime | None = None) -> bool:
        return self.cooldown_until is not None and self.cooldown_until > (now or datetime.now(UTC))


def state(store: Database, platform: str) -> PlatformState:
    row = store.one("SELECT * FROM platform_state WHERE platform = ?", [platform]) or {}
    until = row.get("cooldown_until")
    return PlatformState(platform, datetime.fromisoformat(until) if until else None, row.get("cooldown_level") or 0,
                         row.get("blocked_since"), row.get("blocked_rounds") or 0, row.get("reason"), row.get("last_ok_at"))


def upsert_state(store: Database, platform: str, **values: Any) -> None:
    values["updated_at"] = utcnow()
    cols = ", ".join(values)
    store.conn.execute(
        f"INSERT INTO platform_state (platform, {cols}) VALUES (?, {', '.join('?' * len(values))}) "
        f"ON CONFLICT(platform) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in values)}",
        [platform, *values.values()])


def latest_rounds(store: Database) -> list[LatestRound]:
    """The last round of every platform, with its platform's cool-down columns."""
    return [LatestRound.from_row(r) for r in store.query(
        """SELECT r.*, s.cooldown_until, s.blocked_since, s.blocked_rounds, s.last_ok_at
           FROM crawl_rounds r JOIN (SELECT platform, MAX(id) AS id FROM crawl_rounds GROUP BY platform) m ON m.id = r.id
           LEFT JOIN platform_state s ON s.platform = r.platform ORDER BY r.platform""")]


@dataclass(frozen=True)
class RunningRound:
    id: int
    pid: int | None
    scan_request_id: int | None


def running_rounds(store: Database) -> list[RunningRound]:
    return [RunningRound(r["id"], r["pid"], r["scan_request_id"])
            for r in store.query("SELECT id, pid, scan_request_id FROM crawl_rounds WHERE status = 'running'")]


def last_finished_round(store: Database, platform: str, mode: str) -> CrawlRound | None:
    """The last scheduled round of this kind on the platform that has ended."""
    row = store.one("SELECT * FROM crawl_rounds WHERE platform = ? AND mode = ? AND status != 'running' "
                    "AND scan_request_id IS NULL ORDER BY id DESC LIMIT 1", [platform, mode])
    return CrawlRound.from_row(row) if row else None


def running_round(store: Database, platform: str, mode: str) -> CrawlRound | None:
    """The scheduled round of this kind in progress on the platform, if any."""
    row = store.one("SELECT * FROM crawl_rounds WHERE platform = ? AND mode = ? AND status = 'running' "
                    "AND scan_request_id IS NULL ORDER BY id DESC LIMIT 1", [platform, mode])
    return CrawlRound.from_row(row) if row else None


def add_items(store: Database, run_id: int, n: int) -> None:
    store.conn.execute("UPDATE crawl_runs SET items = items + ? WHERE id = ?", [n, run_id])
