from pathlib import Path

import pytest

from spiders.browser import CHROMIUM
from tests.fakeplatform import FIXTURES, FakePlatform
from tests.spider_helpers import platform_config, run_crawl, run_targets
from watcher.store import Store
from watcher.store.findings import list_findings

browser = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium (/usr/bin/chromium) not installed")
HTML = "text/html; charset=utf-8"
TOKEN = "MS4wLjABAAAAtoutiaobit"


@pytest.mark.browser
@browser
def test_account_feed_through_the_page(tmp_path):
    fake = FakePlatform(FIXTURES / "toutiao")
    fake.route(f"/c/user/token/{TOKEN}/", {}, "user_page.html", content_type="text/html; charset=utf-8")
    fake.route("/api/pc/list/user/feed", {"token": TOKEN, "max_behot_time": "0"}, "feed.json")
    fake.route("/api/pc/list/user/feed", {"token": TOKEN, "max_behot_time": "1763000000"}, "feed_p2.json")
    with fake:
        cfg = platform_config(tmp_path, "toutiao", fake.base_url, timeout=30)
        run = run_crawl(cfg, "toutiao", "timeline", account=TOKEN)
        signed = [q for path, q, _ in fake.requests if path == "/api/pc/list/user/feed"]
    assert run["status"] == "ok", run
    assert signed[0]["_signature"].startswith("_02B4Z6wo")
    with Store.open(cfg.db_path) as s:
        assert s.one("SELECT name FROM profile_snapshots")["name"] == "北京理工大学"
        posts = {p["post_id"]: p for p in s.query("SELECT * FROM posts")}
    assert posts["7440000000000000101"]["comments"] == 23 and posts["7440000000000000100"]["likes"] is None
    # the second batch came from scrolling: the page itself asked for it with the cursor
    assert posts["7430000000000000055"]["likes"] == 52
    assert signed[-1]["max_behot_time"] == "1763000000"


@pytest.mark.browser
@browser
def test_the_2026_page_feed_signed_with_a_bogus(tmp_path):
    """The 2026 account page calls /api/pc/list/feed (DIYgod/RSSHub toutiao/user.tsx) with
    articles (60), 微头条 (32, content without title) and videos (49): all read, each with its URL."""
    fake = FakePlatform(FIXTURES / "toutiao")
    fake.route(f"/c/user/token/{TOKEN}/", {}, "user_page_2026.html", content_type=HTML)
    fake.route("/api/pc/list/feed", {"token": TOKEN, "category": "profile_all"}, "feed_2026.json")
    with fake:
        cfg = platform_config(tmp_path, "toutiao", fake.base_url, timeout=30)
        run = run_crawl(cfg, "toutiao", "timeline", account=TOKEN)
        signed = [q for path, q, _ in fake.requests if path == "/api/pc/list/feed"]
    assert run["status"] == "ok", run
    assert signed and signed[0]["a_bogus"].startswith("mf0RDcgD")
    with Store.open(cfg.db_path) as s:
        snap = s.one("SELECT * FROM profile_snapshots")
        posts = {p["post_id"]: p for p in s.query("SELECT * FROM posts")}
    assert snap["name"] == "北京理工大学" and snap["verified_reason"] == "北京理工大学官方账号"
    assert posts["7576100000000000201"]["url"].endswith("/article/7576100000000000201/")
    w = posts["7576100000000000202"]
    assert w["text"] == "今天的中关村校区，银杏叶铺满了小路🍂" and w["url"].endswith("/w/7576100000000000202/")
    assert w["likes"] == 1300
    video = posts["7576100000000000203"]
    assert video["url"].endswith("/video/7576100000000000203/") and video["likes"] == 530


@pytest.fixture
def search():
    f = FakePlatform(FIXTURES / "toutiao")
    with f:
        yield f


def _search_cfg(tmp_path, fake):
    return platform_config(tmp_path, "toutiao", fake.base_url, pages=3)


