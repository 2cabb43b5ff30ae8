"""Rounds: many targets in one crawl process, an honest status for each, cool-down after refusal."""

from __future__ import annotations

import os
import re
import signal
import threading
from datetime import UTC, datetime, timedelta

import pytest
import yaml
from click.testing import CliRunner

from spiders.base import Target
from tests.fakeplatform import FIXTURES, FakePlatform
from tests.spider_helpers import crawl_process, platform_config
from tests.weibo_shapes import posts, serve_accounts, uid
from watcher.cli import main_group
from watcher.daemon import Daemon
from watcher.rounds import plan, records
from watcher.rounds.engine import run_round
from watcher.store import Store
from watcher.store.findings import list_findings

Q = "100103type=3&q=北理工"


@pytest.fixture
def fake():
    f = FakePlatform(FIXTURES / "weibo")
    with f:
        yield f


def _timeline(accounts: list[str]) -> list[Target]:
    return [Target.for_mode("timeline", a) for a in accounts]


def test_one_round_many_accounts_each_with_its_own_result(tmp_path, fake):
    accounts = [uid(i) for i in range(4)]
    serve_accounts(fake, accounts[:3])
    fake.route("/api/container/getIndex", {"type": "uid", "value": accounts[3]}, body='{"ok":-100,"msg":"请先登录"}')
    cfg = platform_config(tmp_path, "weibo", fake.base_url, pages=1)
    result = run_round(cfg, "weibo", "timeline", _timeline(accounts))
    by_target = {r.target: r for r in result.runs}
    assert [by_target[a].status for a in accounts] == ["ok", "ok", "ok", "blocked"]
    assert "登录" in by_target[accounts[3]].reason
    assert result.status == "partial" and "受阻 1" in result.reason
    with Store.open(cfg.db_path) as s:
        assert s.scalar("SELECT COUNT(*) FROM crawl_rounds") == 1
        assert s.scalar("SELECT COUNT(DISTINCT round_id) FROM crawl_runs") == 1
        assert s.scalar("SELECT COUNT(*) FROM posts") == 9
        # one blocked account is not the platform refusing us: no pause, no finding
        assert not records.state(s, "weibo").cooling()
        assert not list_findings(s, kind="crawl_blocked")
    # every request carried a browser identity, never Scrapy's
    assert all("Scrapy" not in h.get("User-Agent", "") and "Mozilla" in h["User-Agent"] for _, _, h in fake.requests)


def test_rate_limit_on_the_first_search_page_is_blocked_and_cools_the_platform(tmp_path, fake):
    fake.route("/api/container/getIndex", {"containerid": Q}, body='{"ok":0,"msg":"请求过于频繁"}')
    cfg = platform_config(tmp_path, "weibo", fake.base_url)
    result = run_round(cfg, "weibo", "discover", [Target.for_mode("discover", "北理工"),
                                                  Target.for_mode("discover", "北京理工大学")])
    first = result.runs[0]
    assert first.status == "blocked" and "频繁" in first.reason and "rate" in first.reason
    # the round halted: the second keyword was never asked for
    assert result.status == "blocked" and result.runs[1].status == "blocked"
    assert "未采集" in result.runs[1].reason and len(fake.requests) == 1
    with Store.open(cfg.db_path) as s:
        st = records.state(s, "weibo")
        assert st.cooling() and st.cooldown_until - datetime.now(UTC) <= timedelta(minutes=15)
        assert len(list_findings(s, kind="crawl_blocked")) == 1
    shown = CliRunner().invoke(main_group, ["platforms", "status", "--config", str(cfg.source)])
    assert shown.exit_code == 0 and "冷却至" in shown.output and "受阻 1 轮" in shown.output, shown.output
    # the scheduled round skips a cooling platform: no request reaches it
    plan.discover(cfg, "weibo")
    assert len(fake.requests) == 1


