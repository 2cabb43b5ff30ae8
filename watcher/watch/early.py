"""Early life: a registered account's new posts are checked one by one, more often than the
timeline round re-reads the account.

Public studies of deletion find most removals in a post's first hours: Weiboscope (Fu, Chan and
Chau, "Assessing censorship on microblogs in China", IEEE Internet Computing 2013) and Zhu et al.,
"The Velocity of Censorship" (USENIX Security 2013: about 30 % of removed Weibo posts gone within
30 minutes, about 90 % within a day). So the posts younger than ``watch.early_hours`` (default 6)
are asked about every ``watch.early_every`` (default 15 minutes) in a check round of their own —
within the platform's pace (a round of N checks takes at least N × its interval) and at most
``watch.early_budget_share`` of its daily request budget, which stretches the cadence when many
posts are young. What a check says is concluded like any other (a gone post with its cause, a
hidden one never a deletion: :func:`watcher.watch.analyze.confirm_checked_live`).

The cadence reached — the median time between two checks of one young post over the last day —
is what the platform status page shows beside the target.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from spiders import catalog, identity
from watcher import registry
from watcher.config import Config
from watcher.store import Store, posts
from watcher.store.posts import TimelinePost
from watcher.timefmt import parse_stored

DAY = 86400
# Stored dates carry their own offset (+08:00 from the platforms, UTC from us): the database
# narrows by text with this margin, Python decides exactly.
_OFFSET_MARGIN = timedelta(hours=15)




def applies(platform: str) -> bool:
    """Platforms whose registered accounts' posts can be checked one by one."""
    info = catalog.get(platform)
    return info.watch == "registered" and info.supports("check") and info.supports("timeline")


def young_posts(cfg: Config, store: Store, platform: str, now: datetime | None = None) -> list[TimelinePost]:
    """The registered accounts' live posts younger than ``watch.early_hours``, newest first."""
    now = now or datetime.now(UTC)
    hours = cfg.watch.early_hours
    if not hours or not applies(platform):
        return []
    accounts = [a.account_id for a in registry.active_accounts(store) if a.platform == platform]
    since = now - timedelta(hours=hours)
    loose = (since - _OFFSET_MARGIN).astimezone(UTC).isoformat()
    out = []
    for p in posts.young_posts(store, platform, accounts, loose):
        born = parse_stored(p.created_at) or parse_stored(p.first_seen)
        if born is not None and born >= since:
            out.append(p)
    return out


@dataclass(frozen=True)
class Plan:
    """The next early-life round of a platform: which posts (at most ``budget`` of the young
    ones) and how long after the last such round it is due (``interval`` seconds)."""

    young: list[TimelinePost]
    interval: int
    budget: int | None  # checks still allowed today (None: the platform has no daily budget)

    @property
    def targets(self) -> list[TimelinePost]:
        return self.young if self.budget is None else self.young[: max(self.budget, 0)]


def early_checks_today(cfg: Config, store: Store, platform: str, now: datetime) -> int:
    """Checks made today (UTC day, as the request budget counts) of posts while they were young."""
    start = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    young = timedelta(hours=cfg.watch.early_hours)
    return sum(1 for c in posts.checks_since(store, platform, start.isoformat())
               if (born := parse_stored(c["born"])) and (at := parse_stored(c["checked_at"])) and at - born <= young)


def plan(cfg: Config, store: Store, platform: str, now: datetime | None = None) -> Plan:
    now = now or datetime.now(UTC)
    young = young_posts(cfg, store, platform, now)
    pace = cfg.platform(platform).pace(platform)
    interval = cfg.watch.early_every
    # The pace: one round of these checks must be over before the next one is due.
    interval = max(interval, math.ceil(len(young) * max(pace.interval, 60 / pace.per_minute if pace.per_minute else 0)))
    budget: int | None = None
    if pace.daily:
        share = int(pace.daily * cfg.watch.early_budget_share)
        # Spread the day's share over the young posts: each round costs one request a post.
        if young and share:
            interval = max(interval, math.ceil(DAY * len(young) / share))
        left_today = pace.daily - identity.requests_today(cfg.data_path, platform)
        budget = max(0, min(share - early_checks_today(cfg, store, platform, now), left_today))
    return Plan(young, interval, budget)


def cadence(cfg: Config, store: Store, platform: str, now: datetime | None = None) -> dict[str, object] | None:
    """The early-life cadence for the status page: the target (seconds), the cadence reached —
    the median time between two successive checks of one post while it was young, over the
    last 24 hours (None before two checks of a post) — and how many such checks there were."""
    if not cfg.watch.early_hours or not applies(platform):
        return None
    now = now or datetime.now(UTC)
    young = timedelta(hours=cfg.watch.early_hours)
    last: dict[str, datetime] = {}
    gaps: list[float] = []
    checks = 0
    for c in posts.checks_since(store, platform, (now - timedelta(days=1)).astimezone(UTC).isoformat()):
        born, at = parse_stored(c["born"]), parse_stored(c["checked_at"])
        if born is None or at is None or at - born > young:
            continue
        checks += 1
        if c["post_id"] in last:
            gaps.append((at - last[c["post_id"]]).total_seconds())
        last[c["post_id"]] = at
    return {"hours": cfg.watch.early_hours, "target": cfg.watch.early_every, "watch_every": cfg.schedule.watch_every,
            "reached": int(statistics.median(gaps)) if gaps else None, "checks": checks}


def minutes(seconds: int | None) -> str:
    """A cadence as people read it: 15 分钟, 1.5 小时."""
    if seconds is None:
        return "—"
    if seconds < 3600:
        return f"{max(1, round(seconds / 60))} 分钟"
    return f"{seconds / 3600:.1f}".rstrip("0").rstrip(".") + " 小时"


def describe(c: dict[str, object] | None) -> str:
    """The cadence in one line of Chinese, for the status page and ``watcher platforms status``."""
    if c is None:
        return "—"
    reached = c["reached"]
    got = f"实际每 {minutes(reached)}（近 24 小时新帖核查 {c['checks']} 次）" if reached is not None \
        else f"尚未测得（近 24 小时新帖核查 {c['checks']} 次）"
    return (f"{c['hours']} 小时内的新帖：目标每 {minutes(c['target'])}，{got}；"  # type: ignore[arg-type]
            f"其余帖子随巡检每 {minutes(c['watch_every'])}")  # type: ignore[arg-type]
