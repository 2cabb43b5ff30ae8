"""Can the schedule be met? Requests and minutes a round takes on each platform, from the number
of targets (the registry), the pages read per target, the reader's pace and the day's budget.

A watch round of 300 Weibo accounts at 3 s a request and 2–4 requests an account is 600–1,200
requests and 30–60 minutes; against a budget of 1,500 requests a day that is one or two rounds a
day, whatever ``watch_every`` says. Without this estimate the operator finds out from a round
that ran for half an hour while the next one was silently skipped. ``watcher check-config``, the
daemon's start-up log and the 平台状态 page all read :func:`estimate`, so they say the same thing:
what cannot be met and what can (a longer interval, fewer pages, more crawl hosts).

The figures are estimates from the configuration, not measurements: a platform's answer time is
not counted (so a round takes at least this long), and the high end (every page of every target)
is what the verdict uses, because a schedule that only fits when timelines are short fails on a
busy day.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spiders import catalog
from watcher.config import Config

DAY = 86400
# Intervals offered as "what can be met": the ones people write in a config.
NICE_INTERVALS = [600, 900, 1200, 1800, 3600, 2 * 3600, 3 * 3600, 4 * 3600, 6 * 3600, 8 * 3600, 12 * 3600,
                  DAY, 2 * DAY, 3 * DAY, 7 * DAY]
COMMENT_POSTS = 30  # mirrors watcher.rounds.plan.COMMENT_POSTS (the posts a comments round reads)


def duration_text(seconds: float) -> str:
    """``600`` → ``10 分钟``, ``5400`` → ``1.5 小时``, ``172800`` → ``2 天``."""
    if seconds < 60:
        return f"{max(1, round(seconds))} 秒"
    if seconds < 3600:
        return f"{max(1, round(seconds / 60))} 分钟"
    if seconds < DAY:
        hours = seconds / 3600
        return f"{hours:.0f} 小时" if abs(hours - round(hours)) < 0.05 else f"{hours:.1f} 小时"
    days = seconds / DAY
    return f"{days:.0f} 天" if abs(days - round(days)) < 0.05 else f"{days:.1f} 天"


def config_duration(seconds: int) -> str:
    """How to write ``seconds`` in the config: ``10m``, ``6h``, ``1d``."""
    if seconds % DAY == 0:
        return f"{seconds // DAY}d"
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    if seconds % 60 == 0:
        return f"{seconds // 60}m"
    return f"{seconds}s"


def seconds_per_request(cfg: Config, platform: str) -> float:
    """The slowest of the operator's ``rate``, the reader pace's interval and its per-minute cap:
    a platform's requests go one slot at a time whatever ``concurrency`` says."""
    p = cfg.platform(platform)
    pace = p.pace(platform)
    return max(1.0 / p.rate, pace.interval, 60.0 / pace.per_minute if pace.per_minute else 0.0)


def requests_per_target(cfg: Config, platform: str, mode: str) -> tuple[int, int]:
    """(fewest, most) requests one target of ``mode`` takes: a timeline is the profile plus up to
    ``pages`` pages of posts; a keyword search up to ``pages`` result pages; a post's comments one
    page."""
    pages = cfg.platform(platform).pages
    if mode == "timeline":
        return min(2, 1 + pages), 1 + pages
    if mode == "comments":
        return 1, 1
    return 1, pages


