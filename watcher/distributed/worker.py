"""``watcher worker``: crawl the targets a school's daemon queued in Redis, on this host.

One Scrapy crawler per platform this worker serves, each with this host's ``platforms.<p>``
settings (rate, concurrency, cookies, base URL): rate limits hold per worker and per platform,
and a platform that refuses this worker (its exit address, its session) pauses only this
worker's crawler of that platform, from ``crawl.worker_cooldown`` doubling up to 6 hours, while
the rest of the fleet carries on.

Built on scrapy-redis: the spider is the platform's own spider mixed with scrapy-redis's
:class:`~scrapy_redis.spiders.RedisMixin` (its ``redis_key`` is the platform's queue, its
``make_request_from_data`` turns a queued target into the target's first requests), results
leave through a :class:`~scrapy_redis.pipelines.RedisPipeline`, and every request is recorded in
the round's fleet-wide :class:`~scrapy_redis.dupefilter.RFPDupeFilter`. What differs from
scrapy-redis's defaults, and why: targets are *leased* (moved atomically to this worker's lease
list, not popped), so a worker killed mid-request loses nothing; a target's items are pushed
together with its verdict, in the same Redis step that ends the lease, so a target is delivered
whole and once.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

import redis
from loguru import logger
from scrapy import signals
from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.exceptions import DontCloseSpider
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.pipelines import RedisPipeline
from scrapy_redis.spiders import RedisMixin
from twisted.internet.task import LoopingCall, deferLater

from spiders import catalog, identity
from spiders.base import load_cookies
from spiders.items import Item, PageDone, TargetDone
from watcher.config import Config
from watcher.distributed import messages
from watcher.distributed.errors import explain
from watcher.distributed.hostsession import HostSession
from watcher.distributed.keys import (
    COMPLETE,
    HAND_BACK,
    PASS_ON,
    RELEASE,
    RESULT_TTL,
    Keys,
    Resume,
    connect,
    connect_cfg,
    take,
)
from watcher.distributed.pace import ExitPace
from watcher.logs import setup_logging
from watcher.rounds.settings import build_settings

POLL_SECONDS = 0.1
REDIS_RETRY_SECONDS = 1.0
COOLDOWN_MAX = 6 * 3600


class WorkerSpiderMixin(RedisMixin):
    """Mixed in before a platform's spider class: takes targets from the school queues."""

    def __init__(self, *args: Any, worker: str, prefixes: list[str], cooldown: int,
                 on_cooling: Any = None, **kwargs: Any) -> None:
        info = self.info  # type: ignore[attr-defined]
        super().__init__(*args, mode=info.modes[0], targets=[], run_ids={}, round_id=0, **kwargs)
        self.worker = worker
        self.schools = [Keys(p) for p in prefixes]
        self.redis_key = self.schools[0].queue(info.name)
        self.cooldown = cooldown
        self.cooling_until = 0.0
        self.cooldown_level = 0
        # Tells the fleet at once (a heartbeat now), so that no target is handed to this worker.
        self.on_cooling = on_cooling
        self.leased: dict[str, tuple[Keys, str, dict[str, Any]]] = {}  # spider key → (school, raw, message)
        self.modes: dict[str, str] = {}
        self.requests_of: dict[str, int] = defaultdict(int)
        self.duplicates_of: dict[str, int] = defaultdict(int)
        self.stopping = False
        self.resume = Resume()
        self.session = HostSession(self.cfg, info.name)

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> Any:
        spider = super().from_crawler(crawler, *args, **kwargs)  # type: ignore[misc]
        spider.setup_redis(crawler)
        spider.exit_pace = ExitPace(spider.server, exit_address(spider.cfg), spider.worker)
        # setup_redis points fetch_data at its own pop; this class's lease is what we want.
        spider.__dict__.pop("fetch_data", None)
        crawler.signals.connect(spider._release_all, signal=signals.spider_closed)
        return spider

    # -- taking targets -----------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[Any]:
        from twisted.internet import reactor

        while not self.stopping:
            took = False
            try:
                if self.session.due() and self._queued():
                    await self._check_session()
                taken = self._take() if self.resume.ready(self.server) else []
            except redis.RedisError as e:
                # Redis away for a moment: wait and take again (the start loop must not end).
                if not self.resume.down:
                    logger.warning("{}：{}；{} 秒后重试", self.info.label, explain(e, self.cfg.crawl), REDIS_RETRY_SECONDS)
                self.resume.failed()
                await maybe_deferred_to_future(deferLater(reactor, REDIS_RETRY_SECONDS, lambda: None))
                continue
            for raw, school in taken:
                took = True
                for out in self._start_target(raw, school):
                    yield out
            if not took:
                await maybe_deferred_to_future(deferLater(reactor, POLL_SECONDS, lambda: None))

    def _queued(self) -> bool:
        return any(self.server.llen(school.queue(self.platform)) for school in self.schools)

    async def _check_session(self) -> None:
        """Before taking the platform's targets: this host's session, as a local round checks
        the daemon's; a renewed session file is read again, no restart needed."""
        from twisted.internet import threads

        changed = self.session.changed()
        try:
            await maybe_deferred_to_future(threads.deferToThread(self.session.refresh))
        except Exception as e:  # noqa: BLE001 - a failed check must not stop the worker; tried again later
            logger.warning("{}登录状态检查出错：{}", self.info.label, str(e).splitlines()[0][:160] if str(e) else "")
            self.session.checked = self.session.clock()
        self.reload_cookies(changed)
        if self.on_cooling is not None:
            self.on_cooling()  # the fleet hears of the session at once

    def reload_cookies(self, announce: bool = True) -> None:
        self.configured_cookies = self._configured()
        cookies = identity.session_values(self.cfg.data_path, self.info.name, self.configured_cookies)
        if cookies != self.cookies and announce:
            logger.info("{}：登录会话文件已更新，已重新读取（{} 个 Cookie）", self.info.label, len(cookies))
        self.cookies = cookies

    def _configured(self) -> dict[str, str]:
        pc = self.cfg.platform(self.info.name)
        try:
            return load_cookies(self.cfg.resolve_path(pc.cookies_file) if pc.cookies_file else None)
        except (OSError, ValueError) as e:
            logger.warning("{}的 Cookie 文件 {} 无法读取：{}", self.info.label, pc.cookies_file, e)
            return self.configured_cookies

    def _take(self) -> list[tuple[str, Keys]]:
        """As many targets as this crawler has free slots for, from each school in turn."""
        if self.halted is not None:
            self._cool_down()
        if time.time() < self.cooling_until:
            return []
        free = self.pcfg.concurrency - len(self._open)
        taken: list[tuple[str, Keys]] = []
        for school in self.schools:
            if free <= len(taken):
                break
            for raw in self.fetch_data(school.queue(self.platform), free - len(taken), school):
                taken.append((raw, school))
        return taken

    def fetch_data(self, redis_key: str, batch_size: int, school: Keys | None = None) -> list[str]:  # type: ignore[override]
        """scrapy-redis pops queue entries; a lease moves them to this worker's list instead,
        in one Redis step, so a worker that dies holding them loses nothing. Only targets of
        rounds their daemon keeps open are taken (:func:`~watcher.distributed.keys.take`)."""
        return take(self.server, school or self.schools[0], self.worker, self.platform, batch_size)

    def _start_target(self, raw: str, school: Keys) -> list[Any]:
        try:
            msg, target = messages.read_target(raw)
        except messages.BadMessage as e:
            logger.warning("{}：丢弃一个无法识别的队列条目：{}", self.info.label, e)
            self.server.lrem(school.leases(self.worker, self.platform), 1, raw)
            return []
        if self.worker in (msg.get("refused") or []) and self._others_serve(school):
            # The platform refused this worker that target; another worker should take it.
            self.server.eval(PASS_ON, 2, school.leases(self.worker, self.platform), school.queue(self.platform), raw)
            return []
        self.leased[target.key] = (school, raw, msg)
        self.modes[target.key] = msg["mode"]
        self.by_key[target.key] = target
        return self.make_request_from_data(target)

    def _others_serve(self, school: Keys) -> bool:
        from watcher.distributed.dispatch import Fleet

        return any(w != self.worker for w in Fleet(self.cfg, school.prefix).serving(self.platform))

    def make_request_from_data(self, data: Any) -> list[Any]:  # type: ignore[override]
        """A target's first requests (and, when it fails at once, its verdict)."""
        return list(self._begin(data, self.modes[data.key]))

    def spider_idle(self) -> None:
        """A worker waits for work; it does not close when the queue is empty."""
        if not self.stopping:
            raise DontCloseSpider

    # -- a target's end -----------------------------------------------------------------------------

    def outcome(self, key: str) -> TargetDone:
        # One crawler serves every mode; outcome() reads the mode of the target at hand.
        self.mode = self.modes.get(key, self.mode)
        done = super().outcome(key)  # type: ignore[misc]
        if done.status == "ok":
            self.cooldown_level = 0
            self._blocked = 0  # "two blocked targets halt" counts refusals in a row, not for ever
        return done

    def forget(self, key: str) -> None:
        """A delivered target leaves this spider's bookkeeping (a worker runs for months)."""
        for table in (self.leased, self.modes, self.by_key, self.problems, self._details, self.requests_of,
                      self.duplicates_of):
            table.pop(key, None)
        self.started.discard(key)

    def _cool_down(self) -> None:
        problem, self.halted, self._blocked = self.halted, None, 0
        self.cooldown_level += 1
        pause = min(self.cooldown * 2 ** (self.cooldown_level - 1), COOLDOWN_MAX)
        self.cooling_until = time.time() + pause
        logger.warning("{}拒绝了本采集节点（{}），本节点暂停该平台 {} 分钟，其他节点照常采集：{}", self.info.label,
                       self.worker, max(1, pause // 60), problem.reason if problem else "")
        if self.on_cooling is not None:
            self.on_cooling()

    def _release_all(self, spider: Any = None, reason: str = "") -> None:
        """On the way out, every lease goes back to the queue for the rest of the fleet."""
        self.stopping = True
        for school in self.schools:
            try:
                n = self.server.eval(RELEASE, 2, school.leases(self.worker, self.platform), school.queue(self.platform))
            except redis.RedisError as e:
                # Stopping while Redis is away: the daemon takes the leases back once this
                # worker's heartbeat is lease_timeout old, as for a worker that died.
                logger.warning("{}：停止时无法把未完成的目标退回队列（{}）；监测服务将在 crawl.lease_timeout 后收回",
                               self.info.label, explain(e, self.cfg.crawl))
                return
            if n:
                logger.info("{}：{} 个未完成的目标已退回队列", self.info.label, n)


class ResultPipeline(RedisPipeline):
    """Each target's items, held until its verdict, then pushed with it to the school's results
    list in the step that ends the lease (scrapy-redis's RedisPipeline pushes item by item)."""

    def __init__(self, server: Any, crawler: Any) -> None:
        super().__init__(server)
        self.crawler = crawler
        self.pending: dict[str, list[Item]] = defaultdict(list)
        # Results Redis could not take (a moment without Redis): retried until it does, since
        # their leases keep their targets from anyone else while this worker lives.
        self.undelivered: list[tuple[list[str], list[Any], str]] = []
        self.retry = LoopingCall(self._redeliver)
        self.failing = False

    def open_spider(self, spider: Any = None) -> None:
        self.retry.start(REDIS_RETRY_SECONDS, now=False)

    def close_spider(self, spider: Any = None) -> None:
        if self.retry.running:
            self.retry.stop()
        self._redeliver()

    @classmethod
    def from_crawler(cls, crawler: Any) -> ResultPipeline:
        params = crawler.settings.get("REDIS_PARAMS", {})
        return cls(connect(crawler.settings["REDIS_URL"], params.get("password"), params.get("ssl_ca_certs")), crawler)

    def process_item(self, item: Any, spider: Any = None) -> Any:
        spider = self.crawler.spider
        key = item.target or ""
        if key not in spider.leased or isinstance(item, PageDone):
            return item  # a worker delivers a target's items at once: no commit per page here
        if not isinstance(item, TargetDone):
            self.pending[key].append(item)
            return item
        school, raw, msg = spider.leased[key]
        items = self.pending.pop(key, [])
        if item.status == "blocked" and self._hand_over(spider, school, raw, msg, item):
            spider.forget(key)
            return item
        if spider.duplicates_of.get(key):
            item.details = {**item.details, "duplicate_requests": spider.duplicates_of[key]}
        body = messages.result_message(msg, spider.worker, items, item, spider.requests_of.get(key, 0))
        keys = [school.leases(spider.worker, spider.platform), self.item_key(msg, spider), school.worker(spider.worker)]
        spider.forget(key)
        self._deliver(keys, [raw, body, RESULT_TTL], str(msg.get("key")))
        return item

    def _hand_over(self, spider: Any, school: Keys, raw: str, msg: dict[str, Any], done: TargetDone) -> bool:
        """A target the platform refused this worker goes to a live worker it has not refused
        yet (another exit address, another session); only when there is none is it reported
        blocked. The refused worker cools down alone."""
        from watcher.distributed.dispatch import Fleet

        refused = {spider.worker, *(msg.get("refused") or [])}
        try:
            fleet = Fleet(spider.cfg, school.prefix)
            others = [w for w in fleet.serving(spider.platform) if w not in refused]
            if getattr(spider, "budget_spent", False):
                # This address's budget is spent: the workers behind it are no better placed.
                same = {w["name"] for w in fleet.live(spider.platform) if w["exit"] == spider.exit_pace.exit}
                others = [w for w in others if w not in same]
            if not others:
                return False
            moved = self.server.eval(HAND_BACK, 2, school.leases(spider.worker, spider.platform),
                                     school.queue(spider.platform), raw, messages.handed_back(msg, spider.worker))
        except redis.RedisError:
            return False  # deliver the verdict as it is (or retry it) rather than lose the target
        if moved:
            logger.info("{}拒绝了本节点对 {} 的采集（{}），已转交其他节点", spider.info.label, msg.get("key"), done.reason)
        return True

    def _deliver(self, keys: list[str], args: list[Any], what: str) -> bool:
        try:
            delivered = self.server.eval(COMPLETE, len(keys), *keys, *args)
        except redis.RedisError as e:
            if not self.failing:  # once an outage, not once a target or a retry
                logger.warning("送回目标 {} 的结果失败（{}），Redis 恢复后补送", what, explain(e, self.crawler.spider.cfg.crawl))
            self.failing = True
            self.undelivered.append((keys, args, what))
            return False
        if self.failing:
            logger.info("Redis 已恢复，暂存的结果已补送")
        self.failing = False
        if not delivered:
            logger.info("目标 {} 已被收回（本节点曾失联），结果不再送回", what)
        return True

    def _redeliver(self) -> None:
        waiting, self.undelivered = self.undelivered, []
        for n, (keys, args, what) in enumerate(waiting):
            if not self._deliver(keys, args, what):
                self.undelivered.extend(waiting[n + 1:])
                return

    def item_key(self, item: Any, spider: Any) -> str:
        school, _, msg = spider.leased[item["id"]]
        return school.results(msg["round"])


class FleetRequestMiddleware:
    """Counts each target's requests and records every request in the round's fleet-wide
    scrapy-redis dupefilter: a request another worker (or an earlier lease) already made is
    counted as a duplicate in the target's result."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.filters: dict[tuple[str, int], RFPDupeFilter] = {}

    @classmethod
    def from_crawler(cls, crawler: Any) -> FleetRequestMiddleware:
        return cls(crawler)

    def process_request(self, request: Any, spider: Any = None) -> None:
        spider = self.crawler.spider
        key = request.meta.get("target")
        if key not in spider.leased:
            return None
        school, _, msg = spider.leased[key]
        spider.requests_of[key] += 1
        try:
            df = self.filters.get((school.prefix, msg["round"]))
            if df is None:
                df = RFPDupeFilter(spider.server, school.seen(msg["round"]))
                spider.server.expire(df.key, RESULT_TTL)
                self.filters[(school.prefix, msg["round"])] = df
            if df.request_seen(request):
                spider.duplicates_of[key] += 1
        except redis.RedisError:
            pass  # Redis away for a moment: the request goes, only the fleet's duplicate count misses it
        return None


# -- the process -------------------------------------------------------------------------------------


def exit_address(cfg: Config) -> str:
    return cfg.crawl.exit_address or socket.gethostname()


def worker_name(given: str | None = None) -> str:
    return given or f"{socket.gethostname()}-{os.getpid()}"


def crawler_settings(cfg: Config, platform: str) -> dict[str, Any]:
    settings = build_settings(cfg, platform, browser=catalog.get(platform).browser)
    settings["ITEM_PIPELINES"] = {"watcher.distributed.worker.ResultPipeline": 300}
    middlewares = dict(settings["DOWNLOADER_MIDDLEWARES"])
    # The pace and the day's budget are the exit address's, shared with the workers behind it.
    middlewares["watcher.distributed.pace.FleetPacingMiddleware"] = middlewares.pop("spiders.middlewares.PacingMiddleware")
    settings["DOWNLOADER_MIDDLEWARES"] = {**middlewares, "watcher.distributed.worker.FleetRequestMiddleware": 900}
    settings["REDIS_URL"] = cfg.crawl.redis_url
    settings["REDIS_PARAMS"] = {"decode_responses": True, "password": cfg.crawl.redis_password(),
                                **({"ssl_ca_certs": cfg.crawl.redis_ca()} if cfg.crawl.redis_ca() else {})}
    settings["REDIS_START_URLS_KEY"] = "unused:%(name)s"  # every spider sets its own redis_key
    return settings


class Heartbeat:
    """Every ``crawl.heartbeat`` seconds: this worker's state, under each school it serves."""

    def __init__(self, cfg: Config, name: str, crawlers: dict[str, Crawler]) -> None:
        self.server = connect_cfg(cfg.crawl)
        self.cfg = cfg
        self.exit = exit_address(cfg)
        self.schools = [Keys(p) for p in cfg.crawl.prefixes()]
        self.name = name
        self.crawlers = crawlers
        self.started = time.time()
        self.ttl = max(86400, cfg.crawl.lease_timeout * 10)
        self.failing = False  # logged once an outage, not every beat

    def beat(self, state: str = "running") -> None:
        try:
            # Times in Redis are Redis's own clock: hosts' clocks may disagree, and a worker whose
            # clock is behind must not look silent to the daemon.
            secs, micros = self.server.time()
            now, local = secs + micros / 1e6, time.time()
            served, cooling, leased, held = {}, {}, 0, {}
            for platform, crawler in self.crawlers.items():
                stats = crawler.stats.get_stats() if crawler.stats else {}
                served[platform] = int(stats.get("downloader/response_count", 0))
                spider = crawler.spider
                if spider is not None:
                    leased += len(spider.leased)
                    if spider.cooling_until > local:
                        cooling[platform] = now + spider.cooling_until - local
                    if spider.session.report:
                        held[platform] = spider.session.report
            fields = {"host": socket.gethostname(), "pid": os.getpid(), "platforms": ",".join(self.crawlers),
                      "beat": now, "started": self.started, "state": state, "leased": leased,
                      "served": json.dumps(served), "cooling": json.dumps(cooling), "exit": self.exit,
                      "sessions": json.dumps(held, ensure_ascii=False)}
            with self.server.pipeline() as pipe:
                for school in self.schools:
                    pipe.sadd(school.workers(), self.name)
                    pipe.hset(school.worker(self.name), mapping=fields)
                    pipe.expire(school.worker(self.name), self.ttl)
                pipe.execute()
            if self.failing:
                logger.info("Redis 已恢复，心跳照常写入")
            self.failing = False
        except redis.RedisError as e:  # a missed beat is retried; the worker keeps crawling
            if not self.failing or state != "running":
                logger.warning("心跳写入 Redis 失败：{}", explain(e, self.cfg.crawl))
            self.failing = True


def _return_predecessors_leases(cfg: Config, platforms: list[str], name: str) -> None:
    """A worker restarted under the same name (systemd uses the host name) would otherwise keep
    its crashed predecessor's leases alive with its own heartbeat: they go back to the queue."""
    server = connect_cfg(cfg.crawl)
    for school in (Keys(p) for p in cfg.crawl.prefixes()):
        for platform in platforms:
            n = server.eval(RELEASE, 2, school.leases(name, platform), school.queue(platform))
            if n:
                logger.warning("上次以 {} 运行的采集节点留下 {} 个未完成的{}目标，已退回队列", name, n, catalog.label(platform))


def reload_worker(source: Any, crawlers: dict[str, Any], heartbeat: Heartbeat) -> Config | None:
    """SIGHUP: read the config again and apply what a running worker can change — each
    platform's pace, daily budget, rate, concurrency, cookies file and session (checked again
    before the next targets), the exit address. A broken config is logged and the old one kept.
    The Redis address, the schools served and the platforms need a restart."""
    from watcher.config import ConfigError, load_config

    try:
        cfg = load_config(source)
    except ConfigError as e:
        logger.error("重新读取配置失败，继续使用原配置：{}", e.render())
        return None
    for platform, crawler in crawlers.items():
        spider = crawler.spider
        if spider is None:
            continue
        pc = cfg.platform(platform)
        spider.cfg, spider.pcfg, spider.pace = cfg, pc, pc.pace(platform)
        spider.session.cfg, spider.session.checked = cfg, None
        spider.exit_pace.exit = exit_address(cfg)
        spider.reload_cookies()
        engine = getattr(crawler, "engine", None)
        for slot in (engine.downloader.slots.values() if engine is not None else ()):
            slot.delay, slot.concurrency = max(1.0 / pc.rate, spider.pace.interval), pc.concurrency
    heartbeat.cfg, heartbeat.exit = cfg, exit_address(cfg)
    logger.info("已重新读取配置 {}（节奏、预算、限速、并发、Cookie 与出口地址已生效；Redis 地址、学校前缀与平台需重启节点）", source)
    return cfg


def run_worker(cfg: Config, platforms: list[str], name: str) -> int:
    """Run until SIGTERM/SIGINT; every unfinished lease then goes back to the queue."""
    setup_logging(cfg.logging, component=f"worker:{name}", crashes=cfg.data_path / "crashes")
    logging.getLogger("scrapy").setLevel(logging.WARNING)
    logging.getLogger("scrapy_redis").setLevel(logging.WARNING)
    _return_predecessors_leases(cfg, platforms, name)
    process = CrawlerProcess(crawler_settings(cfg, platforms[0]), install_root_handler=False)
    crawlers: dict[str, Crawler] = {}
    heartbeat = Heartbeat(cfg, name, crawlers)
    for n, platform in enumerate(platforms):
        cls = catalog.spider_class(platform)
        spider_cls = type(f"Worker{cls.__name__}", (WorkerSpiderMixin, cls), {})
        # One crawler a platform, each with its own settings (rate, concurrency); the first
        # installs the reactor, as CrawlerProcess does for its own first crawler.
        crawler = Crawler(spider_cls, crawler_settings(cfg, platform), init_reactor=n == 0)
        crawlers[platform] = crawler
        process.crawl(crawler, cfg=cfg, worker=name, prefixes=cfg.crawl.prefixes(), cooldown=cfg.crawl.worker_cooldown,
                      on_cooling=heartbeat.beat)
    beats = LoopingCall(heartbeat.beat)
    beats.start(cfg.crawl.heartbeat, now=True)
    from twisted.internet import reactor

    source = cfg.source
    signal.signal(signal.SIGHUP, lambda *_: reactor.callFromThread(reload_worker, source, crawlers, heartbeat))
    logger.info("采集节点 {} 已启动：{}；学校前缀 {}；Redis {}；出口地址 {}", name, "、".join(catalog.label(p) for p in platforms),
                ", ".join(cfg.crawl.prefixes()), cfg.crawl.redis_shown(), exit_address(cfg))
    process.start()
    if beats.running:
        beats.stop()
    heartbeat.beat("stopped")
    return 0
