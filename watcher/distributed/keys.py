"""The Redis keys of one school (``crawl.key_prefix``), shared by its daemon and its workers, and
the scripts that move a target between them atomically."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scrapy_redis.connection import get_redis

# A lease leaves the worker's list only together with its result: a lease that was taken back
# (the worker was presumed dead) delivers nothing, so no target is stored twice.
COMPLETE = """
if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 1 then
  redis.call('RPUSH', KEYS[2], ARGV[2])
  redis.call('EXPIRE', KEYS[2], ARGV[3])
  redis.call('HINCRBY', KEYS[3], 'targets', 1)
  return 1
end
return 0
"""
# A target this worker was refused on goes back to the head of the queue, for a worker the
# platform has not refused yet (its message now names the workers that were).
HAND_BACK = """
if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 1 then
  redis.call('LPUSH', KEYS[2], ARGV[2])
  return 1
end
return 0
"""
# A target taken by a worker it was refused to goes to the tail of the queue, for the others.
PASS_ON = """
if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 1 then
  redis.call('RPUSH', KEYS[2], ARGV[1])
  return 1
end
return 0
"""
# Every lease of a list back to the head of the queue, in order (a dead or stopping worker).
RELEASE = """
local n = 0
while redis.call('LMOVE', KEYS[1], KEYS[2], 'RIGHT', 'LEFT') do n = n + 1 end
return n
"""
RESULT_TTL = 86400  # results and round markers no daemon reads any more expire after a day


def connect(url: str, password: str | None = None) -> Any:
    """A client as scrapy-redis makes it (its connection defaults), answering in text."""
    return get_redis(url=url, password=password, decode_responses=True, socket_timeout=30, socket_connect_timeout=10,
                     retry_on_timeout=True, health_check_interval=30)


@dataclass(frozen=True)
class Keys:
    prefix: str

    def _k(self, *parts: object) -> str:
        return ":".join(["campus-watcher", self.prefix, *map(str, parts)])

    def queue(self, platform: str) -> str:
        """The targets waiting for a worker of ``platform`` (a list; taken from the left)."""
        return self._k("queue", platform)

    def leases(self, worker: str, platform: str) -> str:
        """The targets ``worker`` has taken and not yet delivered."""
        return self._k("leases", worker, platform)

    def results(self, round_id: int) -> str:
        """What the workers delivered for a round, in order: one entry per target."""
        return self._k("results", round_id)

    def seen(self, round_id: int) -> str:
        """The fingerprints of every request the fleet made for a round (scrapy-redis's dupefilter)."""
        return self._k("seen", round_id)

    def closed(self, round_id: int) -> str:
        """Set when the daemon has finished a round: its targets still queued are dropped."""
        return self._k("closed", round_id)

    def workers(self) -> str:
        return self._k("workers")

    def worker(self, worker: str) -> str:
        """A worker's heartbeat: host, pid, platforms, last beat, requests served, cool-downs."""
        return self._k("worker", worker)
