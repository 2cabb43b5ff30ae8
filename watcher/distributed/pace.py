"""One pace and one daily budget per platform **per exit address**, counted in Redis.

A platform limits and bans by the address a request comes from, so that is what its pace
(``platforms.<p>.interval``, ``per_minute``) and its day's budget (``daily_budget``) are measured
against. Locally the crawl counts in the data dir (:class:`spiders.middlewares.PacingMiddleware`);
in a fleet every worker has its own data dir, and N workers behind one address would spend N
budgets from it. Here the workers sharing an exit address (``crawl.exit_address``, by default the
host name) count together in Redis: a fleet of N *addresses* has N budgets and N paces, N workers
behind one address have one.

Redis keys (shared by every school on the Redis, since an address is spent whoever asks):
``campus-watcher:exit:<address>:<platform>:window`` (the last minute's requests) and ``…:slot``
(when the next request may go), ``campus-watcher:usage:<day>`` (requests a day per address and
platform, and the budget the workers apply; per worker under ``…:workers``).
"""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

import redis
from loguru import logger

from spiders.middlewares import PacingMiddleware, Refused
from watcher import timefmt
from watcher.distributed.errors import explain

# A request's place in the address's pace. Returns, as text (Lua numbers become integers):
# a positive number — the minute is full, ask again after that many seconds; otherwise the
# request has its slot, to be waited for (minus that number) before it goes.
RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 60)
local per_minute = tonumber(ARGV[2])
if per_minute > 0 and redis.call('ZCARD', KEYS[1]) >= per_minute then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return tostring(math.max(0.05, tonumber(oldest[2]) + 60 - now))
end
local last = tonumber(redis.call('GET', KEYS[2]) or '0')
local slot = math.max(now, last + tonumber(ARGV[1]))
redis.call('SET', KEYS[2], tostring(slot), 'EX', 3600)
redis.call('ZADD', KEYS[1], slot, ARGV[3])
redis.call('EXPIRE', KEYS[1], 120)
return tostring(now - slot)
"""
# A request against the day's budget of its address; the day's count after it.
SPEND = """
local used = redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('HSET', KEYS[1], ARGV[1] .. '|budget', ARGV[3])
redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
redis.call('EXPIRE', KEYS[1], 259200)
redis.call('EXPIRE', KEYS[2], 259200)
return used
"""


def day(now: datetime | None = None) -> str:
    """The budget's day, in the configured time zone (a worker and its daemon share the config's)."""
    return (now or datetime.now(timefmt.zone())).astimezone(timefmt.zone()).date().isoformat()


def usage_key(on: str) -> str:
    return f"campus-watcher:usage:{on}"


class ExitPace:
    """The pace and budget of one exit address, as one worker applies them."""

    def __init__(self, server: Any, exit_address: str, worker: str) -> None:
        self.server, self.exit, self.worker = server, exit_address, worker

    def _k(self, platform: str, what: str) -> str:
        return f"campus-watcher:exit:{self.exit}:{platform}:{what}"

    def reserve(self, platform: str, interval: float, per_minute: int) -> float:
        """Positive: ask again after that many seconds; else wait ``-value`` seconds, then go.
        The interval is spread over 0.5–1.5× of it, as Scrapy spreads a worker's own delay."""
        spread = interval * random.uniform(0.5, 1.5) if interval else 0.0  # noqa: S311 - pacing, not security
        member = f"{self.worker}:{random.random()}"  # noqa: S311
        return float(self.server.eval(RESERVE, 2, self._k(platform, "window"), self._k(platform, "slot"),
                                      spread, per_minute, member))

    def spend(self, platform: str, budget: int, on: str | None = None) -> int:
        on = on or day()
        return int(self.server.eval(SPEND, 2, usage_key(on), usage_key(on) + ":workers", f"{self.exit}|{platform}",
                                    f"{self.worker}|{platform}", budget))


def usage(server: Any, on: str | None = None) -> dict[str, Any]:
    """A day's requests: ``exits`` — (address, platform) → {"used", "budget"}; ``workers`` —
    (worker, platform) → requests."""
    on = on or day()
    exits: dict[tuple[str, str], dict[str, int]] = {}
    for field, value in server.hgetall(usage_key(on)).items():
        parts = field.split("|")
        if len(parts) == 2:
            exits.setdefault((parts[0], parts[1]), {"used": 0, "budget": 0})["used"] = int(value)
        elif len(parts) == 3 and parts[2] == "budget":
            exits.setdefault((parts[0], parts[1]), {"used": 0, "budget": 0})["budget"] = int(value)
    workers = {}
    for field, value in server.hgetall(usage_key(on) + ":workers").items():
        name, _, platform = field.rpartition("|")
        workers[(name, platform)] = int(value)
    return {"day": on, "exits": exits, "workers": workers}


class FleetPacingMiddleware(PacingMiddleware):
    """The platform's pace and budget, per exit address, in Redis (see the module's docstring).
    With Redis away for a moment, the request is paced and counted as a local crawl's would be,
    rather than held: its result waits for Redis anyway, and the worker's own limits still hold."""

    async def process_request(self, request: Any, spider: Any = None) -> None:
        from scrapy.utils.defer import maybe_deferred_to_future
        from twisted.internet import reactor
        from twisted.internet.task import deferLater

        spider = self.crawler.spider
        pace, platform = spider.pace, spider.info.name
        try:
            while (wait := spider.exit_pace.reserve(platform, pace.interval, pace.per_minute)) > 0:
                await maybe_deferred_to_future(deferLater(reactor, wait, lambda: None))
            if wait < 0:
                await maybe_deferred_to_future(deferLater(reactor, -wait, lambda: None))
            used = spider.exit_pace.spend(platform, pace.daily)  # counted even without a budget: workers status
        except redis.RedisError as e:
            logger.debug("出口节奏暂按本机计数（{}）", explain(e, spider.cfg.crawl))
            return await super().process_request(request, spider)
        spider.budget_spent = bool(pace.daily) and used > pace.daily
        if spider.budget_spent:
            raise Refused(f"出口地址 {spider.exit_pace.exit} 今日对{spider.info.label}的请求已达预算上限（{pace.daily} 次/天，"
                          f"platforms.{platform}.daily_budget，共用该出口的全部采集节点合计），明天自动恢复；"
                          "如需更多，请增加出口地址不同的采集节点", rate_limited=True)
        return None
