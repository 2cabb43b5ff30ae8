"""On-demand scans go first: the gate that places rounds, and what a scan counts as its own."""

from __future__ import annotations

import threading
import time

import pytest

from spiders.base import Target
from watcher import findings
from watcher.rounds import records
from watcher.rounds.gate import Gate
from watcher.store import findings as stored_findings
from watcher.store.accounts import Account


def _hold(gate: Gate, platform: str, round_id: int, *, scan: bool, limit: int, events: list[str],
          entered: threading.Event, release: threading.Event) -> threading.Thread:
    """A round that holds its place until released or asked to yield (as a crawl does)."""
    def run() -> None:
        with gate.enter(platform, "timeline", round_id, limit, scan=scan, waiting=events.append) as place:
            events.append(f"in {round_id}")
            entered.set()
            while not (release.is_set() or place.yield_to.is_set()):
                time.sleep(0.02)
            events.append(f"yielded {round_id}" if place.yield_to.is_set() else f"done {round_id}")
    t = threading.Thread(target=run)
    t.start()
    return t


def test_a_scan_makes_the_scheduled_round_on_its_platform_yield():
    gate, events, entered, release = Gate(), [], threading.Event(), threading.Event()
    scheduled = _hold(gate, "weibo", 1, scan=False, limit=2, events=events, entered=entered, release=release)
    entered.wait(5)
    heard: list[str] = []
    with gate.enter("weibo", "timeline", 2, 2, scan=True, waiting=heard.append):
        assert "yielded 1" in events  # it left before the scan came in
    scheduled.join(5)
    assert heard == ["等待微博定时备案账号巡检（本轮 #1）让出（手动扫描优先）"]


def test_a_scan_waits_for_another_scan_and_preempts_nothing():
    gate, events, entered, release = Gate(), [], threading.Event(), threading.Event()
    first = _hold(gate, "weibo", 1, scan=True, limit=2, events=events, entered=entered, release=release)
    entered.wait(5)
    heard: list[str] = []
    threading.Timer(0.3, release.set).start()
    with gate.enter("weibo", "discover", 2, 2, scan=True, waiting=heard.append):
        assert events[-1] == "done 1"
    first.join(5)
    assert heard == ["等待微博手动扫描备案账号巡检（本轮 #1）结束"]


def test_with_every_place_taken_the_most_recent_scheduled_round_yields():
    gate, events, release = Gate(), [], threading.Event()
    older_in, newer_in = threading.Event(), threading.Event()
    older = _hold(gate, "weibo", 1, scan=False, limit=2, events=events, entered=older_in, release=release)
    older_in.wait(5)
    time.sleep(0.05)
    newer = _hold(gate, "bilibili", 2, scan=False, limit=2, events=events, entered=newer_in, release=release)
    newer_in.wait(5)
    with gate.enter("zhihu", "discover", 3, 2, scan=True):
        assert "yielded 2" in events and "yielded 1" not in events
    release.set()
    older.join(5)
    newer.join(5)
    assert events[-1] == "done 1"


def test_no_scheduled_round_takes_the_place_a_waiting_scan_needs():
    gate, events, release = Gate(), [], threading.Event()
    scan_in, other_in = threading.Event(), threading.Event()
    scan = _hold(gate, "weibo", 1, scan=True, limit=1, events=events, entered=scan_in, release=release)
    scan_in.wait(5)
    waiting_scan_in = threading.Event()
    second_scan = _hold(gate, "bilibili", 2, scan=True, limit=1, events=events, entered=waiting_scan_in,
                        release=release)
    time.sleep(0.2)  # the second scan now waits for the only place
    scheduled = _hold(gate, "zhihu", 3, scan=False, limit=1, events=events, entered=other_in, release=release)
    time.sleep(0.2)
    release.set()
    for t in (scan, second_scan, scheduled):
        t.join(5)
    entered = [e for e in events if e.startswith("in ")]
    assert entered == ["in 1", "in 2", "in 3"], events
    assert "手动扫描优先，稍后开始" in events


