"""Takedown cases: a finding reported to its platform, followed until the platform removes the
account (``takedown_cases``), and what happened on the way (``takedown_events``).

A case opens when a reviewer marks an impersonation finding 已向平台举报; each watch round of its
platform re-checks the account; the case closes as ``removed`` (已下架) when the platform says the
account is gone, or it was renamed away from the school's names. A case is never reopened in
place: an account that comes back under a new name gets a new case pointing at the old one
(``previous_id``), so the time to removal of the first report stays what it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from watcher.store.db import Database, utcnow, where
from watcher.store.steps import Migration, sql

MIGRATIONS: list[Migration] = [
    sql(
        """CREATE TABLE takedown_cases (
            id INTEGER PRIMARY KEY,
            finding_id INTEGER NOT NULL REFERENCES findings(id),
            platform TEXT NOT NULL,
            account_id TEXT NOT NULL,
            account_name TEXT,
            unit TEXT,
            reference TEXT,
            reported_by TEXT NOT NULL,
            reported_at TEXT NOT NULL,
            deadline TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'removed', 'withdrawn')),
            outcome TEXT CHECK (outcome IN ('gone', 'renamed')),
            outcome_name TEXT,
            removed_at TEXT,
            hours_to_removal REAL,
            checks INTEGER NOT NULL DEFAULT 0,
            last_checked_at TEXT,
            last_check TEXT,
            reminded_at TEXT,
            previous_id INTEGER REFERENCES takedown_cases(id)
        )""",
        # One open case per finding: a second 已举报 (a new reference number) updates it.
        "CREATE UNIQUE INDEX takedown_cases_open ON takedown_cases(finding_id) WHERE status = 'open'",
        "CREATE INDEX takedown_cases_account ON takedown_cases(platform, account_id, status)",
        """CREATE TABLE takedown_events (
            id INTEGER PRIMARY KEY,
            case_id INTEGER NOT NULL REFERENCES takedown_cases(id),
            at TEXT NOT NULL,
            kind TEXT NOT NULL,
            note TEXT,
            run_id INTEGER
        )""",
        "CREATE INDEX takedown_events_case ON takedown_events(case_id)",
    ),
]

CASE_STATUSES = {"open": "已举报，待下架", "removed": "已下架", "withdrawn": "已撤销"}
# A reviewer closed the finding otherwise (误报, or 已解决 by hand): its case is no longer followed.
WITHDRAWN_BY = ("false_positive", "resolved")
OUTCOMES = {"gone": "账号已不存在（删除、封禁或注销）", "renamed": "已改名，不再使用本校名称"}


@dataclass(frozen=True)
class Case:
    id: int
    finding_id: int
    platform: str
    account_id: str
    account_name: str | None
    unit: str | None
    reference: str | None
    reported_by: str
    reported_at: str
    deadline: str
    status: str
    outcome: str | None
    outcome_name: str | None
    removed_at: str | None
    hours_to_removal: float | None
    checks: int
    last_checked_at: str | None
    last_check: str | None
    reminded_at: str | None
    previous_id: int | None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Case:
        return cls(**{f: row[f] for f in _CASE_FIELDS})


@dataclass(frozen=True)
class Event:
    id: int
    case_id: int
    at: str
    kind: str
    note: str | None
    run_id: int | None


_CASE_FIELDS = tuple(f.name for f in fields(Case))


def _cases(store: Database, sql_text: str, params: Any = ()) -> list[Case]:
    return [Case.from_row(r) for r in store.query(sql_text, params)]


def _event(store: Database, case_id: int, kind: str, note: str | None, run_id: int | None = None,
           at: str | None = None) -> None:
    store.conn.execute("INSERT INTO takedown_events (case_id, at, kind, note, run_id) VALUES (?, ?, ?, ?, ?)",
                       [case_id, at or utcnow(), kind, note, run_id])


def open_case(store: Database, *, finding_id: int, platform: str, account_id: str, account_name: str | None,
              unit: str | None, reference: str | None, actor: str, deadline: str, reported_at: str | None = None,
              previous_id: int | None = None) -> tuple[int, bool]:
    """The finding's open case, created if there is none: (id, created). A second report of the
    same finding (a new reference) is an event of the case it already has."""
    now = reported_at or utcnow()
    with store.transaction():
        row = store.one("SELECT id FROM takedown_cases WHERE finding_id = ? AND status = 'open'", [finding_id])
        if row is not None:
            if reference:
                store.conn.execute("UPDATE takedown_cases SET reference = ? WHERE id = ?", [reference, row["id"]])
            _event(store, row["id"], "reported_again", f"{actor} 再次举报" + (f"，编号 {reference}" if reference else ""))
            return row["id"], False
        cur = store.conn.execute(
            """INSERT INTO takedown_cases (finding_id, platform, account_id, account_name, unit, reference,
               reported_by, reported_at, deadline, previous_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [finding_id, platform, account_id, account_name, unit, reference, actor, now, deadline, previous_id])
        case_id = int(cur.lastrowid)
        _event(store, case_id, "reopened" if previous_id else "reported",
               (f"该账号曾于案件 #{previous_id} 下架后以新名称「{account_name}」再次出现" if previous_id
                else f"{actor} 已向平台举报" + (f"，编号 {reference}" if reference else "")), at=now)
        return case_id, True


def get(store: Database, case_id: int) -> Case | None:
    found = _cases(store, "SELECT * FROM takedown_cases WHERE id = ?", [case_id])
    return found[0] if found else None


def for_finding(store: Database, finding_id: int) -> list[Case]:
    return _cases(store, "SELECT * FROM takedown_cases WHERE finding_id = ? ORDER BY id DESC", [finding_id])


