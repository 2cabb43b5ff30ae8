"""Rounds crawled by ``watcher worker`` processes through a real Redis (Debian's redis-server)."""

from __future__ import annotations

import os
import signal
from collections import Counter

import pytest
from click.testing import CliRunner

from spiders.base import Target
from tests.fakeplatform import FIXTURES, FakePlatform
from tests.fleet_helpers import fleet_config, start_worker, stop, wait_until_serving
from tests.redis_helpers import redis_server
from tests.weibo_shapes import serve_accounts, uid
from watcher.cli import main_group
from watcher.distributed.dispatch import Fleet
from watcher.distributed.keys import connect
from watcher.rounds import analysis, records
from watcher.rounds.engine import run_round
from watcher.store import Store


@pytest.fixture
def fake():
    f = FakePlatform(FIXTURES / "weibo")
    with f:
        yield f


@pytest.fixture
def redis_url(tmp_path):
    with redis_server(tmp_path / "redis") as url:
        yield url


def _url(path: str, query: dict[str, str]) -> str:
    return path + "?" + "&".join(f"{k}={v}" for k, v in sorted(query.items()))


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
    assert sorted(analysed.values()) == [1] * 200 and set(analysed) == {r["id"] for r in result.runs}
    with Store.open(cfg.db_path) as s:
        assert s.scalar("SELECT COUNT(*) FROM profile_snapshots") == 200
        assert s.scalar("SELECT COUNT(DISTINCT account_id) FROM profile_snapshots") == 200
        assert s.scalar("SELECT COUNT(*) FROM posts") == 600
        details = records.get_round(s, result.round_id)["details"]
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
    assert "watcher worker" in result.runs[0]["reason"] and "key_prefix: bit" in result.runs[0]["reason"]
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

    path = write_config(tmp_path / "c", crawl={"redis_url": "redis://127.0.0.1:1/0", "key_prefix": "bit"})
    out = CliRunner().invoke(main_group, ["workers", "status", "--config", str(path)])
    assert out.exit_code == 1 and "无法连接 Redis" in out.output and "Traceback" not in out.output