def test_no_post_check_reaches_a_platform_that_refused_us_in_the_round(tmp_path, fake):
    a, b = uid(1), uid(2)
    serve_accounts(fake, [a, b])
    cfg = platform_config(tmp_path, "weibo", fake.base_url, pages=1)
    assert run_round(cfg, "weibo", "timeline", _timeline([a, b])).status == "ok"
    fake.find("/api/container/getIndex", {"value": a, "containerid": f"107603{a}", "page": "1"}).body = \
        posts(a, [f"{a}001", f"{a}002"])  # a's newest post is deleted …
    b_profile = fake.find("/api/container/getIndex", {"type": "uid", "value": b})
    b_profile.body, kept = '{"ok":-100,"msg":"请先登录"}', b_profile.body  # … and b's answers a login wall
    fake.route("/statuses/show", {"id": f"{a}000"}, body='{"ok":0,"msg":"抱歉，此微博已被作者删除。","errno":"20101"}')
    refused = run_round(cfg, "weibo", "timeline", _timeline([a, b]))
    assert [r.status for r in refused.runs] == ["ok", "blocked"]
    assert not [path for path, _, _ in fake.requests if path == "/statuses/show"]
    with Store.open(cfg.db_path) as s:  # a's missing post waits, unjudged
        assert s.one("SELECT status FROM posts WHERE post_id = ?", [f"{a}000"])["status"] == "pending"
        assert not list_findings(s, kind="deletion")
    b_profile.body = kept
    assert run_round(cfg, "weibo", "timeline", _timeline([a, b])).status == "ok"
    assert [q["id"] for path, q, _ in fake.requests if path == "/statuses/show"] == [f"{a}000"]
    with Store.open(cfg.db_path) as s:
        assert [f.details["post_id"] for f in list_findings(s, kind="deletion")] == [f"{a}000"]


def test_an_episode_is_one_finding_doubling_the_pause_then_resolved_by_an_ok_round(store):
    now = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    pauses = []
    for n in range(4):
        st = records.after_round(store, "weibo", "blocked", "HTTP 432：访问过于频繁被限流", n + 1, refused=True,
                                 now=now + timedelta(hours=n))
        pauses.append(st.cooldown_until - (now + timedelta(hours=n)))
    assert pauses == [timedelta(minutes=15), timedelta(minutes=30), timedelta(hours=1), timedelta(hours=2)]
    episode = list_findings(store, kind="crawl_blocked")
    assert len(episode) == 1 and episode[0].revision == 1 and episode[0].title == "微博采集受阻"
    records.after_round(store, "weibo", "ok", None, 9, refused=False, now=now + timedelta(hours=5))
    assert list_findings(store, kind="crawl_blocked")[0].status == "resolved"
    assert not records.state(store, "weibo").cooling(now + timedelta(hours=5))
    st = records.after_round(store, "weibo", "blocked", "again", 10, refused=True, now=now + timedelta(hours=6))
    assert st.cooldown_until == now + timedelta(hours=6, minutes=15)  # a new episode starts small
    assert len(list_findings(store, kind="crawl_blocked")) == 2


def test_a_round_failed_on_server_errors_is_one_finding_whose_advice_fits(store):
    reason = "微博服务器错误 HTTP 503（已重试 2 次），URL https://m.weibo.cn/api/container/getIndex；平台恢复后下一轮会重试"
    records.after_round(store, "weibo", "failed", reason, 1, refused=False)
    records.after_round(store, "weibo", "failed", reason, 2, refused=False)
    (episode,) = list_findings(store, kind="crawl_blocked")
    assert episode.title == "微博采集失败" and episode.revision == 1
    assert "HTTP 503" in episode.details["reasons"][0] and "下一轮自动重试" in episode.details["reasons"][-1]
    assert not records.state(store, "weibo").cooling()  # the platform did not refuse us


def test_a_parser_that_raises_fails_the_target_with_a_reason(tmp_path, fake):
    fake.route("/api/container/getIndex", {"containerid": Q}, body='{"ok":1,"data":{"cards":[{"card_type":11,"card_group":5}]}}')
    cfg = platform_config(tmp_path, "weibo", fake.base_url)
    run = run_round(cfg, "weibo", "discover", [Target.for_mode("discover", "北理工")]).runs[0]
    assert run.status == "failed" and "解析出错" in run.reason and "改版" in run.reason
    assert not re.search(r"[A-Z][a-z]+(Error|Exception)\b", run.reason), run.reason


