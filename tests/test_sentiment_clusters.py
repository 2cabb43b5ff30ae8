"""One incident, one finding: near-duplicate posts become one cluster, one finding, one alert."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alerts import dispatch
from watcher.opinion.clusters import Clusterer, normalise
from watcher.sentiment import analyze
from watcher.store import mentions as mentions_store

NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)  # outside the example config's sensitive periods
ORIGINAL = "北理工食堂今天中午的饭里吃出虫子，找窗口理论还被骂，太恶心了，学校管不管"


def _post(i: int, text: str, minutes_ago: float, platform: str = "weibo") -> dict:
    t = (NOW - timedelta(minutes=minutes_ago)).isoformat()
    return {"platform": platform, "post_id": f"m{i}", "account_id": f"u{i}", "text": text, "created_at": t,
            "first_seen": t, "last_seen": t, "status": "live", "url": f"https://m.weibo.cn/detail/m{i}"}


def _reposts(n: int) -> list[dict]:
    """How reposts of one complaint look: repost chains, added words, links, emoji, another platform."""
    variants = [
        ORIGINAL,
        f"转发微博 //@路人甲:{ORIGINAL}",
        f"太过分了！//@小王同学: 扩散 //@路人乙:{ORIGINAL}",
        f"{ORIGINAL} [怒] http://t.cn/A6abcd",
        f"#北理工# {ORIGINAL}",
        f"【扩散】{ORIGINAL}！！",
    ]
    return [_post(i, variants[i % len(variants)], 5 + i * 0.5, "douyin" if i % 10 == 9 else "weibo")
            for i in range(n)]


def test_repost_chains_and_noise_normalise_to_the_original():
    assert normalise(f"转发微博 //@路人甲:{ORIGINAL}") == normalise(ORIGINAL)
    assert normalise(f"{ORIGINAL} [怒] http://t.cn/A6abcd @某人") == normalise(ORIGINAL)


@pytest.mark.parametrize("other, same", [
    (f"【扩散】{ORIGINAL}！！", True),
    ("北理工食堂今天中午的饭里吃出虫子，找窗口理论还被骂，太恶心了", True),   # the last clause cut
    ("北理工食堂今天中午的饭里吃出虫子，太恶心了", False),   # half of it: too little in common (< 0.6)
    ("北理工图书馆今天闭馆，请同学们注意安排时间", False),
    ("北理工宿舍停电三天了没人管，报修也没用", False),
])
def test_near_duplicates_join_the_cluster(other, same):
    c = Clusterer()
    c.add(1, ORIGINAL)
    assert (c.nearest(other) == 1) is same


def test_a_spike_of_50_reposts_is_one_cluster_one_finding_one_alert(store, cfg):
    baseline = [_post(1000 + i, f"北理工第{i}届校园文化节第{i % 7}场活动今晚举行，欢迎参加{i}", 120 + i * 60)
                for i in range(20)]
    store.db["posts"].insert_all(_reposts(50) + baseline)
    out = analyze(cfg, store, now=NOW)
    clusters = [c for c in mentions_store.list_clusters(store) if "虫子" in c.representative]
    assert len(clusters) == 1
    cluster = clusters[0]
    assert cluster.size == 50 and cluster.platforms == ["douyin", "weibo"] and cluster.negative
    assert cluster.first_seen == (NOW - timedelta(minutes=5 + 49 * 0.5)).isoformat()
    assert cluster.last_seen == (NOW - timedelta(minutes=5)).isoformat()
    findings = store.query("SELECT id, kind, severity, title, details FROM findings")
    assert len(findings) == 1, findings
    f = findings[0]
    assert f["severity"] == "critical" and f["title"].startswith("舆情激增（本校提及）：")
    assert '"cluster_size": 50' in f["details"] and "MinHash" in f["details"] and "倍" in f["details"]
    assert out["spike"] == 1
    assert dispatch.plan(cfg, store, NOW) == 1                 # the central unit's one e-mail
    assert store.scalar("SELECT COUNT(*) FROM deliveries") == 1

    # Ten more reposts an hour later: the cluster grows, the finding is updated, nothing re-sent.
    store.db["posts"].insert_all([_post(200 + i, f"转发微博 //@路人{i}:{ORIGINAL}", -55 - i) for i in range(10)])
    analyze(cfg, store, now=NOW + timedelta(hours=1))
    assert mentions_store.get_cluster(store, cluster.id).size == 60
    assert store.scalar("SELECT COUNT(*) FROM findings") == 1
    assert '"cluster_size": 60' in store.scalar("SELECT details FROM findings")
    assert dispatch.plan(cfg, store, NOW + timedelta(hours=1)) == 0


def test_negative_cluster_without_spike_is_one_finding_per_cluster(store, cfg):
    store.db["posts"].insert_all(_reposts(3) + [_post(90, "北理工宿舍停电三天了没人管，报修也没用", 200),
                                                _post(91, "北理工今天开运动会，欢迎校友回校", 300)])
    out = analyze(cfg, store, now=NOW)
    assert out["flagged"] == 2 and out["spike"] == 0
    kinds = sorted((r["kind"], r["severity"]) for r in store.query("SELECT kind, severity FROM findings"))
    assert kinds == [("sentiment", "warning"), ("sentiment", "warning")]
    assert len(mentions_store.list_clusters(store)) == 3   # the neutral notice is a cluster, not a finding
    assert len(mentions_store.list_clusters(store, negative=True)) == 2
    assert len(mentions_store.list_clusters(store, platform="weibo")) == 3
    assert analyze(cfg, store, now=NOW)["flagged"] == 0


def test_a_neutral_cluster_turns_negative_when_a_negative_copy_joins(store, cfg):
    store.db["posts"].insert_all([_post(1, "北理工食堂今天中午的饭里有一只小虫子", 30)])
    analyze(cfg, store, now=NOW)
    store.db["posts"].insert_all([_post(2, "北理工食堂今天中午的饭里有一只小虫子，吃出虫子太恶心了", 20)])
    analyze(cfg, store, now=NOW)
    (cluster,) = mentions_store.list_clusters(store)
    assert cluster.size == 2 and cluster.negative and "风险词" in (cluster.reason or "")
    assert store.scalar("SELECT COUNT(*) FROM findings WHERE kind = 'sentiment'") == 1


def test_decisions_are_kept(store, cfg):
    store.db["posts"].insert_all(_reposts(2))
    analyze(cfg, store, now=NOW)
    (cluster,) = mentions_store.list_clusters(store)
    assert mentions_store.decide(store, cluster.id, "false_positive", "alice", NOW.isoformat())
    assert mentions_store.get_cluster(store, cluster.id).decision_label == "误报"
    with pytest.raises(ValueError, match="已研判"):
        mentions_store.decide(store, cluster.id, "maybe", "alice", NOW.isoformat())


def test_a_cluster_shows_the_original_not_the_repost_chain(store, cfg):
    store.db["posts"].insert_all([_post(1, f"太过分了！//@小王同学: 扩散 //@路人乙:{ORIGINAL}", 10)])
    analyze(cfg, store, now=NOW)
    (cluster,) = mentions_store.list_clusters(store)
    assert cluster.representative == ORIGINAL


@pytest.mark.parametrize("seed", range(5))
def test_whether_a_copy_joins_does_not_depend_on_arrival_order(seed):
    """Copies at Jaccard 0.7–0.85 of each other, in any order: always one cluster (LSH alone can
    miss a copy's bucket; every member is indexed and a miss is checked against all of them)."""
    import random

    copies = [ORIGINAL, f"救命，{ORIGINAL}", f"{ORIGINAL} 求扩散", ORIGINAL[:-6], f"#北理工食堂#{ORIGINAL[:-6]}",
              f"转：{ORIGINAL}[怒]", f"{ORIGINAL[:-6]}！！", ORIGINAL.replace("太恶心了", "真的太恶心了"),
              ORIGINAL.replace("今天中午", "今天"), ORIGINAL.replace("还被骂", "还被窗口阿姨骂")]
    random.Random(seed).shuffle(copies)
    c, next_id, clusters = Clusterer(), 1, {}
    for text in copies:
        linked = c.linked(text)
        if not linked:
            linked, next_id = [next_id], next_id + 1
        cid = min(linked)
        for other in linked:
            if other != cid:  # the copy bridges two clusters: one incident
                c.merge(cid, other)
                clusters[cid] += clusters.pop(other)
        c.add(cid, text)
        clusters.setdefault(cid, []).append(text)
    assert len(clusters) == 1, clusters


def test_a_weibo_repost_as_m_weibo_cn_returns_it_carries_its_original():
    from spiders.weibo import _with_original

    mblog = {"id": "2", "text": "转发微博", "retweeted_status": {"id": "1", "text": ORIGINAL + "<br />",
                                                              "user": {"screen_name": "理工小透明"}}}
    text = _with_original(mblog)
    assert text == f"转发微博//@理工小透明:{ORIGINAL}"
    c = Clusterer()
    c.add(1, ORIGINAL)
    assert c.nearest(text) == 1
    assert _with_original({"id": "3", "text": "原创"}) == "原创"
