"""Rounds crawled by ``watcher worker`` processes through a real Redis (Debian's redis-server)."""

from __future__ import annotations

import json
import os
import signal
from collections import Counter

import pytest
from click.testing import CliRunner

from spiders.base import Target
from tests.fakeplatform import FIXTURES, FakePlatform
from tests.fleet_helpers import fleet_config, start_worker, stop, wait_until_serving
from tests.redis_helpers import RedisMissing, redis_server
from tests.weibo_shapes import serve_accounts, uid
from watcher.cli import main_group
from watcher.distributed.dispatch import Fleet
from watcher.distributed.keys import connect
from watcher.rounds import analysis, records
from watcher.rounds.engine import run_round
from watcher.store import Store
from watcher.store.findings import list_findings


@pytest.fixture
def fake():
    f = FakePlatform(FIXTURES / "weibo")
    with f:
        yield f


@pytest.fixture
def redis_url(tmp_path):
    try:
        with redis_server(tmp_path / "redis") as url:
            yield url
    except RedisMissing as e:
        pytest.skip(str(e))


def _url(path: str, query: dict[str, str]) -> str:
    return path + "?" + "&".join(f"{k}={v}" for k, v in sorted(query.items()))


@pytest.mark.slow
def test_two_workers_crawl_a_round_of_200_accounts_and_one_dies_mid_round(tmp_path, fake, redis_url, monkeypatch):
    accounts = [uid(i) for i in range(200)]
    serve_accounts(fake, accounts)
    cfg = fleet_config(tmp_path / "c", fake.base_url, redis_url, rate=40, concurrency=4)
    analysed: Counter[int] = Counter()
    analyse = analysis.after_target

    def counting(cfg_, store, mode, run_id):
        analysed[run_id] += 1
        return analyse(cfg_, store, mode, run_id)

    monkeypatch.setattr(analysis, "after_target", counting)
    workers = [start_worker(cfg, name, tmp_path / f"{name}.log") for name in ("w1", "w2")]
    killed: list[int] = []

    def kill_one(done: int, total: int) -> None:
        if done >= 30 and not killed:
            os.kill(workers[0].pid, signal.SIGKILL)  # mid-round, holding leases: no goodbye
            killed.append(done)

    try:
        wait_until_serving(cfg, "weibo", ["w1", "w2"], workers)
        result = run_round(cfg, "weibo", "timeline", [Target.for_mode("timeline", a) for a in accounts],
                           progress=kill_one)
        status = CliRunner().invoke(main_group, ["workers", "status", "--config", str(cfg.source)])
    finally:
        stop(workers)
    logs = "".join((tmp_path / f"w{i}.log").read_text(encoding="utf-8", errors="replace") for i in (1, 2))
    assert killed and killed[0] < 200, "the worker was killed before the round ended"
    assert result.status == "ok", (result.reason, result.counts(), logs[-2000:])
    assert result.counts() == {"ok": 200}
    # every account analysed exactly once, and stored once
    assert sorted(analysed.values()) == [1] * 200 and set(analysed) == {r.id for r in result.runs}
    with Store.open(cfg.db_path) as s:
        assert s.scalar("SELECT COUNT(*) FROM profile_snapshots") == 200
        assert s.scalar("SELECT COUNT(DISTINCT account_id) FROM profile_snapshots") == 200
        assert s.scalar("SELECT COUNT(*) FROM posts") == 600
        details = records.get_round(s, result.round_id).details
    # both workers delivered; the dead one's leases went back to the queue and were crawled again
    assert set(details["workers"]) == {"w1", "w2"} and sum(details["workers"].values()) == 200
    requeued = set(details["requeued"])
    assert requeued and requeued <= set(accounts)
    # No duplicate requests: a page was fetched twice only for a target the dead worker held.
    fetched = Counter(_url(path, q) for path, q, _ in fake.requests)
    twice = {u for u, n in fetched.items() if n > 1}
    assert all(any(a in u for a in requeued) for u in twice), sorted(twice)[:5]
    assert max(fetched.values()) <= 2 and len(fetched) == 400
    # the fleet's own record (scrapy-redis's dupefilter, shared in Redis) says the same: repeats
    # are at most the pages of the targets taken back (two a timeline with pages: 1)
    assert sum(n - 1 for n in fetched.values()) <= details["duplicate_requests"] <= 2 * len(requeued)
    # nothing left behind in Redis
    fleet = Fleet(cfg)
    r = connect(redis_url)
    assert r.llen(fleet.keys.queue("weibo")) == 0
    assert not [k for k in r.keys("campus-watcher:bit:leases:*") if r.llen(k)]
    # the operator's view: the survivor online, the killed one silent; local time of the last beat
    assert status.exit_code == 0, status.output
    lines = {ln.split()[0]: ln for ln in status.output.splitlines()[1:]}
    assert "在线" in lines["w2"] and "失联" in lines["w1"] and "微博" in lines["w2"]


