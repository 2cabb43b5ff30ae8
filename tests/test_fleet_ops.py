"""The fleet as operators run it, against a real redis-server on 127.0.0.1: Redis restarting
mid-round, rounds closed while Redis is away, each host's session, one budget per exit address,
the Redis credentials. Workers here are in-process loops built from the worker's own pieces
(:func:`~watcher.distributed.keys.take`, :class:`~watcher.distributed.keys.Resume`, the
COMPLETE script, the heartbeat's fields), so each test takes seconds, not a Scrapy start-up."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from types import SimpleNamespace
from typing import Any

import pytest
import redis
from click.testing import CliRunner

from spiders.base import Target
from spiders.items import TargetDone
from spiders.middlewares import Refused
from tests.fakeplatform import FIXTURES, FakePlatform
from tests.fleet_helpers import fleet_config
from tests.redis_helpers import RedisMissing, RestartableRedis
from tests.weibo_shapes import uid
from watcher.cli import main_group
from watcher.distributed import dispatch, messages, pace
from watcher.distributed.dispatch import Fleet
from watcher.distributed.keys import COMPLETE, RESULT_TTL, Keys, Resume, connect, take
from watcher.rounds.engine import run_round
from watcher.store import Store
from watcher.store.findings import list_findings


@pytest.fixture
def server(tmp_path):
    try:
        r = RestartableRedis(tmp_path / "redis")
    except RedisMissing as e:
        pytest.skip(str(e))
    r.start()
    yield r
    r.close()


class LoopWorker(threading.Thread):
    """A worker's loop: beat, take a target of an open round, "crawl" it (``delay`` seconds, no
    platform: its verdict is ok), deliver it with the lease in one step — and, Redis away, wait
    and deliver again, and give closing daemons a moment before taking targets (as the worker)."""

    def __init__(self, url: str, name: str, *, delay: float = 0.02, host: str | None = None,
                 sessions: dict[str, Any] | None = None) -> None:
        super().__init__(daemon=True)
        self.url, self.name, self.delay, self.host = url, name, delay, host or name
        self.sessions = sessions or {}
        self.school = Keys("bit")
        self.started: list[tuple[int, str]] = []  # (round, target key), each time one was taken
        self.halt = threading.Event()

    def beat(self, server: Any) -> None:
        secs, micros = server.time()
        server.sadd(self.school.workers(), self.name)
        server.hset(self.school.worker(self.name), mapping={
            "host": self.host, "pid": 1, "platforms": "weibo", "beat": secs + micros / 1e6, "state": "running",
            "served": "{}", "cooling": "{}", "exit": self.host, "sessions": json.dumps(self.sessions)})

    def run(self) -> None:
        server, resume = connect(self.url), Resume()
        undelivered: list[list[Any]] = []
        last_beat = 0.0
        while not self.halt.is_set():
            try:
                if time.monotonic() - last_beat > 0.2:
                    self.beat(server)
                    last_beat = time.monotonic()
                while undelivered:
                    server.eval(COMPLETE, 3, *undelivered[0])
                    undelivered.pop(0)
                taken = take(server, self.school, self.name, "weibo", 1) if resume.ready(server) else []
            except redis.RedisError:
                resume.failed()
                time.sleep(0.05)
                continue
            if not taken:
                time.sleep(0.01)
                continue
            msg, target = messages.read_target(taken[0])
            self.started.append((msg["round"], msg["key"]))
            time.sleep(self.delay)
            done = TargetDone(status="ok")
            done.target = target.key
            body = messages.result_message(msg, self.name, [], done, 1)
            undelivered.append([self.school.leases(self.name, "weibo"), self.school.results(msg["round"]),
                                self.school.worker(self.name), taken[0], body, RESULT_TTL])

    def __enter__(self) -> LoopWorker:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.halt.set()
        self.join(5)


def _when(condition: Any, then: Any, timeout: float = 30) -> threading.Thread:
    def watch() -> None:
        deadline = time.monotonic() + timeout
        while not condition() and time.monotonic() < deadline:
            time.sleep(0.01)
        then()

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    return t


@pytest.mark.parametrize("keep", [True, False], ids=["keeps-its-data", "loses-its-data"])
def test_a_redis_restart_mid_round_retries_the_targets_and_fails_none(tmp_path, server, keep):
    cfg = fleet_config(tmp_path / "c", "http://127.0.0.1:9", server.url)
    accounts = [uid(i) for i in range(20)]

    def restart() -> None:
        server.stop(keep=keep)
        time.sleep(1)  # an operator's restart: the round waits for it
        server.start()

    with LoopWorker(server.url, "w1", delay=0.03) as worker:
        _when(lambda: len(worker.started) >= 5, restart)
        result = run_round(cfg, "weibo", "timeline", [Target.for_mode("timeline", a) for a in accounts])
    assert result.status == "ok" and result.counts() == {"ok": 20}, (result.reason, result.counts())
    crawled = Counter(key for _, key in worker.started)
    if keep:
        assert max(crawled.values()) == 1  # Redis kept the leases: nothing crawled twice
    else:
        # Redis lost its data: what it held was queued again; at most the target in the
        # worker's hands then is crawled twice
        assert sum(crawled.values()) - 20 <= 1
        with Store.open(cfg.db_path) as s:
            from watcher.rounds import records

            assert records.get_round(s, result.round_id).details["requeued_after_redis_loss"] > 0
    r, keys = connect(server.url), Fleet(cfg).keys
    assert r.llen(keys.queue("weibo")) == 0 and r.exists(keys.closed(result.round_id))
    assert not r.exists(keys.open(result.round_id))


def test_a_round_closed_while_redis_is_down_is_not_crawled_once_redis_is_back(tmp_path, server):
    cfg = fleet_config(tmp_path / "c", "http://127.0.0.1:9", server.url)
    stop = threading.Event()
    with LoopWorker(server.url, "w1", delay=0.1) as worker:

        def outage() -> None:
            server.stop(keep=True)  # the queue of round 1 is saved with Redis's data
            stop.set()  # and the daemon stops its round meanwhile

        _when(lambda: len(worker.started) >= 3, outage)
        first = run_round(cfg, "weibo", "timeline", [Target.for_mode("timeline", uid(i)) for i in range(30)], stop=stop)
        assert first.status == "interrupted"
        before = len(worker.started)
        server.start()
        assert dispatch.wait_closed(15), "the close was not retried until Redis answered"
        # the worker is back at work: a new round is crawled in full
        second = run_round(cfg, "weibo", "timeline", [Target.for_mode("timeline", uid(100 + i)) for i in range(3)])
    assert second.counts() == {"ok": 3}
    after = worker.started[before:]
    assert after and all(rnd == second.round_id for rnd, _ in after), after
    r = connect(server.url)
    assert r.exists(Fleet(cfg).keys.closed(first.round_id)) and r.llen(Fleet(cfg).keys.queue("weibo")) == 0


def test_targets_of_a_round_nobody_keeps_open_are_dropped_unrequested(tmp_path, server):
    """A daemon killed mid-round (or whose close Redis never heard) stops refreshing its round's
    "open" key; once it expires workers drop the round's targets without a request."""
    r = connect(server.url)
    school = Keys("bit")
    raw = messages.target_message("bit:5:0", 5, "timeline", Target.for_mode("timeline", uid(1)))
    r.rpush(school.queue("weibo"), raw)
    assert take(r, school, "w1", "weibo", 1) == [] and r.llen(school.leases("w1", "weibo")) == 0
    r.rpush(school.queue("weibo"), raw)
    r.set(school.open(5), 1, ex=10)
    assert take(r, school, "w1", "weibo", 1) == [raw]


