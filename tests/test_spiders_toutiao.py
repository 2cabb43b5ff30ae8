from pathlib import Path

import pytest

from spiders.browser import CHROMIUM
from tests.fakeplatform import FIXTURES, FakePlatform
from tests.spider_helpers import platform_config
from watcher.crawling.runner import run_crawl
from watcher.store import Store

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium (/usr/bin/chromium) not installed")]
TOKEN = "MS4wLjABAAAAtoutiaobit"


def test_account_feed_through_the_page(tmp_path):
    fake = FakePlatform(FIXTURES / "toutiao")
    fake.route(f"/c/user/token/{TOKEN}/", {}, "user_page.html", content_type="text/html; charset=utf-8")
    fake.route("/api/pc/list/user/feed", {"token": TOKEN}, "feed.json")
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