def test_a_round_without_workers_fails_with_the_remedy(tmp_path, fake, redis_url):
    serve_accounts(fake, [uid(1)])
    cfg = fleet_config(tmp_path / "c", fake.base_url, redis_url, no_worker_timeout=2)
    result = run_round(cfg, "weibo", "timeline", [Target.for_mode("timeline", uid(1))])
    assert result.status == "failed"
    assert "watcher worker" in result.runs[0].reason and "key_prefix: bit" in result.runs[0].reason
    assert not fake.requests
    r = connect(redis_url)
    assert r.llen(Fleet(cfg).keys.queue("weibo")) == 0  # its target does not wait for a worker that never comes


def test_worker_and_status_need_redis_url(tmp_path):
    from tests.conftest import write_config

    path = write_config(tmp_path / "c")
    for args in (["worker"], ["workers", "status"]):
        out = CliRunner().invoke(main_group, [*args, "--config", str(path)])
        assert out.exit_code == 2 and "crawl.redis_url" in out.output


@pytest.mark.parametrize("crawl, message", [
    ({"redis_url": "http://127.0.0.1:6379"}, "redis://"),
    ({"redis_url": "redis://127.0.0.1:6379/0"}, "key_prefix"),
    ({"redis_url": "redis://127.0.0.1:6379/0", "key_prefix": "北理工"}, "crawl.key_prefix"),
])
def test_crawl_section_is_validated_in_chinese(tmp_path, crawl, message):
    from tests.conftest import write_config
    from watcher.config import ConfigError, load_config

    with pytest.raises(ConfigError) as e:
        load_config(write_config(tmp_path / "c", crawl=crawl))
    assert message in e.value.render()


def test_redis_unreachable_is_reported_not_a_traceback(tmp_path):
    from tests.conftest import write_config

    path = write_config(tmp_path / "c", crawl={"redis_url": "redis://:s3cret@127.0.0.1:1/0", "key_prefix": "bit"})
    for args in (["workers", "status"], ["worker"]):
        out = CliRunner().invoke(main_group, [*args, "--config", str(path), *(["-p", "weibo"] if args == ["worker"] else [])])
        assert out.exit_code == 1 and "无法连接 Redis" in out.output and "Traceback" not in out.output, out.output
        assert "s3cret" not in out.output and "//:***@127.0.0.1:1/0" in out.output


def _next_heartbeats(cfg, n: int = 2) -> None:
    """Wait until every live worker has beaten ``n`` more times (status shows beats, not now)."""
    import time

    fleet = Fleet(cfg)
    first = {w["name"]: w["beat"] for w in fleet.workers() if fleet.alive(w)}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        beats = {w["name"]: w["beat"] for w in fleet.workers()}
        if all(beats[k] - first[k] >= (n - 0.5) * cfg.crawl.heartbeat for k in first):
            return
        time.sleep(0.1)
    raise AssertionError("workers stopped beating")


