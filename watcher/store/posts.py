"""Posts of watched accounts: posts (with the pending state of a missing post), post_versions, post_checks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from spiders.items import Post, PostCheck
from watcher.store.db import Database, dumps, sha256, utcnow
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


@dataclass(frozen=True)
class TimelinePost:
    """A post of a watched account as stored: ``status`` is live, pending (missing from a
    complete crawl, waiting for the platform to say), hidden (the platform says it is private,
    restricted or under review: it exists, and is asked about again later) or deleted; ``raw`` stays the platform's
    record as stored (JSON text)."""

    platform: str
    post_id: str
    account_id: str
    text: str | None
    created_at: str | None
    reposts: int | None
    comments: int | None
    likes: int | None
    url: str | None
    text_sha256: str | None
    first_seen: str
    last_seen: str
    last_crawl_run_id: int | None
    status: str
    raw: str | None
    seen_rank: int | None
    missing_since: str | None
    next_check_at: str | None
    check_attempts: int
    last_check_at: str | None
    last_check_reason: str | None
    present_checked_at: str | None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> TimelinePost:
        return cls(**{f: row[f] for f in _POST_FIELDS})


@dataclass(frozen=True)
class PostVersion:
    """One text a post had, with when analysis compared it (``reported_at``; None: not yet)."""

    id: int
    platform: str
    post_id: str
    seen_at: str
    text: str | None
    text_sha256: str
    reported_at: str | None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> PostVersion:
        return cls(**{f: row[f] for f in _VERSION_FIELDS})


@dataclass(frozen=True)
class UnreportedVersion:
    """A post whose current text analysis has not compared yet: the post's own columns and that
    version's (``version_id``, ``text``, ``text_sha256``)."""

    post_id: str
    url: str | None
    created_at: str | None
    version_id: int
    text: str | None
    text_sha256: str


_POST_FIELDS = tuple(f.name for f in fields(TimelinePost))
_VERSION_FIELDS = tuple(f.name for f in fields(PostVersion))


def save_post(store: Database, p: Post, run_id: int | None) -> None:
    """A post seen on a timeline: stored (its text kept as a version), and, if it was missing
    (待核实), back to live — seeing it is the best proof it was not deleted. ``seen_rank`` is its
    place in this run's feed (where the crawled window ends, see watcher.watch.analyze)."""
    now = utcnow()
    digest = sha256(p.text or "")
    rank = store.scalar("SELECT COALESCE(MAX(seen_rank), 0) + 1 FROM posts WHERE last_crawl_run_id IS ?", [run_id])
    store.conn.execute(
        """INSERT INTO posts (platform, post_id, account_id, text, created_at, reposts, comments, likes, url, text_sha256,
               first_seen, last_seen, last_crawl_run_id, seen_rank, status, raw)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'live', ?)
           ON CONFLICT(platform, post_id) DO UPDATE SET text = excluded.text, reposts = excluded.reposts,
               comments = excluded.comments, likes = excluded.likes, url = COALESCE(excluded.url, url),
               text_sha256 = excluded.text_sha256, last_seen = excluded.last_seen,
               seen_rank = CASE WHEN last_crawl_run_id IS excluded.last_crawl_run_id THEN seen_rank
                                ELSE excluded.seen_rank END,
               last_crawl_run_id = excluded.last_crawl_run_id, raw = excluded.raw,
               status = 'live', missing_since = NULL, next_check_at = NULL, check_attempts = 0""",
        [p.platform, p.post_id, p.account_id, p.text, p.created_at, p.reposts, p.comments, p.likes, p.url, digest,
         now, now, run_id, rank, dumps(p.raw) if p.raw else None],
    )
    store.conn.execute(
        "INSERT OR IGNORE INTO post_versions (platform, post_id, seen_at, text, text_sha256) VALUES (?, ?, ?, ?, ?)",
        [p.platform, p.post_id, now, p.text, digest],
    )


def save_check(store: Database, c: PostCheck, run_id: int | None) -> None:
    store.conn.execute(
        """INSERT INTO post_checks (platform, account_id, post_id, crawl_run_id, checked_at, exists_flag, reason)
           VALUES (?, ?, ?, ?, ?, ?, ?)""",
        [c.platform, c.account_id, c.post_id, run_id, utcnow(), None if c.exists is None else int(c.exists), c.reason],
    )


