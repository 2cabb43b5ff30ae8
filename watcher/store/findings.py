"""Findings and what hangs off them: findings, evidence, review_actions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal

import sqlite_utils

from watcher.store.db import Database, dumps, loads, utcnow, where
from watcher.store.fingerprint import fingerprint_of
from watcher.store.steps import LegacyStep, Migration, sql


def _refingerprint(db: sqlite_utils.Database) -> None:
    rows = db.execute("SELECT id, kind, title, severity, account_name, unit, details FROM findings").fetchall()
    for fid, kind, title, severity, account_name, unit, details in rows:
        parsed = loads(details, {})
        db.execute("UPDATE findings SET fingerprint = ? WHERE id = ?",
                   [fingerprint_of(kind, title, severity, account_name, unit, parsed if isinstance(parsed, dict) else {}),
                    fid])


# This module's share of the steps recorded before the store package (see watcher.store.schema).
LEGACY: dict[LegacyStep, Migration] = {
    ("core", 1): sql(
        """CREATE TABLE findings (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            severity TEXT NOT NULL DEFAULT 'warning' CHECK (severity IN ('info', 'warning', 'critical')),
            platform TEXT,
            account_id TEXT,
            account_name TEXT,
            unit TEXT,
            title TEXT NOT NULL,
            details TEXT,
            dedupe_key TEXT NOT NULL UNIQUE,
            fingerprint TEXT NOT NULL,
            revision INTEGER NOT NULL DEFAULT 1,
            status TEXT NOT NULL DEFAULT 'open',
            crawl_run_id INTEGER,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""",
        "CREATE INDEX findings_status ON findings(status, kind, unit)",
        """CREATE TABLE evidence (
            id INTEGER PRIMARY KEY,
            finding_id INTEGER REFERENCES findings(id),
            kind TEXT NOT NULL,
            url TEXT,
            path TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            content_type TEXT,
            captured_at TEXT NOT NULL
        )""",
        "CREATE INDEX evidence_finding ON evidence(finding_id)",
        """CREATE TABLE review_actions (
            id INTEGER PRIMARY KEY,
            finding_id INTEGER NOT NULL REFERENCES findings(id),
            action TEXT NOT NULL,
            comment TEXT,
            reference TEXT,
            actor TEXT NOT NULL,
            created_at TEXT NOT NULL
        )""",
    ),
    # findings' fingerprints leave out metrics and signed URLs (fingerprint.acted_on): recomputed
    # once, so the upgrade itself re-sends nothing.
    ("watch", 3): _refingerprint,
}
# This module's own steps, recorded as component "findings".
MIGRATIONS: list[Migration] = [
    # 1: sentiment findings' fingerprints leave out the model's name, the cluster's page and the
    # groups a spike carried (fingerprint.UNREVISED_DETAILS): recomputed once, so upgrading to the
    # polarity model re-sends no open incident.
    _refingerprint,
]



Severity = Literal["info", "warning", "critical"]
STATUSES = ("open", "confirmed", "false_positive", "reported", "resolved")
OPEN_STATUSES = ("open", "confirmed", "reported")


@dataclass
class FindingInput:
    kind: str
    dedupe_key: str
    title: str
    severity: Severity = "warning"
    platform: str | None = None
    account_id: str | None = None
    account_name: str | None = None
    unit: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    crawl_run_id: int | None = None


@dataclass
class Recorded:
    id: int
    created: bool
    changed: bool
    revision: int


@dataclass(frozen=True)
class Finding:
    """A recorded finding, ``details`` decoded."""

    id: int
    kind: str
    severity: Severity
    platform: str | None
    account_id: str | None
    account_name: str | None
    unit: str | None
    title: str
    details: dict[str, Any]
    dedupe_key: str
    fingerprint: str
    revision: int
    status: str
    crawl_run_id: int | None
    created_at: str
    updated_at: str

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Finding:
        details = loads(row["details"], {})
        return cls(id=row["id"], kind=row["kind"], severity=row["severity"], platform=row["platform"],
                   account_id=row["account_id"], account_name=row["account_name"], unit=row["unit"],
                   title=row["title"], details=details if isinstance(details, dict) else {},
                   dedupe_key=row["dedupe_key"], fingerprint=row["fingerprint"], revision=row["revision"],
                   status=row["status"], crawl_run_id=row["crawl_run_id"], created_at=row["created_at"],
                   updated_at=row["updated_at"])


@dataclass(frozen=True)
class Evidence:
    """A file that shows what a finding saw (a screenshot, the page, the API answer), under the
    evidence directory at ``path``."""

    id: int
    finding_id: int | None
    kind: str
    url: str | None
    path: str
    sha256: str
    content_type: str | None
    captured_at: str

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Evidence:
        return cls(**{f: row[f] for f in _EVIDENCE_FIELDS})


@dataclass(frozen=True)
class ReviewAction:
    """A reviewer's decision on a finding, as the audit trail keeps it."""

    id: int
    finding_id: int
    action: str
    comment: str | None
    reference: str | None
    actor: str
    created_at: str

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> ReviewAction:
        return cls(**{f: row[f] for f in _REVIEW_ACTION_FIELDS})


_EVIDENCE_FIELDS = tuple(f.name for f in fields(Evidence))
_REVIEW_ACTION_FIELDS = tuple(f.name for f in fields(ReviewAction))


def _findings(store: Database, sql: str, params: Any = ()) -> list[Finding]:
    return [Finding.from_row(r) for r in store.conn.execute(sql, params).fetchall()]


def fingerprint(f: FindingInput) -> str:
    return fingerprint_of(f.kind, f.title, f.severity, f.account_name, f.unit, f.details)


def record(store: Database, f: FindingInput) -> Recorded:
    """Insert or update a finding; must be called inside ``store.transaction()`` by batches,
    or alone (it opens its own)."""
    fp = fingerprint(f)
    now = utcnow()
    with store.transaction():
        row = store.one("SELECT id, fingerprint, revision, status, details FROM findings WHERE dedupe_key = ?",
                        [f.dedupe_key])
        if row is None:
            cur = store.conn.execute(
                """INSERT INTO findings (kind, severity, platform, account_id, account_name, unit, title,
                   details, dedupe_key, fingerprint, revision, status, crawl_run_id, created_at, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 'open', ?, ?, ?)""",
                [f.kind, f.severity, f.platform, f.account_id, f.account_name, f.unit, f.title,
                 dumps(f.details), f.dedupe_key, fp, f.crawl_run_id, now, now],
            )
            return Recorded(int(cur.lastrowid), True, False, 1)
        if row["fingerprint"] == fp:
            if row["details"] != dumps(f.details):  # new metrics: shown, not re-sent
                store.conn.execute("UPDATE findings SET details = ? WHERE id = ?", [dumps(f.details), row["id"]])
            return Recorded(row["id"], False, False, row["revision"])
        revision = row["revision"] + 1
        # A finding closed as resolved that comes back changed needs eyes again; a reviewer's
        # "false positive" stands until the content changes, which is exactly this case too.
        status = "open" if row["status"] in ("resolved", "false_positive") else row["status"]
        store.conn.execute(
            """UPDATE findings SET severity = ?, account_name = ?, unit = ?, title = ?, details = ?,
               fingerprint = ?, revision = ?, status = ?, crawl_run_id = ?, updated_at = ? WHERE id = ?""",
            [f.severity, f.account_name, f.unit, f.title, dumps(f.details), fp, revision, status,
             f.crawl_run_id, now, row["id"]],
        )
        return Recorded(row["id"], False, True, revision)


def get(store: Database, finding_id: int) -> Finding | None:
    found = _findings(store, "SELECT * FROM findings WHERE id = ?", [finding_id])
    return found[0] if found else None


def list_findings(
    store: Database,
    *,
    status: str | None = None,
    kind: str | None = None,
    unit: str | None = None,
    platform: str | None = None,
    search: str | None = None,
    open_only: bool = False,
    limit: int = 200,
    offset: int = 0,
) -> list[Finding]:
    open_clause = [(f"status IN ({','.join('?' * len(OPEN_STATUSES))})", list(OPEN_STATUSES))] if open_only else []
    clause, params = where({"status": status, "kind": kind, "unit": unit, "platform": platform}, search=search,
                           search_columns=("title", "account_name", "account_id"), extra=open_clause)
    sql = "SELECT * FROM findings" + clause
    sql += " ORDER BY updated_at DESC, id DESC LIMIT ? OFFSET ?"
    return _findings(store, sql, [*params, limit, offset])


def set_status(store: Database, finding_id: int, status: str, *, actor: str, action: str,
               comment: str | None = None, reference: str | None = None) -> None:
    """Change a finding's status and write the decision to the audit trail, atomically."""
    if status not in STATUSES:
        raise ValueError(f"未知状态 {status!r}")
    now = utcnow()
    with store.transaction():
        store.conn.execute("UPDATE findings SET status = ?, updated_at = ? WHERE id = ?", [status, now, finding_id])
        store.conn.execute(
            "INSERT INTO review_actions (finding_id, action, comment, reference, actor, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            [finding_id, action, comment, reference, actor, now],
        )


def open_ids(store: Database, kind: str, platform: str) -> list[int]:
    """Ids of the findings of ``kind`` about ``platform`` still waiting for a reviewer ('open')."""
    return [r["id"] for r in store.query("SELECT id FROM findings WHERE kind = ? AND platform = ? AND status = 'open'",
                                         [kind, platform])]


def made_by_scan(store: Database, request_id: int, since: str, *, except_kind: str) -> dict[str, dict[str, int]]:
    """What an on-demand scan produced, by kind: findings its own crawl runs created (``new``) or
    revised (``updated``) since it started. Findings of scheduled rounds that ran meanwhile carry
    their own runs and are not counted. A JSON-ready dict on purpose: it goes into the scan's summary."""
    out: dict[str, dict[str, int]] = {}
    for r in store.query(
            """SELECT f.kind, SUM(f.created_at >= ?) AS new, SUM(f.created_at < ? AND f.updated_at >= ?) AS updated
               FROM findings f JOIN crawl_runs r ON r.id = f.crawl_run_id
               WHERE r.scan_request_id = ? AND f.kind != ? AND f.updated_at >= ? GROUP BY f.kind""",
            [since, since, since, request_id, except_kind, since]):
        out[r["kind"]] = {"new": int(r["new"] or 0), "updated": int(r["updated"] or 0)}
    return out


# -- evidence and review actions -----------------------------------------------------------------


def add_evidence(store: Database, row: dict[str, Any]) -> None:
    with store.transaction():
        store.db["evidence"].insert(row)


def evidence_for(store: Database, finding_id: int) -> list[Evidence]:
    return [Evidence.from_row(r) for r in store.query("SELECT * FROM evidence WHERE finding_id = ? ORDER BY id",
                                                      [finding_id])]


def evidence_item(store: Database, evidence_id: int) -> Evidence | None:
    row = store.one("SELECT * FROM evidence WHERE id = ?", [evidence_id])
    return Evidence.from_row(row) if row else None


def without_evidence(store: Database, limit: int, *, except_kind: str) -> list[Finding]:
    """Open findings (not of ``except_kind``) that have no evidence yet, oldest first."""
    return _findings(store,
        f"""SELECT * FROM findings f WHERE status IN ({','.join('?' * len(OPEN_STATUSES))}) AND kind != ?
            AND NOT EXISTS (SELECT 1 FROM evidence e WHERE e.finding_id = f.id) ORDER BY id LIMIT ?""",
        [*OPEN_STATUSES, except_kind, limit])


def closed_evidence_before(store: Database, cutoff: str) -> list[Evidence]:
    """Evidence of closed findings captured before ``cutoff``."""
    return [Evidence.from_row(r) for r in store.query(
        f"""SELECT e.* FROM evidence e JOIN findings f ON f.id = e.finding_id
            WHERE f.status NOT IN ({','.join('?' * len(OPEN_STATUSES))}) AND e.captured_at < ?""",
        [*OPEN_STATUSES, cutoff])]


def delete_evidence(store: Database, evidence_id: int) -> None:
    with store.transaction():
        store.conn.execute("DELETE FROM evidence WHERE id = ?", [evidence_id])


def review_actions_for(store: Database, finding_id: int) -> list[ReviewAction]:
    return [ReviewAction.from_row(r) for r in
            store.query("SELECT * FROM review_actions WHERE finding_id = ? ORDER BY id DESC", [finding_id])]


def recent_review_actions(store: Database, limit: int = 300) -> list[ReviewAction]:
    return [ReviewAction.from_row(r) for r in store.query("SELECT * FROM review_actions ORDER BY id DESC LIMIT ?",
                                                          [limit])]


def units(store: Database) -> list[str]:
    """Every unit some finding is about."""
    return [r["unit"] for r in store.query("SELECT DISTINCT unit FROM findings WHERE unit IS NOT NULL ORDER BY unit")]


def get_many(store: Database, ids: list[int]) -> dict[int, Finding]:
    """Findings by id."""
    if not ids:
        return {}
    return {f.id: f for f in _findings(store, f"SELECT * FROM findings WHERE id IN ({','.join('?' * len(ids))})", ids)}
