"""Kuaishou in Debian's chromium: the page posts its GraphQL queries, the spider reads the answers."""

from pathlib import Path

import pytest

from spiders.base import Target
from spiders.browser import CHROMIUM, PAGE_WAIT_ENV, page_wait
from tests.fakeplatform import FIXTURES, FakePlatform
from tests.spider_helpers import platform_config, run_crawl
from watcher import registry
from watcher.rounds import records
from watcher.rounds.engine import run_round
from watcher.store import Store
from watcher.store.findings import list_findings

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium (/usr/bin/chromium) not installed")]
HTML = "text/html; charset=utf-8"


@pytest.fixture
def fake():
    f = FakePlatform(FIXTURES / "kuaishou")
    with f:
        yield f


def _cfg(tmp_path, fake):
    return platform_config(tmp_path, "kuaishou", fake.base_url, timeout=30)


def test_search_authors(tmp_path, fake):
    fake.route("/search/author", {"searchKey": "北理工"}, "search_page.html", content_type=HTML)
    fake.route("/graphql", body_contains='"pcursor":""', file="search.json")
    fake.route("/graphql", body_contains='"pcursor":"1"', file="search_p2.json")
    cfg = _cfg(tmp_path, fake)
    with Store.open(cfg.db_path) as s:
        registry.import_file(s, cfg.registry_path)
    run = run_crawl(cfg, "kuaishou", "discover", keywords=["北理工"])
    assert run["status"] == "ok", run
    with Store.open(cfg.db_path) as s:
        acc = {a["account_id"]: a for a in s.query("SELECT * FROM accounts")}
        assert acc["3xbitofficial"]["followers"] == 312000 and acc["3xbitofficial"]["verified"] == 1
        # the school has no registered Kuaishou account: both use its name without approval
        # the second page was loaded by scrolling the page (pcursor "1")
        assert {f.account_id for f in list_findings(s, kind="impersonation")} == {"3xbitofficial", "3xbitnewbie",
                                                                                   "3xbitsecond"}


def test_profile_and_photos(tmp_path, fake):
    fake.route("/profile/3xbitofficial", {}, "profile_page.html", content_type=HTML)
    fake.route("/graphql", body_contains='"operationName":"visionProfile"', file="profile.json")
    fake.route("/graphql", body_contains='"operationName":"visionProfilePhotoList","variables":{"userId":"3xbitofficial","pcursor":""',
               file="photos.json")
    fake.route("/graphql", body_contains='"pcursor":"1.763e+12"', file="photos_p2.json")
    cfg = _cfg(tmp_path, fake)
    run = run_crawl(cfg, "kuaishou", "timeline", account="3xbitofficial")
    assert run["status"] == "ok", run
    with Store.open(cfg.db_path) as s:
        assert s.one("SELECT name FROM profile_snapshots")["name"] == "北京理工大学"
        posts = {p["post_id"]: p for p in s.query("SELECT * FROM posts")}
    assert posts["3xq9abc"]["likes"] == 11000 and posts["3xq9abd"]["likes"] is None
    assert posts["3xq9aaa"]["likes"] == 856  # the next batch, fetched by the page on scrolling


def test_profile_from_init_state_and_works_from_the_rest_list(tmp_path, fake):
    """The 2026 page (MediaCrawler 2e558f1): no visionProfile call — the profile is in INIT_STATE —
    and the works come from the page's signed /rest/v/profile/feed, next batch on scrolling."""
    fake.route("/profile/3xbitofficial", {}, "profile_rest_page.html", content_type=HTML)
    fake.route("/rest/v/profile/feed", {"caver": "2"}, body_contains='"pcursor":""', file="rest_feed.json")
    fake.route("/rest/v/profile/feed", {"caver": "2"}, body_contains='"pcursor":"1.763e+12"', file="rest_feed_p2.json")
    cfg = _cfg(tmp_path, fake)
    run = run_crawl(cfg, "kuaishou", "timeline", account="3xbitofficial")
    assert run["status"] == "ok", run
    with Store.open(cfg.db_path) as s:
        snap = s.one("SELECT * FROM profile_snapshots")
        posts = {p["post_id"]: p for p in s.query("SELECT * FROM posts")}
    assert snap["name"] == "北京理工大学" and snap["followers"] == 312000 and snap["posts_count"] == 1203
    assert set(posts) == {"3xr7rest1", "3xr7rest2"} and posts["3xr7rest1"]["likes"] == 11000
    assert all(q["__NS_hxfalcon"].startswith("SIG") for p, q, _ in fake.requests if p == "/rest/v/profile/feed")


def test_unsigned_rest_list_is_blocked(tmp_path, fake):
    fake.route("/profile/3xbitofficial", {}, "profile_rest_page.html", content_type=HTML)
    fake.route("/rest/v/profile/feed", {}, body='{"result":50,"error_msg":"请求签名校验失败"}')
    run = run_crawl(_cfg(tmp_path, fake), "kuaishou", "timeline", account="3xbitofficial")
    assert run["status"] == "blocked" and "result=50" in run["reason"] and "未签名" in run["reason"], run
    assert "限流" not in run["reason"]


