"""Accounts the platforms showed us: discovered accounts (accounts), which run saw them (crawl_seen), and registered accounts' profiles over time (profile_snapshots)."""

from __future__ import annotations

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


def snapshot_of_run(store: Database, run_id: int, platform: str, account_id: str) -> dict[str, Any] | None:
    return store.one("SELECT * FROM profile_snapshots WHERE crawl_run_id = ? AND platform = ? AND account_id = ? "
                     "ORDER BY id DESC LIMIT 1", [run_id, platform, account_id])


def analysed_before(store: Database, platform: str, account_id: str, snapshot_id: int) -> dict[str, Any] | None:
    """The baseline of a comparison: the newest analysed 'ok' snapshot older than ``snapshot_id``."""
    return store.one(
        """SELECT * FROM profile_snapshots WHERE platform = ? AND account_id = ? AND status = 'ok'
           AND analysed_at IS NOT NULL AND id < ? ORDER BY id DESC LIMIT 1""",
        [platform, account_id, snapshot_id])


def mark_analysed(store: Database, snapshot_id: int) -> None:
    with store.transaction():
        store.conn.execute("UPDATE profile_snapshots SET analysed_at = ? WHERE id = ?", [utcnow(), snapshot_id])


def set_avatar_image(store: Database, snapshot_id: int, phash: str, path: str | None) -> None:
    with store.transaction():
        store.conn.execute("UPDATE profile_snapshots SET avatar_phash = ?, avatar_path = ? WHERE id = ?",
                           [phash, path, snapshot_id])


def unanalysed_timeline_runs(store: Database) -> list[int]:
    """Each account's newest timeline run, when it finished ok and its snapshot was never
    analysed (a crash between storing and analysing)."""
    return [r["id"] for r in store.query(
        """SELECT r.id FROM crawl_runs r JOIN profile_snapshots s ON s.crawl_run_id = r.id
           WHERE r.mode = 'timeline' AND r.status = 'ok' AND s.analysed_at IS NULL
           AND r.id = (SELECT MAX(id) FROM crawl_runs x WHERE x.platform = r.platform AND x.target = r.target
                       AND x.mode = 'timeline')
           GROUP BY r.id ORDER BY r.id""")]


# -- discovered accounts and their verdicts --------------------------------------------------------


def seen_by_run(store: Database, run_id: int) -> list[dict[str, Any]]:
    """The discovered accounts run ``run_id`` saw (its matching works on exactly these)."""
    return store.query(
        """SELECT a.* FROM accounts a JOIN crawl_seen s ON s.platform = a.platform AND s.account_id = a.account_id
           WHERE s.crawl_run_id = ?""", [run_id])


def unjudged(store: Database) -> list[dict[str, Any]]:
    return store.query("SELECT * FROM accounts WHERE verdict IS NULL")


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


def list_discovered(store: Database, *, verdict: str | None = None, platform: str | None = None) -> list[dict[str, Any]]:
    """Discovered accounts, best score first; ``reasons`` decoded."""
    clause, params = where({"verdict": verdict, "platform": platform})
    rows = store.query(f"SELECT * FROM accounts{clause} ORDER BY score DESC, last_seen DESC", params)
    for r in rows:
        r["reasons"] = loads(r["reasons"], [])
    return rows


def raw_profile(store: Database, platform: str, account_id: str) -> dict[str, Any] | None:
    """The newest profile snapshot's platform record of a watched account."""
    return store.one("SELECT raw, taken_at FROM profile_snapshots WHERE platform = ? AND account_id = ? "
                     "ORDER BY id DESC LIMIT 1", [platform, account_id])


def raw_account(store: Database, platform: str, account_id: str) -> dict[str, Any] | None:
    """The platform record of a discovered account."""
    return store.one("SELECT raw, name, bio, avatar_path, first_seen, last_seen FROM accounts "
                     "WHERE platform = ? AND account_id = ?", [platform, account_id])