# -- edits: versions not yet analysed --------------------------------------------------------------


def unreported_versions(store: Database, platform: str, account_id: str) -> list[UnreportedVersion]:
    """The account's posts whose current text was never analysed, with that version's id."""
    return [UnreportedVersion(**r) for r in store.query(
        """SELECT p.post_id, p.url, p.created_at, v.id AS version_id, v.text, v.text_sha256 FROM posts p
           JOIN post_versions v ON v.platform = p.platform AND v.post_id = p.post_id AND v.text_sha256 = p.text_sha256
           WHERE p.platform = ? AND p.account_id = ? AND v.reported_at IS NULL""", [platform, account_id])]


def last_reported_version(store: Database, platform: str, post_id: str) -> PostVersion | None:
    row = store.one(
        """SELECT * FROM post_versions WHERE platform = ? AND post_id = ? AND reported_at IS NOT NULL
           ORDER BY reported_at DESC, id DESC LIMIT 1""", [platform, post_id])
    return PostVersion.from_row(row) if row else None


def mark_version_reported(store: Database, version_id: int, at: str) -> None:
    store.conn.execute("UPDATE post_versions SET reported_at = ? WHERE id = ?", [at, version_id])


# -- missing posts: pending until the platform says --------------------------------------------------


def last_created_in_run(store: Database, run_id: int, platform: str, account_id: str) -> str | None:
    """The date of the last post (in feed order) that run ``run_id`` saw of the account."""
    return store.scalar(
        """SELECT created_at FROM posts WHERE last_crawl_run_id = ? AND platform = ? AND account_id = ?
           AND created_at IS NOT NULL ORDER BY seen_rank DESC LIMIT 1""", [run_id, platform, account_id])


def live_not_seen_by(store: Database, platform: str, account_id: str, run_id: int) -> list[TimelinePost]:
    return [TimelinePost.from_row(r) for r in store.query(
        """SELECT * FROM posts WHERE platform = ? AND account_id = ?
           AND status = 'live' AND (last_crawl_run_id IS NULL OR last_crawl_run_id != ?)""",
        [platform, account_id, run_id])]


def mark_pending(store: Database, platform: str, post_ids: list[str], at: str) -> None:
    with store.transaction():
        for post_id in post_ids:
            store.conn.execute(
                """UPDATE posts SET status = 'pending', missing_since = COALESCE(missing_since, ?),
                   next_check_at = COALESCE(next_check_at, ?) WHERE platform = ? AND post_id = ? AND status = 'live'""",
                [at, at, platform, post_id])


def due_pending(store: Database, platform: str, account_id: str, at: str, limit: int | None) -> list[TimelinePost]:
    """Pending posts, and hidden ones (private, under review) due to be asked again."""
    return [TimelinePost.from_row(r) for r in store.query(
        """SELECT * FROM posts WHERE platform = ? AND account_id = ? AND status IN ('pending', 'hidden')
           AND (next_check_at IS NULL OR next_check_at <= ?)
           ORDER BY status = 'hidden', missing_since, post_id LIMIT ?""",
        [platform, account_id, at, -1 if limit is None else limit])]


def get(store: Database, platform: str, post_id: str) -> TimelinePost | None:
    row = store.one("SELECT * FROM posts WHERE platform = ? AND post_id = ?", [platform, post_id])
    return TimelinePost.from_row(row) if row else None


def mark_hidden(store: Database, platform: str, post_id: str, *, at: str, next_check_at: str, attempts: int,
                reason: str) -> bool:
    """Pending (or hidden) → hidden: it exists, readers cannot see it; asked again at ``next_check_at``."""
    cur = store.conn.execute(
        """UPDATE posts SET status = 'hidden', check_attempts = ?, next_check_at = ?, last_check_at = ?,
           last_check_reason = ? WHERE platform = ? AND post_id = ? AND status IN ('pending', 'hidden')""",
        [attempts, next_check_at, at, reason, platform, post_id])
    return cur.rowcount > 0


