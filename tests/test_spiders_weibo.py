"""The real Weibo spider, end to end, against recorded responses served on 127.0.0.1."""

import pytest

from tests.fakeplatform import FIXTURES, FakePlatform
from tests.spider_helpers import platform_config, run_crawl
from watcher.findings import list_findings
from watcher.store import Store

UID = "1891724861"
Q = "100103type=3&q=北理工"


@pytest.fixture
def fake():
    f = FakePlatform(FIXTURES / "weibo")
    with f:
        yield f


def _cfg(tmp_path, fake):
    return platform_config(tmp_path, "weibo", fake.base_url, pages=5)


def test_discovery_paginates_and_finds_the_planted_suspects(tmp_path, fake):
    fake.route("/api/container/getIndex", {"containerid": Q, "page": "1"}, "search_p1.json")
    fake.route("/api/container/getIndex", {"containerid": Q, "page": "2"}, "search_p2.json")
    fake.route("/api/container/getIndex", {"containerid": Q, "page": "3"}, "search_p3.json")
    cfg = _cfg(tmp_path, fake)
    with Store.open(cfg.db_path) as s:
        from watcher import registry
        registry.import_file(s, cfg.registry_path)
    run = run_crawl(cfg, "weibo", "discover", keywords=["北理工"])
    assert run["status"] == "ok", run
    assert fake.requests[0][2].get("X-Requested-With") == "XMLHttpRequest"
    with Store.open(cfg.db_path) as s:
        accounts = {a["account_id"]: a for a in s.query("SELECT * FROM accounts")}
        assert len(accounts) == 5
        assert accounts["7712345601"]["followers"] == 32000            # "3.2万"
        assert accounts["7712345604"]["bio"] == ""                     # missing optional fields
        assert accounts[UID]["verdict"] == "registered"
        assert accounts["7712345603"]["verdict"] == "clear"           # 东北理疗馆
        found = {f["account_id"]: f for f in list_findings(s, kind="impersonation")}
    assert set(found) == {"7712345601", "7712345602"}
    assert "官方" in "".join(found["7712345602"]["details"]["reasons"]) or found["7712345602"]["details"]["office"]


def test_timeline_profile_posts_and_pagination(tmp_path, fake):
    fake.route("/api/container/getIndex", {"type": "uid", "value": UID}, "profile.json")
    for p in (1, 2, 3):
        fake.route("/api/container/getIndex", {"value": UID, "containerid": f"107603{UID}", "page": str(p)}, f"posts_p{p}.json")
    cfg = _cfg(tmp_path, fake)
    run = run_crawl(cfg, "weibo", "timeline", account=UID)
    assert run["status"] == "ok", run
    with Store.open(cfg.db_path) as s:
        snap = s.one("SELECT * FROM profile_snapshots")
        assert snap["name"] == "北京理工大学" and snap["followers"] == 1520000 and snap["posts_count"] == 23110
        posts = {p["post_id"]: p for p in s.query("SELECT * FROM posts")}
    assert set(posts) == {"4990000000000005", "4990000000000004", "4990000000000003", "4990000000000002"}
    assert posts["4990000000000005"]["text"].startswith("【通知】") and "<br" not in posts["4990000000000005"]["text"]
    assert posts["4990000000000004"]["reposts"] == 12000
    assert posts["4990000000000002"]["likes"] is None
    assert posts["4990000000000005"]["created_at"] == "2026-11-22T09:00:00+08:00"


@pytest.mark.parametrize("answer, expected", [
    ({"file": "show_live.json"}, 1),
    ({"file": "show_deleted.json"}, 0),
    ({"body": '{"ok":0,"msg":"服务繁忙"}'}, None),
])
def test_check_confirms_existence_or_deletion(tmp_path, fake, answer, expected):
    fake.route("/statuses/show", {"id": "4990000000000005"}, **answer)
    cfg = _cfg(tmp_path, fake)
    run = run_crawl(cfg, "weibo", "check", account=UID, post="4990000000000005")
    assert run["status"] == "ok"
    with Store.open(cfg.db_path) as s:
        assert s.one("SELECT exists_flag FROM post_checks")["exists_flag"] == expected


@pytest.mark.parametrize("route_kw, status, words", [
    ({"file": "login_required.json"}, "blocked", "登录"),
    ({"redirect": "/signin/login?entry=mweibo"}, "blocked", "登录"),
    ({"body": "<html><title>Sina Visitor System</title></html>", "content_type": "text/html"}, "blocked", "HTML"),
    ({"body": '{"ok":1,"data":{"cards":[{"card_type":11,"card_gro'}, "failed", "JSON"),
    ({"body": "", "status": 403}, "blocked", "403"),
])
def test_walls_and_broken_bodies_are_never_silent(tmp_path, fake, route_kw, status, words):
    fake.route("/api/container/getIndex", {"containerid": Q}, **route_kw)
    fake.route("/signin/login", {}, body="<html>登录</html>", content_type="text/html")
    cfg = _cfg(tmp_path, fake)
    run = run_crawl(cfg, "weibo", "discover", keywords=["北理工"])
    assert run["status"] == status and words in run["reason"], run
    with Store.open(cfg.db_path) as s:
        assert s.scalar("SELECT COUNT(*) FROM accounts") == 0
        blocked = list_findings(s, kind="crawl_blocked")
    assert len(blocked) == 1 and blocked[0]["platform"] == "weibo"


def test_blocked_timeline_touches_nothing_already_stored(tmp_path, fake):
    fake.route("/api/container/getIndex", {"type": "uid", "value": UID}, "profile.json")
    for p in (1, 2, 3):
        fake.route("/api/container/getIndex", {"value": UID, "containerid": f"107603{UID}", "page": str(p)}, f"posts_p{p}.json")
    cfg = _cfg(tmp_path, fake)
    assert run_crawl(cfg, "weibo", "timeline", account=UID)["status"] == "ok"
    fake.routes.clear()
    fake.route("/api/container/getIndex", {"type": "uid", "value": UID}, "login_required.json")
    run = run_crawl(cfg, "weibo", "timeline", account=UID)
    assert run["status"] == "blocked"
    with Store.open(cfg.db_path) as s:
        assert s.scalar("SELECT COUNT(*) FROM profile_snapshots") == 1
        assert s.scalar("SELECT COUNT(*) FROM posts WHERE status = 'live'") == 4