@pytest.mark.slow
def test_a_worker_the_platform_refuses_cools_down_alone(tmp_path, fake, redis_url):
    """Two exit addresses: the platform rate-limits one worker and serves the other."""
    accounts = [uid(i) for i in range(40)]
    serve_accounts(fake, accounts)
    with FakePlatform(FIXTURES / "weibo") as wall:
        wall.route("/api/container/getIndex", {}, body='{"ok":0,"msg":"请求过于频繁"}')  # a rate limit, by its words
        cfg = fleet_config(tmp_path / "c", fake.base_url, redis_url, concurrency=2)
        walled = fleet_config(tmp_path / "w", wall.base_url, redis_url, concurrency=1, worker_cooldown="10m")
        workers = [start_worker(walled, "walled", tmp_path / "walled.log"), start_worker(cfg, "free", tmp_path / "free.log")]
        try:
            wait_until_serving(cfg, "weibo", ["walled", "free"], workers)
            result = run_round(cfg, "weibo", "timeline", [Target.for_mode("timeline", a) for a in accounts])
            _next_heartbeats(cfg)
            status = CliRunner().invoke(main_group, ["workers", "status", "--json", "--config", str(cfg.source)])
        finally:
            stop(workers)
        refused = len(wall.requests)
    # the refused worker tried one account, was told to slow down, took no other, and handed that
    # one over to the worker the platform still serves: every account crawled
    assert refused == 1 and result.counts() == {"ok": 40}, result.counts()
    with Store.open(cfg.db_path) as s:
        assert not records.state(s, "weibo").cooling()  # the fleet was not refused: no pause for the school
        assert records.get_round(s, result.round_id).details["handed_over"] == 1
    rows = {r["name"]: r for r in json.loads(status.output)}
    assert rows["walled"]["state"] == "在线" and rows["walled"]["cooling"].startswith("微博至 ")
    assert rows["free"]["cooling"] == "" and rows["free"]["targets"] == 40 and rows["walled"]["targets"] == 0
    assert rows["free"]["served"] == 80 and rows["walled"]["served"] == 1
    # the last heartbeat as people here read it: China time (a UTC time would be 8 hours off)
    from datetime import datetime

    from spiders.parsing import CHINA

    beat = datetime.strptime(rows["free"]["last_beat"], "%Y-%m-%d %H:%M:%S")
    assert abs((datetime.now(CHINA).replace(tzinfo=None) - beat).total_seconds()) < 600


@pytest.mark.slow
def test_when_the_platform_refuses_every_worker_the_round_is_blocked_and_the_school_cools(tmp_path, redis_url):
    accounts = [uid(i) for i in range(5)]
    with FakePlatform(FIXTURES / "weibo") as wall:
        wall.route("/api/container/getIndex", {}, body='{"ok":0,"msg":"请求过于频繁"}')  # a rate limit, by its words
        cfg = fleet_config(tmp_path / "c", wall.base_url, redis_url, concurrency=1, worker_cooldown="10m")
        workers = [start_worker(cfg, name, tmp_path / f"{name}.log") for name in ("a", "b")]
        try:
            wait_until_serving(cfg, "weibo", ["a", "b"], workers)
            result = run_round(cfg, "weibo", "timeline", [Target.for_mode("timeline", a) for a in accounts])
        finally:
            stop(workers)
        tried = len(wall.requests)
    # each worker was refused once and took nothing more; the accounts no worker could take are
    # blocked with the fleet's reason, never sent to a platform refusing everyone
    assert tried == 2 and result.status == "blocked" and result.counts() == {"blocked": 5}
    assert all("全部 2 个采集节点都被微博拒绝" in r.reason or "限流" in r.reason for r in result.runs)
    assert sum("全部 2 个采集节点都被微博拒绝" in r.reason for r in result.runs) >= 3
    with Store.open(cfg.db_path) as s:
        assert records.state(s, "weibo").cooling()
        assert len(list_findings(s, kind="crawl_blocked")) == 1


def test_one_redis_two_schools_each_its_own_queues_and_a_worker_serving_both(tmp_path, fake, redis_url):
    ours, theirs = [uid(i) for i in range(8)], [uid(100 + i) for i in range(8)]
    serve_accounts(fake, ours + theirs)
    bit = fleet_config(tmp_path / "bit", fake.base_url, redis_url, prefix="bit")
    hit = fleet_config(tmp_path / "hit", fake.base_url, redis_url, prefix="hit")
    shared = fleet_config(tmp_path / "w", fake.base_url, redis_url, prefix="bit", serve=["bit", "hit"])
    worker = start_worker(shared, "shared", tmp_path / "shared.log")
    try:
        wait_until_serving(bit, "weibo", ["shared"], [worker])
        wait_until_serving(hit, "weibo", ["shared"], [worker])
        results = [run_round(c, "weibo", "timeline", [Target.for_mode("timeline", a) for a in accounts])
                   for c, accounts in ((bit, ours), (hit, theirs))]
    finally:
        stop([worker])
    # the same round number in each school's database, never mixed up in the shared Redis
    assert [r.round_id for r in results] == [1, 1] and [r.status for r in results] == ["ok", "ok"]
    for c, accounts in ((bit, ours), (hit, theirs)):
        with Store.open(c.db_path) as s:
            assert {r["account_id"] for r in s.query("SELECT account_id FROM profile_snapshots")} == set(accounts)


