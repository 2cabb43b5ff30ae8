"""Weibo mentions (舆情提及), end to end on real-shaped answers served on 127.0.0.1: pagination,
an empty result, a login wall; authors judged for impersonation; engagement kept over time;
the mentions read by sentiment and clustered."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from spiders.base import Target
from tests.fakeplatform import FIXTURES, FakePlatform
from tests.spider_helpers import platform_config
from watcher import registry
from watcher.rounds.engine import run_round
from watcher.sentiment import analyze
from watcher.store import Store
from watcher.store import mentions as mentions_store
from watcher.store.findings import list_findings

Q = "100103type=1&q=北理工"
NOW = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)  # 13:00 in China, after the fixtures' posts


@pytest.fixture
def fake():
    f = FakePlatform(FIXTURES / "weibo_mentions")
    with f:
        yield f


def _round(cfg, *keywords):
    result = run_round(cfg, "weibo", "mentions", [Target.for_mode("mentions", k) for k in keywords])
    return {r.target: r for r in result.runs}


def test_mentions_paginate_store_authors_and_feed_sentiment(tmp_path, fake):
    fake.route("/api/container/getIndex", {"containerid": Q, "page": "1"}, "search_p1.json")
    fake.route("/api/container/getIndex", {"containerid": Q, "page": "2"}, "search_p2.json")
    cfg = platform_config(tmp_path, "weibo", fake.base_url, pages=5)
    with Store.open(cfg.db_path) as s:
        registry.import_file(s, cfg.registry_path)
    runs = _round(cfg, "北理工")
    assert runs["北理工"].status == "ok", runs
    assert [q["page"] for _, q, _ in fake.requests] == ["1", "2"]
    with Store.open(cfg.db_path) as s:
        found = {m.post_id: m for m in mentions_store.run_mentions(s, runs["北理工"].id)}
        assert set(found) == {"5100000000000001", "5100000000000002", "5100000000000003", "5100000000000004"}
        first = found["5100000000000001"]
        assert first.author_name == "理工小透明" and first.likes == 12000 and "<br" not in (first.text or "")
        assert first.created_at == "2026-11-23T04:10:00+00:00" and first.url == "https://m.weibo.cn/detail/5100000000000001"
        # The author who signs as the admissions office is a lead; the others are not.
        leads = {f.account_id for f in list_findings(s, kind="impersonation")}
        assert "6600000002" in leads and "6600000001" not in leads
        out = analyze(cfg, s, now=NOW)
        (cluster,) = [c for c in mentions_store.list_clusters(s) if "虫子" in c.representative]
        assert cluster.size == 2 and cluster.negative and cluster.finding_id is not None
        # Only the complaint: the notice and the praise ("太精彩了") are not flagged.
        assert out["flagged"] == 1


def test_engagement_is_kept_over_time(tmp_path, fake):
    fake.route("/api/container/getIndex", {"containerid": Q, "page": "1"}, "search_p1.json")
    fake.route("/api/container/getIndex", {"containerid": Q, "page": "2"}, "search_p2.json")
    cfg = platform_config(tmp_path, "weibo", fake.base_url, pages=1)
    _round(cfg, "北理工")
    fake.dataset = "later"
    _round(cfg, "北理工")
    with Store.open(cfg.db_path) as s:
        history = mentions_store.metrics(s, "weibo", "5100000000000001")
        assert [(m.reposts, m.comments) for m in history][-1] == (120, 300)
        assert len(history) == 2 and (history[0].reposts, history[0].comments) == (35, 88)
        assert mentions_store.get_mention(s, "weibo", "5100000000000001").reposts == 120


def test_an_empty_search_is_an_answer(tmp_path, fake):
    fake.route("/api/container/getIndex", {"containerid": "100103type=1&q=京工", "page": "1"}, "search_empty.json")
    cfg = platform_config(tmp_path, "weibo", fake.base_url)
    run = _round(cfg, "京工")["京工"]
    assert run.status == "ok" and run.items == 0


def test_a_login_wall_is_blocked_never_no_mentions(tmp_path, fake):
    fake.route("/api/container/getIndex", {"containerid": Q, "page": "1"}, status=200,
               body='{"ok":-100,"url":"https://passport.weibo.cn/signin/welcome","msg":"请先登录"}')
    fake.route("/api/container/getIndex", {"containerid": "100103type=1&q=京工", "page": "1"}, redirect="/signin/login")
    cfg = platform_config(tmp_path, "weibo", fake.base_url)
    runs = _round(cfg, "北理工", "京工")
    assert runs["北理工"].status == "blocked" and "登录" in runs["北理工"].reason
    assert runs["京工"].status == "blocked"


def test_a_fleet_worker_carries_mentions_rounds_and_items():
    import json

    from spiders.items import Mention
    from watcher.distributed.messages import decode_item, encode_item, read_target

    msg, target = read_target(json.dumps({"id": "t1", "round": 3, "mode": "mentions", "keyword": "北理工"}))
    assert target.keyword == "北理工" and msg["mode"] == "mentions"
    m = Mention(platform="weibo", post_id="1", author_id="2", text="北理工", likes=3, target="t1")
    assert decode_item(json.loads(json.dumps(encode_item(m))), "北理工") == m