def test_user_search_cards_paginated_into_findings(tmp_path, search):
    search.route("/search", {"keyword": "北理工", "pd": "user", "source": "input"}, "search_user_p0.html",
                 content_type=HTML)
    search.route("/search", {"keyword": "北理工", "pd": "user", "page_num": "1",
                             "search_id": "202611221030001234ABCD"}, "search_user_p1.html", content_type=HTML)
    search.route("/search", {"keyword": "北理工", "pd": "user", "page_num": "2"}, "search_none.html", content_type=HTML)
    cfg = _search_cfg(tmp_path, search)
    run = run_crawl(cfg, "toutiao", "discover", keywords=["北理工"])
    assert run["status"] == "ok", run
    with Store.open(cfg.db_path) as s:
        acc = {a["account_id"]: a for a in s.query("SELECT * FROM accounts")}
        assert acc[TOKEN]["followers"] == 402311 and acc[TOKEN]["verified"] == 1
        assert "MS4wLjABAAAAxinsheng" in acc                      # page 2
        assert acc["MS4wLjABAAAAlliaoguan"]["verdict"] == "clear"   # 东北理疗馆: not our 北理
        assert acc["MS4wLjABAAAAzhuhai"]["verdict"] == "clear"      # another institution
        assert len(acc) == 5                                        # the article card is no account
        found = {f.account_id for f in list_findings(s, kind="impersonation")}
    assert found == {TOKEN, "MS4wLjABAAAAkaoyanxz", "MS4wLjABAAAAxinsheng"}


def test_bare_shell_is_retried_then_blocked(tmp_path, search):
    search.route("/search", {"keyword": "北理工", "pd": "user"}, "search_shell.html", content_type=HTML)
    run = run_crawl(_search_cfg(tmp_path, search), "toutiao", "discover", keywords=["北理工"])
    assert run["status"] == "blocked" and "页面框架" in run["reason"], run
    retried = [q for path, q, _ in search.requests if path == "/search" and q.get("source") == "pagination"]
    assert retried and retried[0]["search_id"] == "202611221030009999EEEE"


def test_no_result_is_ok(tmp_path, search):
    search.route("/search", {"keyword": "北理工xyz"}, "search_none.html", content_type=HTML)
    run = run_crawl(_search_cfg(tmp_path, search), "toutiao", "discover", keywords=["北理工xyz"])
    assert run["status"] == "ok", run


def test_captcha_redirect_is_blocked(tmp_path, search):
    search.route("/search", {}, redirect="/verify/captcha?from=search")
    run = run_crawl(_search_cfg(tmp_path, search), "toutiao", "discover", keywords=["北理工"])
    assert run["status"] == "blocked", run


@pytest.mark.browser
@browser
@pytest.mark.parametrize("body, status, words", [
    ('{"message":"error","data":[]}', "blocked", "message=error"),              # a refusal
    ('{"message":"success","data":[{"group_id":"74400', "failed", "JSON"),       # a cut answer
])
def test_refused_or_cut_feed_is_never_silent(tmp_path, search, body, status, words):
    search.route(f"/c/user/token/{TOKEN}/", {}, "user_page.html", content_type=HTML)
    search.route("/api/pc/list/user/feed", {}, body=body)
    run = run_crawl(platform_config(tmp_path, "toutiao", search.base_url, timeout=30), "toutiao", "timeline",
                    account=TOKEN)
    assert run["status"] == status and words in run["reason"], run


def test_broken_card_does_not_hide_the_others(tmp_path, search):
    page = (FIXTURES / "toutiao" / "search_user_p0.html").read_text(encoding="utf-8")
    broken = page.replace('{"data": {"cell_type": 33, "user_id": "3000000777"', '{"data": {"cell_type": 33, "user_id": "30', 1)
    search.route("/search", {"keyword": "北理工", "source": "input"}, body=broken, content_type=HTML)
    search.route("/search", {"keyword": "北理工", "page_num": "1"}, "search_none.html", content_type=HTML)
    cfg = _search_cfg(tmp_path, search)
    run = run_crawl(cfg, "toutiao", "discover", keywords=["北理工"])
    assert run["status"] == "ok", run
    with Store.open(cfg.db_path) as s:
        ids = {a["account_id"] for a in s.query("SELECT account_id FROM accounts")}
    assert TOKEN in ids and "MS4wLjABAAAAkaoyanxz" not in ids
    assert run["details"]["broken_cards"] == 1, run


ARTICLES = {"7440000000000000101": ("article_page.html", 1),
            "7440000000000000102": ("article_gone.html", 0),
            "7440000000000000103": ("user_page.html", None),
            "7440000000000000104": ("article_render_data.html", 1)}


