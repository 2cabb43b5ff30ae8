"""Sentiment watch (舆情关注): posts that mention the school, by keyword rules, and spikes.

Deliberately rule-based: staff must be able to read *why* a post was flagged ("提及「北理工」且含
负面词「维权」"), tune the word lists in the config, and trust that the same post is judged the
same way tomorrow. A statistical model would be opaque and would need data we do not have.

Input is the ``posts`` table (timelines of registered accounts, forum threads, site feeds);
output is ``sentiment`` findings for negative mentions and ``sentiment_spike`` findings when the
number of mentions in a window jumps well above the recent baseline.
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from watcher.config import Config
from watcher.findings import FindingInput, record
from watcher.store import Store

# Used when the config gives no list of its own: words that, next to the school's name, usually
# mean a complaint or an incident rather than news.
DEFAULT_NEGATIVE = (
    "举报", "曝光", "维权", "投诉", "造假", "学术不端", "抄袭", "事故", "死亡", "自杀", "坠楼", "火灾",
    "爆炸", "中毒", "泄露", "诈骗", "骗局", "黑幕", "丑闻", "性骚扰", "猥亵", "霸凌", "体罚", "打人",
    "欺压", "克扣", "拖欠", "退费", "乱收费", "停课", "罢课", "抗议", "辞退", "通报批评", "处分",
)
# A negation right before a negative word ("没有造假", "并非事故") flips it off.
_NEGATIONS = ("不是", "没有", "并非", "并未", "未发生", "辟谣", "不存在")

_ASCII_WORD = re.compile(r"^[A-Za-z0-9 .&'-]+$")


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").lower()


@dataclass
class Assessment:
    mentions: list[str] = field(default_factory=list)
    negatives: list[str] = field(default_factory=list)

    @property
    def mentioned(self) -> bool:
        return bool(self.mentions)

    @property
    def negative(self) -> bool:
        return bool(self.mentions and self.negatives)

    def reason(self) -> str:
        said = "、".join(f"「{m}」" for m in self.mentions)
        if self.negatives:
            return f"提及{said}，且含负面词" + "、".join(f"「{n}」" for n in self.negatives)
        return f"提及{said}"


class SentimentRules:
    """Compiled keyword rules. ASCII names (BIT) only count as whole words, so "orbit" and
    "Bitcoin" are not mentions; Chinese names count as substrings."""

    def __init__(self, keywords: list[str], negative_words: list[str]) -> None:
        self.keywords = sorted({k for k in keywords if k.strip()}, key=len, reverse=True)
        self.negative_words = sorted({w for w in negative_words if w.strip()}, key=len, reverse=True)
        self._patterns = [
            (k, re.compile(rf"(?<![a-z0-9]){re.escape(_fold(k))}(?![a-z0-9])")) for k in self.keywords
            if _ASCII_WORD.match(k)
        ]
        self._cjk = [(k, _fold(k)) for k in self.keywords if not _ASCII_WORD.match(k)]

    @classmethod
    def from_config(cls, cfg: Config) -> SentimentRules:
        n = cfg.school.names
        keywords = cfg.sentiment.keywords or [*n.full, *n.short, *n.english]
        return cls(list(keywords), list(cfg.sentiment.negative_words or DEFAULT_NEGATIVE))

    def assess(self, text: str) -> Assessment:
        folded = _fold(text)
        result = Assessment()
        covered: list[tuple[int, int]] = []
        for k, folded_k in self._cjk:
            start = folded.find(folded_k)
            # A longer name already found covers its own abbreviations (北京理工大学 ⊃ 北理).
            if start >= 0 and not any(a <= start < b for a, b in covered):
                result.mentions.append(k)
                covered.append((start, start + len(folded_k)))
        for k, pattern in self._patterns:
            if pattern.search(folded):
                result.mentions.append(k)
        if not result.mentions:
            return result
        for w in self.negative_words:
            idx = folded.find(_fold(w))
            if idx < 0:
                continue
            before = folded[max(0, idx - 4):idx]
            if any(neg in before for neg in _NEGATIONS):
                continue
            result.negatives.append(w)
        return result


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
    posts = store.query(
        "SELECT platform, post_id, account_id, text, created_at, url, first_seen FROM posts "
        "WHERE COALESCE(created_at, first_seen) >= ? AND status = 'live'",
        [since],
    )
    flagged = 0
    mention_times: list[datetime] = []
    for p in posts:
        a = rules.assess(p["text"] or "")
        if not a.mentioned:
            continue
        t = _parse_time(p["created_at"]) or _parse_time(p["first_seen"])
        if t:
            mention_times.append(t)
        if not a.negative:
            continue
        rec = record(store, FindingInput(
            kind="sentiment",
            dedupe_key=f"sentiment:{p['platform']}:{p['post_id']}",
            title=f"舆情关注：{a.reason()}",
            severity="warning",
            platform=p["platform"],
            account_id=p["account_id"],
            details={"post_id": p["post_id"], "text": (p["text"] or "")[:500], "url": p["url"],
                     "mentions": a.mentions, "negatives": a.negatives, "reasons": [a.reason()],
                     "created_at": p["created_at"]},
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
