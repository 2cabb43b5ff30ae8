"""Per-account figures over a period of local days: the ground the annual report, the
assessment and the leaderboards stand on.

A period is a range of whole days as people count them in the configured zone (``first`` to
``last`` inclusive, Asia/Shanghai by default); every stored time is compared with the period as
a datetime, so a post at 2026-01-01 07:30+08:00 belongs to 2026 although it is still 2025 in UTC.

Not observed is not zero. A count is ``None`` (shown 未观测) when the platform does not show it
for its accounts (``Platform.counts``) or when no post of the period carried it. Followers at the
end are the last snapshot up to the period's end, dated (``followers_end_on``: it may lie before
the period); growth runs from the first snapshot inside the period (``followers_start``, dated
``followers_start_on``) to that last one, and needs two different snapshots — a count from
before the period is never passed off as its start.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from spiders import catalog
from watcher import dormancy
from watcher.store import Store
from watcher.store import reports as q
from watcher.store.reviews import Review, reviews_for_year
from watcher.timefmt import local_date, local_today, zone

post_time = dormancy.post_time


@dataclass(frozen=True)
class Period:
    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError(f"结束日期 {self.last} 早于开始日期 {self.first}")

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(0), zone())

    @property
    def end(self) -> datetime:
        """The moment after the last day (exclusive bound)."""
        return datetime.combine(self.last + timedelta(days=1), time(0), zone())

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def __contains__(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(date(year, 1, 1), date(year, 12, 31))

    def label(self) -> str:
        return f"{self.first.isoformat()} 至 {self.last.isoformat()}"


METRICS = ("reposts", "comments", "likes")
UNOBSERVED = "未观测"


def exposed_counts(platform: str) -> tuple[str, ...]:
    """The counts the platform shows for a registered account (see ``Platform.counts``)."""
    try:
        return catalog.get(platform).counts
    except catalog.UnknownPlatform:
        return ("followers", *METRICS)


@dataclass
class AccountFigures:
    account: q.RegisteredAccount
    review: Review | None = None
    filings: int = 0
    unfiled: int = 0
    last_post: datetime | None = None
    days_since_post: int | None = None
    findings: Counter[str] = field(default_factory=Counter)
    posts: int = 0
    followers_start: int | None = None
    followers_start_on: date | None = None  # local day of the first snapshot inside the period
    followers_end: int | None = None
    followers_end_on: date | None = None
    followers_twice: bool = False  # two different snapshots in the period: growth is known
    reposts: int = 0
    comments: int = 0
    likes: int = 0
    peak: dict[str, int] = field(default_factory=lambda: dict.fromkeys(METRICS, 0))  # best single post
    observed: set[str] = field(default_factory=set)  # metrics the platform showed on some post
    monthly_posts: Counter[str] = field(default_factory=Counter)  # "2026-03" → posts

    @property
    def exposed(self) -> tuple[str, ...]:
        return exposed_counts(self.account.platform)

    def metric(self, name: str) -> int | None:
        """The period's total of a post count, or None when it was not observed: the platform
        does not show it, or none of the period's posts carried it (no posts: a true 0)."""
        if name not in self.exposed or (self.posts and name not in self.observed):
            return None
        return getattr(self, name)

    @property
    def growth(self) -> int | None:
        """Followers gained (negative: lost) between the first and last snapshot in the period;
        None with fewer than two."""
        if self.followers_start is None or self.followers_end is None or not self.followers_twice:
            return None
        return self.followers_end - self.followers_start

    @property
    def growth_rate(self) -> float | None:
        g = self.growth
        if g is None or not self.followers_start:
            return None
        return g / self.followers_start

    @property
    def interactions(self) -> int:
        return self.reposts + self.comments + self.likes

    def per_post(self, value: int | None) -> float | None:
        return value / self.posts if self.posts and value is not None else None

    def dormant(self, dormant_days: int) -> bool:
        return dormancy.is_dormant(self.days_since_post, dormant_days)


def account_figures(store: Store, period: Period, *, review_year: int | None = None,
                    today: date | None = None, unit: str | None = None) -> list[AccountFigures]:
    """One entry per registered account that existed during the period (closed before it: left
    out), optionally of one unit. "Days since last post" count to the period's last day, or to
    today (local) when the period has not ended yet."""
    asof = min(period.last, today or local_today())
    reviews = reviews_for_year(store, review_year if review_year is not None else period.last.year)
    out: dict[q.AccountKey, AccountFigures] = {}
    by_id: dict[int, AccountFigures] = {}
    for acc in q.registered_accounts(store):
        if unit and acc.unit != unit:
            continue
        if acc.status == "closed" and acc.closed_date and acc.closed_date < period.first.isoformat():
            continue
        fig = AccountFigures(account=acc, review=reviews.get(acc.id))
        out[acc.key] = by_id[acc.id] = fig
    for f in q.filings_between(store, period.first, period.last):
        if f.registry_id in by_id:
            by_id[f.registry_id].filings += 1
    for fd in q.findings_between(store, period.start, period.end):
        fig = out.get((fd.platform or "", fd.account_id or ""))
        if fig is None:
            continue
        fig.findings[fd.kind] += 1
        if fd.kind == "unfiled_change":
            fig.unfiled += 1
    for p in q.posts_around(store, period.first, period.last):
        fig = out.get((p.platform, p.account_id))
        when = post_time(p.created_at)
        if fig is None or when is None or when not in period:
            continue
        fig.posts += 1
        for name in METRICS:
            value = getattr(p, name)
            if value is None or name not in fig.exposed:
                continue
            fig.observed.add(name)
            setattr(fig, name, getattr(fig, name) + value)
            fig.peak[name] = max(fig.peak[name], value)
        fig.monthly_posts[when.astimezone(zone()).strftime("%Y-%m")] += 1
    for key, when in dormancy.last_posts(store, asof).items():
        fig = out.get(key)
        if fig is not None:
            fig.last_post = when
            fig.days_since_post = dormancy.idle_days(when, asof)
    first, last = q.followers_first_last(store, period.start, period.end)
    for key, fig in out.items():
        if "followers" not in fig.exposed:
            continue
        if key in first:
            fig.followers_start, fig.followers_start_on = first[key][0], local_date(first[key][1])
        if key in last:
            fig.followers_end, fig.followers_end_on = last[key][0], local_date(last[key][1])
            fig.followers_twice = key in first and last[key][1] != first[key][1]
    return list(out.values())


COUNT_LABELS = {"followers": "粉丝数", "reposts": "转发", "comments": "评论", "likes": "点赞"}


def unexposed_notes(figs: list[AccountFigures], *, scored: bool) -> list[str]:
    """One line per platform of the report that does not show some counts: what it lacks and
    what that means for the figures (and, when ``scored``, for the scores)."""
    out = []
    for platform in sorted({f.account.platform for f in figs}, key=lambda p: _order(p)):
        lacking = [COUNT_LABELS[c] for c in ("followers", *METRICS) if c not in exposed_counts(platform)]
        if lacking:
            out.append(f"{catalog.label(platform)}：平台不显示{'、'.join(lacking)}，记为“未观测”"
                       + ("，该平台账号不以这几项计分（按其余指标的权重重新折算）" if scored else ""))
    return out


def _order(platform: str) -> int:
    try:
        return catalog.get(platform).order
    except catalog.UnknownPlatform:
        return 999
