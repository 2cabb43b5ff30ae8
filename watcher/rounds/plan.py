"""What rounds there are: the scheduled discovery and watch rounds of every enabled platform, and
the rounds an on-demand scan stands for. Everything per platform is read from its descriptor
(:mod:`spiders.catalog`): the modes it supports and what its watch round targets."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from loguru import logger

from spiders import catalog
from spiders.base import Target
from watcher import capacity, registry
from watcher.config import Config
from watcher.periods import active_periods
from watcher.rounds import records
from watcher.rounds.engine import run_scheduled
from watcher.schedule import ScheduledJob
from watcher.store import Store
from watcher.store import mentions as mentions_store
from watcher.takedown.cases import recheck_targets
from watcher.watch import early


def keywords(cfg: Config) -> list[str]:
    n = cfg.school.names
    # Full, short and English names are what people search for and what impersonators use;
    # historical names and mottos are matched but rarely worth a search request of their own.
    return list(dict.fromkeys([*n.full, *n.short, *n.english]))


def watch_targets(cfg: Config, store: Store, platform: str) -> list[str]:
    """What a watch round crawls, as the platform's descriptor says: the registered accounts; the
    configured sites; or the registered forums, and when none the forums named after the school
    (where talk about it happens)."""
    info = catalog.get(platform)
    if info.watch == "sites":
        return [s["id"] for s in cfg.platform(platform).sites]
    accounts = [a.account_id for a in registry.active_accounts(store) if a.platform == platform]
    if info.watch == "registered_or_school" and not accounts:
        accounts = list(cfg.school.names.full)
    return accounts


def watch_round_targets(cfg: Config, store: Store, platform: str) -> list[str]:
    """A scheduled watch round's accounts: the registered ones, then the reported impersonators
    still waiting for removal, re-checked every round (their profile answer closes their case,
    :func:`watcher.takedown.cases.after_check`)."""
    return list(dict.fromkeys([*watch_targets(cfg, store, platform), *recheck_targets(store, platform)]))


def watch_interval(cfg: Config, store: Store, platform: str) -> int:
    """Seconds between watch rounds: the normal cadence, or a sensitive period's, if shorter."""
    cadences = [p.cadence for p in active_periods(cfg, store) if p.covers(platform)]
    return min([cfg.schedule.watch_every, *cadences])


def cooling(store: Store, platform: str) -> bool:
    st = records.state(store, platform)
    if st.cooling():
        logger.info("{}在冷却中（至 {}），本轮跳过", catalog.label(platform), st.cooldown_until)
        return True
    return False


def discover(cfg: Config, platform: str, stop: threading.Event | None = None) -> None:
    with Store.open(cfg.db_path) as store:
        if cooling(store, platform):
            return
    run_scheduled(cfg, platform, "discover", [Target.for_mode("discover", k) for k in keywords(cfg)], stop=stop)


