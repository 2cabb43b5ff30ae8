"""The daemon's side of a distributed round: queue its targets, take the results the workers
deliver, in the order they arrive, into the round's :class:`~watcher.rounds.sink.RoundSink`, and
take back the leases of workers that went silent.

:func:`run_remote` replaces the local crawl process in :func:`watcher.rounds.engine.run_round`;
the round's record, its summary and the platform's cool-down stay the engine's.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

import redis
from loguru import logger

from spiders import catalog
from spiders.base import Target
from watcher import timefmt
from watcher.config import Config
from watcher.distributed import messages
from watcher.distributed.errors import explain
from watcher.distributed.keys import LOCATE, RELEASE, RESULT_TTL, Keys, connect_cfg, id_of, round_of
from watcher.rounds import records
from watcher.rounds.pipeline import STOP_REASONS
from watcher.rounds.sink import RoundSink
from watcher.store import Store

WAIT_SECONDS = 0.5
BACKOFF_FIRST, BACKOFF_MAX = 0.5, 5.0  # while Redis is away: wait, doubling, then try again
CLOSE_BACKOFF_MAX = 30.0
Progress = Callable[[int, int], None]


class Fleet:
    """One school's view of the shared Redis: its queues, its workers, their leases."""

    def __init__(self, cfg: Config, prefix: str | None = None, timeout: float | None = None) -> None:
        self.crawl = cfg.crawl
        self.keys = Keys(prefix or cfg.crawl.key_prefix or "")
        self.server = connect_cfg(cfg.crawl, timeout)
        # The daemon refreshes a round's "open" key far more often than this; a daemon that
        # stopped refreshing (killed, or cut off from Redis) loses its round's queue to nobody.
        self.open_ttl = max(10, 3 * cfg.crawl.heartbeat)

    def workers(self) -> list[dict[str, Any]]:
        """Every worker that has beaten under this school, with its decoded heartbeat."""
        out = []
        for name in sorted(self.server.smembers(self.keys.workers())):
            h = self.server.hgetall(self.keys.worker(name))
            out.append({
                "name": name, "host": h.get("host", ""), "pid": h.get("pid", ""),
                "platforms": [p for p in h.get("platforms", "").split(",") if p],
                "beat": float(h["beat"]) if h.get("beat") else None, "state": h.get("state", "gone"),
                "served": _json(h.get("served")), "cooling": _json(h.get("cooling")),
                "leased": int(h.get("leased") or 0), "targets": int(h.get("targets") or 0),
                "exit": h.get("exit") or h.get("host", ""), "sessions": _json(h.get("sessions"))})
        return out

    def now(self) -> float:
        """Redis's clock, which every worker's heartbeat is written in."""
        secs, micros = self.server.time()
        return secs + micros / 1e6

    def alive(self, worker: dict[str, Any], now: float | None = None) -> bool:
        now = now or self.now()
        return worker["state"] == "running" and worker["beat"] is not None and now - worker["beat"] <= self.crawl.lease_timeout

    def live(self, platform: str) -> list[dict[str, Any]]:
        """Live workers of ``platform``, cooling down or not."""
        now = self.now()
        return [w for w in self.workers() if self.alive(w, now) and platform in w["platforms"]]

    def serving(self, platform: str) -> list[str]:
        """Live workers that take ``platform``'s targets now (not cooling down)."""
        now = self.now()
        return [w["name"] for w in self.live(platform) if float(w["cooling"].get(platform, 0)) <= now]

    def reap(self) -> list[str]:
        """Move the leases of every silent worker back to the head of their queue; returns the
        messages moved (a worker that stopped cleanly has returned its own already)."""
        moved: list[str] = []
        now = self.now()
        for w in self.workers():
            if self.alive(w, now):
                continue
            for platform in w["platforms"] or list(catalog.names()):
                lease = self.keys.leases(w["name"], platform)
                held = self.server.lrange(lease, 0, -1)
                if held and self.server.eval(RELEASE, 2, lease, self.keys.queue(platform)):
                    logger.warning("采集节点 {} 已 {} 秒无心跳，其 {} 个{}目标退回队列", w["name"],
                                   int(now - (w["beat"] or now)), len(held), catalog.label(platform))
                    moved += held
            if w["beat"] is None:
                self.server.srem(self.keys.workers(), w["name"])  # its heartbeat expired long ago
        return moved

    def messages(self, round_id: int, mode: str, targets: list[Target], first: int) -> dict[str, tuple[str, str]]:
        """The queue entries of targets: message id → (target key, entry)."""
        out = {}
        for n, t in enumerate(targets, start=first):
            msg_id = f"{self.keys.prefix}:{round_id}:{n}"
            out[msg_id] = (t.key, messages.target_message(msg_id, round_id, mode, t))
        return out

    def push(self, platform: str, raws: list[str]) -> None:
        if raws:
            self.server.rpush(self.keys.queue(platform), *raws)

    def keep_open(self, round_id: int) -> None:
        # a new value on every refresh: a worker back from a Redis outage waits to see one (keys.Resume)
        self.server.set(self.keys.open(round_id), time.time_ns(), ex=self.open_ttl)

    def located(self, platform: str, round_id: int) -> set[str]:
        """The ids of the messages Redis holds for the round: queued, leased or delivered."""
        raws = self.server.eval(LOCATE, 3, self.keys.queue(platform), self.keys.results(round_id), self.keys.workers(),
                                self.keys._k("leases", ""), f":{platform}")
        return {i for i in map(id_of, raws) if i}

    def next_result(self, round_id: int, timeout: float) -> str | None:
        got = self.server.blpop([self.keys.results(round_id)], timeout=timeout)
        return got[1] if got else None

    def drop_stale(self, platform: str, running: Callable[[int], bool]) -> int:
        """Drop queued targets of rounds that are no longer running (their daemon was killed):
        no worker should spend the platform's patience on a round nobody will read."""
        queue = self.keys.queue(platform)
        stale = [raw for raw in self.server.lrange(queue, 0, -1) if not running(round_of(raw) or 0)]
        with self.server.pipeline() as pipe:
            for raw in stale:
                pipe.lrem(queue, 1, raw)
                pipe.set(self.keys.closed(round_of(raw) or 0), 1, ex=RESULT_TTL)
            pipe.execute()
        return len(stale)

    def close_round(self, round_id: int, platform: str) -> None:
        """The round is over: workers drop its targets still queued, and its keys go."""
        queue = self.keys.queue(platform)
        with self.server.pipeline() as pipe:
            pipe.set(self.keys.closed(round_id), 1, ex=RESULT_TTL)
            for raw in self.server.lrange(queue, 0, -1):
                if round_of(raw) == round_id:
                    pipe.lrem(queue, 1, raw)
            pipe.delete(self.keys.results(round_id), self.keys.seen(round_id), self.keys.open(round_id))
            pipe.execute()