def test_dns_failure_is_unreachable_with_network_advice(tmp_path):
    cfg = platform_config(tmp_path, "weibo", "http://m.weibo.invalid")
    result = run_round(cfg, "weibo", "discover", [Target.for_mode("discover", "北理工")])
    run = result.runs[0]
    assert run.status == "unreachable" and "域名解析失败" in run.reason and "代理" in run.reason, run
    with Store.open(cfg.db_path) as s:
        assert not records.state(s, "weibo").cooling()  # our network, not the platform's refusal
        finding = list_findings(s, kind="crawl_blocked")[0]
        assert finding.title == "微博无法连接" and "网络" in finding.details["remedy"]
        assert finding.details["reasons"][-1] == f"处理建议：{finding.details['remedy']}"  # what the alert lists


@pytest.mark.parametrize("how", ["daemon", "timeout"])
def test_a_round_cut_short_is_interrupted_keeps_what_it_finished_and_raises_nothing(tmp_path, fake, how):
    accounts = [uid(i) for i in range(8)]
    serve_accounts(fake, accounts)
    for r in fake.routes:
        r.delay = 0.5 if how == "daemon" else 1.0  # 16 slow pages, one at a time
    cfg = platform_config(tmp_path, "weibo", fake.base_url, pages=1, rate=50)
    stop = threading.Event()

    def progress(done: int, _total: int) -> None:
        if how == "daemon" and done >= 1:
            stop.set()  # the daemon stops once the first account is in, whatever the machine's load

    result = run_round(cfg, "weibo", "timeline", _timeline(accounts), stop=stop, progress=progress,
                       timeout=6.0 if how == "timeout" else None)
    statuses = [r.status for r in result.runs]
    assert result.status == "interrupted" and "interrupted" in statuses, statuses
    if how == "daemon":
        assert "ok" in statuses, statuses
    word = "停止" if how == "daemon" else "超时"
    assert all(word in r.reason for r in result.runs if r.status == "interrupted")
    with Store.open(cfg.db_path) as s:
        assert not list_findings(s) and not records.state(s, "weibo").cooling()
        done = {r.target for r in result.runs if r.status == "ok"}
        # what finished was stored and analysed; what was cut short keeps what it had, unjudged
        assert done <= {r["account_id"] for r in s.query("SELECT account_id FROM profile_snapshots")}


def test_a_crawl_process_sent_sigterm_is_interrupted_and_raises_nothing(tmp_path, fake):
    """systemd stops the service's whole control group: the crawl process gets SIGTERM itself."""
    accounts = [uid(i) for i in range(8)]
    serve_accounts(fake, accounts)
    for r in fake.routes:
        r.delay = 0.5
    cfg = platform_config(tmp_path, "weibo", fake.base_url, pages=1, rate=50)
    sent: list[int] = []

    def progress(done: int, _total: int) -> None:
        if done >= 1 and not sent and (pid := crawl_process()) is not None:
            os.kill(pid, signal.SIGTERM)
            sent.append(pid)

    result = run_round(cfg, "weibo", "timeline", _timeline(accounts), progress=progress)
    statuses = [r.status for r in result.runs]
    assert sent and result.status == "interrupted" and "ok" in statuses and "interrupted" in statuses, [(r.status, r.reason) for r in result.runs]
    assert all("终止信号" in r.reason for r in result.runs if r.status == "interrupted")
    with Store.open(cfg.db_path) as s:
        assert not list_findings(s) and not records.state(s, "weibo").cooling()
        done = {r.target for r in result.runs if r.status == "ok"}
        assert done <= {r["account_id"] for r in s.query("SELECT account_id FROM profile_snapshots")}


def test_the_round_runs_on_the_config_it_was_given_not_the_file(tmp_path, fake):
    """A config edit the daemon refused (a broken file after SIGHUP) never reaches a crawl: the
    daemon keeps its config, and its rounds' crawl processes get that one, never the file."""
    serve_accounts(fake, [uid(1)])
    cfg = platform_config(tmp_path, "weibo", fake.base_url, pages=1)
    daemon = Daemon(cfg.source, cfg)
    cfg.source.write_text("school: [broken", encoding="utf-8")
    with pytest.raises(yaml.YAMLError):
        yaml.safe_load(cfg.source.read_text(encoding="utf-8"))
    assert daemon.reload() is False and daemon.cfg is cfg  # what SIGHUP does
    assert run_round(daemon.cfg, "weibo", "timeline", _timeline([uid(1)])).status == "ok"
    assert any(path == "/api/container/getIndex" for path, _, _ in fake.requests)
