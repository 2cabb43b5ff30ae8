"""错敏检查 and 矩阵联动: compliance_checked, linkage_stories, linkage_reminders.

Also reads the posts of watched accounts (owned by :mod:`watcher.store.posts`) in the shapes the
two checks need: the versions not yet checked, and an account's posts in a time window.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from watcher.store.db import Database, dumps, loads, utcnow
from watcher.store.steps import Migration, sql

# This module's own steps, recorded as component "compliance".
MIGRATIONS: list[Migration] = [
    sql(
        """CREATE TABLE compliance_checked (
            version_id INTEGER PRIMARY KEY REFERENCES post_versions(id),
            checked_at TEXT NOT NULL,
            issues INTEGER NOT NULL DEFAULT 0
        )""",
        # Posts stored before the check existed are not "new": only what arrives from now on is
        # checked (an upgrade must not flood the units with findings about years-old posts).
        "INSERT INTO compliance_checked (version_id, checked_at, issues) SELECT id, seen_at, 0 FROM post_versions",
        """CREATE TABLE linkage_stories (
            id INTEGER PRIMARY KEY,
            platform TEXT NOT NULL,
            post_id TEXT NOT NULL,
            account_id TEXT NOT NULL,
            url TEXT,
            title TEXT NOT NULL,
            published_at TEXT NOT NULL,
            deadline TEXT NOT NULL,
            remind_at TEXT NOT NULL,
            units TEXT,
            tiers TEXT NOT NULL,
            created_by TEXT NOT NULL,
            created_at TEXT NOT NULL,
            UNIQUE (platform, post_id)
        )""",
        """CREATE TABLE linkage_reminders (
            story_id INTEGER NOT NULL REFERENCES linkage_stories(id),
            unit TEXT NOT NULL,
            finding_id INTEGER REFERENCES findings(id),
            accounts TEXT NOT NULL,
            sent_at TEXT NOT NULL,
            PRIMARY KEY (story_id, unit)
        )""",
    ),
]


# -- 错敏: versions not yet checked -----------------------------------------------------------------


@dataclass(frozen=True)
class UncheckedVersion:
    """A post of a watched account whose current text the compliance check has not read."""

    post_id: str
    url: str | None
    created_at: str | None
    first_seen: str
    raw: str | None
    version_id: int
    text: str | None
    text_sha256: str
    versions: int  # how many texts the post has had: more than one is an edit


def unchecked_versions(store: Database, platform: str, account_id: str) -> list[UncheckedVersion]:
    return [UncheckedVersion(**r) for r in store.query(
        """SELECT p.post_id, p.url, p.created_at, p.first_seen, p.raw, v.id AS version_id, v.text, v.text_sha256,
                  (SELECT COUNT(*) FROM post_versions o WHERE o.platform = p.platform AND o.post_id = p.post_id)
                  AS versions
           FROM posts p JOIN post_versions v
             ON v.platform = p.platform AND v.post_id = p.post_id AND v.text_sha256 = p.text_sha256
           WHERE p.platform = ? AND p.account_id = ?
             AND NOT EXISTS (SELECT 1 FROM compliance_checked c WHERE c.version_id = v.id)
           ORDER BY v.id""", [platform, account_id])]


def mark_checked(store: Database, version_id: int, issues: int, at: str | None = None) -> None:
    store.conn.execute(
        "INSERT OR IGNORE INTO compliance_checked (version_id, checked_at, issues) VALUES (?, ?, ?)",
        [version_id, at or utcnow(), issues])


# -- 联动: key stories ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Story:
    """A key story (重点稿件) the matrix accounts are expected to relay by ``deadline``. ``units``
    None: every unit; ``tiers``: the registry tiers expected to relay."""

    id: int
    platform: str
    post_id: str
    account_id: str
    url: str | None
    title: str
    published_at: str
    deadline: str
    remind_at: str
    units: list[str] | None
    tiers: list[int]
    created_by: str
    created_at: str

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Story:
        values = {f: row[f] for f in _STORY_FIELDS}
        values["units"] = loads(row["units"], None)
        values["tiers"] = loads(row["tiers"], [2])
        return cls(**values)


_STORY_FIELDS = tuple(f.name for f in fields(Story))


def add_story(store: Database, *, platform: str, post_id: str, account_id: str, url: str | None, title: str,
              published_at: str, deadline: str, remind_at: str, units: list[str] | None, tiers: list[int],
              created_by: str) -> int | None:
    """The new story's id, or None when the post is a key story already."""
    cur = store.conn.execute(
        """INSERT OR IGNORE INTO linkage_stories (platform, post_id, account_id, url, title, published_at, deadline,
               remind_at, units, tiers, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [platform, post_id, account_id, url, title, published_at, deadline, remind_at,
         None if units is None else dumps(units), dumps(tiers), created_by, utcnow()])
    return int(cur.lastrowid) if cur.rowcount else None


def get_story(store: Database, story_id: int) -> Story | None:
    row = store.one("SELECT * FROM linkage_stories WHERE id = ?", [story_id])
    return Story.from_row(row) if row else None


def story_for_post(store: Database, platform: str, post_id: str) -> Story | None:
    row = store.one("SELECT * FROM linkage_stories WHERE platform = ? AND post_id = ?", [platform, post_id])
    return Story.from_row(row) if row else None


def list_stories(store: Database, *, published_from: str | None = None, published_to: str | None = None,
                 limit: int = 200) -> list[Story]:
    return [Story.from_row(r) for r in store.query(
        """SELECT * FROM linkage_stories WHERE published_at >= COALESCE(?, '') AND published_at < COALESCE(?, '9')
           ORDER BY published_at DESC, id DESC LIMIT ?""", [published_from, published_to, limit])]


def stories_to_remind(store: Database, now: str) -> list[Story]:
    """Stories whose reminder time has come and whose deadline has not passed."""
    return [Story.from_row(r) for r in store.query(
        "SELECT * FROM linkage_stories WHERE remind_at <= ? AND deadline > ? ORDER BY id", [now, now])]


def reminded_units(store: Database, story_id: int) -> dict[str, list[str]]:
    """unit → the accounts its reminder named."""
    return {r["unit"]: loads(r["accounts"], []) for r in
            store.query("SELECT unit, accounts FROM linkage_reminders WHERE story_id = ?", [story_id])}


def add_reminder(store: Database, story_id: int, unit: str, finding_id: int | None, accounts: list[str],
                 at: str) -> bool:
    """Record the reminder of ``unit`` about a story; False when it was sent already."""
    cur = store.conn.execute(
        "INSERT OR IGNORE INTO linkage_reminders (story_id, unit, finding_id, accounts, sent_at) VALUES (?, ?, ?, ?, ?)",
        [story_id, unit, finding_id, dumps(accounts), at])
    return cur.rowcount > 0


# -- posts as the checks read them ------------------------------------------------------------------


@dataclass(frozen=True)
class WatchedPost:
    platform: str
    post_id: str
    account_id: str
    text: str | None
    created_at: str | None
    first_seen: str
    url: str | None
    raw: str | None


def post(store: Database, platform: str, post_id: str) -> WatchedPost | None:
    row = store.one("""SELECT platform, post_id, account_id, text, created_at, first_seen, url, raw FROM posts
                       WHERE platform = ? AND post_id = ?""", [platform, post_id])
    return WatchedPost(**row) if row else None


def posts_by_url(store: Database, url: str) -> list[WatchedPost]:
    return [WatchedPost(**r) for r in store.query(
        "SELECT platform, post_id, account_id, text, created_at, first_seen, url, raw FROM posts WHERE url = ?", [url])]


def account_posts_seen_since(store: Database, platform: str, account_id: str, since: str,
                            limit: int = 500) -> list[WatchedPost]:
    """An account's posts first seen at or after ``since`` (ISO UTC), oldest first. A post is
    seen after it is published, so this holds every post published since then; platforms write
    ``created_at`` with their own offsets, so the caller compares those as times."""
    return [WatchedPost(**r) for r in store.query(
        """SELECT platform, post_id, account_id, text, created_at, first_seen, url, raw FROM posts
           WHERE platform = ? AND account_id = ? AND first_seen >= ? ORDER BY first_seen, post_id LIMIT ?""",
        [platform, account_id, since, limit])]


def has_posts(store: Database, platform: str, account_id: str) -> bool:
    return bool(store.scalar("SELECT 1 FROM posts WHERE platform = ? AND account_id = ? LIMIT 1",
                             [platform, account_id]))


def finding_exists(store: Database, dedupe_key: str) -> bool:
    """Whether a finding of that key was ever recorded (reads findings, owned by watcher.store.findings)."""
    return bool(store.scalar("SELECT 1 FROM findings WHERE dedupe_key = ?", [dedupe_key]))