def test_a_lapsed_session_on_one_worker_gives_one_finding_naming_its_host(tmp_path, server):
    from watcher import sessions
    from watcher.distributed.hostsession import HostSession

    with FakePlatform(FIXTURES / "weibo") as wall:
        wall.route("/api/config", {}, body='{"ok":1,"data":{"login":false}}')
        wcfg = fleet_config(tmp_path / "w", wall.base_url, server.url)
        sessions.save(wcfg, "weibo", {"cookies": [{"name": "SUB", "value": "x", "domain": ".weibo.cn", "path": "/"}]}, "qr")
        host = HostSession(wcfg, "weibo")
        assert host.due()
        lapsed = host.refresh()
        assert lapsed["state"] == "lapsed" and not host.due()
        # a `watcher login` on that host writes the session again: read at once, no restart
        time.sleep(0.01)
        sessions.save(wcfg, "weibo", {"cookies": [{"name": "SUB", "value": "y", "domain": ".weibo.cn", "path": "/"}]}, "qr")
        assert host.changed() and host.due()
    cfg = fleet_config(tmp_path / "c", "http://127.0.0.1:9", server.url)
    with LoopWorker(server.url, "w1", host="crawler-a", sessions={"weibo": lapsed}), \
            LoopWorker(server.url, "w2", host="crawler-b", sessions={"weibo": {"state": "valid", "detail": "已登录"}}):
        for n in range(2):
            assert run_round(cfg, "weibo", "timeline", [Target.for_mode("timeline", uid(n))]).status == "ok"
        for worker, address in (("w1", "203.0.113.7"), ("w2", "198.51.100.2")):
            pace.ExitPace(connect(server.url), address, worker).spend("weibo", 1500)
        from watcher import platform_status

        with Store.open(cfg.db_path) as s:
            found = list_findings(s, kind="session_lapsed")
            weibo = next(r for r in platform_status.rows(cfg, s) if r["platform"] == "weibo")
        page = _platforms_page(cfg)
        cli = CliRunner().invoke(main_group, ["platforms", "status", "--config", str(cfg.source)])
    assert len(found) == 1 and "crawler-a" in found[0].title and found[0].details["host"] == "crawler-a"
    assert "crawler-a" in found[0].details["remedy"]
    # 平台状态 shows each host's session, and the requests of each exit address against its budget
    assert {h["host"]: h["label"] for h in weibo["host_sessions"]} == {"crawler-a": "已失效", "crawler-b": "有效"}
    assert (weibo["requests_today"], weibo["daily_budget"]) == (2, 3000)  # two addresses: two budgets
    assert "采集主机 crawler-a" in page and "出口 203.0.113.7：1 / 1500" in page and "2 / 3000" in page
    assert "主机 crawler-a：已失效" in cli.output and "2/3000（198.51.100.2 1，203.0.113.7 1）" in cli.output, cli.output


