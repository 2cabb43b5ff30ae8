"""The real Weibo spider, end to end, against recorded responses served on 127.0.0.1."""

import json

import pytest

from spiders.base import Target
from tests.fakeplatform import FIXTURES, FakePlatform
from tests.spider_helpers import platform_config, run_crawl
from watcher.rounds.engine import run_round
from watcher.store import Store
from watcher.store.findings import list_findings

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
        found = {f.account_id: f for f in list_findings(s, kind="impersonation")}
    assert set(found) == {"7712345601", "7712345602"}
    assert "官方" in "".join(found["7712345602"].details["reasons"]) or found["7712345602"].details["office"]


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


# One round checks three posts, each answered on its own id; none of the answers is a refusal.
CHECK_CASES = {
    "4990000000000005": ({"file": "show_live.json"}, 1),
    "4990000000000006": ({"file": "show_deleted.json"}, 0),
    "4990000000000007": ({"body": '{"ok":0,"msg":"服务繁忙"}'}, None),
}


def test_check_confirms_existence_or_deletion(tmp_path, fake):
    for mid, (answer, _) in CHECK_CASES.items():
        fake.route("/statuses/show", {"id": mid}, **answer)
    cfg = _cfg(tmp_path, fake)
    result = run_round(cfg, "weibo", "check", [Target.for_mode("check", UID, mid) for mid in CHECK_CASES])
    runs = {r.target: r for r in result.runs}
    assert set(runs) == {f"{UID}/{mid}" for mid in CHECK_CASES}, result
    with Store.open(cfg.db_path) as s:
        for mid, (answer, expected) in CHECK_CASES.items():
            run = runs[f"{UID}/{mid}"]
            assert run.status == "ok", (mid, answer, run)
            rows = s.query("SELECT exists_flag FROM post_checks WHERE post_id = ? AND crawl_run_id = ?", (mid, run.id))
            assert len(rows) == 1 and rows[0]["exists_flag"] == expected, (mid, answer, rows)


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
    assert len(blocked) == 1 and blocked[0].platform == "weibo"


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


def test_anonymous_432_is_blocked_with_the_way_to_log_in(tmp_path, fake):
    # m.weibo.cn since late 2025 (DIYgod/RSSHub #20512, #20836): HTTP 432 with an empty body
    fake.route("/api/container/getIndex", {"type": "uid", "value": UID}, body="", status=432)
    cfg = _cfg(tmp_path, fake)
    run = run_crawl(cfg, "weibo", "timeline", account=UID)
    assert run["status"] == "blocked" and "432" in run["reason"], run
    assert "watcher login weibo" in run["reason"]


def test_the_posts_container_comes_from_the_profile_tabs(tmp_path, fake):
    profile = json.loads((FIXTURES / "weibo" / "profile.json").read_text(encoding="utf-8"))
    container = f"230413{UID}_-_WEIBO_SECOND_PROFILE_WEIBO"
    profile["data"]["tabsInfo"]["tabs"][1]["containerid"] = container
    fake.route("/api/container/getIndex", {"type": "uid", "value": UID}, body=json.dumps(profile, ensure_ascii=False))
    fake.route("/api/container/getIndex", {"value": UID, "containerid": container, "page": "1"}, "posts_p1.json")
    cfg = platform_config(tmp_path, "weibo", fake.base_url, pages=1)
    run = run_crawl(cfg, "weibo", "timeline", account=UID)
    assert run["status"] == "ok", (run["reason"], fake.unmatched)
    assert not [u for u in fake.unmatched if "107603" in u]


def _post(pid: str, created: str) -> dict:
    return {"card_type": 9, "itemid": f"107603{UID}_-_{pid}", "mblog": {
        "created_at": created, "id": pid, "mid": pid, "text": f"第 {pid} 条", "user": {"id": int(UID)},
        "reposts_count": 1, "comments_count": 2, "attitudes_count": "1.2万"}}


def test_every_date_form_of_the_mobile_site_is_read(tmp_path, fake):
    forms = {"4990000000000101": "Sat Nov 21 10:00:00 +0800 2026", "4990000000000102": "11-20",
             "4990000000000103": "今天 09:00", "4990000000000104": "昨天 21:30", "4990000000000105": "5分钟前",
             "4990000000000106": "3小时前", "4990000000000107": "刚刚", "4990000000000108": "2024-12-31"}
    page = {"ok": 1, "data": {"cardlistInfo": {"containerid": f"107603{UID}", "page": None},
                              "cards": [_post(pid, c) for pid, c in forms.items()]}}
    fake.route("/api/container/getIndex", {"type": "uid", "value": UID}, "profile.json")
    fake.route("/api/container/getIndex", {"value": UID, "containerid": f"107603{UID}", "page": "1"},
               body=json.dumps(page, ensure_ascii=False))
    cfg = platform_config(tmp_path, "weibo", fake.base_url, pages=1)
    run = run_crawl(cfg, "weibo", "timeline", account=UID)
    assert run["status"] == "ok", run
    with Store.open(cfg.db_path) as s:
        created = {r["post_id"]: r["created_at"] for r in s.query("SELECT post_id, created_at FROM posts")}
        likes = s.scalar("SELECT likes FROM posts WHERE post_id = '4990000000000101'")
    assert set(created) == set(forms) and all(created.values()), created
    assert created["4990000000000101"].startswith("2026-11-21T10:00:00+08:00")
    assert created["4990000000000108"].startswith("2024-12-31T00:00:00+08:00")
    assert "-11-20T00:00:00+08:00" in created["4990000000000102"]
    assert created["4990000000000103"].endswith("T09:00:00+08:00")
    assert likes == 12000


@pytest.mark.parametrize("msg", ["这里还没有内容", "用户不存在"])
def test_a_cancelled_account_is_gone_not_failed(tmp_path, fake, msg):
    # dataabc/weibo-crawler reads "这里还没有内容" on the profile as 账号已注销
    fake.route("/api/container/getIndex", {"type": "uid", "value": UID},
               body=json.dumps({"ok": 0, "msg": msg, "data": {"cards": []}}, ensure_ascii=False))
    run = run_crawl(_cfg(tmp_path, fake), "weibo", "timeline", account=UID)
    assert run["status"] == "gone", run
