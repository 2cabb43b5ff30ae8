"""Daemon jobs: periodic discovery per enabled platform (keywords = the school's protected names)
and periodic timeline crawls of every registered account on that platform."""

from __future__ import annotations

from loguru import logger

from spiders.registry import SPIDERS, spider_class
from watcher import registry
from watcher.config import Config
from watcher.crawling.runner import run_crawl
from watcher.jobs import ScheduledJob
from watcher.store import Store


def keywords(cfg: Config) -> list[str]:
    n = cfg.school.names
    # Full, short and English names are what people search for and what impersonators use;
    # historical names and mottos are matched but rarely worth a search request of their own.
    return list(dict.fromkeys([*n.full, *n.short, *n.english]))


def discover(cfg: Config, platform: str) -> None:
    run = run_crawl(cfg, platform, "discover", keywords=keywords(cfg))
    logger.info("{} 仿冒发现完成：{}", platform, run.get("status"))


def watch_targets(cfg: Config, store: Store, platform: str) -> list[str]:
    """What a watch round crawls: the registered accounts; for websites the configured sites;
    for Tieba, when no forum is registered, the forums named after the school (where talk
    about it happens)."""
    if platform == "website":
        return [s["id"] for s in cfg.platform("website").sites]
    accounts = [a["account_id"] for a in registry.active_accounts(store) if a["platform"] == platform]
    if platform == "tieba" and not accounts:
        accounts = list(cfg.school.names.full)
    return accounts


def watch_interval(cfg: Config, store: Store, platform: str) -> int:
    """Seconds between watch rounds: the normal cadence, or a sensitive period's, if shorter."""
    from watcher.periods import active_periods

    cadences = [p.cadence for p in active_periods(cfg, store) if p.covers(platform)]
    return min([cfg.schedule.watch_every, *cadences])


def watch(cfg: Config, platform: str) -> None:
    """Runs every minute and starts a round when one is due, so that a sensitive period that
    begins (or a period started by hand) raises the cadence without a restart."""
    from datetime import UTC, datetime, timedelta

    with Store.open(cfg.db_path) as store:
        interval = watch_interval(cfg, store, platform)
        last = store.scalar("SELECT MAX(started_at) FROM crawl_runs WHERE platform = ? AND mode = 'timeline' "
                            "AND scan_request_id IS NULL", [platform])
        if last and datetime.fromisoformat(last) > datetime.now(UTC) - timedelta(seconds=interval):
            return
        accounts = watch_targets(cfg, store, platform)
    for account in accounts:
        run_crawl(cfg, platform, "timeline", account=account)


def scheduled_jobs(cfg: Config) -> list[ScheduledJob]:
    jobs = []
    for p in cfg.enabled_platforms():
        if p not in SPIDERS:
            logger.warning("平台 {} 已启用，但其采集尚未实现，已跳过", p)
            continue
        modes = spider_class(p).modes
        if "discover" in modes:
            jobs.append(ScheduledJob(id=f"discover:{p}", func=discover, seconds=cfg.schedule.discover_every,
                                     kwargs={"platform": p}, run_at_start=True, description=f"{p} 仿冒发现"))
        if p != "wechat":  # WeChat article lists are visible only inside WeChat (the spider says so)
            jobs.append(ScheduledJob(id=f"watch:{p}", func=watch, seconds=60,
                                     kwargs={"platform": p}, description=f"{p} 备案账号巡检"))
    return jobs
