"""Sentiment watch (舆情关注): posts that mention the school, by keyword rules, and spikes.

Deliberately rule-based: staff must be able to read *why* a post was flagged ("规则组「本校提及」：
提及「北理工」；负面（得分 -3.0）：风险词「维权」"), write the rules themselves
(:mod:`watcher.opinion.rules`, ``sentiment.rules``), and trust that the same post is judged the
same way tomorrow. Polarity comes from a named lexicon (:mod:`watcher.opinion.polarity`).

Input is the ``posts`` table (timelines of registered accounts, forum threads, site feeds);
output is ``sentiment`` findings for negative mentions and ``sentiment_spike`` findings when the
number of mentions in a window jumps well above the recent baseline.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from watcher.config import Config
from watcher.findings import FindingInput, record
from watcher.opinion import polarity
from watcher.opinion.polarity import Polarity
from watcher.opinion.rules import SEVERITIES, RuleGroup, RuleMatch, RuleSet, default_rules, load_rules
from watcher.store import Store
from watcher.store import mentions as mentions_store


@dataclass
class Assessment:
    """A post's verdict: the rule groups it matched and its polarity, each with its reason."""

    matches: list[RuleMatch] = field(default_factory=list)
    polarity: Polarity | None = None

    @property
    def mentioned(self) -> bool:
        return bool(self.matches)

    @property
    def mentions(self) -> list[str]:
        return list(dict.fromkeys(w for m in self.matches for w in m.words))

    @property
    def negative(self) -> bool:
        return bool(self.matches and self.polarity and self.polarity.negative)

    @property
    def group(self) -> RuleGroup | None:
        """The most severe group matched: it names the finding's severity and responsible unit."""
        if not self.matches:
            return None
        return max((m.group for m in self.matches), key=lambda g: SEVERITIES.index(g.severity))

    def reason(self) -> str:
        said = "；".join(m.reason() for m in self.matches)
        return f"{said}；{self.polarity.reason()}" if self.polarity else said


class SentimentRules:
    """The rule groups (from ``sentiment.rules`` or the school's names) and the polarity lexicon."""

    def __init__(self, rules: RuleSet, extra_risk: tuple[str, ...] = ()) -> None:
        self.rules = rules
        self.extra_risk = extra_risk

    @classmethod
    def from_config(cls, cfg: Config) -> SentimentRules:
        if cfg.sentiment.rules:
            rules = load_rules(cfg.resolve_path(cfg.sentiment.rules))
        else:
            n = cfg.school.names
            rules = default_rules(n.full, [*n.short, *cfg.sentiment.keywords], n.english)
        return cls(rules, tuple(cfg.sentiment.negative_words))

    def assess(self, text: str) -> Assessment:
        matches = self.rules.matches(text)
        if not matches:
            return Assessment()
        return Assessment(matches, polarity.assess(text, self.extra_risk))


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def analyze(store: Store, cfg: Config, *, now: datetime | None = None, lookback_hours: int = 48) -> dict[str, int]:
    """Flag negative mentions among recent posts and detect a spike in the latest window."""
    now = now or datetime.now(UTC)
    rules = SentimentRules.from_config(cfg)
    since = (now - timedelta(hours=lookback_hours)).isoformat()
    posts = mentions_store.recent_posts(store, since)
    flagged = 0
    mention_times: list[datetime] = []
    for p in posts:
        a = rules.assess(p.text)
        if not a.mentioned:
            continue
        t = _parse_time(p.created_at) or _parse_time(p.first_seen)
        if t:
            mention_times.append(t)
        if not a.negative or a.polarity is None or a.group is None:
            continue
        pol = a.polarity
        rec = record(store, FindingInput(
            kind="sentiment",
            dedupe_key=f"sentiment:{p.platform}:{p.post_id}",
            title=f"舆情关注（{a.group.name}）：提及" + "、".join(f"「{m}」" for m in a.mentions)
                  + "，含" + "、".join(f"「{w}」" for w in [*pol.risk_words, *pol.negative_words][:4]),
            severity=a.group.severity,
            platform=p.platform,
            account_id=p.account_id,
            unit=a.group.unit,
            details={"post_id": p.post_id, "text": p.text[:500], "url": p.url,
                     "mentions": a.mentions, "groups": [m.group.name for m in a.matches],
                     "negatives": [*pol.risk_words, *pol.negative_words], "score": round(pol.score, 2),
                     "lexicon": polarity.LEXICON, "reasons": [m.reason() for m in a.matches] + [pol.reason()],
                     "created_at": p.created_at},
        ))
        flagged += rec.created
    spiked = _spike(store, cfg, mention_times, now)
    return {"posts": len(posts), "flagged": flagged, "spike": int(spiked)}


def window_counts(times: list[datetime], now: datetime, window: timedelta, windows: int) -> list[int]:
    """Counts per window, oldest first, the last being the window that ends now."""
    counts = [0] * windows
    start = now - window * windows
    for t in times:
        if start <= t < now:
            counts[min(int((t - start) / window), windows - 1)] += 1
    return counts


def is_spike(counts: list[int], factor: float, minimum: int = 5) -> bool:
    """The latest window is a spike when it reaches ``minimum`` and ``factor`` × the median of
    the earlier windows (the median ignores one earlier burst, a mean would not)."""
    *history, latest = counts
    baseline = statistics.median(history) if history else 0
    return latest >= minimum and latest >= factor * max(baseline, 1)


def _spike(store: Store, cfg: Config, times: list[datetime], now: datetime) -> bool:
    from watcher.periods import active_periods

    window = timedelta(seconds=cfg.sentiment.window)
    counts = window_counts(times, now, window, windows=24)
    # A sensitive period may set a lower threshold: react to smaller jumps while it lasts.
    factor = min([cfg.sentiment.spike_factor, *(p.spike_factor for p in active_periods(cfg, store, now))])
    if not is_spike(counts, factor):
        return False
    bucket = int(now.timestamp() // window.total_seconds())
    record(store, FindingInput(
        kind="sentiment_spike",
        dedupe_key=f"sentiment_spike:{bucket}",
        title=f"舆情激增：最近 {cfg.sentiment.window // 60} 分钟提及本校 {counts[-1]} 条，"
              f"为此前中位数的 {counts[-1] / max(statistics.median(counts[:-1]), 1):.1f} 倍",
        severity="critical",
        details={"counts": counts, "window_seconds": cfg.sentiment.window,
                 "reasons": [f"最近窗口 {counts[-1]} 条，此前 {len(counts) - 1} 个窗口中位数 "
                             f"{statistics.median(counts[:-1])}"]},
    ))
    return True


def _job(cfg: Config) -> None:
    with Store.open(cfg.db_path) as store:
        analyze(store, cfg)


def scheduled_jobs(cfg: Config) -> list:
    from watcher.jobs import ScheduledJob

    return [ScheduledJob(id="sentiment", func=_job, seconds=cfg.schedule.sentiment_every, description="舆情关键词与激增检测")]
