"""僵尸账号 (dormant account): the one rule the annual report, the assessment, the hourly check
and the pages share.

An account is dormant when MORE THAN ``watch.dormant_days`` whole days (180 by default) lie
between the day of its last post and the day of reckoning, both counted in the configured time
zone: last post on 1 January, reckoned on 30 June (180 days) — not dormant; on 1 July (181) —
dormant. An account never seen posting has no evidence either way and is not dormant.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from spiders.parsing import CHINA
from watcher.store import Store
from watcher.store import reports as q
from watcher.timefmt import local_date, zone

__all__ = ["idle_days", "is_dormant", "last_posts", "local_date", "post_time"]


def post_time(text: str) -> datetime | None:
    """A stored post time as an aware datetime (a time without offset is China time)."""
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=CHINA)


def last_posts(store: Store, asof: date) -> dict[q.AccountKey, datetime]:
    """Each account's last post published on or before the day ``asof`` (local), by moment: post
    times are stored with the offset the platform gave (+08:00, +00:00 …), so they are compared
    as datetimes, not as text."""
    cutoff = datetime.combine(asof + timedelta(days=1), time(0), zone())
    out: dict[q.AccountKey, datetime] = {}
    for key, text in q.post_times_until(store, asof):
        when = post_time(text)
        if when is None or when >= cutoff:
            continue
        if key not in out or when > out[key]:
            out[key] = when
    return out


def idle_days(last_post: datetime, asof: date) -> int:
    """Whole days from the local day of the last post to ``asof``."""
    return (asof - local_date(last_post)).days


def is_dormant(idle: int | None, dormant_days: int) -> bool:
    """THE rule: more than ``dormant_days`` days without a post (the boundary day is not dormant)."""
    return idle is not None and idle > dormant_days