def _platforms_page(cfg: Any) -> str:
    from fastapi.testclient import TestClient

    from tests.web_helpers import PASSWORD, csrf
    from watcher.web import auth
    from watcher.web.app import create_app

    with Store.open(cfg.db_path) as s:
        auth.add_user(s, "xcb", PASSWORD, "central")
    with TestClient(create_app(cfg)) as client:
        token = csrf(client.get("/login").text)
        client.post("/login", data={"username": "xcb", "password": PASSWORD, "csrf_token": token, "next": "/"})
        page = client.get("/platforms")
    assert page.status_code == 200, page.text
    return page.text


def test_platform_status_says_why_when_the_fleets_redis_cannot_be_read(tmp_path):
    from tests.conftest import write_config
    from watcher import platform_status
    from watcher.config import load_config

    cfg = load_config(write_config(tmp_path / "c", crawl={"redis_url": "redis://127.0.0.1:1/0", "key_prefix": "bit"}))
    with Store.open(cfg.db_path) as s:
        rows = platform_status.rows(cfg, s)
    assert "无法连接 Redis" in rows[0]["fleet_error"] and rows[0]["requests_today"] == 0


def test_a_worker_stopping_while_redis_is_down_says_so_without_a_traceback(tmp_path):
    from loguru import logger

    from tests.conftest import write_config
    from watcher.config import load_config
    from watcher.distributed.worker import WorkerSpiderMixin

    cfg = load_config(write_config(tmp_path / "c", crawl={"redis_url": "redis://127.0.0.1:1/0", "key_prefix": "bit"}))
    spider = SimpleNamespace(stopping=False, schools=[Keys("bit")], worker="w1", platform="weibo", cfg=cfg,
                             info=SimpleNamespace(label="微博"), server=connect("redis://127.0.0.1:1/0", timeout=1))
    said: list[str] = []
    sink = logger.add(lambda m: said.append(str(m)), level="WARNING")
    try:
        WorkerSpiderMixin._release_all(spider)  # type: ignore[arg-type]
    finally:
        logger.remove(sink)
    assert spider.stopping and len(said) == 1 and "lease_timeout" in said[0] and "Traceback" not in said[0]


