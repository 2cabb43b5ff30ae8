"""The Redis keys of one school (``crawl.key_prefix``), shared by its daemon and its workers, and
the scripts that move a target between them atomically."""

from __future__ import annotations

import json
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
# Every message of a round the daemon still tracks, wherever it is now: the queue, the results
# not yet read, and the lease list of every worker the school knows. Atomic, so a target moving
# between them is seen exactly once (a Redis that lost its data shows which are gone).
LOCATE = """
local out = redis.call('LRANGE', KEYS[1], 0, -1)
for _, v in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do table.insert(out, v) end
for _, w in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  for _, v in ipairs(redis.call('LRANGE', ARGV[1] .. w .. ARGV[2], 0, -1)) do table.insert(out, v) end
end
return out
"""
RESULT_TTL = 86400  # results and round markers no daemon reads any more expire after a day


def connect(url: str, password: str | None = None, ca_file: str | None = None, timeout: float | None = None) -> Any:
    """A client as scrapy-redis makes it (its connection defaults), answering in text. For
    ``rediss://``, ``ca_file`` is the CA that signed the server's certificate (else the system's).
    ``timeout``: a shorter wait, for a page that must not hang on an unreachable Redis."""
    tls = {"ssl_ca_certs": ca_file} if ca_file and url.startswith("rediss://") else {}
    return get_redis(url=url, password=password, decode_responses=True, socket_timeout=timeout or 30,
                     socket_connect_timeout=timeout or 10, retry_on_timeout=True, health_check_interval=30, **tls)


def connect_cfg(crawl: Any, timeout: float | None = None) -> Any:
    """The client of a config's ``crawl`` section (its URL, password and CA)."""
    from watcher.logs import remember

    password = crawl.redis_password()
    remember(password)  # hidden in every log line and stored error
    return connect(crawl.redis_url or "", password, crawl.redis_ca(), timeout)


def round_of(raw: str) -> int | None:
    try:
        value = json.loads(raw).get("round")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, int) else None


def id_of(raw: str) -> str | None:
    try:
        value = json.loads(raw).get("id")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


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

    def open(self, round_id: int) -> str:
        """Kept alive (an expiring key) by the daemon while it runs the round: workers take only
        targets of rounds whose key is there, so a daemon that died, or a close that Redis never
        heard, leaves nothing for the fleet to crawl."""
        return self._k("open", round_id)

    def workers(self) -> str:
        return self._k("workers")

    def worker(self, worker: str) -> str:
        """A worker's heartbeat: host, pid, platforms, last beat, requests served, cool-downs."""
        return self._k("worker", worker)


def round_open(server: Any, school: Keys, round_id: int) -> bool:
    with server.pipeline(transaction=False) as pipe:
        pipe.exists(school.open(round_id))
        pipe.exists(school.closed(round_id))
        is_open, closed = pipe.execute()
    return bool(is_open) and not closed


RESUME_GRACE = 2.0  # seconds a worker waits at least to take targets once Redis is back after an outage
# However slow the daemons are to come back, an open key nobody refreshes is gone after its TTL
# (max(10 s, 3 heartbeats)); past this a worker stops waiting for it.
RESUME_LIMIT = 300.0
OPEN_PATTERN = "campus-watcher:*:open:*"


class Resume:
    """A worker's pause after Redis was away. A daemon that ended a round during the outage
    closes it in Redis as soon as Redis answers again; until then the round's targets still look
    open. A fixed wait is a race on a busy machine (the close may come later than any grace), so
    the worker waits for a sign from each round that looked open when Redis came back: its daemon
    refreshed the open key (each refresh writes a new value: the daemon is alive and still runs
    the round), closed the round, or let the key expire (the daemon is gone)."""

    def __init__(self, clock: Any = None, pattern: str = OPEN_PATTERN) -> None:
        import time

        self.clock = clock or time.monotonic
        self.pattern = pattern
        self.down = False
        self.back: float | None = None  # when Redis answered again
        self.waiting: dict[str, Any] = {}  # open key → the value it had when Redis came back
        self.run_id: str | None = None  # Redis's own id, new on every restart

    def failed(self) -> None:
        self.down, self.back = True, None

    def ready(self, server: Any) -> bool:
        """Whether targets may be taken now; raises Redis's error while it is still away."""
        # redis-py retries a dropped connection by itself, so a short restart may never reach us
        # as an error: Redis's run id, new on every start, says it happened all the same.
        run_id = server.info("server").get("run_id")
        if self.run_id is not None and run_id != self.run_id:
            self.failed()
        self.run_id = run_id
        if not self.down:
            return True
        now = self.clock()
        if self.back is None:
            self.back = now
            keys = [k.decode() if isinstance(k, bytes) else k for k in server.scan_iter(match=self.pattern, count=500)]
            self.waiting = dict(zip(keys, server.mget(keys), strict=True)) if keys else {}
        if now - self.back < RESUME_GRACE:
            return False
        if self.waiting and now - self.back < RESUME_LIMIT:
            keys = list(self.waiting)
            values = server.mget(keys)
            closed = server.mget([k.replace(":open:", ":closed:") for k in keys])
            self.waiting = {k: old for k, old, new, shut in zip(keys, self.waiting.values(), values, closed, strict=True)
                            if new is not None and new == old and not shut}
            if self.waiting:
                return False
        self.down, self.back, self.waiting = False, None, {}
        return True


def take(server: Any, school: Keys, worker: str, platform: str, n: int) -> list[str]:
    """Up to ``n`` targets, each moved to ``worker``'s lease list in one Redis step. Targets of a
    round that is closed, or whose daemon no longer keeps it open, are dropped on the way: no
    request is ever made for a round nobody will read."""
    queue, lease = school.queue(platform), school.leases(worker, platform)
    out: list[str] = []
    while len(out) < n:
        raw = server.lmove(queue, lease, "LEFT", "RIGHT")
        if raw is None:
            break
        rid = round_of(raw)
        if rid is not None and not round_open(server, school, rid):
            server.lrem(lease, 1, raw)
            continue
        out.append(raw)
    return out
