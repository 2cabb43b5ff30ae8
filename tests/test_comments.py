"""Comments under the registered accounts' recent posts (Weibo hotflow, Bilibili reply), end to end
on real-shaped answers: pagination, no comments, a refusal; the comments feed sentiment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from spiders.base import Target
from tests.fakeplatform import FIXTURES, FakePlatform
from tests.spider_helpers import platform_config
from watcher import registry
from watcher.rounds import plan
from watcher.rounds.engine import run_round
from watcher.store import Store
from watcher.store import mentions as mentions_store

WEIBO_UID, MID = "1891724861", "4990000000000005"


@pytest.fixture
def fake(request):
    f = FakePlatform(FIXTURES / request.param)
    with f:
        yield f


def _round(cfg, platform, account, post):
    return run_round(cfg, platform, "comments", [Target.for_mode("comments", account, post)]).runs[0]


@pytest.mark.parametrize("fake", ["weibo_comments"], indirect=True)
def test_weibo_comments_paginate_and_are_read_by_sentiment(tmp_path, fake):
    fake.route("/comments/hotflow", {"id": MID, "mid": MID, "max_id_type": "0"}, "hotflow_p1.json")
    fake.route("/comments/hotflow", {"id": MID, "mid": MID, "max_id_type": "0", "max_id": "139000000000000"},
               "hotflow_p2.json")
    cfg = platform_config(tmp_path, "weibo", fake.base_url, pages=5)
    run = _round(cfg, "weibo", WEIBO_UID, MID)
    assert run.status == "ok", run
    assert [q.get("max_id") for _, q, _ in fake.requests] == [None, "139000000000000"]
    with Store.open(cfg.db_path) as s:
        found = {m.post_id: m for m in mentions_store.run_mentions(s, run.id)}
        assert set(found) == {"comment:5200000000000001", "comment:5200000000000002", "comment:5200000000000003"}
        first = found["comment:5200000000000001"]
        assert first.kind == "comment" and first.author_name == "住在十号楼" and first.likes == 230
        assert first.text.startswith("宿舍停电三天了没人管") and "<span" not in first.text
        assert first.url == f"https://m.weibo.cn/detail/{MID}"
        assert found["comment:5200000000000003"].likes == 11000
        assert {p.post_id for p in mentions_store.recent_posts(s, "2000-01-01")} >= set(found)


@pytest.mark.parametrize("fake", ["weibo_comments"], indirect=True)
def test_weibo_no_comments_is_an_answer_and_a_login_wall_is_blocked(tmp_path, fake):
    fake.route("/comments/hotflow", {"id": "1"}, "hotflow_none.json")
    fake.route("/comments/hotflow", {"id": "2"}, body='{"ok":-100,"msg":"请先登录"}')
    cfg = platform_config(tmp_path, "weibo", fake.base_url)
    empty = _round(cfg, "weibo", WEIBO_UID, "1")
    assert empty.status == "ok" and empty.items == 0
    walled = _round(cfg, "weibo", WEIBO_UID, "2")
    assert walled.status == "blocked" and "登录" in walled.reason


@pytest.mark.parametrize("fake", ["bilibili_comments"], indirect=True)
def test_bilibili_replies_paginate_by_cursor(tmp_path, fake):
    fake.route("/x/web-interface/view", {"bvid": "BV1Ab411c7Xa"}, "view.json")
    fake.route("/x/v2/reply/main", {"oid": "1150009", "next": "0"}, "reply_p1.json")
    fake.route("/x/v2/reply/main", {"oid": "1150009", "next": "2"}, "reply_p2.json")
    cfg = platform_config(tmp_path, "bilibili", fake.base_url, pages=5)
    run = _round(cfg, "bilibili", "20000001", "BV1Ab411c7Xa")
    assert run.status == "ok", run
    with Store.open(cfg.db_path) as s:
        found = {m.post_id: m for m in mentions_store.run_mentions(s, run.id)}
    assert set(found) == {"reply:900001", "reply:900002", "reply:900003"}
    r = found["reply:900001"]
    assert (r.author_name, r.likes, r.comments, r.kind) == ("新生家长", 88, 4, "comment")
    assert r.text == "宿舍没有空调，孩子中暑了，学校管不管" and r.url.endswith("/video/BV1Ab411c7Xa")


@pytest.mark.parametrize("fake", ["bilibili_comments"], indirect=True)
def test_bilibili_closed_comments_and_risk_control(tmp_path, fake):
    fake.route("/x/web-interface/view", {}, "view.json")
    fake.route("/x/v2/reply/main", {"oid": "1150009"}, "reply_closed.json")
    cfg = platform_config(tmp_path, "bilibili", fake.base_url)
    closed = _round(cfg, "bilibili", "20000001", "BV1Ab411c7Xa")
    assert closed.status == "ok" and closed.items == 0
    fake.routes.clear()
    fake.route("/x/web-interface/view", {}, "view.json")
    fake.route("/x/v2/reply/main", {}, "risk_352.json")
    blocked = _round(cfg, "bilibili", "20000001", "BV1Ab411c7Xa")
    assert blocked.status == "blocked" and "-352" in blocked.reason


def test_comment_targets_are_the_registered_accounts_recent_posts(cfg, store):
    registry.import_file(store, cfg.registry_path)
    now = datetime.now(UTC)
    uid = next(a.account_id for a in registry.active_accounts(store) if a.platform == "weibo")
    store.db["posts"].insert_all([
        {"platform": "weibo", "post_id": f"p{i}", "account_id": acct, "text": "x",
         "created_at": (now - timedelta(days=age)).isoformat(), "first_seen": "t", "last_seen": "t", "status": "live"}
        for i, (acct, age) in enumerate([(uid, 1), (uid, 2), (uid, 10), ("stranger", 1)])])
    targets = plan.comment_targets(cfg, store, "weibo")
    assert [(t.account, t.post) for t in targets] == [(uid, "p0"), (uid, "p1")]
