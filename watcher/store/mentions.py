"""Sentiment (舆情) data: the posts sentiment reads, the clusters of near-duplicate posts (one
incident, one finding) and the reviewers' decisions on them.

Owns the ``sentiment_clusters`` and ``sentiment_cluster_posts`` tables (component ``sentiment``
in :data:`watcher.store.schema.COMPONENTS`). Reads ``posts``, which the crawl writes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlite_utils

if TYPE_CHECKING:
    from spiders.items import Mention
    from watcher.store import Store


def _utcnow() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()

DECISIONS = {"judged": "已研判", "handled": "已处置", "false_positive": "误报"}


def _clusters(db: sqlite_utils.Database) -> None:
    db.execute("""CREATE TABLE sentiment_clusters (
            id INTEGER PRIMARY KEY,
            group_name TEXT NOT NULL,
            representative TEXT NOT NULL,
            url TEXT,
            size INTEGER NOT NULL DEFAULT 0,
            platforms TEXT NOT NULL DEFAULT '[]',
            negative INTEGER NOT NULL DEFAULT 0,
            score REAL,
            reason TEXT,
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            finding_id INTEGER,
            spike TEXT,
            decision TEXT CHECK (decision IN ('judged', 'handled', 'false_positive')),
            decided_by TEXT,
            decided_at TEXT
        )""")
    db.execute("CREATE INDEX sentiment_clusters_seen ON sentiment_clusters(last_seen)")
    db.execute("""CREATE TABLE sentiment_cluster_posts (
            cluster_id INTEGER NOT NULL REFERENCES sentiment_clusters(id),
            platform TEXT NOT NULL,
            post_id TEXT NOT NULL,
            added_at TEXT NOT NULL,
            PRIMARY KEY (platform, post_id)
        )""")
    db.execute("CREATE INDEX sentiment_cluster_posts_cluster ON sentiment_cluster_posts(cluster_id)")


def _mentions(db: sqlite_utils.Database) -> None:
    db.execute("""CREATE TABLE mentions (
            platform TEXT NOT NULL,
            post_id TEXT NOT NULL,
            author_id TEXT NOT NULL,
            author_name TEXT,
            kind TEXT NOT NULL DEFAULT 'post',
            title TEXT,
            text TEXT,
            created_at TEXT,
            url TEXT,
            keyword TEXT,
            reposts INTEGER, comments INTEGER, likes INTEGER, views INTEGER,
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            last_crawl_run_id INTEGER,
            PRIMARY KEY (platform, post_id)
        )""")
    db.execute("CREATE INDEX mentions_seen ON mentions(created_at, first_seen)")
    # Engagement over time: one row a crawl that saw the mention, to tell a complaint that keeps
    # spreading from one that died down.
    db.execute("""CREATE TABLE mention_metrics (
            platform TEXT NOT NULL,
            post_id TEXT NOT NULL,
            seen_at TEXT NOT NULL,
            reposts INTEGER, comments INTEGER, likes INTEGER, views INTEGER,
            PRIMARY KEY (platform, post_id, seen_at)
        )""")


MIGRATIONS = [_clusters, _mentions]


@dataclass
class PostText:
    """A stored post as sentiment reads it."""

    platform: str
    post_id: str
    account_id: str
    text: str
    created_at: str | None
    first_seen: str | None
    url: str | None

    @property
    def seen(self) -> str | None:
        return self.created_at or self.first_seen


@dataclass
class Cluster:
    id: int
    group_name: str
    representative: str
    url: str | None
    size: int
    platforms: list[str]
    negative: bool
    score: float | None
    reason: str | None
    first_seen: str
    last_seen: str
    finding_id: int | None = None
    spike: list[int] | None = None   # the window counts when the cluster was a spike (it stays one)
    decision: str | None = None
    decided_by: str | None = None
    decided_at: str | None = None
    posts: list[str] = field(default_factory=list)

    @property
    def decision_label(self) -> str:
        return DECISIONS.get(self.decision or "", "待研判")


def _utc(value: str | None) -> str | None:
    """Stored times are UTC, so that they compare as strings (spiders give the platform's offset)."""
    if not value:
        return None
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        return value
    return (t if t.tzinfo else t.replace(tzinfo=UTC)).astimezone(UTC).isoformat()


def save_mention(store: Store, m: Mention, run_id: int | None) -> None:
    """A mention as this crawl saw it: stored (text and counts brought up to date) and its
    engagement added to its history."""
    now = _utcnow()
    store.conn.execute(
        """INSERT INTO mentions (platform, post_id, author_id, author_name, kind, title, text, created_at, url, keyword,
               reposts, comments, likes, views, first_seen, last_seen, last_crawl_run_id)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT(platform, post_id) DO UPDATE SET author_name = excluded.author_name, title = excluded.title,
               text = excluded.text, url = COALESCE(excluded.url, url), reposts = excluded.reposts,
               comments = excluded.comments, likes = excluded.likes, views = excluded.views,
               last_seen = excluded.last_seen, last_crawl_run_id = excluded.last_crawl_run_id""",
        [m.platform, m.post_id, m.author_id, m.author_name, m.kind, m.title, m.text, _utc(m.created_at), m.url, m.keyword,
         m.reposts, m.comments, m.likes, m.views, now, now, run_id])
    store.conn.execute(
        "INSERT OR IGNORE INTO mention_metrics (platform, post_id, seen_at, reposts, comments, likes, views) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        # to the microsecond: two crawls within one second are two observations
        [m.platform, m.post_id, datetime.now(UTC).isoformat(), m.reposts, m.comments, m.likes, m.views])


@dataclass
class Metric:
    seen_at: str
    reposts: int | None
    comments: int | None
    likes: int | None
    views: int | None


def metrics(store: Store, platform: str, post_id: str) -> list[Metric]:
    rows = store.query("SELECT seen_at, reposts, comments, likes, views FROM mention_metrics "
                       "WHERE platform = ? AND post_id = ? ORDER BY seen_at", [platform, post_id])
    return [Metric(**r) for r in rows]


@dataclass
class StoredMention:
    platform: str
    post_id: str
    author_id: str
    author_name: str | None
    kind: str
    title: str | None
    text: str | None
    created_at: str | None
    url: str | None
    keyword: str | None
    reposts: int | None
    comments: int | None
    likes: int | None
    views: int | None
    first_seen: str
    last_seen: str
    last_crawl_run_id: int | None


def get_mention(store: Store, platform: str, post_id: str) -> StoredMention | None:
    row = store.one("SELECT * FROM mentions WHERE platform = ? AND post_id = ?", [platform, post_id])
    return StoredMention(**row) if row else None


def recent_account_posts(store: Store, platform: str, accounts: list[str], since: str, limit: int) -> list[tuple[str, str]]:
    """(account, post) of the newest live posts of these accounts since ``since``: whose
    comments a comments round reads."""
    if not accounts:
        return []
    marks = ",".join("?" * len(accounts))
    rows = store.query(f"SELECT account_id, post_id FROM posts WHERE platform = ? AND account_id IN ({marks}) "
                       "AND status = 'live' AND COALESCE(created_at, first_seen) >= ? "
                       "ORDER BY COALESCE(created_at, first_seen) DESC LIMIT ?", [platform, *accounts, since, limit])
    return [(r["account_id"], r["post_id"]) for r in rows]


def run_mentions(store: Store, run_id: int) -> list[StoredMention]:
    return [StoredMention(**r) for r in store.query("SELECT * FROM mentions WHERE last_crawl_run_id = ? "
                                                     "ORDER BY created_at DESC", [run_id])]


def recent_posts(store: Store, since: str, *, limit: int | None = None) -> list[PostText]:
    """What sentiment reads, newest first: live posts of the watched accounts and forums and the
    mentions found by search, created (or first seen) since ``since`` (ISO UTC). A post that is
    both (an official post found by search) is read once."""
    sql = ("SELECT platform, post_id, account_id, text, created_at, first_seen, url, "
           "COALESCE(created_at, first_seen) AS seen FROM posts "
           "WHERE COALESCE(created_at, first_seen) >= ? AND status = 'live' "
           "UNION ALL SELECT platform, post_id, author_id, TRIM(COALESCE(title, '') || ' ' || COALESCE(text, '')), "
           "created_at, first_seen, url, COALESCE(created_at, first_seen) FROM mentions m "
           "WHERE COALESCE(created_at, first_seen) >= ? AND NOT EXISTS "
           "(SELECT 1 FROM posts p WHERE p.platform = m.platform AND p.post_id = m.post_id) ORDER BY seen DESC")
    params: list[Any] = [since, since]
    if limit:
        sql += " LIMIT ?"
        params.append(limit)
    return [PostText(r["platform"], r["post_id"], r["account_id"], r["text"] or "", r["created_at"],
                     r["first_seen"], r["url"]) for r in store.query(sql, params)]


# Every text sentiment reads, as one relation: timeline posts, and mentions not also a timeline post.
_TEXTS = ("(SELECT platform, post_id, account_id, text, created_at, first_seen, url FROM posts UNION ALL "
          "SELECT platform, post_id, author_id, TRIM(COALESCE(title, '') || ' ' || COALESCE(text, '')), created_at, "
          "first_seen, url FROM mentions m WHERE NOT EXISTS "
          "(SELECT 1 FROM posts p WHERE p.platform = m.platform AND p.post_id = m.post_id))")


def _cluster(row: dict[str, Any]) -> Cluster:
    return Cluster(id=row["id"], group_name=row["group_name"], representative=row["representative"],
                   url=row["url"], size=row["size"], platforms=json.loads(row["platforms"] or "[]"),
                   negative=bool(row["negative"]), score=row["score"], reason=row["reason"],
                   first_seen=row["first_seen"], last_seen=row["last_seen"], finding_id=row["finding_id"],
                   spike=json.loads(row["spike"]) if row["spike"] else None, decision=row["decision"], decided_by=row["decided_by"], decided_at=row["decided_at"])


def clusters_since(store: Store, since: str) -> list[Cluster]:
    """Clusters still growing since ``since``: the ones a new post may join."""
    rows = store.query("SELECT * FROM sentiment_clusters WHERE last_seen >= ? ORDER BY id", [since])
    return [_cluster(r) for r in rows]


def clustered_posts(store: Store, keys: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Which of these (platform, post_id) already belong to a cluster, and to which."""
    out: dict[tuple[str, str], int] = {}
    for platform, post_id in keys:
        row = store.one("SELECT cluster_id FROM sentiment_cluster_posts WHERE platform = ? AND post_id = ?",
                        [platform, post_id])
        if row:
            out[(platform, post_id)] = row["cluster_id"]
    return out


def create_cluster(store: Store, group_name: str, post: PostText, *, negative: bool, score: float,
                   reason: str, now: str, representative: str | None = None) -> int:
    seen = post.seen or now
    with store.transaction():
        cur = store.conn.execute(
            """INSERT INTO sentiment_clusters (group_name, representative, url, size, platforms, negative, score,
               reason, first_seen, last_seen) VALUES (?, ?, ?, 0, '[]', ?, ?, ?, ?, ?)""",
            [group_name, (representative or post.text)[:1000], post.url, int(negative), score, reason, seen, seen])
        cluster_id = int(cur.lastrowid or 0)
        add_post(store, cluster_id, post, now=now)
    return cluster_id


def add_post(store: Store, cluster_id: int, post: PostText, *, now: str) -> None:
    """Add a post to a cluster (once) and bring its size, platforms and first/last seen up to date."""
    with store.transaction():
        cur = store.conn.execute(
            "INSERT OR IGNORE INTO sentiment_cluster_posts (cluster_id, platform, post_id, added_at) "
            "VALUES (?, ?, ?, ?)", [cluster_id, post.platform, post.post_id, now])
        if not cur.rowcount:
            return
        row = store.one("SELECT platforms, first_seen, last_seen FROM sentiment_clusters WHERE id = ?", [cluster_id])
        if row is None:
            return
        platforms = sorted({*json.loads(row["platforms"] or "[]"), post.platform})
        seen = post.seen or now
        store.conn.execute(
            "UPDATE sentiment_clusters SET size = size + 1, platforms = ?, first_seen = MIN(first_seen, ?), "
            "last_seen = MAX(last_seen, ?) WHERE id = ?",
            [json.dumps(platforms), seen, seen, cluster_id])


def merge_clusters(store: Store, keep: int, gone: int) -> bool:
    """Fold cluster ``gone`` into ``keep`` (one incident that arrived split): its posts move, the
    size, platforms, first/last seen and negativity are recomputed, the row is deleted. Refused
    (False) when ``gone`` already has a finding: a finding people were alerted to is not erased."""
    with store.transaction():
        row = store.one("SELECT finding_id, negative, score, reason FROM sentiment_clusters WHERE id = ?", [gone])
        if row is None or row["finding_id"] is not None:
            return False
        store.conn.execute("UPDATE sentiment_cluster_posts SET cluster_id = ? WHERE cluster_id = ?", [keep, gone])
        store.conn.execute("DELETE FROM sentiment_clusters WHERE id = ?", [gone])
        seen = store.one(
            "SELECT COUNT(*) AS n, MIN(COALESCE(p.created_at, p.first_seen)) AS lo, MAX(COALESCE(p.created_at, "
            "p.first_seen)) AS hi FROM sentiment_cluster_posts c JOIN " + _TEXTS + " p ON p.platform = c.platform "
            "AND p.post_id = c.post_id WHERE c.cluster_id = ?", [keep])
        platforms = sorted({r["platform"] for r in store.query(
            "SELECT DISTINCT platform FROM sentiment_cluster_posts WHERE cluster_id = ?", [keep])})
        size = store.scalar("SELECT COUNT(*) FROM sentiment_cluster_posts WHERE cluster_id = ?", [keep])
        store.conn.execute(
            "UPDATE sentiment_clusters SET size = ?, platforms = ?, first_seen = MIN(first_seen, COALESCE(?, first_seen)), "
            "last_seen = MAX(last_seen, COALESCE(?, last_seen)) WHERE id = ?",
            [size, json.dumps(platforms), seen["lo"] if seen else None, seen["hi"] if seen else None, keep])
        if row["negative"]:
            store.conn.execute("UPDATE sentiment_clusters SET negative = 1, score = ?, reason = ? "
                               "WHERE id = ? AND negative = 0", [row["score"], row["reason"], keep])
    return True


def mark_negative(store: Store, cluster_id: int, score: float, reason: str) -> None:
    """A cluster that opened neutral turns negative when a negative post joins it (never back)."""
    with store.transaction():
        store.conn.execute("UPDATE sentiment_clusters SET negative = 1, score = ?, reason = ? "
                           "WHERE id = ? AND negative = 0", [score, reason, cluster_id])


def set_finding(store: Store, cluster_id: int, finding_id: int, spike: list[int] | None) -> None:
    """The cluster's finding, and the window counts of its first spike (kept: a cluster that spiked
    stays a spike, so its finding is not downgraded, and re-sent, when the burst ends)."""
    with store.transaction():
        store.conn.execute("UPDATE sentiment_clusters SET finding_id = ?, spike = COALESCE(spike, ?) WHERE id = ?",
                           [finding_id, json.dumps(spike) if spike else None, cluster_id])


def get_cluster(store: Store, cluster_id: int) -> Cluster | None:
    row = store.one("SELECT * FROM sentiment_clusters WHERE id = ?", [cluster_id])
    if row is None:
        return None
    c = _cluster(row)
    c.posts = [f"{r['platform']}:{r['post_id']}" for r in store.query(
        "SELECT platform, post_id FROM sentiment_cluster_posts WHERE cluster_id = ? ORDER BY added_at, post_id",
        [cluster_id])]
    return c


def cluster_posts(store: Store, cluster_id: int) -> list[PostText]:
    rows = store.query(
        """SELECT p.platform, p.post_id, p.account_id, p.text, p.created_at, p.first_seen, p.url
           FROM sentiment_cluster_posts c JOIN """ + _TEXTS + """ p ON p.platform = c.platform AND p.post_id = c.post_id
           WHERE c.cluster_id = ? ORDER BY COALESCE(p.created_at, p.first_seen)""", [cluster_id])
    return [PostText(r["platform"], r["post_id"], r["account_id"], r["text"] or "", r["created_at"],
                     r["first_seen"], r["url"]) for r in rows]


def list_clusters(store: Store, *, since: str | None = None, until: str | None = None, group: str | None = None,
                  platform: str | None = None, negative: bool | None = None, limit: int = 200) -> list[Cluster]:
    clauses, params = [], []
    if since:
        clauses.append("last_seen >= ?")
        params.append(since)
    if until:
        clauses.append("first_seen < ?")
        params.append(until)
    if group:
        clauses.append("group_name = ?")
        params.append(group)
    if platform:
        clauses.append("EXISTS (SELECT 1 FROM json_each(platforms) WHERE value = ?)")
        params.append(platform)
    if negative is not None:
        clauses.append("negative = ?")
        params.append(int(negative))
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    rows = store.query(f"SELECT * FROM sentiment_clusters{where} ORDER BY negative DESC, size DESC, last_seen DESC "
                       "LIMIT ?", [*params, limit])
    return [_cluster(r) for r in rows]


def decide(store: Store, cluster_id: int, decision: str, user: str, now: str) -> bool:
    if decision not in DECISIONS:
        raise ValueError(f"研判结论应为 {'、'.join(DECISIONS.values())} 之一")
    with store.transaction():
        cur = store.conn.execute("UPDATE sentiment_clusters SET decision = ?, decided_by = ?, decided_at = ? "
                                 "WHERE id = ?", [decision, user, now, cluster_id])
    return bool(cur.rowcount)


def mentions_by_day(store: Store, since: str, until: str) -> list[tuple[str, str, int]]:
    """(day in China time, platform, number of clustered posts first seen that day)."""
    rows = store.query(
        """SELECT date(COALESCE(p.created_at, p.first_seen), '+8 hours') AS day, p.platform, COUNT(*) AS n
           FROM sentiment_cluster_posts c JOIN """ + _TEXTS + """ p ON p.platform = c.platform AND p.post_id = c.post_id
           WHERE COALESCE(p.created_at, p.first_seen) >= ? AND COALESCE(p.created_at, p.first_seen) < ?
           GROUP BY day, p.platform ORDER BY day, p.platform""", [since, until])
    return [(r["day"], r["platform"], r["n"]) for r in rows]