@pytest.mark.browser
@browser
def test_article_check_reads_the_page(tmp_path, search):
    """There: the embedded data has the article. Gone: the page says so. Anything else (here an
    unrelated page) proves nothing. All four in one round, as a watch round checks them."""
    for gid, (page, _) in ARTICLES.items():
        search.route(f"/article/{gid}/", {}, page, content_type=HTML)
    search.route("/api/pc/list/user/feed", {}, "feed_p2.json")
    cfg = platform_config(tmp_path, "toutiao", search.base_url, timeout=30)
    runs = run_targets(cfg, "toutiao", "check", [TOKEN] * len(ARTICLES), posts=list(ARTICLES))
    with Store.open(cfg.db_path) as s:
        checks = {gid: s.query("SELECT crawl_run_id, exists_flag FROM post_checks WHERE post_id = ?", [gid])
                  for gid in ARTICLES}
    for gid, (page, expected) in ARTICLES.items():
        assert runs[gid]["status"] == "ok", (gid, page, runs[gid])
        assert [r["exists_flag"] for r in checks[gid]] == [expected], (gid, page, checks[gid])
        assert checks[gid][0]["crawl_run_id"] == runs[gid]["id"], (gid, page, checks[gid], runs[gid])


VIDEO = "7576100000000000203"
GONE_VIDEO = "7576100000000000204"


@pytest.mark.browser
@browser
def test_a_video_is_checked_at_its_own_page(tmp_path, search):
    """A video lives under /video/ID/, not /article/ID/: the check opens the stored post URL and
    reads the video page's data.initialVideo (yt-dlp toutiao.py), or its "视频已删除"."""
    videos = {VIDEO: ("video_render_data.html", 1), GONE_VIDEO: ("video_gone.html", 0)}
    for vid, (page, _) in videos.items():
        search.route(f"/video/{vid}/", {}, page, content_type=HTML)
    cfg = platform_config(tmp_path, "toutiao", search.base_url, timeout=30)
    urls = {vid: f"{search.base_url}/video/{vid}/" for vid in videos}
    runs = run_targets(cfg, "toutiao", "check", [TOKEN] * len(videos), posts=list(urls.values()))
    assert not [p for p, _, _ in search.requests if p.startswith("/article/")]
    with Store.open(cfg.db_path) as s:
        rows = s.query("SELECT post_id, crawl_run_id, exists_flag, reason FROM post_checks")
    for vid, (page, expected) in videos.items():
        run = runs[urls[vid]]
        assert run["status"] == "ok", (page, run)
        mine = [r for r in rows if r["crawl_run_id"] == run["id"]]
        assert len(mine) == 1, (page, rows)
        row = mine[0]
        assert row["post_id"] == vid and row["exists_flag"] == expected, (page, row)
        if not expected:
            assert "视频" in row["reason"], (page, row)


def test_a_round_checks_each_post_at_its_stored_url(tmp_path):
    """The posts a watch round confirms are handed over by their stored URLs (check_by="url"):
    a video at /video/ID/, an article at /article/ID/, a post stored without a URL by its ID."""
    from spiders.items import Post
    from watcher.rounds.analysis import checks_due
    from watcher.store import posts

    cfg = platform_config(tmp_path, "toutiao", "https://www.toutiao.com")
    with Store.open(cfg.db_path) as s:
        with s.transaction():
            for gid, url in ((VIDEO, f"https://www.toutiao.com/video/{VIDEO}/"),
                             ("7576100000000000201", "https://www.toutiao.com/article/7576100000000000201/"),
                             ("7576100000000000209", None)):
                posts.save_post(s, Post(platform="toutiao", account_id=TOKEN, post_id=gid, text="t", url=url), None)
        posts.mark_pending(s, "toutiao", [VIDEO, "7576100000000000201", "7576100000000000209"], "2026-11-23T00:00:00+00:00")
        due = checks_due(s, "toutiao", TOKEN)
    assert sorted(due) == sorted([f"https://www.toutiao.com/video/{VIDEO}/",
                                  "https://www.toutiao.com/article/7576100000000000201/", "7576100000000000209"])


def test_the_checked_page_follows_the_post_kind(tmp_path):
    from spiders.base import Problem
    from spiders.toutiao import ToutiaoSpider

    spider = ToutiaoSpider(platform_config(tmp_path, "toutiao", "https://www.toutiao.com"), "check", [])
    assert spider._post_page(VIDEO) == (f"https://www.toutiao.com/article/{VIDEO}/", VIDEO)
    assert spider._post_page(f"https://www.toutiao.com/video/{VIDEO}/") == (f"https://www.toutiao.com/video/{VIDEO}/", VIDEO)
    assert spider._post_page("https://www.toutiao.com/w/7576100000000000202/")[1] == "7576100000000000202"
    with pytest.raises(Problem) as bad:
        spider._post_page("https://www.toutiao.com/c/user/token/x/")
    assert bad.value.status == "failed"