def _local_hm(ts: float) -> str:
    return datetime.fromtimestamp(ts, timefmt.zone()).strftime("%H:%M")


def _json(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


class RemoteRound:
    """What the daemon tracks of one distributed round."""

    def __init__(self, fleet: Fleet, sink: RoundSink, targets: dict[str, Target]) -> None:
        self.fleet = fleet
        self.sink = sink
        self.targets = targets
        self.pending: dict[str, str] = {}  # message id → target key
        self.entries: dict[str, str] = {}  # message id → its queue entry, to queue it again
        self.unsent: list[str] = []  # message ids not yet in Redis
        self.sent = 0
        self.workers: Counter[str] = Counter()
        self.requests = 0
        self.duplicates = 0
        self.requeued: list[str] = []
        self.handed_over = 0
        self.lost = 0  # messages Redis no longer held (it restarted without its data): queued again

    def add(self, targets: list[Target], mode: str) -> None:
        """Targets for the fleet; queued by the next :meth:`sync`."""
        made = self.fleet.messages(self.sink.round_id, mode, targets, self.sent)
        self.sent += len(made)
        for msg_id, (key, raw) in made.items():
            self.pending[msg_id] = key
            self.entries[msg_id] = raw
            self.unsent.append(msg_id)

    def sync(self, *, check: bool) -> None:
        """Keep the round open, queue what is not queued yet and — after Redis was away, and every
        so often — queue again every pending message Redis no longer holds anywhere."""
        self.fleet.keep_open(self.sink.round_id)
        if check:
            held = self.fleet.located(self.sink.platform, self.sink.round_id)
            lost = [m for m in self.pending if m not in held and m not in self.unsent]
            if lost:
                logger.warning("{}：Redis 中已没有本轮 #{} 的 {} 个目标（Redis 重启时丢失了数据），重新排队",
                               catalog.label(self.sink.platform), self.sink.round_id, len(lost))
                self.lost += len(lost)
                self.unsent.extend(lost)
        if self.unsent:
            self.fleet.push(self.sink.platform, [self.entries[m] for m in self.unsent if m in self.pending])
            self.unsent = []

    def take(self, raw: str) -> None:
        try:
            env, items = messages.read_result(raw)
        except messages.BadMessage as e:
            msg_id = id_of(raw)
            logger.warning("丢弃采集节点送回的一个结果：{}", e)
            if msg_id in self.pending:
                self.entries.pop(msg_id, None)
                self.sink.close(self.pending.pop(msg_id), "failed", f"采集节点送回的结果无法识别（{e}），下一轮重试")
            return
        if self.pending.pop(env.get("id"), None) is None:
            return  # not this round's, or already taken
        self.entries.pop(env.get("id"), None)
        self.workers[str(env.get("worker"))] += 1
        self.handed_over += bool(env.get("refused_by"))
        self.requests += int(env.get("requests") or 0)
        self.duplicates += int(items[-1].details.get("duplicate_requests", 0)) if items[-1].details else 0
        for item in items:
            self.sink.add(item)

    def reap(self) -> None:
        for raw in self.fleet.reap():
            if id_of(raw) in self.pending:
                self.requeued.append(self.pending[id_of(raw)])


_closing: list[threading.Thread] = []


def close_durably(fleet: Fleet, round_id: int, platform: str) -> None:
    """Close the round in Redis now, or — Redis being away — in a thread that tries again, with
    back-off, until Redis answers: a round whose close Redis never heard would be crawled again
    once Redis is back. (Should this process end first, the round's "open" key expires anyway.)"""
    try:
        fleet.close_round(round_id, platform)
        return
    except redis.RedisError as e:
        logger.warning("本轮 #{} 结束时 Redis 不可用（{}），将在 Redis 恢复后关闭该轮的队列", round_id, explain(e, fleet.crawl))

    def retry() -> None:
        # Every half second for the first minute: workers coming back wait RESUME_GRACE before
        # they take targets, and the close must be in Redis by then.
        started = time.monotonic()
        wait = BACKOFF_FIRST
        while True:
            time.sleep(wait)
            try:
                fleet.close_round(round_id, platform)
            except redis.RedisError:
                if time.monotonic() - started > 60:
                    wait = min(wait * 2, CLOSE_BACKOFF_MAX)
                continue
            logger.info("Redis 已恢复，本轮 #{} 的队列已关闭", round_id)
            return

    thread = threading.Thread(target=retry, name=f"close-round-{round_id}", daemon=True)
    _closing.append(thread)
    thread.start()


def wait_closed(timeout: float) -> bool:
    """Whether every close that waited for Redis is done (tests; a stopping daemon)."""
    deadline = time.monotonic() + timeout
    for thread in list(_closing):
        thread.join(max(0.0, deadline - time.monotonic()))
    _closing[:] = [t for t in _closing if t.is_alive()]
    return not _closing


def run_remote(cfg: Config, round_id: int, platform: str, mode: str, targets: list[Target], run_ids: dict[str, int],
               *, stop: threading.Event | None, deadline: float, progress: Progress | None,
               yield_to: threading.Event | None = None) -> str | None:
    """Crawl a round on the fleet; returns why it was cut short (``daemon``, ``scan``, ``timeout``) or None."""
    fleet = Fleet(cfg)
    by_key = {t.key: t for t in targets}
    with Store.open(cfg.db_path) as store:
        sink = RoundSink(cfg, store, platform, mode, round_id, run_ids, by_key)
        state = RemoteRound(fleet, sink, by_key)
        why, failure = _drive(cfg, state, mode, stop, deadline, progress, yield_to)
        if why:
            records.set_stop_reason(store, round_id, why)
        sink.conclude_checks()
        for key in [k for k in state.pending.values() if k in run_ids]:
            if why:
                sink.close(key, "interrupted", STOP_REASONS[why])
            else:
                sink.close(key, *(failure or ("failed", "采集结束时仍未完成")))
        records.set_round_details(store, round_id, {
            "distributed": True, "halted": None, "checks": sink.checks(), "workers": dict(state.workers),
            "requests": state.requests, "duplicate_requests": state.duplicates, "requeued": state.requeued,
            "handed_over": state.handed_over, "requeued_after_redis_loss": state.lost,
            "close_reason": why or (failure[0] if failure else "finished")})
        _note_host_sessions(cfg, fleet, store, platform)
    close_durably(fleet, round_id, platform)
    return why


def _note_host_sessions(cfg: Config, fleet: Fleet, store: Store, platform: str) -> None:
    from watcher.distributed.hostsession import note_fleet_sessions

    try:
        note_fleet_sessions(cfg, fleet, store, platform)
    except redis.RedisError as e:
        logger.warning("读取各采集节点的登录状态失败：{}", explain(e, cfg.crawl))


def _drive(cfg: Config, state: RemoteRound, mode: str, stop: threading.Event | None, deadline: float,
           progress: Progress | None, yield_to: threading.Event | None = None) -> tuple[str | None, tuple[str, str] | None]:
    """Until every target (and then every post check the round added) is delivered, or the round
    is stopped, or no worker has served its platform for ``crawl.no_worker_timeout`` — or, when
    every live worker is cooling down after the platform refused it, for a few heartbeats.

    Redis going away does not end the round: the daemon waits, with back-off, for as long as the
    round's deadline allows, then re-opens the round and queues again whatever Redis lost."""
    sink = state.sink
    label = catalog.label(sink.platform)
    drive = _Driver(cfg, state, mode)
    state.add(list(state.targets.values()), mode)
    outage: float | None = None
    wait = BACKOFF_FIRST
    last_progress = time.monotonic()
    while state.pending:
        if stop is not None and stop.is_set():
            return "daemon", None
        if yield_to is not None and yield_to.is_set():
            return "scan", None
        if time.monotonic() > deadline:
            if outage is not None:
                return None, ("interrupted", f"与 Redis 的连接中断 {int(time.monotonic() - outage)} 秒，超过本轮期限"
                                             f"（{explain(drive.error, cfg.crawl) if drive.error else ''}）；"
                                             "未完成的目标在下一轮重新采集")
            return "timeout", None
        try:
            ended = drive.step(resync=outage is not None)
        except redis.RedisError as e:
            drive.error = e
            if outage is None:
                outage = time.monotonic()
                logger.warning("{} 本轮 #{}：{}；等待 Redis 恢复（最长至本轮期限），已送回的结果不会丢失",
                               label, sink.round_id, explain(e, cfg.crawl))
            pause = min(wait, max(0.0, deadline - time.monotonic()))
            if stop is not None:
                stop.wait(pause)
            else:
                time.sleep(pause)
            wait = min(wait * 2, BACKOFF_MAX)
            continue
        if outage is not None:
            logger.info("{} 本轮 #{}：Redis 已恢复（中断约 {} 秒），继续采集", label, sink.round_id,
                        int(time.monotonic() - outage))
            outage, wait, drive.unserved_since = None, BACKOFF_FIRST, None
        if ended is not None:
            return None, ended
        now = time.monotonic()
        if progress is not None and now - last_progress > 1.0:
            last_progress = now
            progress(*records.progress(sink.store, sink.round_id))
    return None, None


class _Driver:
    """One step of a distributed round at a time, so that a Redis error anywhere in it is a
    pause, not the end of the round."""

    def __init__(self, cfg: Config, state: RemoteRound, mode: str) -> None:
        self.cfg, self.state, self.mode = cfg, state, mode
        self.started = False
        self.checks_added = False
        self.last_reap = time.monotonic()
        self.unserved_since: float | None = None
        self.error: redis.RedisError | None = None

    def _start(self) -> None:
        sink, fleet = self.state.sink, self.state.fleet
        self.state.reap()
        dropped = fleet.drop_stale(sink.platform, lambda rid: rid == sink.round_id or (
            rnd := records.get_round(sink.store, rid)) is not None and rnd.status == "running")
        if dropped:
            logger.warning("{}：队列中有 {} 个目标属于已结束的轮次（上次服务被强制终止），已丢弃", catalog.label(sink.platform),
                           dropped)
        self.started = True

    def step(self, *, resync: bool) -> tuple[str, str] | None:
        """Take what was delivered, keep the fleet in order; the round's end when it must end."""
        sink, fleet, state, cfg = self.state.sink, self.state.fleet, self.state, self.cfg
        if not self.started:
            self._start()
        now = time.monotonic()
        if resync:
            # No worker could beat while Redis was away: give them a heartbeat before their
            # leases are judged, or every lease of a short outage would be taken back.
            self.last_reap = now + cfg.crawl.heartbeat - min(cfg.crawl.heartbeat, 5)
        housekeeping = now - self.last_reap >= min(cfg.crawl.heartbeat, 5)
        state.sync(check=resync or housekeeping)
        raw = fleet.next_result(sink.round_id, WAIT_SECONDS)
        if raw is not None:
            state.take(raw)
        now = time.monotonic()
        if housekeeping:
            self.last_reap = now
            state.reap()
            ended = self._served(now)
            if ended is not None:
                return ended
        if not state.pending and not self.checks_added and sink.wants_followups():
            self.checks_added = True
            more = sink.followups(refused=False)
            for t in more:
                state.targets[t.key] = t
            state.add(more, "check")
            state.sync(check=False)
        return None

    def _served(self, now: float) -> tuple[str, str] | None:
        sink, fleet, cfg = self.state.sink, self.state.fleet, self.cfg
        label = catalog.label(sink.platform)
        live = fleet.live(sink.platform)
        if fleet.serving(sink.platform):
            self.unserved_since = None
        elif self.unserved_since is None:
            self.unserved_since = now
        elif live and now - self.unserved_since > 3 * cfg.crawl.heartbeat:
            until = min(float(w["cooling"].get(sink.platform, 0)) for w in live)
            return ("blocked", f"全部 {len(live)} 个采集节点都被{label}拒绝，正在冷却（最早 "
                               f"{_local_hm(until)} 恢复）；请检查各节点的 platforms.{sink.platform}."
                               "cookies_file 与 rate，或增加采集节点（出口地址）")
        elif not live and now - self.unserved_since > cfg.crawl.no_worker_timeout:
            return ("failed", f"{cfg.crawl.no_worker_timeout} 秒内没有在线的采集节点可采集{label}：请在采集主机上运行 "
                              f"watcher worker（配置 crawl.key_prefix: {fleet.keys.prefix}，并启用 platforms."
                              f"{sink.platform}），或去掉 crawl.redis_url 改回本机采集")
        return None
