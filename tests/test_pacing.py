"""A reader's pace: spacing, a per-minute cap, a daily budget, one round of a platform at a time."""

import subprocess
import sys
import threading

import pytest

from spiders import catalog, identity
from spiders.base import Target
from spiders.middlewares import PacingMiddleware
from tests.conftest import write_config
from tests.fakeplatform import FakePlatform
from tests.spider_helpers import platform_config
from tests.weibo_shapes import serve_accounts, uid
from watcher.config import load_config
from watcher.rounds.engine import run_round
from watcher.rounds.settings import build_settings
from watcher.store import Store


@pytest.mark.parametrize("platform", ["xiaohongshu", "douyin"])
def test_defaults_follow_the_public_record(tmp_path, platform):
    # about 4 s ± 2 between requests and at most 10 a minute (issue #19, docs/platforms.md)
    cfg = load_config(write_config(tmp_path / "c"))
    cfg.platforms.pop(platform, None)  # not configured: the platform's own defaults
    settings = build_settings(cfg, platform)
    assert settings["DOWNLOAD_DELAY"] == 4.0 and settings["RANDOMIZE_DOWNLOAD_DELAY"] is True
    assert cfg.platform(platform).pace(platform) == catalog.Pace(interval=4.0, per_minute=10, daily=300)


def test_the_operator_may_only_slow_a_platform_down_with_rate(tmp_path):
    cfg = load_config(write_config(tmp_path / "c", platforms={"douyin": {"enabled": True, "rate": 0.1}}))
    assert build_settings(cfg, "douyin")["DOWNLOAD_DELAY"] == 10.0
    cfg = load_config(write_config(tmp_path / "d", platforms={"douyin": {"enabled": True, "rate": 5}}))
    assert build_settings(cfg, "douyin")["DOWNLOAD_DELAY"] == 0.2  # tests' config has no pace (conftest)


def test_no_minute_holds_more_requests_than_the_cap():
    mw = PacingMiddleware(crawler=None)
    sent: list[float] = []
    now = 0.0
    for _ in range(25):
        wait = mw.wait_for(now, 10)
        now += wait
        assert mw.wait_for(now, 10) == 0
        mw.recent.append(now)
        sent.append(now)
        now += 2.0  # Scrapy's own spacing
    assert all(sum(1 for t in sent if start <= t < start + 60) <= 10 for start in sent)
    assert sent[10] - sent[0] >= 60


def test_a_spent_daily_budget_blocks_the_round_until_tomorrow(tmp_path):
    fake = FakePlatform(tmp_path)
    accounts = [uid(i) for i in range(3)]
    serve_accounts(fake, accounts)
    with fake:
        cfg = platform_config(tmp_path, "weibo", fake.base_url, pages=1, daily_budget=3)
        result = run_round(cfg, "weibo", "timeline", [Target.for_mode("timeline", a) for a in accounts])
    by = {r.target: r for r in result.runs}
    assert by[accounts[0]].status == "ok"
    refused = [r for r in result.runs if r.status in ("blocked", "partial")]
    assert refused and "预算" in refused[0].reason and "daily_budget" in refused[0].reason
    assert len(fake.requests) == 3  # the budget, not one more
    assert identity.requests_today(cfg.data_path, "weibo") >= 3
    # one story: paused until the budget's next day (not a 15-minute cool-down), and the advice
    # is a longer interval, not a bigger budget
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    china = ZoneInfo("Asia/Shanghai")
    tomorrow = datetime.combine(datetime.now(china).date() + timedelta(days=1), datetime.min.time(), tzinfo=china)
    with Store.open(cfg.db_path) as s:
        until = s.scalar("SELECT cooldown_until FROM platform_state WHERE platform = 'weibo'")
        episode = s.one("SELECT title, details FROM findings WHERE kind = 'crawl_blocked'")
    assert datetime.fromisoformat(until) == tomorrow.astimezone(UTC)
    assert "预算已用完" in episode["title"] and "调长巡检间隔" in episode["details"]
    assert "调高预算" not in episode["details"] + refused[0].reason and "调长巡检间隔" in refused[0].reason


def test_two_rounds_of_one_platform_never_overlap(tmp_path):
    fake = FakePlatform(tmp_path)
    serve_accounts(fake, [uid(1), uid(2)])
    for r in fake.routes:
        r.delay = 0.3
    with fake:
        cfg = platform_config(tmp_path, "weibo", fake.base_url, pages=1)
        threads = [threading.Thread(target=run_round, args=(cfg, "weibo", "timeline", [Target.for_mode("timeline", a)]))
                   for a in (uid(1), uid(2))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    with Store.open(cfg.db_path) as s:
        assert [r["status"] for r in s.query("SELECT status FROM crawl_runs")] == ["ok", "ok"]
    # the platform saw one crawler: every request of one round came before the other round's first
    order = [q.get("value") for _, q, _ in fake.requests]
    first = order[0]
    assert order == [first] * order.count(first) + [v for v in order if v != first], order


def test_a_browser_profile_is_held_by_one_process_at_a_time(tmp_path):
    lock = identity.hold_profile(tmp_path, "douyin")
    probe = ("import fcntl, sys; f = open(sys.argv[1], 'a')\n"
             "try:\n    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB); print('free')\n"
             "except BlockingIOError:\n    print('held')")
    path = str(identity.session_dir(tmp_path, "douyin") / "profile.lock")
    assert subprocess.run([sys.executable, "-c", probe, path], capture_output=True, text=True).stdout.strip() == "held"
    lock.close()
    assert subprocess.run([sys.executable, "-c", probe, path], capture_output=True, text=True).stdout.strip() == "free"
