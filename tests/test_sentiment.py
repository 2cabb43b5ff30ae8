from datetime import UTC, datetime, timedelta

import pytest

from watcher.opinion.rules import default_rules
from watcher.sentiment import SentimentRules, analyze, is_spike, window_counts

# The example config's sentiment.negative_words: staff's words count on their own.
RULES = SentimentRules(default_rules(["北京理工大学"], ["北理工", "北理"], ["BIT"]),
                       ("举报", "曝光", "维权", "事故", "投诉", "造假"))


@pytest.mark.parametrize("text, mentions, negative", [
    ("北理工食堂今天的饭很好吃", ["北理工"], False),
    ("北京理工大学学生维权", ["北京理工大学"], True),
    ("BIT 实验室发生事故", ["BIT"], True),
    ("orbit launch, Bitcoin 暴涨", [], False),
    ("网传北理工论文造假？学校：并非造假", ["北理工"], True),
    ("北理工回应：没有造假", ["北理工"], False),
])
def test_assess(text, mentions, negative):
    a = RULES.assess(text)
    assert a.mentions == mentions
    assert a.negative is negative


def test_other_institutions_are_never_mentions():
    """A short name inside another school's full name (school.others) is not ours, in every group."""
    rules = SentimentRules(default_rules(["北京理工大学"], ["北理工", "理工大学"], []), others=("南京理工大学",))
    assert not rules.assess("南京理工大学食堂吃出虫子，太恶心了").mentioned
    assert rules.assess("南京理工大学和北京理工大学联合举办比赛").mentions == ["北京理工大学"]


def test_longer_name_covers_its_abbreviation():
    assert RULES.assess("北京理工大学招生").mentions == ["北京理工大学"]


def test_spike_rule():
    assert is_spike([1, 2, 1, 0, 2, 9], factor=3)
    assert not is_spike([1, 2, 1, 0, 2, 4], factor=3)   # below minimum
    assert not is_spike([6, 7, 5, 8, 6, 12], factor=3)  # busy baseline


def test_window_counts():
    now = datetime(2026, 6, 7, 12, tzinfo=UTC)
    times = [now - timedelta(minutes=m) for m in (5, 10, 70, 200)]
    assert window_counts(times, now, timedelta(hours=1), 4) == [1, 0, 1, 2]


def test_analyze_records_negative_mentions_and_spike(store, cfg):
    now = datetime(2026, 6, 7, 12, tzinfo=UTC)
    rows = []
    for i in range(8):  # a burst in the last hour
        rows.append({"platform": "tieba", "post_id": f"p{i}", "account_id": "forum",
                     "text": "北理工宿舍停电维权" if i == 0 else "北理工今天开运动会",
                     "created_at": (now - timedelta(minutes=5 + i)).isoformat(),
                     "first_seen": now.isoformat(), "last_seen": now.isoformat(), "status": "live"})
    rows.append({"platform": "tieba", "post_id": "old", "account_id": "forum", "text": "北理工运动会",
                 "created_at": (now - timedelta(hours=5)).isoformat(), "first_seen": now.isoformat(),
                 "last_seen": now.isoformat(), "status": "live"})
    store.db["posts"].insert_all(rows)
    out = analyze(cfg, store, now=now)
    assert out == {"posts": 9, "flagged": 1, "spike": 1}
    kinds = sorted(r["kind"] for r in store.query("SELECT kind FROM findings"))
    assert kinds == ["sentiment", "sentiment_spike"]
    # running again records nothing new
    assert analyze(cfg, store, now=now)["flagged"] == 0
    assert store.scalar("SELECT COUNT(*) FROM findings") == 2


def test_sensitive_period_lowers_the_spike_threshold(store, cfg):
    now = datetime(2026, 6, 7, 12, tzinfo=UTC)  # inside the example config's 高考招生季 (06-01..07-15)
    cfg.sentiment.spike_factor = 10
    cfg.periods[0].spike_factor = 2
    rows = [{"platform": "tieba", "post_id": f"p{i}", "account_id": "f", "text": "北理工",
             "created_at": (now - timedelta(minutes=5 + i)).isoformat(), "first_seen": "x", "last_seen": "x"}
            for i in range(6)]
    rows += [{"platform": "tieba", "post_id": f"o{i}", "account_id": "f", "text": "北理工",
              "created_at": (now - timedelta(hours=2 + i)).isoformat(), "first_seen": "x", "last_seen": "x"}
             for i in range(20)]
    store.db["posts"].insert_all(rows)
    assert analyze(cfg, store, now=now)["spike"] == 1   # 6 vs a median of 1: spike at ×2, not at ×10


def test_a_resolved_spike_whose_count_falls_never_reopens_or_realerts(store, cfg):
    """Issue #32: a reviewer's decision holds. Distinct posts (no cluster explains them) make a group
    spike; it is resolved; ten minutes later fewer posts are in the window: same finding, no new
    revision, still resolved, nothing planned."""
    from alerts import dispatch
    from watcher.store.findings import list_findings, set_status

    now = datetime(2026, 3, 10, 12, tzinfo=UTC)
    topics = ["运动会", "图书馆", "招生", "讲座", "校庆", "考研", "食堂新菜", "社团", "志愿者", "实验室"]
    store.db["posts"].insert_all([
        {"platform": "tieba", "post_id": f"s{i}", "account_id": "forum", "text": f"北理工{topic}第{i}期消息汇总",
         "created_at": (now - timedelta(minutes=5 + i * 5)).isoformat(), "first_seen": now.isoformat(),
         "last_seen": now.isoformat(), "status": "live"} for i, topic in enumerate(topics)])
    analyze(cfg, store, now=now)
    (spike,) = list_findings(store, kind="sentiment_spike")
    assert spike.title == "舆情激增（本校提及）" and spike.details["window_counts"][-1] == 10
    assert dispatch.plan(cfg, store, now) >= 1
    set_status(store, spike.id, "resolved", actor="reviewer", action="已处置")
    later = now + timedelta(minutes=20)            # four posts have left the window: the count falls
    analyze(cfg, store, now=later)
    (after,) = list_findings(store, kind="sentiment_spike")
    assert after.id == spike.id and after.revision == spike.revision and after.status == "resolved"
    assert after.details["window_counts"][-1] < 10
    assert dispatch.plan(cfg, store, later) == 0