def note_live_check(store: Database, platform: str, post_id: str, at: str) -> None:
    """A live post a direct check found still there (its ``present_checked_at`` stays the
    timeline's business: a check of a post still on the timeline says nothing of the window)."""
    with store.transaction():
        store.conn.execute("""UPDATE posts SET last_check_at = ?, last_check_reason = '平台确认帖子仍在'
                              WHERE platform = ? AND post_id = ? AND status = 'live'""", [at, platform, post_id])


def young_posts(store: Database, platform: str, accounts: list[str], since: str) -> list[TimelinePost]:
    """Live posts of ``accounts`` published at or after ``since`` — or, without a date, first
    seen then, unless they were among the account's first posts ever seen (an account newly
    watched shows old posts for the first time) — newest first."""
    if not accounts:
        return []
    marks = ",".join("?" * len(accounts))
    return [TimelinePost.from_row(r) for r in store.query(
        f"""SELECT p.* FROM posts p WHERE p.platform = ? AND p.account_id IN ({marks}) AND p.status = 'live'
            AND (p.created_at >= ? OR (p.created_at IS NULL AND p.first_seen >= ? AND p.first_seen >
                 (SELECT MIN(q.first_seen) FROM posts q WHERE q.platform = p.platform AND q.account_id = p.account_id)))
            ORDER BY COALESCE(p.created_at, p.first_seen) DESC""",
        [platform, *accounts, since, since])]


def checks_since(store: Database, platform: str, since: str) -> list[dict[str, Any]]:
    """The post checks of ``platform`` since ``since`` with the checked post's publication
    time (None when unknown), oldest first: what the early-life cadence is measured on."""
    return store.query(
        """SELECT c.post_id, c.checked_at, COALESCE(p.created_at, p.first_seen) AS born FROM post_checks c
           JOIN posts p ON p.platform = c.platform AND p.post_id = c.post_id
           WHERE c.platform = ? AND c.checked_at >= ? ORDER BY c.checked_at""", [platform, since])


def back_off(store: Database, platform: str, post_id: str, *, attempts: int, next_check_at: str, at: str,
             reason: str) -> None:
    with store.transaction():
        store.conn.execute(
            """UPDATE posts SET check_attempts = ?, next_check_at = ?, last_check_at = ?,
               last_check_reason = CASE WHEN status = 'hidden' THEN last_check_reason ELSE ? END
               WHERE platform = ? AND post_id = ? AND status IN ('pending', 'hidden')""",
            [attempts, next_check_at, at, reason, platform, post_id])


def still_there(store: Database, platform: str, post_id: str, *, at: str, next_check_at: str) -> None:
    with store.transaction():
        store.conn.execute(
            """UPDATE posts SET status = 'live', missing_since = NULL, check_attempts = 0, next_check_at = ?,
               last_check_at = ?, present_checked_at = ?, last_check_reason = '平台确认帖子仍在'
               WHERE platform = ? AND post_id = ? AND status IN ('pending', 'hidden')""",
            [next_check_at, at, at, platform, post_id])


def confirm_deleted(store: Database, platform: str, post_id: str, at: str, reason: str = "平台确认已删除") -> bool:
    """Pending (or hidden) → deleted; False when it is no longer either (reappeared, or
    confirmed by another). ``reason`` says why, as the platform said it."""
    cur = store.conn.execute(
        """UPDATE posts SET status = 'deleted', last_check_at = ?, last_check_reason = ?
           WHERE platform = ? AND post_id = ? AND status IN ('pending', 'hidden')""", [at, reason, platform, post_id])
    return cur.rowcount > 0


def last_post_created(store: Database, platform: str, account_id: str) -> str | None:
    return store.scalar("SELECT MAX(created_at) FROM posts WHERE platform = ? AND account_id = ?",
                        [platform, account_id])


def raw_post(store: Database, platform: str, post_id: str) -> dict[str, Any] | None:
    """A post's platform record and what we saw of it (a JSON-ready dict: evidence keeping
    writes it into the evidence file as is)."""
    return store.one("SELECT raw, text, url, first_seen, last_seen FROM posts WHERE platform = ? AND post_id = ?",
                     [platform, post_id])

