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
from spiders.parsing import CHINA
from watcher.config import Config
from watcher.distributed import messages
from watcher.distributed.keys import RELEASE, RESULT_TTL, Keys, connect
from watcher.rounds import records
from watcher.rounds.pipeline import STOP_REASONS
from watcher.rounds.sink import RoundSink
from watcher.store import Store

WAIT_SECONDS = 0.5
Progress = Callable[[int, int], None]


class Fleet:
    """One school's view of the shared Redis: its queues, its workers, their leases."""

    def __init__(self, cfg: Config, prefix: str | None = None) -> None:
        self.crawl = cfg.crawl
        self.keys = Keys(prefix or cfg.crawl.key_prefix or "")
        self.server = connect(cfg.crawl.redis_url or "", cfg.crawl.redis_password())

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
                "leased": int(h.get("leased") or 0), "targets": int(h.get("targets") or 0)})
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

    def push(self, platform: str, round_id: int, mode: str, targets: list[Target], first: int) -> dict[str, str]:
        """Queue targets; returns message id → target key."""
        ids: dict[str, str] = {}
        raws = []
        for n, t in enumerate(targets, start=first):
            msg_id = f"{self.keys.prefix}:{round_id}:{n}"
            ids[msg_id] = t.key
            raws.append(messages.target_message(msg_id, round_id, mode, t))
        if raws:
            self.server.rpush(self.keys.queue(platform), *raws)
        return ids

    def next_result(self, round_id: int, timeout: float) -> str | None:
        got = self.server.blpop([self.keys.results(round_id)], timeout=timeout)
        return got[1] if got else None

    def drop_stale(self, platform: str, running: Callable[[int], bool]) -> int:
        """Drop queued targets of rounds that are no longer running (their daemon was killed):
        no worker should spend the platform's patience on a round nobody will read."""
        queue = self.keys.queue(platform)
        stale = [raw for raw in self.server.lrange(queue, 0, -1) if not running(_round_of(raw) or 0)]
        with self.server.pipeline() as pipe:
            for raw in stale:
                pipe.lrem(queue, 1, raw)
                pipe.set(self.keys.closed(_round_of(raw) or 0), 1, ex=RESULT_TTL)
            pipe.execute()
        return len(stale)

    def close_round(self, round_id: int, platform: str) -> None:
        """The round is over: workers drop its targets still queued, and its keys go."""
        queue = self.keys.queue(platform)
        with self.server.pipeline() as pipe:
            pipe.set(self.keys.closed(round_id), 1, ex=RESULT_TTL)
            for raw in self.server.lrange(queue, 0, -1):
                if _round_of(raw) == round_id:
                    pipe.lrem(queue, 1, raw)
            pipe.delete(self.keys.results(round_id), self.keys.seen(round_id))
            pipe.execute()


def _local_hm(ts: float) -> str:
    return datetime.fromtimestamp(ts, CHINA).strftime("%H:%M")