@dataclass
class Estimate:
    platform: str
    label: str
    targets: int                      # accounts (or sites) a watch round reads
    interval: int                     # schedule.watch_every
    seconds_per_request: float
    round_low: int                    # requests of one watch round, fewest..most
    round_high: int
    other_daily: int                  # requests a day of the platform's other rounds (discovery …)
    budget: int                       # requests a day allowed (0: no budget)
    pages: int
    problems: list[str] = field(default_factory=list)
    advice: list[str] = field(default_factory=list)
    workable: int | None = None       # the shortest normal interval that fits, in seconds

    @property
    def round_seconds(self) -> float:
        return self.round_high * self.seconds_per_request

    def daily_need(self, interval: int) -> int:
        return math.ceil(DAY / interval * self.round_high) + self.other_daily

    @property
    def fits(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        """One line: the round's size and time, and the day's requests against the budget."""
        if not self.targets:
            return f"{self.label}：没有需要巡检的账号"
        rounds = (f"{self.round_low}–{self.round_high}" if self.round_low != self.round_high else str(self.round_high))
        budget = f"每日预算 {self.budget} 次" if self.budget else "不限每日请求"
        return (f"{self.label}：巡检 {self.targets} 个目标，每轮约 {rounds} 次请求、"
                f"约 {duration_text(self.round_seconds)}（每次请求约 {self.seconds_per_request:.1f} 秒）；"
                f"每 {duration_text(self.interval)}一轮时每天约需 {self.daily_need(self.interval)} 次请求"
                f"（含仿冒发现与舆情采集约 {self.other_daily} 次），{budget}")

    def text(self) -> str:
        """The summary, then what cannot be met and what can, one point a line."""
        lines = [self.summary()]
        lines += [f"  无法满足：{p}" for p in self.problems]
        lines += [f"  可以：{a}" for a in self.advice]
        return "\n".join(lines)


def _other_daily(cfg: Config, platform: str, keywords: int, accounts: int) -> int:
    """Requests a day of the platform's discovery, mentions and comments rounds (most pages)."""
    info = catalog.get(platform)
    total = 0.0
    if info.supports("discover"):
        total += DAY / cfg.schedule.discover_every * keywords * requests_per_target(cfg, platform, "discover")[1]
    if info.supports("mentions"):
        total += DAY / cfg.sentiment.mentions_every * keywords * requests_per_target(cfg, platform, "mentions")[1]
    if info.supports("comments") and accounts:
        total += DAY / cfg.sentiment.comments_every * COMMENT_POSTS
    return math.ceil(total)


def _nice(seconds: float) -> int:
    for n in NICE_INTERVALS:
        if n >= seconds:
            return n
    return math.ceil(seconds / DAY) * DAY


def _shortest(est: Estimate) -> int | None:
    """The shortest interval a watch round can keep: the round must end before the next is due,
    and the day's rounds must fit the budget left by the other rounds. None: not even one round
    a day fits the budget."""
    needed = [est.round_seconds]
    if est.budget:
        left = est.budget - est.other_daily
        if left < est.round_high:
            return None
        needed.append(DAY * est.round_high / left)
    return _nice(max(needed))


def _judge(est: Estimate, interval: int, where: str) -> list[str]:
    """What cannot be met at ``interval`` (configured at ``where``)."""
    problems = []
    p = f"platforms.{est.platform}"
    if est.round_seconds > interval:
        problems.append(f"{where} {config_duration(interval)}：一轮约需 {duration_text(est.round_seconds)}，"
                        f"长于间隔 {duration_text(interval)}，下一轮到期时上一轮仍在进行，会被跳过")
    if est.budget:
        if est.budget - est.other_daily < est.round_high:
            problems.append(f"每日预算 {est.budget} 次（{p}.daily_budget）扣除仿冒发现与舆情采集约 {est.other_daily} 次后，"
                            f"不够一轮巡检的 {est.round_high} 次")
        elif est.daily_need(interval) > est.budget:
            problems.append(f"{where} {config_duration(interval)}：每天约需 {est.daily_need(interval)} 次请求，"
                            f"超出每日预算 {est.budget} 次（{p}.daily_budget），预算用完后当天其余轮次全部受阻")
    return problems


def estimate_platform(cfg: Config, platform: str, targets: int) -> Estimate:
    info = catalog.get(platform)
    n = cfg.school.names
    keywords = len(dict.fromkeys([*n.full, *n.short, *n.english]))
    spr = seconds_per_request(cfg, platform)
    low, high = requests_per_target(cfg, platform, "timeline")
    pc = cfg.platform(platform)
    est = Estimate(platform, info.label, targets, cfg.schedule.watch_every, spr, targets * low, targets * high,
                   _other_daily(cfg, platform, keywords, targets), pc.pace(platform).daily, pc.pages)
    if not targets:
        return est
    cases = [(cfg.schedule.watch_every, "巡检间隔", "schedule.watch_every")]
    cases += [(per.cadence, f"敏感期「{per.name}」的巡检间隔", f"periods[{i}].cadence")
              for i, per in enumerate(cfg.periods)
              if (not per.platforms or platform in per.platforms) and per.cadence < cfg.schedule.watch_every]
    failing = []
    for interval, where, key in cases:
        found = _judge(est, interval, f"{where}（{key}）")
        if found:
            failing.append((interval, key))
        est.problems += [f for f in found if f not in est.problems]
    if not est.problems:
        return est
    keys = "、".join(key for _, key in failing) or "schedule.watch_every"
    est.workable = _shortest(est)
    if est.workable is not None:
        est.advice.append(f"把 {keys} 改为 {config_duration(est.workable)}，即约每 {duration_text(est.workable)}一轮"
                          f"（能保证每轮在下一轮到期前完成，且一天的请求在预算以内）")
    fewer = Estimate(platform, info.label, targets, est.interval, spr, targets * low, targets * min(2, low),
                     est.other_daily, est.budget, 1)
    if est.pages > 1:
        fewer.workable = _shortest(fewer)
        then = (f"，此时 {keys} 可改为 {config_duration(fewer.workable)}" if est.workable is None and fewer.workable
                else "")
        est.advice.append(f"减少每个账号读取的页数（platforms.{platform}.pages: 1，当前 {est.pages}）：每轮约 "
                          f"{fewer.round_high} 次请求、约 {duration_text(fewer.round_seconds)}{then}")
    if est.workable is None and (est.pages == 1 or fewer.workable is None):
        est.advice.append("把仿冒发现与舆情采集的间隔调长（schedule.discover_every、sentiment.mentions_every），"
                          "给巡检留出预算")
    worst = min(interval for interval, _ in failing) if failing else cfg.schedule.watch_every
    hosts = max(2, math.ceil(max(est.round_seconds / worst, est.daily_need(worst) / est.budget if est.budget else 0)))
    est.advice.append(f"用多台采集节点分担（crawl.redis_url，见 docs/fleet.md）：每台节点有自己的出口地址、"
                      f"登录会话与每日预算，按每 {duration_text(worst)}一轮约需 {hosts} 台")
    return est


def watch_targets_count(cfg: Config, platform: str, accounts: dict[str, int]) -> int:
    """What a watch round of ``platform`` reads, as :func:`watcher.rounds.plan.watch_targets`
    decides it, from per-platform counts of active registered accounts."""
    info = catalog.get(platform)
    if info.watch == "sites":
        return len(cfg.platform(platform).sites)
    n = accounts.get(platform, 0)
    if info.watch == "registered_or_school" and not n:
        return len(cfg.school.names.full)
    return n


def accounts_from_store(store: Any) -> dict[str, int]:
    from watcher import registry

    counts: dict[str, int] = {}
    for a in registry.active_accounts(store):
        counts[a.platform] = counts.get(a.platform, 0) + 1
    return counts


def accounts_from_file(path: Path) -> dict[str, int]:
    """Active accounts per platform in a registry file; an unreadable file counts none (its
    errors are ``watcher registry import``'s to report)."""
    from watcher import registry

    try:
        records = registry.parse_file(path)
    except Exception:  # noqa: BLE001 - the estimate must not fail on a registry that import rejects
        return {}
    counts: dict[str, int] = {}
    for r in records:
        if r.status == "active":
            counts[r.platform] = counts.get(r.platform, 0) + 1
    return counts


def estimate(cfg: Config, accounts: dict[str, int]) -> list[Estimate]:
    """One estimate per enabled platform that has watch rounds."""
    return [estimate_platform(cfg, p, watch_targets_count(cfg, p, accounts))
            for p in cfg.enabled_platforms() if catalog.get(p).watchable]


def registry_counts(cfg: Config) -> tuple[dict[str, int], str]:
    """Active accounts per platform and where they were counted: the database once the registry
    was imported, else the config's registry file."""
    from watcher.store import Store
    from watcher.store import registry as stored_registry

    if cfg.db_path.is_file():
        with Store.open(cfg.db_path) as store:
            if not stored_registry.is_empty(store):
                return accounts_from_store(store), "数据库中的备案台账"
    if cfg.registry_path:
        return accounts_from_file(Path(cfg.registry_path)), f"备案台账文件 {cfg.registry_path}"
    return {}, "（未配置备案台账）"
