"""Accounts the platforms showed us: discovered accounts (accounts), which run saw them (crawl_seen), and registered accounts' profiles over time (profile_snapshots)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from spiders.items import DiscoveredAccount, ProfileSnapshot
from watcher.store.db import Database, dumps, loads, sha256, utcnow, where
from watcher.store.steps import LegacyStep, Migration, sql

# This module's share of the steps recorded before the store package (see watcher.store.schema).
LEGACY: dict[LegacyStep, Migration] = {
    ("core", 1): sql(
        """CREATE TABLE accounts (
            platform TEXT NOT NULL,
            account_id TEXT NOT NULL,
            name TEXT,
            bio TEXT,
            avatar_url TEXT,
            avatar_path TEXT,
            verified INTEGER,
            verified_type TEXT,
            verified_reason TEXT,
            followers INTEGER,
            profile_url TEXT,
            keyword TEXT,
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            verdict TEXT,
            score INTEGER,
            matched TEXT,
            unit TEXT,
            reasons TEXT,
            PRIMARY KEY (platform, account_id)
        )""",
        """CREATE TABLE profile_snapshots (
            id INTEGER PRIMARY KEY,
            platform TEXT NOT NULL,
            account_id TEXT NOT NULL,
            crawl_run_id INTEGER REFERENCES crawl_runs(id),
            taken_at TEXT NOT NULL,
            name TEXT,
            bio TEXT,
            avatar_url TEXT,
            avatar_sha256 TEXT,
            verified INTEGER,
            verified_reason TEXT,
            followers INTEGER,
            following INTEGER,
            posts_count INTEGER,
            status TEXT NOT NULL DEFAULT 'ok',
            raw_sha256 TEXT
        )""",
        "CREATE INDEX snapshots_account ON profile_snapshots(platform, account_id, taken_at)",
    ),
    ("core", 2): sql(
        "ALTER TABLE accounts ADD COLUMN match_algo TEXT",
        """CREATE TABLE crawl_seen (
            crawl_run_id INTEGER,
            platform TEXT NOT NULL,
            account_id TEXT NOT NULL,
            PRIMARY KEY (crawl_run_id, platform, account_id)
        )""",
    ),
    ("core", 3): sql(
        "ALTER TABLE accounts ADD COLUMN raw TEXT",
        "ALTER TABLE profile_snapshots ADD COLUMN raw TEXT",
    ),
    ("watch", 2): sql(
        "ALTER TABLE profile_snapshots ADD COLUMN avatar_phash TEXT",
        "ALTER TABLE profile_snapshots ADD COLUMN avatar_path TEXT",
        "ALTER TABLE profile_snapshots ADD COLUMN analysed_at TEXT",
        "UPDATE profile_snapshots SET analysed_at = taken_at",
    ),
}
# This module's own steps, recorded as component "accounts".
MIGRATIONS: list[Migration] = []


@dataclass(frozen=True)
class Account:
    """A discovered account (one a discovery crawl found) and its verdict, ``reasons`` decoded;
    ``raw`` stays the platform's record as stored (JSON text)."""

    platform: str
    account_id: str
    first_seen: str
    last_seen: str
    name: str | None = None
    bio: str | None = None
    avatar_url: str | None = None
    avatar_path: str | None = None
    verified: int | None = None
    verified_type: str | None = None
    verified_reason: str | None = None
    followers: int | None = None
    profile_url: str | None = None
    keyword: str | None = None
    verdict: str | None = None
    score: int | None = None
    matched: str | None = None
    unit: str | None = None
    reasons: list[str] = field(default_factory=list)
    match_algo: str | None = None
    raw: str | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Account:
        values = {f: row[f] for f in _ACCOUNT_FIELDS}
        values["reasons"] = loads(row["reasons"], [])
        return cls(**values)


