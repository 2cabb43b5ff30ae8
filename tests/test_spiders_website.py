import pytest

from tests.conftest import write_config
from tests.fakeplatform import FIXTURES, FakePlatform
from tests.spider_helpers import run_crawl, run_targets
from watcher.config import load_config
from watcher.store import Store


@pytest.fixture
def fake():
    f = FakePlatform(FIXTURES / "website")
    with f:
        yield f


def _cfg(tmp_path, fake, path):
    return load_config(write_config(tmp_path / "c", platforms={"website": {
        "enabled": True, "rate": 50, "retries": 0,
        "sites": [{"id": "www", "name": "学校主页", "url": f"{fake.base_url}{path}"}]}}))


def test_feed_and_html_timelines(tmp_path, fake):
    """A site read from its feed and one read from its HTML page, in one round as the watch
    round reads every site."""
    sites = {"rss": ("/rss.xml", "news.rss", "application/rss+xml"), "www": ("/", "index.html", "text/html; charset=utf-8")}
    for path, file, ctype in sites.values():
        fake.route(path, {}, file, content_type=ctype)
    cfg = load_config(write_config(tmp_path / "c", platforms={"website": {
        "enabled": True, "rate": 50, "retries": 0,
        "sites": [{"id": sid, "name": "学校主页", "url": f"{fake.base_url}{path}"} for sid, (path, _, _) in sites.items()]}}))
    runs = run_targets(cfg, "website", "timeline", list(sites))
    with Store.open(cfg.db_path) as s:
        names = {sid: [r["name"] for r in s.query("SELECT name FROM profile_snapshots WHERE account_id = ?", [sid])]
                 for sid in sites}
        texts = {sid: sorted(p["text"] for p in s.query("SELECT text FROM posts WHERE account_id = ?", [sid]))
                 for sid in sites}
    for sid, (_, file, _) in sites.items():
        assert runs[sid]["status"] == "ok", (file, runs[sid])
        assert names[sid] and names[sid][0].startswith("北京理工大学"), (file, names[sid])
        assert len(texts[sid]) == 2 and any("冬季安全工作会议" in t for t in texts[sid]), (file, texts[sid])


def test_check_article(tmp_path, fake):
    """A page that is there and one that is gone (404), checked in one round."""
    pages = {"/xww/a1.htm": (200, 1), "/xww/a2.htm": (404, 0)}
    for path, (status, _) in pages.items():
        fake.route(path, {}, body="<html><title>a1</title></html>", status=status, content_type="text/html")
    cfg = _cfg(tmp_path, fake, "/")
    urls = {path: f"{fake.base_url}{path}" for path in pages}
    runs = run_targets(cfg, "website", "check", ["www"] * len(pages), posts=list(urls.values()))
    with Store.open(cfg.db_path) as s:
        checks = {p: s.query("SELECT crawl_run_id, exists_flag FROM post_checks WHERE post_id = ?", [u])
                  for p, u in urls.items()}
    for path, (status, expected) in pages.items():
        run = runs[urls[path]]
        assert run["status"] == "ok", (status, run)
        assert [r["exists_flag"] for r in checks[path]] == [expected], (status, checks[path])
        assert checks[path][0]["crawl_run_id"] == run["id"], (status, checks[path], run)


def test_unknown_site_is_a_clear_failure(tmp_path, fake):
    run = run_crawl(_cfg(tmp_path, fake, "/"), "website", "timeline", account="nope")
    assert run["status"] == "failed" and "nope" in run["reason"]


def test_truncated_feed_fails_and_keeps_what_was_stored(tmp_path, fake):
    whole = (FIXTURES / "website" / "news.rss").read_text(encoding="utf-8")
    fake.route("/rss.xml", {}, body=whole[: len(whole) // 2], content_type="application/rss+xml")
    cfg = _cfg(tmp_path, fake, "/rss.xml")
    run = run_crawl(cfg, "website", "timeline", account="www")
    assert run["status"] == "failed" and "不完整" in run["reason"], run
    with Store.open(cfg.db_path) as s:
        assert s.scalar("SELECT COUNT(*) FROM posts") == 0  # half a feed is not stored as the feed