def test_a_worker_without_a_session_takes_visitor_cookies_as_a_local_round_does(tmp_path, monkeypatch):
    from tests.conftest import write_config
    from watcher import sessions
    from watcher.config import load_config
    from watcher.distributed.hostsession import HostSession

    cfg = load_config(write_config(tmp_path / "c", platforms={"weibo": {"enabled": True, "visitor_cookies": True}}))
    fetched: list[str] = []
    monkeypatch.setattr(sessions, "ensure_visitor", lambda c, p: fetched.append(p) or True)
    report = HostSession(cfg, "weibo").refresh()
    assert fetched == ["weibo"] and report["state"] == "none"


class _Crawler:
    def __init__(self, spider: Any) -> None:
        self.spider = spider


def _spider(url: str, worker: str, address: str, daily: int, per_minute: int = 0) -> Any:
    return SimpleNamespace(pace=SimpleNamespace(interval=0.0, per_minute=per_minute, daily=daily),
                           info=SimpleNamespace(name="weibo", label="微博"),
                           exit_pace=pace.ExitPace(connect(url), address, worker))


def _request(mw: pace.FleetPacingMiddleware) -> bool:
    """One request through the middleware: whether it may go (no waits: interval 0)."""
    coro = mw.process_request(None)
    try:
        coro.send(None)
    except StopIteration:
        return True
    except Refused:
        return False
    raise AssertionError("the middleware waited")


def test_two_workers_sharing_an_exit_address_stay_within_one_daily_budget(tmp_path, server):
    a1, a2 = (pace.FleetPacingMiddleware(_Crawler(_spider(server.url, w, "203.0.113.7", 5))) for w in ("a1", "a2"))
    b1 = pace.FleetPacingMiddleware(_Crawler(_spider(server.url, "b1", "198.51.100.2", 5)))
    went = [_request(mw) for mw in (a1, a2) * 5]
    assert went.count(True) == 5 and went[:5] == [True] * 5  # one budget for the address, not two
    assert all(_request(b1) for _ in range(5))  # another address: a budget of its own
    used = pace.usage(connect(server.url))
    assert used["exits"][("203.0.113.7", "weibo")] == {"used": 10, "budget": 5}
    assert used["workers"][("a1", "weibo")] == 5 and used["workers"][("b1", "weibo")] == 5


def test_the_pace_per_minute_is_the_exit_addresss(tmp_path, server):
    one, two = (pace.ExitPace(connect(server.url), "203.0.113.7", w) for w in ("a1", "a2"))
    assert [one.reserve("weibo", 0, 3) <= 0, two.reserve("weibo", 0, 3) <= 0, one.reserve("weibo", 0, 3) <= 0] == [True] * 3
    assert 55 < two.reserve("weibo", 0, 3) <= 60  # the minute is full for both workers behind it
    assert pace.ExitPace(connect(server.url), "198.51.100.2", "b1").reserve("weibo", 0, 3) <= 0