@dataclass(frozen=True)
class Snapshot:
    """A watched account's profile as one crawl saw it (``status`` 'gone' when the platform said
    the account no longer exists); ``raw`` stays the platform's record as stored (JSON text)."""

    id: int
    platform: str
    account_id: str
    crawl_run_id: int | None
    taken_at: str
    name: str | None
    bio: str | None
    avatar_url: str | None
    avatar_sha256: str | None
    verified: int | None
    verified_reason: str | None
    followers: int | None
    following: int | None
    posts_count: int | None
    status: str
    raw_sha256: str | None
    raw: str | None
    avatar_phash: str | None
    avatar_path: str | None
    analysed_at: str | None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Snapshot:
        return cls(**{f: row[f] for f in _SNAPSHOT_FIELDS})


_ACCOUNT_FIELDS = tuple(f.name for f in fields(Account))
_SNAPSHOT_FIELDS = tuple(f.name for f in fields(Snapshot))


def save_account(store: Database, a: DiscoveredAccount, run_id: int | None) -> None:
    now = utcnow()
    store.conn.execute(
        """INSERT INTO accounts (platform, account_id, name, bio, avatar_url, verified, verified_type, verified_reason,
               followers, profile_url, keyword, first_seen, last_seen, raw)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT(platform, account_id) DO UPDATE SET name = excluded.name, bio = excluded.bio,
               avatar_url = COALESCE(excluded.avatar_url, avatar_url), verified = excluded.verified,
               verified_type = excluded.verified_type, verified_reason = excluded.verified_reason,
               followers = COALESCE(excluded.followers, followers), profile_url = COALESCE(excluded.profile_url, profile_url),
               keyword = COALESCE(excluded.keyword, keyword), last_seen = excluded.last_seen, raw = excluded.raw""",
        [a.platform, a.account_id, a.name, a.bio, a.avatar_url, a.verified, a.verified_type, a.verified_reason,
         a.followers, a.profile_url, a.keyword, now, now, dumps(a.raw) if a.raw else None],
    )
    store.conn.execute(
        "INSERT OR IGNORE INTO crawl_seen (crawl_run_id, platform, account_id) VALUES (?, ?, ?)",
        [run_id, a.platform, a.account_id],
    )