def test_a_watch_round_on_the_fleet_confirms_deletions_with_its_own_post_checks(tmp_path, redis_url):
    """The same two rounds as the local deletion test, crawled by a worker: the post checks the
    round adds once its timelines are in go through the fleet too."""
    from watcher import registry
    from watcher.store.findings import list_findings

    account = "1891724861"
    with FakePlatform(FIXTURES / "weibo_watch") as fake:
        fake.route("/api/container/getIndex", {"type": "uid", "value": account}, "profile.json")
        fake.route("/api/container/getIndex", {"value": account, "containerid": f"107603{account}", "page": "1"},
                   "posts_p1.json")
        fake.route("/statuses/show", {"id": "4"}, body='{"ok":0,"msg":"抱歉，此微博已被作者删除。","errno":"20101"}')
        fake.route("/statuses/show", {"id": "3"}, body='{"ok":1,"data":{"id":"3","text":"校园开放日预约开始"}}')
        cfg = fleet_config(tmp_path / "c", fake.base_url, redis_url)
        with Store.open(cfg.db_path) as s:
            registry.import_file(s, cfg.registry_path)
        worker = start_worker(cfg, "w1", tmp_path / "w1.log")
        try:
            wait_until_serving(cfg, "weibo", ["w1"], [worker])
            statuses = []
            for dataset in ("before", "after"):
                fake.dataset = dataset
                statuses.append(run_round(cfg, "weibo", "timeline", [Target.for_mode("timeline", account)]).status)
        finally:
            stop([worker])
        checked = sorted(q["id"] for path, q, _ in fake.requests if path == "/statuses/show")
    assert statuses == ["ok", "ok"]
    assert checked == ["3", "4"]  # the two posts missing from the second timeline, each asked once
    with Store.open(cfg.db_path) as s:
        assert [d.details["post_id"] for d in list_findings(s, kind="deletion")] == ["4"]
        assert s.one("SELECT status FROM posts WHERE post_id = '3'")["status"] == "live"
        assert records.get_round(s, 2).details["checks"] == 2


def test_a_round_stopped_by_the_daemon_is_interrupted_and_leaves_nothing_queued(tmp_path, fake, redis_url):
    import threading

    serve_accounts(fake, [uid(1), uid(2)])
    cfg = fleet_config(tmp_path / "c", fake.base_url, redis_url)
    stop_event = threading.Event()
    threading.Timer(1.5, stop_event.set).start()
    result = run_round(cfg, "weibo", "timeline", [Target.for_mode("timeline", a) for a in (uid(1), uid(2))],
                       stop=stop_event)
    assert result.status == "interrupted" and result.counts() == {"interrupted": 2}
    assert all("停止" in r.reason for r in result.runs)
    r = connect(redis_url)
    keys = Fleet(cfg).keys
    assert r.llen(keys.queue("weibo")) == 0 and r.exists(keys.closed(result.round_id))
    with Store.open(cfg.db_path) as s:
        assert not records.state(s, "weibo").cooling()


def test_targets_of_a_round_whose_daemon_died_are_dropped_from_the_queue(tmp_path, fake, redis_url):
    """kill -9 of the daemon leaves its round's targets queued; the next round drops them."""
    from watcher.distributed.messages import target_message

    serve_accounts(fake, [uid(1)])
    cfg = fleet_config(tmp_path / "c", fake.base_url, redis_url, no_worker_timeout=2)
    r = connect(redis_url)
    keys = Fleet(cfg).keys
    r.rpush(keys.queue("weibo"), target_message("bit:77:0", 77, "timeline", Target.for_mode("timeline", uid(9))))
    run_round(cfg, "weibo", "timeline", [Target.for_mode("timeline", uid(1))])
    assert r.llen(keys.queue("weibo")) == 0 and r.exists(keys.closed(77))