def watch(cfg: Config, platform: str, stop: threading.Event | None = None) -> None:
    """Runs every minute and starts a round when one is due, so that a sensitive period that
    begins (or a period started by hand) raises the cadence without a restart."""
    with Store.open(cfg.db_path) as store:
        interval = watch_interval(cfg, store, platform)
        last = records.last_round_started(store, platform, "timeline")
        if last and datetime.fromisoformat(last) > datetime.now(UTC) - timedelta(seconds=interval):
            return
        if cooling(store, platform):
            return
        accounts = watch_round_targets(cfg, store, platform)
    if accounts:
        began = time.monotonic()
        result = run_scheduled(cfg, platform, "timeline", [Target.for_mode("timeline", a) for a in accounts],
                               stop=stop)
        took = time.monotonic() - began
        if took > interval + OVERRUN_GRACE:
            est = capacity.estimate_platform(cfg, platform, len(accounts))
            # kept with the round, so that 平台状态 still says it after the round has ended
            with Store.open(cfg.db_path) as store:
                rnd = records.get_round(store, result.round_id)
                if rnd is not None:
                    records.set_round_details(store, rnd.id, {**rnd.details, "overran": {
                        "seconds": round(took), "interval": interval, "advice": _advice(est)}})
            logger.warning("{}备案账号巡检本轮用时 {}，超过巡检间隔 {}：其间到期的约 {} 轮被跳过。{}",
                           catalog.label(platform), capacity.duration_text(took), capacity.duration_text(interval),
                           int(took // interval), _advice(est))


def _advice(est: capacity.Estimate) -> str:
    if est.workable:
        return f"可行的巡检间隔约为 {capacity.config_duration(est.workable)}（详见 watcher check-config 的巡检能力估算）"
    return "按当前页数与每日预算做不到，请按 watcher check-config 的巡检能力估算调整"


OVERRUN_GRACE = 60


@dataclass
class Overdue:
    """A scheduled watch round still going when the next one is due (that one is skipped)."""

    platform: str
    round_id: int
    started_at: str
    interval: int
    done: int
    total: int
    advice: str

    def text(self) -> str:
        ran = (datetime.now(UTC) - datetime.fromisoformat(self.started_at)).total_seconds()
        return (f"{catalog.label(self.platform)}备案账号巡检：下一轮已到期，但本轮 #{self.round_id} 已进行 "
                f"{capacity.duration_text(ran)}（完成 {self.done}/{self.total}），仍未结束，"
                f"到期的一轮跳过（巡检间隔 {capacity.duration_text(self.interval)}）。{self.advice}")


def overdue(cfg: Config, store: Store, platform: str, now: datetime | None = None) -> Overdue | None:
    rnd = records.running_round(store, platform, "timeline")
    if rnd is None:
        return None
    interval = watch_interval(cfg, store, platform)
    # A minute's grace: the scheduler's jitter and a crawl process's start-up are no overrun.
    if datetime.fromisoformat(rnd.started_at) + timedelta(seconds=interval + OVERRUN_GRACE) > (now or datetime.now(UTC)):
        return None
    done, total = records.progress(store, rnd.id)
    est = capacity.estimate_platform(cfg, platform, len(watch_targets(cfg, store, platform)))
    return Overdue(platform, rnd.id, rnd.started_at, interval, done, total, _advice(est))


def mentions(cfg: Config, platform: str, stop: threading.Event | None = None) -> None:
    """A mentions round: other people's content about the school, one target per school name."""
    with Store.open(cfg.db_path) as store:
        if cooling(store, platform):
            return
    run_scheduled(cfg, platform, "mentions", [Target.for_mode("mentions", k) for k in keywords(cfg)], stop=stop)


def early_checks(cfg: Config, platform: str, stop: threading.Event | None = None) -> None:
    """Runs every minute: a check round of the registered accounts' young posts when one is due
    (:mod:`watcher.watch.early` says which posts and how often, within pace and budget)."""
    with Store.open(cfg.db_path) as store:
        due = early.plan(cfg, store, platform)
        targets = due.targets
        if not targets:
            if due.young and due.budget == 0:
                logger.info("{}新帖核查：今日请求预算中留给新帖的份额已用完，明天恢复", catalog.label(platform))
            return
        last = records.last_round_started(store, platform, "check")
        if last and datetime.fromisoformat(last) > datetime.now(UTC) - timedelta(seconds=due.interval):
            return
        if cooling(store, platform):
            return
    by_url = catalog.get(platform).check_by == "url"
    run_scheduled(cfg, platform, "check",
                  [Target.for_mode("check", p.account_id, p.url if by_url and p.url else p.post_id) for p in targets],
                  stop=stop)


COMMENT_POSTS = 30      # the newest posts of the registered accounts whose comments a round reads
COMMENT_DAYS = 3


def comment_targets(cfg: Config, store: Store, platform: str) -> list[Target]:
    """The registered accounts' posts of the last few days: complaints about a unit surface
    first in the comments under its own posts."""
    accounts = [a.account_id for a in registry.active_accounts(store) if a.platform == platform]
    since = (datetime.now(UTC) - timedelta(days=COMMENT_DAYS)).isoformat()
    posts = mentions_store.recent_account_posts(store, platform, accounts, since, COMMENT_POSTS)
    return [Target.for_mode("comments", account, post) for account, post in posts]


def comments(cfg: Config, platform: str, stop: threading.Event | None = None) -> None:
    with Store.open(cfg.db_path) as store:
        if cooling(store, platform):
            return
        targets = comment_targets(cfg, store, platform)
    if targets:
        run_scheduled(cfg, platform, "comments", targets, stop=stop)


def scheduled_jobs(cfg: Config) -> list[ScheduledJob]:
    jobs = []
    for p in cfg.enabled_platforms():
        info = catalog.get(p)
        if info.supports("discover"):
            jobs.append(ScheduledJob(id=f"discover:{p}", func=discover, seconds=cfg.schedule.discover_every,
                                     kwargs={"platform": p}, run_at_start=True, stoppable=True,
                                     description=f"{info.label}仿冒发现"))
        if info.supports("mentions"):
            jobs.append(ScheduledJob(id=f"mentions:{p}", func=mentions, seconds=cfg.sentiment.mentions_every,
                                     kwargs={"platform": p}, stoppable=True, description=f"{info.label}舆情提及"))
        if info.supports("comments"):
            jobs.append(ScheduledJob(id=f"comments:{p}", func=comments, seconds=cfg.sentiment.comments_every,
                                     kwargs={"platform": p}, stoppable=True, description=f"{info.label}评论舆情"))
        if info.watchable:
            # Polls every minute (or more often when rounds are due more often) so that a
            # sensitive period's cadence takes effect without a restart.
            jobs.append(ScheduledJob(id=f"watch:{p}", func=watch, seconds=min(60, cfg.schedule.watch_every),
                                     kwargs={"platform": p},
                                     stoppable=True, description=f"{info.label}备案账号巡检"))
            if cfg.watch.early_hours and early.applies(p):
                jobs.append(ScheduledJob(id=f"early:{p}", func=early_checks, seconds=60, kwargs={"platform": p},
                                         stoppable=True, description=f"{info.label}新帖核查"))
    return jobs


def scan_rounds(cfg: Config, store: Store, params: dict) -> list[tuple[str, str, list[Target]]]:
    """The rounds an on-demand scan stands for: (platform, mode, targets)."""
    platforms = [params["platform"]] if params.get("platform") else cfg.enabled_platforms()
    rounds: list[tuple[str, str, list[Target]]] = []
    if params.get("discover", True) and not params.get("account"):
        words = params.get("keywords") or keywords(cfg)
        rounds += [(p, "discover", [Target.for_mode("discover", k) for k in words]) for p in platforms
                   if catalog.get(p).supports("discover")]
    if params.get("mentions") and not params.get("account"):
        # A mention round on demand (``watcher scan --mentions``, the web's 立即扫描): the analyst
        # following an incident should not wait for ``mentions_every``.
        rounds += [(p, "mentions", [Target.for_mode("mentions", k) for k in keywords(cfg)]) for p in platforms
                   if catalog.get(p).supports("mentions")]
    if params.get("watch", True):
        for p in platforms:
            if not catalog.get(p).watchable:
                continue
            ids = [params["account"]] if params.get("account") else watch_round_targets(cfg, store, p)
            if ids:
                rounds.append((p, "timeline", [Target.for_mode("timeline", i) for i in ids]))
    return rounds
