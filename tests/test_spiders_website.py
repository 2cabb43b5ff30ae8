import pytest

from tests.conftest import write_config
from tests.fakeplatform import FIXTURES, FakePlatform
from tests.spider_helpers import run_crawl
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


@pytest.mark.parametrize("path, file, ctype", [("/rss.xml", "news.rss", "application/rss+xml"),
                                                ("/", "index.html", "text/html; charset=utf-8")])
def test_feed_and_html_timelines(tmp_path, fake, path, file, ctype):
    fake.route(path, {}, file, content_type=ctype)
    cfg = _cfg(tmp_path, fake, path)
    run = run_crawl(cfg, "website", "timeline", account="www")
    assert run["status"] == "ok", run
    with Store.open(cfg.db_path) as s:
        assert s.one("SELECT name FROM profile_snapshots")["name"].startswith("北京理工大学")
        texts = sorted(p["text"] for p in s.query("SELECT text FROM posts"))
    assert len(texts) == 2 and any("冬季安全工作会议" in t for t in texts)


@pytest.mark.parametrize("status, expected", [(200, 1), (404, 0)])
def test_check_article(tmp_path, fake, status, expected):
    fake.route("/xww/a1.htm", {}, body="<html><title>a1</title></html>", status=status, content_type="text/html")
    cfg = _cfg(tmp_path, fake, "/")
    run = run_crawl(cfg, "website", "check", account="www", post=f"{fake.base_url}/xww/a1.htm")
    assert run["status"] == "ok", run
    with Store.open(cfg.db_path) as s:
        assert s.one("SELECT exists_flag FROM post_checks")["exists_flag"] == expected


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
