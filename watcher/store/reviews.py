"""Annual review (年审) status of registered accounts, and the reminders sent about it.

One row per registered account and year holds the current status; every change is also kept in
``annual_review_history`` so a status set by mistake can be traced (who, when, from what).
Reminder mails are recorded in ``review_reminders`` so a restarted daemon never sends the same
reminder twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import sqlite_utils

from watcher.timefmt import local_today  # dates people read: the configured zone's, not the server's

if TYPE_CHECKING:  # the schema runner imports this module's migrations while the store loads
    from watcher.store import Store


def utcnow() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()

# code → what people read; the order is the workflow's.
REVIEW_STATUSES: dict[str, str] = {
    "pending": "未提交",
    "submitted": "已提交",
    "passed": "合格",
    "failed": "不合格",
    "rectify": "限期整改",
}
# A unit that did not submit, or whose account failed, is marked on the public page (北理工 art. 14).
FLAGGED = ("pending", "failed", "rectify")


class ReviewError(ValueError):
    """A review status that cannot be recorded as given (message is for the user)."""


def parse_status(text: str | None) -> str:
    """A status from its code or its Chinese label (未提交/已提交/合格/不合格/限期整改)."""
    s = (text or "").strip()
    for code, label in REVIEW_STATUSES.items():
        if s.lower() == code or s == label:
            return code
    raise ReviewError(f"年审状态 {text!r} 无法识别，应为 {'/'.join(REVIEW_STATUSES.values())}")


def parse_year(value: object) -> int:
    try:
        year = int(str(value).strip().removesuffix(".0").removesuffix("年"))
    except ValueError:
        raise ReviewError(f"年审年度 {value!r} 应为四位年份，如 2026") from None
    if not 2000 <= year <= 2100:
        raise ReviewError(f"年审年度 {year} 超出范围（2000–2100）")
    return year


@dataclass(frozen=True)
class Review:
    registry_id: int
    year: int
    status: str
    reviewed_date: str | None
    note: str | None
    actor: str | None
    updated_at: str

    @property
    def label(self) -> str:
        return REVIEW_STATUSES[self.status]


def _migration_1(db: sqlite_utils.Database) -> None:
    statuses = ", ".join(f"'{s}'" for s in REVIEW_STATUSES)
    db.execute(f"""CREATE TABLE annual_reviews (
            registry_id INTEGER NOT NULL REFERENCES registry_accounts(id),
            year INTEGER NOT NULL,
            status TEXT NOT NULL CHECK (status IN ({statuses})),
            reviewed_date TEXT,
            note TEXT,
            actor TEXT,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (registry_id, year)
        )""")
    db.execute("""CREATE TABLE annual_review_history (
            id INTEGER PRIMARY KEY,
            registry_id INTEGER NOT NULL REFERENCES registry_accounts(id),
            year INTEGER NOT NULL,
            old_status TEXT,
            new_status TEXT NOT NULL,
            reviewed_date TEXT,
            note TEXT,
            actor TEXT,
            created_at TEXT NOT NULL
        )""")
    db.execute("""CREATE TABLE review_reminders (
            kind TEXT NOT NULL,
            unit TEXT NOT NULL,
            year INTEGER NOT NULL,
            period TEXT NOT NULL,
            sent_at TEXT NOT NULL,
            result TEXT,
            PRIMARY KEY (kind, unit, year, period)
        )""")


MIGRATIONS = [_migration_1]


def _review(row: dict[str, object] | None) -> Review | None:
    if row is None:
        return None
    return Review(registry_id=int(row["registry_id"]), year=int(row["year"]), status=str(row["status"]),  # type: ignore[arg-type]
                  reviewed_date=row["reviewed_date"], note=row["note"], actor=row["actor"],  # type: ignore[arg-type]
                  updated_at=str(row["updated_at"]))


def set_review(store: Store, registry_id: int, year: int, status: str, *, reviewed_date: str | None = None,
               note: str | None = None, actor: str = "cli") -> Review:
    """Record the year's status of one account (inside the caller's transaction, if any)."""
    if status not in REVIEW_STATUSES:
        raise ReviewError(f"年审状态 {status!r} 无效")
    when = reviewed_date or local_today().isoformat()
    now = utcnow()
    with store.transaction():
        old = get_review(store, registry_id, year)
        store.conn.execute(
            """INSERT INTO annual_reviews (registry_id, year, status, reviewed_date, note, actor, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT(registry_id, year) DO UPDATE SET status = excluded.status,
                 reviewed_date = excluded.reviewed_date, note = excluded.note, actor = excluded.actor,
                 updated_at = excluded.updated_at""",
            [registry_id, year, status, when, note, actor, now])
        store.conn.execute(
            """INSERT INTO annual_review_history (registry_id, year, old_status, new_status, reviewed_date, note,
               actor, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
            [registry_id, year, old.status if old else None, status, when, note, actor, now])
    result = get_review(store, registry_id, year)
    assert result is not None
    return result


def get_review(store: Store, registry_id: int, year: int) -> Review | None:
    return _review(store.one("SELECT * FROM annual_reviews WHERE registry_id = ? AND year = ?", [registry_id, year]))


def reviews_for_year(store: Store, year: int) -> dict[int, Review]:
    """Every recorded status of ``year``, by registry id."""
    rows = store.query("SELECT * FROM annual_reviews WHERE year = ?", [year])
    return {int(r["registry_id"]): _review(r) for r in rows}  # type: ignore[misc]


def latest_reviews(store: Store) -> dict[int, Review]:
    """Each account's status of its most recent reviewed year (what the public page shows)."""
    rows = store.query("""SELECT r.* FROM annual_reviews r
                          JOIN (SELECT registry_id, MAX(year) AS year FROM annual_reviews GROUP BY registry_id) m
                            ON m.registry_id = r.registry_id AND m.year = r.year""")
    return {int(r["registry_id"]): _review(r) for r in rows}  # type: ignore[misc]


def reviews_of(store: Store, registry_id: int) -> list[Review]:
    """One account's status of every reviewed year, newest first."""
    rows = store.query("SELECT * FROM annual_reviews WHERE registry_id = ? ORDER BY year DESC", [registry_id])
    return [r for r in map(_review, rows) if r is not None]


@dataclass(frozen=True)
class ReviewChange:
    """One change of an account's annual review status, as the history keeps it."""

    id: int
    registry_id: int
    year: int
    old_status: str | None
    new_status: str
    reviewed_date: str | None
    note: str | None
    actor: str | None
    created_at: str


def history(store: Store, registry_id: int) -> list[ReviewChange]:
    return [ReviewChange(**r) for r in store.query(
        """SELECT id, registry_id, year, old_status, new_status, reviewed_date, note, actor, created_at
           FROM annual_review_history WHERE registry_id = ? ORDER BY id""", [registry_id])]


# -- reminders ----------------------------------------------------------------------------------


def reminder_sent(store: Store, kind: str, unit: str, year: int, period: str) -> bool:
    return store.scalar("SELECT 1 FROM review_reminders WHERE kind = ? AND unit = ? AND year = ? AND period = ?",
                        [kind, unit, year, period]) is not None


def record_reminder(store: Store, kind: str, unit: str, year: int, period: str, result: str) -> None:
    with store.transaction():
        store.conn.execute(
            """INSERT INTO review_reminders (kind, unit, year, period, sent_at, result) VALUES (?, ?, ?, ?, ?, ?)
               ON CONFLICT(kind, unit, year, period) DO UPDATE SET sent_at = excluded.sent_at, result = excluded.result""",
            [kind, unit, year, period, utcnow(), result])