def test_other_graphql_operations_are_not_the_user_search(tmp_path, fake, monkeypatch):
    """One /graphql URL carries every operation: the hot list and a video search answered with
    result 1 are not the user search, so the run is blocked naming it — never ok with 0 accounts."""
    # The wanted call never comes: shorten the spider's page wait (12 s) to what the local page needs.
    monkeypatch.setenv(PAGE_WAIT_ENV, "3")
    fake.route("/search/author", {}, "search_page_other_ops.html", content_type=HTML)
    fake.route("/graphql", body_contains='"operationName":"visionHotRank"', file="hot_rank.json")
    fake.route("/graphql", body_contains='"operationName":"visionSearchPhoto"', file="search_photo.json")
    run = run_crawl(_cfg(tmp_path, fake), "kuaishou", "discover", keywords=["北理工"])
    assert len([p for p, _, _ in fake.requests if p == "/graphql"]) == 2   # both answered, neither wanted
    assert run["status"] == "blocked" and "visionSearchUser" in run["reason"], run


def test_refused_query_is_blocked(tmp_path, fake):
    fake.route("/search/author", {}, "search_page.html", content_type=HTML)
    fake.route("/graphql", body='{"data":{"visionSearchUser":{"result":2,"users":[]}}}')
    run = run_crawl(_cfg(tmp_path, fake), "kuaishou", "discover", keywords=["北理工"])
    # 2 is Kuaishou's rate limit: the remedy is a slower pace, not a login
    assert run["status"] == "blocked" and "result=2" in run["reason"] and "限流" in run["reason"], run
    assert "watcher login" not in run["reason"]


def test_rate_limited_works_list_is_blocked_as_a_rate_limit(tmp_path, fake):
    """``result: 2`` on the signed /rest/v/ list is the server's rate limit (MediaCrawler 071c8c0):
    blocked, saying 限流 and how to slow down, and the platform cools down before its next round."""
    fake.route("/profile/3xbitofficial", {}, "profile_rest_page.html", content_type=HTML)
    fake.route("/rest/v/profile/feed", {}, body='{"result":2,"host-name":"public-bjxy-c23-kce-node123"}')
    cfg = _cfg(tmp_path, fake)
    run = run_crawl(cfg, "kuaishou", "timeline", account="3xbitofficial")
    assert run["status"] == "blocked" and "result=2" in run["reason"], run
    assert "限流" in run["reason"] and "稍后重试" in run["reason"] and "platforms.kuaishou.interval" in run["reason"]
    with Store.open(cfg.db_path) as s:
        assert records.state(s, "kuaishou").cooling()


def test_truncated_answer_fails_the_run(tmp_path, fake):
    fake.route("/search/author", {}, "search_page.html", content_type=HTML)
    fake.route("/graphql", body='{"data":{"visionSearchUser":{"result":1,"users":[{"user_id":"3x')
    run = run_crawl(_cfg(tmp_path, fake), "kuaishou", "discover", keywords=["北理工"])
    assert run["status"] == "failed" and "JSON" in run["reason"], run


VIDEO_CASES = {"3xq9abc": ("video_page.html", 1), "3xq9gone": ("video_gone.html", 0),
               "3xq9what": ("video_unknown.html", None)}


def test_video_check_reads_the_page(tmp_path, fake):
    """Live: the page's embedded data has the work. Gone: the page says so. Anything else
    proves nothing — a deletion is never concluded from a missing answer. One round checks
    all three works, as a real round checks an account's posts (none of them is a refusal)."""
    for photo, (page, _) in VIDEO_CASES.items():
        fake.route(f"/short-video/{photo}", {}, page, content_type=HTML)
    cfg = _cfg(tmp_path, fake)
    result = run_round(cfg, "kuaishou", "check", [Target.for_mode("check", "3xbitofficial", p) for p in VIDEO_CASES])
    runs = {r.target: r for r in result.runs}
    assert set(runs) == {f"3xbitofficial/{p}" for p in VIDEO_CASES}, result
    with Store.open(cfg.db_path) as s:
        for photo, (page, expected) in VIDEO_CASES.items():
            run = runs[f"3xbitofficial/{photo}"]
            assert run.status == "ok", (photo, page, run)
            rows = s.query("SELECT exists_flag, reason FROM post_checks WHERE post_id = ? AND crawl_run_id = ?",
                           (photo, run.id))
            assert len(rows) == 1 and rows[0]["exists_flag"] == expected, (photo, page, rows)


@pytest.mark.parametrize("value, expected", [("", 12.0), ("3", 3.0), ("2.5", 2.5), ("0", 12.0), ("500", 12.0),
                                             ("三秒", 12.0), (" 4 ", 4.0)])
def test_the_page_wait_setting(monkeypatch, value, expected):
    monkeypatch.setenv(PAGE_WAIT_ENV, value)
    assert page_wait(12.0) == expected
