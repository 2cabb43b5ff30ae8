"""Douyin in Debian's chromium: the page's own script signs and calls the API, the spider reads it."""

import urllib.parse
from pathlib import Path

import pytest

from spiders.browser import CHROMIUM, PAGE_WAIT_ENV
from tests.fakeplatform import FIXTURES, FakePlatform
from tests.spider_helpers import platform_config, run_crawl, run_targets
from watcher import registry
from watcher.store import Store
from watcher.store.findings import list_findings

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium (/usr/bin/chromium) not installed")]
HTML = "text/html; charset=utf-8"
SEARCH = "/search/" + urllib.parse.quote("北理工")


@pytest.fixture
def fake():
    f = FakePlatform(FIXTURES / "douyin")
    with f:
        yield f


def _cfg(tmp_path, fake):
    return platform_config(tmp_path, "douyin", fake.base_url, timeout=30)


def test_user_search_through_the_page(tmp_path, fake):
    fake.route(SEARCH, {}, "search_page.html", content_type=HTML)
    fake.route("/aweme/v1/web/discover/search/", {"search_channel": "aweme_user_web", "keyword": "北理工", "offset": "0"},
               "user_search.json")
    fake.route("/aweme/v1/web/discover/search/", {"keyword": "北理工", "offset": "10"}, "user_search_p2.json")
    cfg = _cfg(tmp_path, fake)
    with Store.open(cfg.db_path) as s:
        registry.import_file(s, cfg.registry_path)
    run = run_crawl(cfg, "douyin", "discover", keywords=["北理工"])
    assert run["status"] == "ok", run
    api = [q for path, q, _ in fake.requests if path == "/aweme/v1/web/discover/search/"]
    assert api and api[0]["a_bogus"].startswith("DFSzswVO")   # signed by the page, not by us
    with Store.open(cfg.db_path) as s:
        acc = {a["account_id"]: a for a in s.query("SELECT * FROM accounts")}
        assert acc["MS4wLjABAAAAbitofficial"]["verdict"] == "registered"
        assert acc["MS4wLjABAAAAclinic"]["verdict"] == "clear"
        # the second page came from scrolling the page, as a reader would
        assert {f.account_id for f in list_findings(s, kind="impersonation")} == {"MS4wLjABAAAAconfess",
                                                                                   "MS4wLjABAAAAzhaosheng"}


def test_user_page_profile_and_videos(tmp_path, fake):
    fake.route("/user/MS4wLjABAAAAbitofficial", {}, "user_page.html", content_type=HTML)
    fake.route("/aweme/v1/web/user/profile/other/", {}, "profile.json")
    fake.route("/aweme/v1/web/aweme/post/", {"max_cursor": "0"}, "posts.json")
    fake.route("/aweme/v1/web/aweme/post/", {"max_cursor": "1763000000000"}, "posts_p2.json")
    cfg = _cfg(tmp_path, fake)
    run = run_crawl(cfg, "douyin", "timeline", account="MS4wLjABAAAAbitofficial")
    assert run["status"] == "ok", run
    with Store.open(cfg.db_path) as s:
        assert s.one("SELECT followers FROM profile_snapshots")["followers"] == 860000
        assert s.scalar("SELECT COUNT(*) FROM posts") == 3  # the third came from scrolling
        assert s.one("SELECT likes FROM posts WHERE post_id = '7430000000000000099'")["likes"] == 4321


def test_profile_streamed_in_the_page_data_or_in_render_data(tmp_path, fake):
    """The 2025–26 page streams the profile (self.__pace_f) and calls only aweme/post; the page
    before it rendered the profile from RENDER_DATA (user.user). Both in one round."""
    from spiders.base import Target
    from watcher.rounds.engine import run_round

    fake.route("/user/MS4wLjABAAAAbitofficial", {}, "user_page_2026.html", content_type=HTML)
    fake.route("/user/MS4wLjABAAAArenderdata", {}, "user_page_render_data.html", content_type=HTML)
    fake.route("/aweme/v1/web/aweme/post/", {}, "posts_p2.json")
    cfg = _cfg(tmp_path, fake)
    accounts = ("MS4wLjABAAAAbitofficial", "MS4wLjABAAAArenderdata")
    result = run_round(cfg, "douyin", "timeline", [Target.for_mode("timeline", a) for a in accounts])
    assert [r.status for r in result.runs] == ["ok", "ok"], result.runs
    assert not [p for p, _, _ in fake.requests if "profile/other" in p]
    with Store.open(cfg.db_path) as s:
        snaps = {r["account_id"]: r for r in s.query("SELECT * FROM profile_snapshots")}
        assert s.scalar("SELECT COUNT(*) FROM posts") >= 1
    streamed, rendered = snaps["MS4wLjABAAAAbitofficial"], snaps["MS4wLjABAAAArenderdata"]
    assert streamed["name"] == "北京理工大学" and streamed["followers"] == 860000 and streamed["posts_count"] == 520
    assert streamed["verified_reason"] == "北京理工大学官方账号"
    assert rendered["name"] == "北京理工大学研究生院" and rendered["followers"] == 52000
    assert rendered["avatar_url"].startswith("https://p3-pc.douyinpic.com/img/aweme-avatar/")


