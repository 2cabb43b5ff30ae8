
import pytest

from tests.fakeplatform import FIXTURES, FakePlatform
from tests.spider_helpers import platform_config, run_crawl
from watcher.sentiment import analyze
from watcher.store import Store
from watcher.store.findings import list_findings

KW = "北京理工大学"
HTML = "text/html; charset=utf-8"


@pytest.fixture
def fake():
    f = FakePlatform(FIXTURES / "tieba")
    with f:
        yield f


def _cfg(tmp_path, fake):
    return platform_config(tmp_path, "tieba", fake.base_url, pages=3)


def test_forum_threads_paginated_and_fed_to_sentiment(tmp_path, fake):
    fake.route("/f", {"kw": KW, "pn": "0"}, "forum_p1.html", content_type=HTML)
    fake.route("/f", {"kw": KW, "pn": "50"}, "forum_p2.html", content_type=HTML)
    cfg = _cfg(tmp_path, fake)
    run = run_crawl(cfg, "tieba", "timeline", account=KW)
    assert run["status"] == "ok", run
    with Store.open(cfg.db_path) as s:
        assert s.one("SELECT name FROM profile_snapshots")["name"] == "北京理工大学吧"
        posts = {p["post_id"]: p for p in s.query("SELECT * FROM posts")}
        assert set(posts) == {"9012345601", "9012345602", "9012345599"}
        assert posts["9012345601"]["comments"] == 86 and "良乡校区" in posts["9012345601"]["text"]
        s.conn.execute("UPDATE posts SET created_at = first_seen")
        s.conn.execute("UPDATE posts SET text = '北理工' || text WHERE post_id = '9012345601'")
        assert analyze(cfg, s)["flagged"] == 1  # "北理工…维权"


@pytest.mark.parametrize("kw, status", [
    ({"file": "verify.html", "content_type": HTML}, "blocked"),
    ({"redirect": "https://wappass.baidu.com/static/captcha/tuxing.html"}, "blocked"),
    ({"body": "<html><body>改版</body></html>", "content_type": HTML}, "failed"),
])
def test_captcha_and_changed_page(tmp_path, fake, kw, status):
    fake.route("/f", {}, **kw)
    run = run_crawl(_cfg(tmp_path, fake), "tieba", "timeline", account=KW)
    assert run["status"] == status, run


@pytest.mark.parametrize("body, status, expected", [
    ("<html><title>很抱歉，该贴已被删除</title><body>很抱歉，该贴已被删除。</body></html>", 200, 0),
    ("<html><body><h3 class='core_title_txt'>宿舍楼停电</h3><div class='j_l_post'></div></body></html>", 200, 1),
    ("", 404, 0),
])
def test_check_thread(tmp_path, fake, body, status, expected):
    fake.route("/p/9012345601", {}, body=body, status=status, content_type=HTML)
    cfg = _cfg(tmp_path, fake)
    assert run_crawl(cfg, "tieba", "check", account=KW, post="9012345601")["status"] == "ok"
    with Store.open(cfg.db_path) as s:
        assert s.one("SELECT exists_flag FROM post_checks")["exists_flag"] == expected


def test_forum_search_paginated_into_findings(tmp_path, fake):
    fake.route("/f/search/fm", {"qw": "北理工", "pn": "1"}, "search_fm_p1.html", content_type=HTML)
    fake.route("/f/search/fm", {"qw": "北理工", "pn": "2"}, "search_fm_p2.html", content_type=HTML)
    cfg = _cfg(tmp_path, fake)
    run = run_crawl(cfg, "tieba", "discover", keywords=["北理工"])
    assert run["status"] == "ok", run
    with Store.open(cfg.db_path) as s:
        acc = {a["account_id"]: a for a in s.query("SELECT * FROM accounts")}
        # the forum name is the account id the timeline crawl takes; <em> highlights are text
        assert acc["北京理工大学"]["name"] == "北京理工大学吧" and acc["北京理工大学"]["followers"] == 263511
        assert acc["东北理疗馆"]["verdict"] == "clear"  # page 2, and 北理 there is not our name
        found = {f["account_id"] for f in list_findings(s, kind="impersonation")}
    assert found == {"北京理工大学", "北理工招生"}


def test_forum_search_without_results_is_ok_and_empty(tmp_path, fake):
    fake.route("/f/search/fm", {"qw": "北理工xyz"}, "search_fm_none.html", content_type=HTML)
    cfg = _cfg(tmp_path, fake)
    run = run_crawl(cfg, "tieba", "discover", keywords=["北理工xyz"])
    assert run["status"] == "ok", run


def test_forum_search_captcha_is_blocked(tmp_path, fake):
    fake.route("/f/search/fm", {}, "verify.html", content_type=HTML)
    run = run_crawl(_cfg(tmp_path, fake), "tieba", "discover", keywords=["北理工"])
    assert run["status"] == "blocked" and "验证" in run["reason"], run


def test_the_2026_script_driven_forum_page_fails_with_the_reason(tmp_path, fake):
    """The PC site moved the thread list to signed JSON APIs (MediaCrawler f328ee3): the page has
    no HTML list — a failure that says so, never an empty forum."""
    fake.route("/f", {}, "forum_2026_shell.html", content_type=HTML)
    run = run_crawl(_cfg(tmp_path, fake), "tieba", "timeline", account=KW)
    assert run["status"] == "failed" and "签名 JSON 接口" in run["reason"] and "f328ee3" in run["reason"], run


def test_forum_search_page_changed_fails(tmp_path, fake):
    fake.route("/f/search/fm", {}, body="<html><body><div id='new-layout'></div></body></html>", content_type=HTML)
    run = run_crawl(_cfg(tmp_path, fake), "tieba", "discover", keywords=["北理工"])
    assert run["status"] == "failed" and "改版" in run["reason"], run
