"""What the annual report, the assessment and the leaderboards read from the store.

Read-only queries over tables other modules write (registry, posts, profile snapshots, filings,
findings). Times: snapshots and findings are stored in UTC, post times as the platform gave them
(usually China time with its offset), so post times are compared as datetimes by the caller; the
queries here only narrow them by date with a day's margin either side.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from watcher.store import Store

AccountKey = tuple[str, str]  # (platform, account_id)


@dataclass(frozen=True)
class RegisteredAccount:
    id: int
    platform: str
    account_id: str
    account_name: str
    unit: str
    tier: int
    status: str
    closed_date: str | None

    @property
    def key(self) -> AccountKey:
        return (self.platform, self.account_id)


@dataclass(frozen=True)
class PostRow:
    platform: str
    account_id: str
    post_id: str
    created_at: str
    reposts: int | None  # None: the platform did not show it
    comments: int | None
    likes: int | None


@dataclass(frozen=True)
class FilingRow:
    registry_id: int
    kind: str
    field: str | None
    filed_date: str


@dataclass(frozen=True)
class FindingRow:
    kind: str
    platform: str | None
    account_id: str | None
    unit: str | None
    created_at: str


def registered_accounts(store: Store) -> list[RegisteredAccount]:
    rows = store.query("""SELECT id, platform, account_id, account_name, unit, tier, status, closed_date
                          FROM registry_accounts ORDER BY unit, tier, platform, account_name""")
    return [RegisteredAccount(**r) for r in rows]


def posts_around(store: Store, first: date, last: date) -> list[PostRow]:
    """Posts whose date is within [first - 1 day, last + 1 day]; the caller keeps the exact range."""
    lo, hi = (first - timedelta(days=1)).isoformat(), (last + timedelta(days=1)).isoformat()
    rows = store.query("""SELECT platform, account_id, post_id, created_at, reposts, comments, likes FROM posts
                          WHERE created_at IS NOT NULL AND substr(created_at, 1, 10) BETWEEN ? AND ?""", [lo, hi])
    return [PostRow(**r) for r in rows]


def post_times_until(store: Store, last: date) -> list[tuple[AccountKey, str]]:
    """Each account's post times on or before ``last`` (+1 day margin), newest first per account,
    at most the newest few per account: enough for the caller to find the last one before a moment."""
    hi = (last + timedelta(days=1)).isoformat()
    rows = store.query("""SELECT platform, account_id, created_at FROM (
                            SELECT platform, account_id, created_at, ROW_NUMBER() OVER (
                              PARTITION BY platform, account_id ORDER BY substr(created_at, 1, 10) DESC) AS n
                            FROM posts WHERE created_at IS NOT NULL AND substr(created_at, 1, 10) <= ?)
                          WHERE n <= 20""", [hi])
    return [((r["platform"], r["account_id"]), r["created_at"]) for r in rows]


def followers_first_last(store: Store, moment: datetime,
                         until: datetime) -> tuple[dict[AccountKey, tuple[int, str]], dict[AccountKey, tuple[int, str]]]:
    """Each account's first snapshot with a follower count taken in [moment, until), and its last
    one taken before ``until`` (possibly before ``moment``): (followers, taken_at UTC) each."""
    return _followers(store, "MIN", moment, until), _followers(store, "MAX", None, until)


def _followers(store: Store, pick: str, lo: datetime | None,
               hi: datetime) -> dict[AccountKey, tuple[int, str]]:
    # pick comes from the functions above, never from users.
    bound = "AND taken_at >= ?" if lo else ""
    params = [_utc(hi), *([_utc(lo)] if lo else [])]
    rows = store.query(f"""SELECT s.platform, s.account_id, s.followers, s.taken_at FROM profile_snapshots s
                           JOIN (SELECT platform, account_id, {pick}(taken_at) AS t FROM profile_snapshots
                                 WHERE followers IS NOT NULL AND taken_at < ? {bound}
                                 GROUP BY platform, account_id) m
                             ON m.platform = s.platform AND m.account_id = s.account_id AND m.t = s.taken_at
                           WHERE s.followers IS NOT NULL ORDER BY s.id""", params)
    return {(r["platform"], r["account_id"]): (int(r["followers"]), r["taken_at"]) for r in rows}


def filings_between(store: Store, first: date, last: date) -> list[FilingRow]:
    rows = store.query("""SELECT registry_id, kind, field, filed_date FROM filings
                          WHERE filed_date BETWEEN ? AND ? ORDER BY filed_date, id""",
                       [first.isoformat(), last.isoformat()])
    return [FilingRow(**r) for r in rows]


def findings_between(store: Store, start: datetime, end: datetime) -> list[FindingRow]:
    """Findings first recorded in [start, end) (UTC)."""
    rows = store.query("""SELECT kind, platform, account_id, unit, created_at FROM findings
                          WHERE created_at >= ? AND created_at < ? ORDER BY id""", [_utc(start), _utc(end)])
    return [FindingRow(**r) for r in rows]


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()