def _json(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _round_of(raw: str) -> int | None:
    try:
        return json.loads(raw).get("round")
    except (ValueError, AttributeError):
        return None


class RemoteRound:
    """What the daemon tracks of one distributed round."""

    def __init__(self, fleet: Fleet, sink: RoundSink, targets: dict[str, Target]) -> None:
        self.fleet = fleet
        self.sink = sink
        self.targets = targets
        self.pending: dict[str, str] = {}  # message id → target key
        self.sent = 0
        self.workers: Counter[str] = Counter()
        self.requests = 0
        self.duplicates = 0
        self.requeued: list[str] = []
        self.handed_over = 0

    def push(self, targets: list[Target], mode: str) -> None:
        ids = self.fleet.push(self.sink.platform, self.sink.round_id, mode, targets, self.sent)
        self.sent += len(ids)
        self.pending.update(ids)

    def take(self, raw: str) -> None:
        try:
            env, items = messages.read_result(raw)
        except messages.BadMessage as e:
            msg_id = _id_of(raw)
            logger.warning("丢弃采集节点送回的一个结果：{}", e)
            if msg_id in self.pending:
                self.sink.close(self.pending.pop(msg_id), "failed", f"采集节点送回的结果无法识别（{e}），下一轮重试")
            return
        if self.pending.pop(env.get("id"), None) is None:
            return  # not this round's, or already taken
        self.workers[str(env.get("worker"))] += 1
        self.handed_over += bool(env.get("refused_by"))
        self.requests += int(env.get("requests") or 0)
        self.duplicates += int(items[-1].details.get("duplicate_requests", 0)) if items[-1].details else 0
        for item in items:
            self.sink.add(item)

    def reap(self) -> None:
        for raw in self.fleet.reap():
            if _id_of(raw) in self.pending:
                self.requeued.append(self.pending[_id_of(raw)])


def _id_of(raw: str) -> str | None:
    try:
        value = json.loads(raw).get("id")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def run_remote(cfg: Config, round_id: int, platform: str, mode: str, targets: list[Target], run_ids: dict[str, int],
               *, stop: threading.Event | None, deadline: float, progress: Progress | None,
               yield_to: threading.Event | None = None) -> str | None:
    """Crawl a round on the fleet; returns why it was cut short (``daemon``, ``scan``, ``timeout``) or None."""
    fleet = Fleet(cfg)
    by_key = {t.key: t for t in targets}
    with Store.open(cfg.db_path) as store:
        sink = RoundSink(cfg, store, platform, mode, round_id, run_ids, by_key)
        state = RemoteRound(fleet, sink, by_key)
        why: str | None = None
        failure: tuple[str, str] | None = None
        try:
            why, failure = _drive(cfg, state, mode, stop, deadline, progress, yield_to)
        except redis.RedisError as e:
            failure = ("failed", f"与 Redis 的连接出错（crawl.redis_url = {cfg.crawl.redis_shown()}）：{type(e).__name__}: "
                                 f"{e}；请检查 Redis 服务与网络，下一轮重试")
            logger.error("{} 本轮 #{}：{}", catalog.label(platform), round_id, failure[1])
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
            "handed_over": state.handed_over,
            "close_reason": why or (failure[0] if failure else "finished")})
    try:
        fleet.close_round(round_id, platform)
    except redis.RedisError as e:
        logger.warning("清理本轮 #{} 的 Redis 队列失败：{}", round_id, e)
    return why


def _drive(cfg: Config, state: RemoteRound, mode: str, stop: threading.Event | None, deadline: float,
           progress: Progress | None, yield_to: threading.Event | None = None) -> tuple[str | None, tuple[str, str] | None]:
    """Until every target (and then every post check the round added) is delivered, or the round
    is stopped, or no worker has served its platform for ``crawl.no_worker_timeout`` — or, when
    every live worker is cooling down after the platform refused it, for a few heartbeats."""
    sink, fleet = state.sink, state.fleet
    label = catalog.label(sink.platform)
    state.reap()
    dropped = fleet.drop_stale(sink.platform, lambda rid: (rnd := records.get_round(sink.store, rid)) is not None
                               and rnd.status == "running")
    if dropped:
        logger.warning("{}：队列中有 {} 个目标属于已结束的轮次（上次服务被强制终止），已丢弃", label, dropped)
    state.push(list(state.targets.values()), mode)
    checks_added = False
    last_reap = last_progress = time.monotonic()
    unserved_since: float | None = None
    while state.pending:
        if stop is not None and stop.is_set():
            return "daemon", None
        if yield_to is not None and yield_to.is_set():
            return "scan", None
        if time.monotonic() > deadline:
            return "timeout", None
        raw = fleet.next_result(sink.round_id, WAIT_SECONDS)
        if raw is not None:
            state.take(raw)
        now = time.monotonic()
        if now - last_reap >= min(cfg.crawl.heartbeat, 5):
            last_reap = now
            state.reap()
            live = fleet.live(sink.platform)
            if fleet.serving(sink.platform):
                unserved_since = None
            elif unserved_since is None:
                unserved_since = now
            elif live and now - unserved_since > 3 * cfg.crawl.heartbeat:
                until = min(float(w["cooling"].get(sink.platform, 0)) for w in live)
                return None, ("blocked", f"全部 {len(live)} 个采集节点都被{label}拒绝，正在冷却（最早 "
                                         f"{_local_hm(until)} 恢复）；请检查各节点的 platforms.{sink.platform}."
                                         "cookies_file 与 rate，或增加采集节点（出口地址）")
            elif not live and now - unserved_since > cfg.crawl.no_worker_timeout:
                return None, ("failed", f"{cfg.crawl.no_worker_timeout} 秒内没有在线的采集节点可采集{label}：请在采集主机上运行 "
                                        f"watcher worker（配置 crawl.key_prefix: {fleet.keys.prefix}，并启用 platforms."
                                        f"{sink.platform}），或去掉 crawl.redis_url 改回本机采集")
        if progress is not None and now - last_progress > 1.0:
            last_progress = now
            progress(*records.progress(sink.store, sink.round_id))
        if not state.pending and not checks_added and sink.wants_followups():
            checks_added = True
            more = sink.followups(refused=False)
            for t in more:
                state.targets[t.key] = t
            state.push(more, "check")
    return None, None