def list_cases(store: Database, *, status: str | None = None, unit: str | None = None,
               platform: str | None = None, limit: int = 1000) -> list[Case]:
    clause, params = where({"status": status, "unit": unit, "platform": platform})
    return _cases(store, f"SELECT * FROM takedown_cases{clause} ORDER BY reported_at DESC, id DESC LIMIT ?",
                  [*params, limit])


def open_accounts(store: Database, platform: str) -> list[str]:
    """The accounts of ``platform`` with an open case still standing (its finding not closed by a
    reviewer meanwhile): what its watch round re-checks."""
    return [r["account_id"] for r in store.query(
        f"""SELECT DISTINCT c.account_id FROM takedown_cases c JOIN findings f ON f.id = c.finding_id
            WHERE c.platform = ? AND c.status = 'open' AND f.status NOT IN ({','.join('?' * len(WITHDRAWN_BY))})
            ORDER BY c.account_id""", [platform, *WITHDRAWN_BY])]


def withdraw_closed(store: Database) -> list[int]:
    """Withdraw the open cases whose finding a reviewer closed otherwise (误报, 已解决 by hand)."""
    marks = ",".join("?" * len(WITHDRAWN_BY))
    with store.transaction():
        ids = [r["id"] for r in store.query(
            f"""SELECT c.id FROM takedown_cases c JOIN findings f ON f.id = c.finding_id
                WHERE c.status = 'open' AND f.status IN ({marks}) ORDER BY c.id""", list(WITHDRAWN_BY))]
        for case_id in ids:
            store.conn.execute("UPDATE takedown_cases SET status = 'withdrawn' WHERE id = ?", [case_id])
            _event(store, case_id, "withdrawn", "复核员已将该发现另行关闭（误报或已解决），不再跟踪")
    return ids


def open_for_account(store: Database, platform: str, account_id: str) -> list[Case]:
    return _cases(store, "SELECT * FROM takedown_cases WHERE platform = ? AND account_id = ? AND status = 'open'",
                  [platform, account_id])


def checked(store: Database, case_id: int, note: str, *, run_id: int | None, at: str | None = None) -> None:
    """The platform answered and the account is still there (``note``: what it showed)."""
    now = at or utcnow()
    with store.transaction():
        store.conn.execute("UPDATE takedown_cases SET checks = checks + 1, last_checked_at = ?, last_check = ? "
                           "WHERE id = ?", [now, note, case_id])
        _event(store, case_id, "checked", note, run_id, at=now)


def close_removed(store: Database, case_id: int, *, outcome: str, name: str | None, removed_at: str,
                  hours: float, note: str, run_id: int | None) -> bool:
    """Close an open case as 已下架; False when it was closed already (a round analysed twice)."""
    with store.transaction():
        cur = store.conn.execute(
            """UPDATE takedown_cases SET status = 'removed', outcome = ?, outcome_name = ?, removed_at = ?,
               hours_to_removal = ?, checks = checks + 1, last_checked_at = ?, last_check = ?
               WHERE id = ? AND status = 'open'""",
            [outcome, name, removed_at, hours, removed_at, note, case_id])
        if cur.rowcount:
            _event(store, case_id, "removed", note, run_id, at=removed_at)
        return bool(cur.rowcount)


def due_reminders(store: Database, today: str) -> list[Case]:
    """Open cases whose deadline (a local date) is before ``today`` and not reminded yet."""
    return _cases(store, f"""SELECT c.* FROM takedown_cases c JOIN findings f ON f.id = c.finding_id
                             WHERE c.status = 'open' AND c.deadline < ? AND c.reminded_at IS NULL
                             AND f.status NOT IN ({','.join('?' * len(WITHDRAWN_BY))}) ORDER BY c.id""",
                  [today, *WITHDRAWN_BY])


def mark_reminded(store: Database, case_id: int, note: str) -> bool:
    """Record the reminder; False when another process recorded it first (it is sent once)."""
    now = utcnow()
    with store.transaction():
        cur = store.conn.execute("UPDATE takedown_cases SET reminded_at = ? WHERE id = ? AND reminded_at IS NULL",
                                 [now, case_id])
        if cur.rowcount:
            _event(store, case_id, "reminded", note, at=now)
        return bool(cur.rowcount)


def reappeared(store: Database) -> list[dict[str, Any]]:
    """Removed cases whose finding the discovery recorded again since, under another name (the
    account is back impersonating us; a reviewer's mere 重新打开 keeps the name and is not this),
    and that no later case follows yet: the case and the finding's current name."""
    return store.query(
        """SELECT c.id AS case_id, f.id AS finding_id, f.account_name, f.updated_at FROM takedown_cases c
           JOIN findings f ON f.id = c.finding_id
           WHERE c.status = 'removed' AND f.status = 'open' AND f.updated_at >= c.removed_at
             AND f.account_name IS NOT c.account_name
             AND NOT EXISTS (SELECT 1 FROM takedown_cases n WHERE n.previous_id = c.id)
             AND NOT EXISTS (SELECT 1 FROM takedown_cases o WHERE o.finding_id = c.finding_id AND o.status = 'open')
           ORDER BY c.id""")


def events_for(store: Database, case_id: int) -> list[Event]:
    return [Event(**r) for r in store.query("SELECT * FROM takedown_events WHERE case_id = ? ORDER BY at, id",
                                            [case_id])]


def figures_rows(store: Database, *, unit: str | None = None) -> list[dict[str, Any]]:
    """What the figures are computed from: every case's platform, report and removal."""
    clause, params = where({"unit": unit})
    return store.query(f"SELECT platform, reported_at, removed_at, hours_to_removal, status FROM takedown_cases{clause}",
                       params)
