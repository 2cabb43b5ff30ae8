"""Each kind of finding is built in one place, its constructor in watcher/findings.py, which owns
its title, details and dedupe key."""

from __future__ import annotations

import ast
from pathlib import Path

from watcher import findings
from watcher.store.accounts import Account
from watcher.store.findings import fingerprint
from watcher.store.fingerprint import fingerprint_of
from watcher.store.mentions import Cluster
from watcher.store.posts import TimelinePost

ROOT = Path(__file__).resolve().parent.parent
OWNERS = {ROOT / "watcher" / "findings.py", ROOT / "watcher" / "store" / "findings.py"}
# Modules allowed to build findings by hand while their constructors are being written: none left.
NOT_YET_MOVED: set[Path] = set()


def test_every_kind_has_its_constructor():
    for kind in findings.KIND_LABELS:
        assert callable(getattr(findings, kind, None)), f"watcher.findings.{kind}() is missing"


def test_findings_are_built_only_by_their_constructors():
    built = []
    for path in (p for d in ("watcher", "alerts", "spiders") for p in (ROOT / d).rglob("*.py")):
        if path in OWNERS or path in NOT_YET_MOVED:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "FindingInput":
                built.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not built, f"build these with a constructor in watcher/findings.py: {built}"


def test_constructors_word_titles_and_keys_as_recorded_before():
    """The texts and keys that existing databases hold: changing one re-sends every such finding."""
    f = findings.deletion("weibo", "1891724861", "北京理工大学", "党委宣传部",
                          post=TimelinePost(platform="weibo", post_id="P9", account_id="1891724861", text="旧帖",
                                            created_at=None, reposts=None, comments=None, likes=None, url=None,
                                            text_sha256=None, first_seen="a", last_seen="a", last_crawl_run_id=None,
                                            status="pending", raw=None, seen_rank=None, missing_since="b",
                                            next_check_at=None, check_attempts=0, last_check_at=None,
                                            last_check_reason=None, present_checked_at=None),
                          confirmed_at="c", in_period=True, reason="r")
    assert (f.kind, f.dedupe_key, f.title, f.severity) == (
        "deletion", "deletion:weibo:P9", "微博账号「北京理工大学」删除了帖子", "critical")
    g = findings.dormant("bilibili", "42", "北理工", "团委", last_post="2025-01-02T00:00:00", last_day="2025-01-02",
                         idle=181, days=180)
    assert (g.dedupe_key, g.title, g.severity) == ("dormant:bilibili:42", "哔哩哔哩账号「北理工」超过 180 天未更新", "info")
    c = findings.crawl_blocked("weibo", trouble="blocked", since="2026-01-01T00:00:00+00:00", title="采集受阻",
                               reason="403", remedy="稍后")
    assert c.dedupe_key == "crawl_blocked:weibo:blocked:2026-01-01T00:00:00+00:00" and c.title == "微博采集受阻"
    # metrics are shown, never part of the fingerprint
    a = findings.impersonation(Account("weibo", "7", "t", "t", name="北理工表白墙", followers=10),
                               verdict_unit=None, reasons=["x"], score=81, matched="北京理工大学", office=None,
                               algo="match-v2", avatar=None, run_id=None)
    b = findings.impersonation(Account("weibo", "7", "t", "t", name="北理工表白墙", followers=99),
                               verdict_unit=None, reasons=["x"], score=84, matched="北京理工大学", office=None,
                               algo="match-v2", avatar=None, run_id=None)
    assert a.dedupe_key == "impersonation:weibo:7" and a.title == "疑似仿冒：微博「北理工表白墙」"
    assert fingerprint_of(a.kind, a.title, a.severity, a.account_name, a.unit, a.details) == \
        fingerprint_of(b.kind, b.title, b.severity, b.account_name, b.unit, b.details)


def test_sentiment_constructors_word_titles_and_keys_as_recorded_before():
    """Sentiment findings as watcher/sentiment.py worded them before their constructors moved here."""
    cluster = Cluster(id=7, group_name="本校提及", representative="北理工食堂\n出事了，同学们维权" * 3, url="https://x/1",
                      size=3, platforms=["weibo"], negative=True, score=-3.0, reason="提及「北理工」",
                      first_seen="a", last_seen="b")
    calm = findings.sentiment(cluster, severity="warning", unit="党委宣传部", spike=None, window_seconds=3600,
                              lexicon="L", algorithm="A")
    assert (calm.kind, calm.dedupe_key, calm.title, calm.severity, calm.platform, calm.unit) == (
        "sentiment", "sentiment:cluster:7", "舆情关注（本校提及）：北理工食堂 出事了，同学们维权北理工食堂 出事了，同学们维权北理工食堂 出事了，",
        "warning", "weibo", "党委宣传部")
    assert calm.details["reasons"] == ["提及「北理工」"] and calm.details["window_counts"] is None
    hot = findings.sentiment(cluster, severity="info", unit=None, spike=[1, 2, 3, 1, 20], window_seconds=3600,
                             lexicon="L", algorithm="A")
    assert (hot.kind, hot.dedupe_key, hot.severity) == ("sentiment", "sentiment:cluster:7", "critical")
    assert hot.title.startswith("舆情激增（本校提及）：")
    assert hot.details["reasons"] == ["提及「北理工」", "最近 60 分钟提及 20 条，为此前 4 个窗口中位数 1.5 的 13.3 倍"]
    cluster.negative, cluster.platforms, cluster.reason = False, ["weibo", "bilibili"], None
    loud = findings.sentiment(cluster, severity="warning", unit=None, spike=[0, 0, 0, 7], window_seconds=3600,
                              lexicon="L", algorithm="A")
    assert (loud.kind, loud.platform, loud.details["reasons"]) == (
        "sentiment_spike", None, ["最近 60 分钟提及 7 条，为此前 3 个窗口中位数 0 的 7.0 倍"])
    group = findings.sentiment_spike("本校提及", episode="2026-11-23T04:00:00+00:00", counts=[1, 2, 2, 12],
                                     first_counts=[1, 2, 2, 9], window_seconds=3600, unit="团委")
    # The counts stay out of the title: a spike that grows or falls is the same finding.
    assert (group.kind, group.dedupe_key, group.title, group.severity, group.unit) == (
        "sentiment_spike", "sentiment_spike:本校提及:2026-11-23T04:00:00+00:00", "舆情激增（本校提及）", "critical", "团委")
    assert group.details["reasons"] == ["最近 60 分钟提及 9 条，为此前 3 个窗口中位数 2 的 4.5 倍"]
    later = findings.sentiment_spike("本校提及", episode="2026-11-23T04:00:00+00:00", counts=[1, 2, 2, 5],
                                     first_counts=[1, 2, 2, 9], window_seconds=3600, unit="团委")
    assert fingerprint(later) == fingerprint(group)
