"""Xiaohongshu in Debian's chromium: the page signs (x-s) and posts its search, the spider reads it."""

from pathlib import Path

import pytest

from spiders.browser import CHROMIUM
from tests.fakeplatform import FIXTURES, FakePlatform
from tests.spider_helpers import platform_config
from watcher.crawling.runner import run_crawl
from watcher.findings import list_findings
from watcher.store import Store

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium (/usr/bin/chromium) not installed")]
HTML = "text/html; charset=utf-8"
API = "/api/sns/web/v1/search/usersearch"


@pytest.fixture
def fake():
    f = FakePlatform(FIXTURES / "xiaohongshu")
    f.route("/search_result", {"keyword": "北理工", "type": "user"}, "search_page.html", content_type=HTML)
    with f:
        yield f


def _cfg(tmp_path, fake):
    return platform_config(tmp_path, "xiaohongshu", fake.base_url, timeout=30)


def test_user_search(tmp_path, fake):
    fake.route(API, body_contains='"page":1,', file="users.json")
    fake.route(API, body_contains='"page":2,', file="users_p2.json")
    cfg = _cfg(tmp_path, fake)
    run = run_crawl(cfg, "xiaohongshu", "discover", keywords=["北理工"])
    assert run["status"] == "ok", run
    signed = [h for path, _, h in fake.requests if path == API]
    assert signed and signed[0].get("x-s", "").startswith("XYW_")
    with Store.open(cfg.db_path) as s:
        acc = {a["account_id"]: a for a in s.query("SELECT * FROM accounts")}
        assert acc["5f1a2b3c000000000100abcd"]["followers"] == 56000
        found = {f["account_id"] for f in list_findings(s, kind="impersonation")}
    # page 2 was requested (and signed) by the page itself when the spider scrolled
    assert found == {"5f1a2b3c000000000100abcd", "64aa00000000000001ffee11", "65bb00000000000001aa2233"}


def test_login_expired_is_blocked(tmp_path, fake):
    fake.route(API, body='{"code":-100,"success":false,"msg":"登录已过期","data":{}}')
    run = run_crawl(_cfg(tmp_path, fake), "xiaohongshu", "discover", keywords=["北理工"])
    assert run["status"] == "blocked" and "-100" in run["reason"]


def test_truncated_answer_fails_the_run(tmp_path, fake):
    fake.route(API, body='{"code":0,"success":true,"data":{"users":[{"id":"5f1a')
    run = run_crawl(_cfg(tmp_path, fake), "xiaohongshu", "discover", keywords=["北理工"])
    assert run["status"] == "failed" and "JSON" in run["reason"], run
