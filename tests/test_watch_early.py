"""Early life: the registered accounts' posts younger than ``watch.early_hours`` are checked one by
one more often than the timeline round, within the platform's pace and budget, and the status page
shows the cadence reached. In-process, on posts stored as ingest stores them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from spiders.items import Post
from watcher import ingest, platform_status, registry
from watcher.rounds import plan as round_plan
from watcher.store import utcnow
from watcher.watch import early

UID = "1891724861"  # the registered tier-1 Weibo account of the example registry
CHINA = timezone(timedelta(hours=8))


def _run(store) -> int:
    cur = store.conn.execute("INSERT INTO crawl_runs (platform, mode, target, status, started_at) "
                             "VALUES ('weibo', 'timeline', ?, 'ok', ?)", [UID, utcnow()])
    return int(cur.lastrowid)


@pytest.fixture
def posted(store, cfg):
    """Posts published 1 h, 5 h and 30 h ago (dates as Weibo gives them, in +08:00)."""
    registry.import_file(store, cfg.registry_path)
    now = datetime.now(UTC)
    ingest.save_batch(store, [Post("weibo", UID, pid, f"第{pid}号", (now - timedelta(hours=h)).astimezone(CHINA).isoformat(),
                                   url=f"https://m.weibo.cn/detail/{pid}") for pid, h in (("1", 1), ("5", 5), ("30", 30))],
                      _run(store))
    return now


def test_young_posts_are_the_registered_accounts_posts_of_the_last_hours(cfg, store, posted):
    assert [p.post_id for p in early.young_posts(cfg, store, "weibo", posted)] == ["1", "5"]
    cfg.watch.early_hours = 2
    assert [p.post_id for p in early.young_posts(cfg, store, "weibo", posted)] == ["1"]
    cfg.watch.early_hours = 0
    assert early.young_posts(cfg, store, "weibo", posted) == []


def test_a_post_without_a_date_is_young_only_if_it_was_not_among_the_first_seen(cfg, store, posted):
    """A newly watched account shows old posts for the first time; only a later post is new."""
    ingest.save_batch(store, [Post("weibo", UID, "n1", "无日期", None)], _run(store))
    store.conn.execute("UPDATE posts SET first_seen = ? WHERE post_id != 'n1'",
                       [(posted - timedelta(hours=3)).isoformat()])
    assert "n1" in [p.post_id for p in early.young_posts(cfg, store, "weibo", datetime.now(UTC))]
    store.conn.execute("UPDATE posts SET first_seen = ?", [(posted - timedelta(hours=3)).isoformat()])
    assert "n1" not in [p.post_id for p in early.young_posts(cfg, store, "weibo", datetime.now(UTC))]


def test_the_cadence_stretches_to_fit_the_pace_and_the_budget(cfg, store, posted):
    due = early.plan(cfg, store, "weibo", posted)
    assert [p.post_id for p in due.targets] == ["1", "5"] and due.interval == cfg.watch.early_every  # 15 min
    # many young posts: the day's share of the budget (30 % of 1500) spread over them
    cfg.platforms.setdefault("weibo", cfg.platform("weibo")).daily_budget = 100
    stretched = early.plan(cfg, store, "weibo", posted)
    assert stretched.interval == 86400 * 2 // 30 and stretched.budget == 30
    # a platform whose pace is slow: one round must end before the next is due
    cfg.platforms["weibo"].daily_budget = 0
    cfg.platforms["weibo"].interval = 600
    assert early.plan(cfg, store, "weibo", posted).interval == 2 * 600 and early.plan(cfg, store, "weibo").budget is None


def test_the_budget_share_spent_today_stops_the_checks(cfg, store, posted):
    cfg.platforms.setdefault("weibo", cfg.platform("weibo")).daily_budget = 10   # a share of 3 checks a day
    for _ in range(3):
        store.conn.execute("INSERT INTO post_checks (platform, account_id, post_id, checked_at, exists_flag) "
                           "VALUES ('weibo', ?, '1', ?, 1)", [UID, utcnow()])
    assert early.plan(cfg, store, "weibo").targets == []


def test_the_status_page_shows_the_cadence_reached(cfg, store, posted):
    t = posted - timedelta(minutes=50)
    for minutes in (0, 15, 32):   # gaps of 15 and 17 minutes: median 16
        store.conn.execute("INSERT INTO post_checks (platform, account_id, post_id, checked_at, exists_flag) "
                           "VALUES ('weibo', ?, '1', ?, 1)", [UID, (t + timedelta(minutes=minutes)).isoformat()])
    c = early.cadence(cfg, store, "weibo", posted)
    assert c == {"hours": 6, "target": 900, "watch_every": 3600, "reached": 16 * 60, "checks": 3}
    text = early.describe(c)
    assert text == "6 小时内的新帖：目标每 15 分钟，实际每 16 分钟（近 24 小时新帖核查 3 次）；其余帖子随巡检每 1 小时"
    row = next(r for r in platform_status.rows(cfg, store) if r["platform"] == "weibo")
    assert row["early_cadence_text"] == early.describe(early.cadence(cfg, store, "weibo"))
    wechat = next(r for r in platform_status.rows(cfg, store) if r["platform"] == "wechat")
    assert wechat["early_cadence"] is None     # nothing to check one by one there


def test_the_scheduled_job_checks_the_young_posts_when_due(cfg, store, posted, monkeypatch):
    rounds = []
    monkeypatch.setattr(round_plan, "run_scheduled", lambda cfg, p, mode, targets, **kw: rounds.append((p, mode, targets)))
    store.close()
    round_plan.early_checks(cfg, "weibo")
    [(platform, mode, targets)] = rounds
    assert (platform, mode, [t.post for t in targets]) == ("weibo", "check", ["1", "5"])
    assert all(t.account == UID for t in targets)
    from watcher.store import Store
    with Store.open(cfg.db_path) as s:   # a check round just started: not due again before 15 minutes
        s.conn.execute("INSERT INTO crawl_rounds (platform, mode, status, started_at) VALUES ('weibo', 'check', 'ok', ?)",
                       [utcnow()])
    round_plan.early_checks(cfg, "weibo")
    assert len(rounds) == 1
    for name in ("weibo", "wechat"):
        cfg.platforms.setdefault(name, cfg.platform(name)).enabled = True
    jobs = {j.id for j in round_plan.scheduled_jobs(cfg)}
    assert "early:weibo" in jobs and "early:wechat" not in jobs


def test_a_check_round_concludes_what_it_heard_with_the_cause(cfg, store, posted):
    """The round's sink (either crawl path) concludes a check round's answers: post 1 removed by
    the platform is a deletion, post 5 set private is hidden, never a deletion."""
    from spiders.base import Target
    from spiders.items import PostCheck, TargetDone
    from watcher.rounds import records
    from watcher.rounds.sink import RoundSink
    from watcher.store.findings import list_findings

    targets = [Target.for_mode("check", UID, "1"), Target.for_mode("check", UID, "5")]
    round_id, run_ids = records.open_round(store, "weibo", "check", targets, None)
    sink = RoundSink(cfg, store, "weibo", "check", round_id, run_ids, {t.key: t for t in targets})
    for t, cause in zip(targets, ("platform_removed", "restricted"), strict=True):
        sink.add(PostCheck("weibo", UID, t.post or "", False, reason="平台答复", cause=cause, target=t.key))
        sink.add(TargetDone(target=t.key))
    sink.conclude_checks()
    assert [(f.details["post_id"], f.details["cause"], f.severity) for f in list_findings(store, kind="deletion")] == [
        ("1", "platform_removed", "critical")]
    assert [f.details["post_id"] for f in list_findings(store, kind="post_hidden")] == ["5"]
    assert store.one("SELECT COUNT(*) AS n FROM post_checks")["n"] == 2
