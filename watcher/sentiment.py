"""Sentiment watch (舆情关注): posts that mention the school, by keyword rules, and spikes.

Deliberately rule-based: staff must be able to read *why* a post was flagged ("规则组「本校提及」：
提及「北理工」；负面（得分 -3.0）：风险词「维权」"), write the rules themselves
(:mod:`watcher.opinion.rules`, ``sentiment.rules``), and trust that the same post is judged the
same way tomorrow. Polarity comes from a named lexicon (:mod:`watcher.opinion.polarity`).

Input is every stored text (:func:`watcher.store.mentions.recent_posts`): the timelines of
registered accounts, forum threads, site feeds, and the mentions and comments that search and
comment rounds found. Mentions are clustered (one incident, one cluster, :mod:`watcher.opinion.clusters`);
output is one ``sentiment`` finding per negative cluster, raised to a spike (critical) when the
cluster makes its rule group's count jump above the recent baseline, and a ``sentiment_spike``
finding for a group whose spike no single cluster explains.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from watcher import findings
from watcher.config import Config
from watcher.opinion import polarity
from watcher.opinion.clusters import ALGORITHM, Clusterer, original
from watcher.opinion.polarity import Polarity
from watcher.opinion.rules import SEVERITIES, RuleGroup, RuleMatch, RuleSet, default_rules, fold, load_rules
from watcher.periods import active_periods
from watcher.schedule import ScheduledJob
from watcher.store import Store
from watcher.store import mentions as mentions_store
from watcher.store.findings import FindingInput, list_findings, record
from watcher.store.mentions import Cluster, PostText
from watcher.timefmt import parse_stored

TOP_POSTS = 3  # posts a cluster's finding (and so its alert) shows


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

    def __init__(self, rules: RuleSet, extra_risk: tuple[str, ...] = (), others: tuple[str, ...] = ()) -> None:
        self.rules = rules
        self.extra_risk = extra_risk
        # Other institutions (``school.others``), longest first: their names are masked before any
        # rule reads a post, so 北京理工大学珠海学院 is never a mention of 北理工, in every group.
        self.others = tuple(sorted({fold(o) for o in others if o.strip()}, key=len, reverse=True))

    @classmethod
    def from_config(cls, cfg: Config) -> SentimentRules:
        if cfg.sentiment.rules:
            rules = load_rules(cfg.resolve_path(cfg.sentiment.rules))
        else:
            n = cfg.school.names
            rules = default_rules(n.full, [*n.short, *cfg.sentiment.keywords], n.english)
        return cls(rules, tuple(cfg.sentiment.negative_words), tuple(cfg.school.others))

    def without_others(self, text: str) -> str:
        folded = fold(text)
        for name in self.others:
            folded = folded.replace(name, "〇" * len(name))
        return folded

    def assess(self, text: str) -> Assessment:
        matches = self.rules.matches(self.without_others(text) if self.others else text)
        if not matches:
            return Assessment()
        return Assessment(matches, polarity.assess(text, self.extra_risk))




@dataclass
class _Touched:
    """A cluster this run added to or saw again, and its mentions in the latest window by group."""

    cluster_id: int
    latest: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def analyze(cfg: Config, store: Store, *, now: datetime | None = None, lookback_hours: int = 48) -> dict[str, int]:
    """Cluster recent mentions (one incident, one cluster), record one finding per negative or
    spiking cluster, and one spike finding for a group whose spike no single cluster explains."""
    now = now or datetime.now(UTC)
    now_iso = now.replace(microsecond=0).isoformat()
    rules = SentimentRules.from_config(cfg)
    since = (now - timedelta(hours=lookback_hours)).isoformat()
    window = timedelta(seconds=cfg.sentiment.window)
    posts = list(reversed(mentions_store.recent_posts(store, since)))  # oldest first: the first copy opens
    clusterer = Clusterer()
    for c in mentions_store.clusters_since(store, since):
        clusterer.add(c.id, c.representative)
        for member in mentions_store.cluster_posts(store, c.id):
            clusterer.add(c.id, member.text)
    known = mentions_store.clustered_posts(store, [(p.platform, p.post_id) for p in posts])
    times: dict[str, list[datetime]] = defaultdict(list)
    latest_posts: dict[str, list[dict]] = defaultdict(list)
    touched: dict[int, _Touched] = {}
    merged: dict[int, int] = {}
    for p in posts:
        a = rules.assess(p.text)
        if not a.mentioned or a.group is None or a.polarity is None:
            continue
        t = parse_stored(p.created_at) or parse_stored(p.first_seen) or now
        for m in a.matches:
            times[m.group.name].append(t)
        cid = known.get((p.platform, p.post_id)) or _place(store, clusterer, p, a, now_iso, merged)
        for gone, keep in merged.items():  # a merge just now: the part's counts go with it
            moved = touched.pop(gone, None)
            into = touched.setdefault(keep, _Touched(keep))
            for g, n in (moved.latest.items() if moved else ()):
                into.latest[g] += n
        merged.clear()  # a deleted cluster's ID may be given to the next new cluster
        entry = touched.setdefault(cid, _Touched(cid))
        if now - window <= t < now:
            for m in a.matches:
                entry.latest[m.group.name] += 1
                latest_posts[m.group.name].append({"platform": p.platform, "text": original(p.text)[:120],
                                                   "url": p.url})
    spiking = _spikes(cfg, store, times, now)
    flagged = spiked = 0
    explained: set[str] = set()
    for entry in touched.values():
        cluster = mentions_store.get_cluster(store, entry.cluster_id)
        if cluster is None:
            continue
        # The cluster is the spike of every group it holds at least half the latest window of,
        # whichever group named it: one incident, one finding, however many groups it matched.
        carried = [g for g, counts in spiking.items() if entry.latest.get(g, 0) * 2 >= counts[-1]]
        spike = cluster.spike or (max((spiking[g] for g in carried), key=lambda c: c[-1]) if carried else None)
        explained.update(carried)
        if not cluster.negative and spike is None:
            continue
        rec = record(store, _cluster_finding(cfg, store, rules, cluster, spike, carried))
        mentions_store.set_finding(store, cluster.id, rec.id, spike)
        flagged += rec.created and spike is None
        spiked += spike is not None
    for group, counts in spiking.items():
        if group not in explained:
            _group_spike(cfg, store, rules, group, counts, now, latest_posts.get(group, [])[:TOP_POSTS])
            spiked += 1
    return {"posts": len(posts), "flagged": flagged, "spike": int(spiked > 0)}


def _place(store: Store, clusterer: Clusterer, post: PostText, a: Assessment, now: str,
           merged: dict[int, int]) -> int:
    """The cluster a new mention belongs to: the nearest near-duplicate's, or a new one."""
    assert a.group is not None and a.polarity is not None
    reason = a.reason()
    linked = clusterer.linked(post.text)
    cid = min(linked) if linked else None   # the oldest cluster: the incident's first post
    for other in [o for o in linked if o != cid]:
        if cid is not None and mentions_store.merge_clusters(store, cid, other):
            clusterer.merge(cid, other)  # this post bridges two parts of one incident
            merged[other] = cid
    if cid is None:
        cid = mentions_store.create_cluster(store, a.group.name, post, negative=a.negative,
                                            score=round(a.polarity.score, 2), reason=reason, now=now,
                                            representative=original(post.text))
        clusterer.add(cid, post.text)
        return cid
    mentions_store.add_post(store, cid, post, now=now)
    clusterer.add(cid, post.text)  # a later copy may be nearer to this one than to the first
    if a.negative:
        mentions_store.mark_negative(store, cid, round(a.polarity.score, 2), reason)
    return cid


