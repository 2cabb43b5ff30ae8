"""Per-account figures over a period of China-time days: the ground the annual report, the
assessment and the leaderboards stand on.

A period is a range of whole days as people in China count them (``first`` to ``last``
inclusive, Asia/Shanghai); every stored time is compared with the period as a datetime, so a
post at 2026-01-01 07:30+08:00 belongs to 2026 although it is still 2025 in UTC.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from spiders.parsing import CHINA
from watcher.store import Store
from watcher.store import reports as q
from watcher.store.reviews import Review, reviews_for_year
from watcher.timefmt import zone


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


def post_time(text: str) -> datetime | None:
    """A stored post time as an aware datetime (a time without offset is China time)."""
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=CHINA)


METRICS = ("reposts", "comments", "likes")


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
    followers_end: int | None = None
    reposts: int = 0
    comments: int = 0
    likes: int = 0
    peak: dict[str, int] = field(default_factory=lambda: dict.fromkeys(METRICS, 0))  # best single post
    observed: set[str] = field(default_factory=set)  # metrics the platform showed on some post
    monthly_posts: Counter[str] = field(default_factory=Counter)  # "2026-03" → posts

    @property
    def growth(self) -> int | None:
        if self.followers_start is None or self.followers_end is None:
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

    def per_post(self, value: int) -> float | None:
        return value / self.posts if self.posts else None

    def dormant(self, dormant_days: int) -> bool:
        return self.days_since_post is not None and self.days_since_post >= dormant_days


def account_figures(store: Store, period: Period, *, review_year: int | None = None,
                    today: date | None = None, unit: str | None = None) -> list[AccountFigures]:
    """One entry per registered account that existed during the period (closed before it: left
    out), optionally of one unit. "Days since last post" count to the period's last day, or to
    today when the period has not ended yet."""
    asof = min(period.last, today or datetime.now(zone()).date())
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
            if value is None:
                continue
            fig.observed.add(name)
            setattr(fig, name, getattr(fig, name) + value)
            fig.peak[name] = max(fig.peak[name], value)
        fig.monthly_posts[when.astimezone(zone()).strftime("%Y-%m")] += 1
    cutoff = datetime.combine(asof + timedelta(days=1), time(0), zone())
    for key, text in q.post_times_until(store, asof):
        fig = out.get(key)
        when = post_time(text)
        if fig is None or when is None or when >= cutoff:
            continue
        if fig.last_post is None or when > fig.last_post:
            fig.last_post = when
    for fig in out.values():
        if fig.last_post is not None:
            fig.days_since_post = (asof - fig.last_post.astimezone(zone()).date()).days
    before = q.followers_before(store, period.start)
    first_in = q.followers_from(store, period.start, period.end)
    at_end = q.followers_before(store, period.end)
    for key, fig in out.items():
        fig.followers_start = before.get(key, first_in.get(key))
        fig.followers_end = at_end.get(key)
    return list(out.values())