def save_snapshot(store: Database, s: ProfileSnapshot, run_id: int | None) -> None:
    store.conn.execute(
        """INSERT INTO profile_snapshots (platform, account_id, crawl_run_id, taken_at, name, bio, avatar_url, verified,
               verified_reason, followers, following, posts_count, status, raw_sha256, raw)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [s.platform, s.account_id, run_id, utcnow(), s.name, s.bio, s.avatar_url, s.verified, s.verified_reason,
         s.followers, s.following, s.posts_count, s.status, sha256(dumps(s.raw)) if s.raw else None,
         dumps(s.raw) if s.raw else None],
    )


# -- profile snapshots of watched accounts ------------------------------------------------------


def latest_name(store: Database, platform: str, account_id: str) -> str | None:
    """The account's name in its newest snapshot that had one."""
    return store.scalar("SELECT name FROM profile_snapshots WHERE platform = ? AND account_id = ? AND name IS NOT NULL "
                        "ORDER BY id DESC LIMIT 1", [platform, account_id])


def snapshot_of_run(store: Database, run_id: int, platform: str, account_id: str) -> Snapshot | None:
    row = store.one("SELECT * FROM profile_snapshots WHERE crawl_run_id = ? AND platform = ? AND account_id = ? "
                     "ORDER BY id DESC LIMIT 1", [run_id, platform, account_id])
    return Snapshot.from_row(row) if row else None


def analysed_before(store: Database, platform: str, account_id: str, snapshot_id: int) -> Snapshot | None:
    """The baseline of a comparison: the newest analysed 'ok' snapshot older than ``snapshot_id``."""
    row = store.one(
        """SELECT * FROM profile_snapshots WHERE platform = ? AND account_id = ? AND status = 'ok'
           AND analysed_at IS NOT NULL AND id < ? ORDER BY id DESC LIMIT 1""",
        [platform, account_id, snapshot_id])
    return Snapshot.from_row(row) if row else None


def mark_analysed(store: Database, snapshot_id: int) -> None:
    with store.transaction():
        store.conn.execute("UPDATE profile_snapshots SET analysed_at = ? WHERE id = ?", [utcnow(), snapshot_id])


def set_avatar_image(store: Database, snapshot_id: int, phash: str, path: str | None) -> None:
    with store.transaction():
        store.conn.execute("UPDATE profile_snapshots SET avatar_phash = ?, avatar_path = ? WHERE id = ?",
                           [phash, path, snapshot_id])


def unanalysed_timeline_runs(store: Database) -> list[int]:
    """Each account's newest timeline run, when it finished ok and its snapshot was never
    analysed (a crash between storing and analysing). A reported impersonator's re-check is not
    one: its case concludes it at the next watch round, and the watch of registered accounts must
    not take the impersonator's rename for a profile change of ours."""
    return [r["id"] for r in store.query(
        """SELECT r.id FROM crawl_runs r JOIN profile_snapshots s ON s.crawl_run_id = r.id
           WHERE r.mode = 'timeline' AND r.status = 'ok' AND s.analysed_at IS NULL
           AND r.id = (SELECT MAX(id) FROM crawl_runs x WHERE x.platform = r.platform AND x.target = r.target
                       AND x.mode = 'timeline')
           AND NOT EXISTS (SELECT 1 FROM takedown_cases c WHERE c.platform = r.platform
                           AND c.account_id = r.target AND c.status = 'open')
           GROUP BY r.id ORDER BY r.id""")]


# -- discovered accounts and their verdicts --------------------------------------------------------


def seen_by_run(store: Database, run_id: int) -> list[Account]:
    """The discovered accounts run ``run_id`` saw (its matching works on exactly these)."""
    return [Account.from_row(r) for r in store.query(
        """SELECT a.* FROM accounts a JOIN crawl_seen s ON s.platform = a.platform AND s.account_id = a.account_id
           WHERE s.crawl_run_id = ?""", [run_id])]


def unjudged(store: Database) -> list[Account]:
    return [Account.from_row(r) for r in store.query("SELECT * FROM accounts WHERE verdict IS NULL")]


def set_verdict(store: Database, platform: str, account_id: str, *, verdict: str, score: int, matched: str | None,
                unit: str | None, reasons: list[str], algo: str) -> None:
    store.conn.execute(
        "UPDATE accounts SET verdict = ?, score = ?, matched = ?, unit = ?, reasons = ?, match_algo = ? "
        "WHERE platform = ? AND account_id = ?",
        [verdict, score, matched, unit, dumps(reasons), algo, platform, account_id],
    )


def set_avatar_path(store: Database, platform: str, account_id: str, path: str) -> None:
    with store.transaction():
        store.conn.execute("UPDATE accounts SET avatar_path = ? WHERE platform = ? AND account_id = ?",
                           [path, platform, account_id])


def list_discovered(store: Database, *, verdict: str | None = None, platform: str | None = None) -> list[Account]:
    """Discovered accounts, best score first."""
    clause, params = where({"verdict": verdict, "platform": platform})
    return [Account.from_row(r) for r in
            store.query(f"SELECT * FROM accounts{clause} ORDER BY score DESC, last_seen DESC", params)]


def raw_profile(store: Database, platform: str, account_id: str) -> dict[str, Any] | None:
    """The newest profile snapshot's platform record of a watched account (a JSON-ready dict:
    evidence keeping writes it into the evidence file as is)."""
    return store.one("SELECT raw, taken_at FROM profile_snapshots WHERE platform = ? AND account_id = ? "
                     "ORDER BY id DESC LIMIT 1", [platform, account_id])


def raw_account(store: Database, platform: str, account_id: str) -> dict[str, Any] | None:
    """The platform record of a discovered account (a JSON-ready dict, as ``raw_profile``)."""
    return store.one("SELECT raw, name, bio, avatar_path, first_seen, last_seen FROM accounts "
                     "WHERE platform = ? AND account_id = ?", [platform, account_id])
