"""Store writes for what the spiders saw. Called by the item pipeline in batches, each batch one
transaction, so a crawl killed mid-way keeps every batch it finished and none of the next."""

from __future__ import annotations

import hashlib
from typing import Any

from spiders.items import DiscoveredAccount, Mention, Post, PostCheck, ProfileSnapshot
from watcher.store import Store, dumps, utcnow
from watcher.store.mentions import save_mention


def sha256(text: str | bytes) -> str:
    return hashlib.sha256(text.encode() if isinstance(text, str) else text).hexdigest()


def save_account(store: Store, a: DiscoveredAccount, run_id: int | None) -> None:
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


def save_snapshot(store: Store, s: ProfileSnapshot, run_id: int | None) -> None:
    store.conn.execute(
        """INSERT INTO profile_snapshots (platform, account_id, crawl_run_id, taken_at, name, bio, avatar_url, verified,
               verified_reason, followers, following, posts_count, status, raw_sha256, raw)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [s.platform, s.account_id, run_id, utcnow(), s.name, s.bio, s.avatar_url, s.verified, s.verified_reason,
         s.followers, s.following, s.posts_count, s.status, sha256(dumps(s.raw)) if s.raw else None,
         dumps(s.raw) if s.raw else None],
    )


def save_post(store: Store, p: Post, run_id: int | None) -> None:
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


def save_check(store: Store, c: PostCheck, run_id: int | None) -> None:
    store.conn.execute(
        """INSERT INTO post_checks (platform, account_id, post_id, crawl_run_id, checked_at, exists_flag, reason)
           VALUES (?, ?, ?, ?, ?, ?, ?)""",
        [c.platform, c.account_id, c.post_id, run_id, utcnow(), None if c.exists is None else int(c.exists), c.reason],
    )


SAVERS: dict[type, Any] = {
    DiscoveredAccount: save_account,
    ProfileSnapshot: save_snapshot,
    Post: save_post,
    PostCheck: save_check,
    Mention: save_mention,
}


def save_batch(store: Store, items: list[Any], run_id: int | None) -> None:
    with store.transaction():
        for item in items:
            SAVERS[type(item)](store, item, run_id)
        if run_id is not None:
            store.conn.execute("UPDATE crawl_runs SET items = items + ? WHERE id = ?", [len(items), run_id])