def test_workers_status_counts_today_per_worker_and_exit_in_the_configured_zone(tmp_path, server):
    from tests.conftest import write_config
    from watcher.config import load_config

    path = write_config(tmp_path / "c", timezone="Asia/Tokyo",
                        crawl={"redis_url": server.url, "key_prefix": "bit", "heartbeat": 1, "lease_timeout": 3})
    cfg = load_config(path)
    r = connect(server.url)
    r.hset(pace.usage_key("2000-01-01") + ":workers", "w1|weibo", 99)  # another day: not today's
    mw = pace.FleetPacingMiddleware(_Crawler(_spider(server.url, "w1", "crawler-a", 100)))
    assert all(_request(mw) for _ in range(3))
    with LoopWorker(server.url, "w1", host="crawler-a"):
        deadline = time.monotonic() + 10
        while not Fleet(cfg).workers():
            assert time.monotonic() < deadline, "the worker never beat"
            time.sleep(0.01)
        out = CliRunner().invoke(main_group, ["workers", "status", "--json", "--config", str(path)])
        text = CliRunner().invoke(main_group, ["workers", "status", "--config", str(path)])
    row = json.loads(out.output)[0]
    assert row["served"] == 3 and row["exit"] == "crawler-a" and row["exit_today"] == "微博 3/100"
    from datetime import datetime
    from zoneinfo import ZoneInfo

    beat = datetime.strptime(row["last_beat"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=ZoneInfo("Asia/Tokyo"))
    assert abs((datetime.now(ZoneInfo("UTC")) - beat).total_seconds()) < 60
    assert "最后心跳（Asia/Tokyo）" in text.output and "今日请求" in text.output


def test_redis_password_from_the_credentials_file_and_errors_in_chinese(tmp_path, server):
    from tests.conftest import write_config
    from watcher.config import load_config

    r = connect(server.url)
    r.config_set("requirepass", "s3cret-pass")
    creds = tmp_path / "credentials.env"
    crawl = {"redis_url": server.url, "key_prefix": "bit", "redis_password_env": "CW_TEST_REDIS_PW"}
    # named but set nowhere: check-config says so, and the worker's Redis error is Chinese
    path = write_config(tmp_path / "a", crawl=crawl, alerts={"credentials_file": str(creds)})
    creds.write_text("OTHER=1\n", encoding="utf-8")
    out = CliRunner().invoke(main_group, ["check-config", "--config", str(path)])
    assert out.exit_code == 2 and "crawl.redis_password_env" in out.output and "CW_TEST_REDIS_PW" in out.output
    status = CliRunner().invoke(main_group, ["workers", "status", "--config", str(path)])
    assert status.exit_code == 1 and "Redis 需要口令" in status.output and "HELLO" not in status.output
    # a wrong one
    creds.write_text("CW_TEST_REDIS_PW=wrong\n", encoding="utf-8")
    status = CliRunner().invoke(main_group, ["workers", "status", "--config", str(path)])
    assert "Redis 拒绝了口令" in status.output and "wrong" not in status.output
    # the right one, from the credentials file (chmod 600 as the README asks)
    creds.write_text("CW_TEST_REDIS_PW=s3cret-pass\n", encoding="utf-8")
    creds.chmod(0o600)
    assert load_config(path).crawl.redis_password() == "s3cret-pass"
    out = CliRunner().invoke(main_group, ["check-config", "--config", str(path)])
    assert out.exit_code == 0 and "可以连接" in out.output, out.output
    status = CliRunner().invoke(main_group, ["workers", "status", "--config", str(path)])
    assert status.exit_code == 0 and "还没有采集节点" in status.output, status.output


def test_a_ca_file_for_rediss_is_checked_and_used(tmp_path):
    from tests.conftest import write_config
    from watcher.config import ConfigError, load_config

    crawl = {"redis_url": "rediss://127.0.0.1:6380/0", "key_prefix": "bit", "redis_ca_file": "ca.pem"}
    with pytest.raises(ConfigError) as e:
        load_config(write_config(tmp_path / "c", crawl=crawl))
    assert "crawl.redis_ca_file" in e.value.render()
    (tmp_path / "c" / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n", encoding="utf-8")
    cfg = load_config(write_config(tmp_path / "c", crawl=crawl))
    client = Fleet(cfg).server
    assert client.connection_pool.connection_kwargs["ssl_ca_certs"] == str(tmp_path / "c" / "ca.pem")


def test_the_example_config_keeps_the_redis_password_out_of_the_url():
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "config" / "watcher.example.yaml").read_text(encoding="utf-8")
    urls = [ln for ln in text.splitlines() if "redis_url:" in ln]
    assert urls and not any("@" in ln for ln in urls) and "redis_password_env" in text


def test_sighup_reloads_a_workers_pace_budget_and_exit_address_and_keeps_a_broken_config_out(tmp_path):
    from tests.conftest import write_config
    from watcher.config import load_config
    from watcher.distributed.hostsession import HostSession
    from watcher.distributed.worker import reload_worker

    crawl = {"redis_url": "redis://127.0.0.1:1/0", "key_prefix": "bit"}
    weibo = {"enabled": True, "rate": 2, "concurrency": 1}
    path = write_config(tmp_path / "c", crawl=crawl, platforms={"weibo": weibo})
    cfg = load_config(path)
    slot = SimpleNamespace(delay=0.5, concurrency=1)
    reloaded: list[bool] = []
    spider = SimpleNamespace(cfg=cfg, pcfg=cfg.platform("weibo"), pace=cfg.platform("weibo").pace("weibo"),
                             session=HostSession(cfg, "weibo"), exit_pace=pace.ExitPace(None, "vm", "w1"),
                             reload_cookies=lambda: reloaded.append(True))
    spider.session.checked = 1.0
    crawlers = {"weibo": SimpleNamespace(spider=spider, engine=SimpleNamespace(downloader=SimpleNamespace(slots={"a": slot})))}
    heartbeat = SimpleNamespace(cfg=cfg, exit="vm")
    write_config(tmp_path / "c", crawl={**crawl, "exit_address": "203.0.113.9"},
                 platforms={"weibo": {**weibo, "daily_budget": 7, "concurrency": 3, "interval": 4}})
    assert reload_worker(path, crawlers, heartbeat) is not None
    assert spider.pace.daily == 7 and spider.exit_pace.exit == heartbeat.exit == "203.0.113.9"
    assert (slot.delay, slot.concurrency) == (4, 3) and reloaded == [True] and spider.session.checked is None
    path.write_text("crawl: [", encoding="utf-8")  # a broken edit: logged, the running config kept
    assert reload_worker(path, crawlers, heartbeat) is None and spider.pace.daily == 7


def test_a_request_goes_out_while_redis_is_away_and_its_target_does_not_fail():
    """The fleet's bookkeeping of a request (scrapy-redis's dupefilter) failing with Redis away
    must not turn into the request's error, which would fail the target."""
    from scrapy import Request

    from watcher.distributed.worker import FleetRequestMiddleware

    spider = SimpleNamespace(leased={"k": (Keys("bit"), "raw", {"round": 1})}, requests_of=Counter(),
                             duplicates_of=Counter(), server=connect("redis://127.0.0.1:1/0", timeout=1))
    mw = FleetRequestMiddleware(_Crawler(spider))
    assert mw.process_request(Request("http://127.0.0.1:9/a", meta={"target": "k"})) is None
    assert spider.requests_of["k"] == 1 and not mw.filters