@pytest.mark.parametrize("page, api, words", [
    ("login_page.html", None, "登录"),
    ("search_page.html", '{"status_code":2483,"status_msg":"请登录后再试"}', "2483"),
])
def test_login_wall_and_refusal_are_blocked(tmp_path, fake, page, api, words, monkeypatch):
    # The login page never makes the call: the spider's page wait (12 s) is all the test would
    # spend; the local page has made every call it will make well within 3 s.
    monkeypatch.setenv(PAGE_WAIT_ENV, "3")
    fake.route(SEARCH, {}, page, content_type=HTML)
    if api:
        fake.route("/aweme/v1/web/discover/search/", {}, body=api)
    run = run_crawl(_cfg(tmp_path, fake), "douyin", "discover", keywords=["北理工"])
    assert run["status"] == "blocked" and words in run["reason"], run


def test_truncated_api_body_fails_the_run(tmp_path, fake):
    fake.route(SEARCH, {}, "search_page.html", content_type=HTML)
    fake.route("/aweme/v1/web/discover/search/", {}, body='{"status_code":0,"user_list":[{"user_info":{"nick')
    run = run_crawl(_cfg(tmp_path, fake), "douyin", "discover", keywords=["北理工"])
    assert run["status"] == "failed" and "JSON" in run["reason"], run


def test_video_check_in_a_round_of_several_targets_starts_one_browser(tmp_path, fake):
    """A live video and a deleted one, checked in one round (as a watch round checks them):
    each its own answer, and the round's one browser served both."""
    videos = {"7440000000000000001": ("detail_live.json", 1), "7440000000000000002": ("detail_gone.json", 0)}
    for aweme, (file, _) in videos.items():
        fake.route(f"/video/{aweme}", {}, "video_page.html", content_type=HTML)
        fake.route("/aweme/v1/web/aweme/detail/", {"aweme_id": aweme}, file)
    cfg = _cfg(tmp_path, fake)
    runs = run_targets(cfg, "douyin", "check", ["MS4wLjABAAAAbitofficial"] * len(videos), posts=list(videos))
    with Store.open(cfg.db_path) as s:
        checks = {a: s.query("SELECT crawl_run_id, exists_flag FROM post_checks WHERE post_id = ?", [a]) for a in videos}
        details = s.one("SELECT details FROM crawl_rounds")["details"]
    for aweme, (file, expected) in videos.items():
        assert runs[aweme]["status"] == "ok", (file, runs[aweme])
        assert [r["exists_flag"] for r in checks[aweme]] == [expected], (file, checks[aweme])
        assert checks[aweme][0]["crawl_run_id"] == runs[aweme]["id"], (file, checks[aweme], runs[aweme])
    import json
    assert json.loads(details)["browsers"] == 1


def test_the_platform_page_cannot_make_the_browser_reach_an_internal_address(tmp_path, fake):
    """A search result's avatar (strangers' data) rendered by the platform's page: the crawl's
    browser must not request it from an internal address, nor file:, while the page's own API
    call on the configured host still works."""
    from tests.test_fetch_confined import Server, body

    internal = Server({"/secret.png": body(b"\x89PNG secret")})
    with internal:
        page = (FIXTURES / "douyin" / "video_page.html").read_text(encoding="utf-8").replace(
            "</body>", f'<img src="{internal.base}/secret.png"><img src="http://[::ffff:127.0.0.1]:'
                       f'{internal.httpd.server_port}/secret.png"><iframe src="file:///etc/passwd"></iframe></body>')
        aweme = "7440000000000000001"
        fake.route(f"/video/{aweme}", {}, body=page, content_type=HTML)
        fake.route("/aweme/v1/web/aweme/detail/", {"aweme_id": aweme}, "detail_live.json")
        run = run_crawl(_cfg(tmp_path, fake), "douyin", "check", account="MS4wLjABAAAAbitofficial", post=aweme)
    assert run["status"] == "ok", run
    assert internal.requests == []


def test_browser_abort_predicate():
    from types import SimpleNamespace

    from watcher.fetchguard import FetchPolicy, browser_abort

    abort = browser_abort(FetchPolicy(trusted={("127.0.0.1", 8000)}))
    asked = {u: abort(SimpleNamespace(url=u)) for u in (
        "http://127.0.0.1:8000/api", "https://p3.douyinpic.com/a.jpeg", "data:image/png;base64,AA",
        "http://127.0.0.1:6379/", "http://169.254.169.254/latest/meta-data", "http://[::1]:8000/", "http://10.0.0.2/",
        "http://localhost:8000/", "file:///etc/passwd", "http://[::ffff:127.0.0.1]:9/", "chrome://settings")}
    assert [u for u, a in asked.items() if not a] == [
        "http://127.0.0.1:8000/api", "https://p3.douyinpic.com/a.jpeg", "data:image/png;base64,AA"], asked