def test_a_scan_counts_only_the_findings_its_own_runs_made(store, monkeypatch):
    clock = iter(f"2026-11-23T02:00:{n:02d}+00:00" for n in range(60))
    monkeypatch.setattr(stored_findings, "utcnow", lambda: next(clock))
    _, scheduled_runs = records.open_round(store, "weibo", "discover", [Target.for_mode("discover", "北理工")])
    _, scan_runs = records.open_round(store, "bilibili", "discover", [Target.for_mode("discover", "北理工")], 7)
    scheduled_run, scan_run = scheduled_runs["北理工"], scan_runs["北理工"]

    def suspect(platform: str, account: str, run_id: int, followers: int = 1, name: str = "北理工表白墙"):
        return findings.impersonation(Account(platform, account, "t", "t", name=name, followers=followers),
                                      verdict_unit=None, reasons=["名称含简称"], score=80,
                                      matched="北京理工大学", office=None, algo="match-v2", avatar=None, run_id=run_id)

    stored_findings.record(store, suspect("bilibili", "4", scheduled_run))  # known before the scan
    stored_findings.record(store, suspect("bilibili", "5", scheduled_run, name="北理工树洞"))
    since = next(clock)  # the scan starts
    stored_findings.record(store, suspect("weibo", "1", scheduled_run))     # a scheduled round's, meanwhile
    stored_findings.record(store, suspect("bilibili", "2", scan_run))       # the scan's own
    stored_findings.record(store, suspect("bilibili", "3", scan_run))
    # seen again by the scan with only the follower count moved: unchanged, not the scan's
    stored_findings.record(store, suspect("bilibili", "4", scan_run, followers=99))
    # seen again by the scan with a new name: a revision the scan made
    stored_findings.record(store, suspect("bilibili", "5", scan_run, name="北理工树洞2"))
    assert stored_findings.made_by_scan(store, 7, since, except_kind="crawl_blocked") == {
        "impersonation": {"new": 2, "updated": 1}}
    assert stored_findings.made_by_scan(store, 8, since, except_kind="crawl_blocked") == {}


@pytest.mark.slow
def test_a_scan_during_a_long_scheduled_round_loses_none_of_its_work(tmp_path):
    """The scheduled watch round yields to a one-account scan, then continues with only the
    accounts it had not finished: every account ends ok once, none finished is crawled again."""
    from tests.fakeplatform import FIXTURES, FakePlatform
    from tests.spider_helpers import platform_config
    from tests.weibo_shapes import serve_accounts, uid
    from watcher.rounds import scans
    from watcher.rounds.engine import run_scheduled
    from watcher.store import Store

    accounts = [uid(i) for i in range(5)]
    with FakePlatform(FIXTURES / "weibo") as fake:
        serve_accounts(fake, accounts)
        for r in fake.routes:
            r.delay = 0.2
        cfg = platform_config(tmp_path, "weibo", fake.base_url, pages=1)
        out: dict = {}
        targets = [Target.for_mode("timeline", a) for a in accounts]
        scheduled = threading.Thread(target=lambda: out.update(result=run_scheduled(cfg, "weibo", "timeline", targets)))
        scheduled.start()
        deadline = time.monotonic() + 60
        with Store.open(cfg.db_path) as s:
            while not s.scalar("SELECT COUNT(*) FROM crawl_runs WHERE status = 'ok'"):
                assert time.monotonic() < deadline, "the scheduled round never finished an account"
                time.sleep(0.05)
            request = scans.claim(s, scans.enqueue(s, {"discover": False, "watch": True, "platform": "weibo",
                                                       "account": accounts[-1]}))
        assert scans.execute(cfg, request)["runs"] == {"ok": 1}
        scheduled.join(60)
        profiles = [q["value"] for _, q, _ in fake.requests if q.get("type") == "uid" and "containerid" not in q]
    result = out["result"]
    assert sorted(r.target for r in result.runs) == sorted(accounts)
    assert {r.status for r in result.runs} == {"ok"}
    with Store.open(cfg.db_path) as s:
        first, second = s.query("SELECT id, targets, details FROM crawl_rounds WHERE scan_request_id IS NULL ORDER BY id")
        finished = [r["target"] for r in s.query("SELECT target FROM crawl_runs WHERE round_id = ? AND status = 'ok'",
                                                 [first["id"]])]
    assert finished and second["targets"] == len(accounts) - len(finished)
    assert f'"resumes": {first["id"]}' in second["details"]
    # the accounts the first round finished were not crawled again (the scan's own account aside)
    assert all(profiles.count(a) == 1 for a in finished if a != accounts[-1]), (profiles, finished)