def _cluster_finding(cfg: Config, store: Store, rules: SentimentRules, cluster: Cluster, spike: list[int] | None,
                     carried: list[str]) -> FindingInput:
    group = next((g for g in rules.rules.groups if g.name == cluster.group_name), None)
    top = [{"platform": p.platform, "text": original(p.text)[:120], "url": p.url}
           for p in mentions_store.cluster_posts(store, cluster.id)[:TOP_POSTS]]
    return findings.sentiment(cluster, severity=group.severity if group else "warning",
                              unit=group.unit if group else None, spike=spike, groups=carried, top_posts=top,
                              window_seconds=cfg.sentiment.window, lexicon=polarity.lexicon_name(), algorithm=ALGORITHM)


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


def _spikes(cfg: Config, store: Store, times: dict[str, list[datetime]], now: datetime) -> dict[str, list[int]]:
    """The groups whose latest window is a spike against their own recent baseline, with the
    window counts. A sensitive period may set a lower threshold: react to smaller jumps while it lasts."""
    window = timedelta(seconds=cfg.sentiment.window)
    factor = min([cfg.sentiment.spike_factor, *(p.spike_factor for p in active_periods(cfg, store, now))])
    out = {}
    for group, group_times in times.items():
        counts = window_counts(group_times, now, window, windows=24)
        if is_spike(counts, factor):
            out[group] = counts
    return out


def _group_spike(cfg: Config, store: Store, rules: SentimentRules, group: str, counts: list[int],
                 now: datetime, top: list[dict]) -> None:
    """A spike spread over many clusters: one finding for the group and the episode. An episode
    goes on while the group keeps spiking (seen again within two windows): its finding is found
    again by its episode, so a spike that grows, falls or was resolved is never a new alert."""
    info = next((g for g in rules.rules.groups if g.name == group), None)
    window = timedelta(seconds=cfg.sentiment.window)
    now_iso = now.replace(microsecond=0).isoformat()
    current = None
    for f in list_findings(store, kind="sentiment_spike", limit=50):
        d = f.details
        last = parse_stored(d.get("last_spiking"))
        if d.get("group") == group and d.get("episode") and last is not None and now - last <= 2 * window:
            current = f
            break
    episode = current.details["episode"] if current else now_iso
    first = current.details.get("first_counts") if current else None
    finding = findings.sentiment_spike(group, episode=episode, counts=counts, first_counts=first or counts,
                                       window_seconds=cfg.sentiment.window, unit=info.unit if info else None,
                                       top_posts=top)
    finding.details["first_counts"] = first or counts
    finding.details["last_spiking"] = now_iso
    record(store, finding)


def _job(cfg: Config) -> None:
    with Store.open(cfg.db_path) as store:
        analyze(cfg, store)


def scheduled_jobs(cfg: Config) -> list[ScheduledJob]:
    return [ScheduledJob(id="sentiment", func=_job, seconds=cfg.schedule.sentiment_every, description="舆情关键词与激增检测")]
