"""The WeChat (Sogou) spider against recorded HTML on 127.0.0.1."""

import pytest

from tests.fakeplatform import FIXTURES, FakePlatform
from tests.spider_helpers import platform_config, run_crawl
from watcher import registry
from watcher.rounds.engine import RoundError
from watcher.store import Store
from watcher.store.findings import list_findings

HTML = "text/html; charset=utf-8"


@pytest.fixture
def fake():
    f = FakePlatform(FIXTURES / "wechat")
    with f:
        yield f


def _cfg(tmp_path, fake):
    return platform_config(tmp_path, "wechat", fake.base_url, pages=1)


def test_discovery_parses_accounts_and_flags_suspects(tmp_path, fake):
    fake.route("/weixin", {"type": "1", "query": "北理工", "page": "1"}, "search_p1.html", content_type=HTML)
    fake.route("/weixin", {"type": "1", "query": "北理工", "page": "2"}, "search_p2.html", content_type=HTML)
    cfg = platform_config(tmp_path, "wechat", fake.base_url, pages=3)
    with Store.open(cfg.db_path) as s:
        registry.import_file(s, cfg.registry_path)
    run = run_crawl(cfg, "wechat", "discover", keywords=["北理工"])
    assert run["status"] == "ok", run
    with Store.open(cfg.db_path) as s:
        acc = {a["account_id"]: a for a in s.query("SELECT * FROM accounts")}
        assert acc["gh_bit_official"]["verdict"] == "registered"
        assert acc["gh_bit_official"]["verified_reason"] == "北京理工大学"
        assert acc["bitzszx2026"]["name"] == "北理工招生咨询" and acc["bitzszx2026"]["verdict"] == "suspect"
        assert acc["dblilg"]["verdict"] == "clear" and acc["dblilg"]["avatar_url"] is None
        assert acc["bitbiaobai"]["name"] == "北理工表白墙"  # page 2, reached by Sogou's "下一页"
        assert sorted(f.account_id for f in list_findings(s, kind="impersonation")) == ["bitbiaobai", "bitzszx2026"]


def test_no_result_page_is_ok_and_empty(tmp_path, fake):
    fake.route("/weixin", {}, "noresult.html", content_type=HTML)
    run = run_crawl(_cfg(tmp_path, fake), "wechat", "discover", keywords=["北理工xyz"])
    assert run["status"] == "ok" and run["items"] == 0


@pytest.mark.parametrize("kw, status", [
    ({"redirect": "/antispider/?from=%2Fweixin%3Ftype%3D1"}, "blocked"),
    ({"file": "antispider.html", "content_type": HTML}, "blocked"),
    # the 2025–26 variant: served in place with HTTP 200, another notice, the captcha form
    ({"body": '<!DOCTYPE html><html><head><title>搜狗搜索</title></head><body><div class="main">'
              '<p>用户您好，您的访问过于频繁，为确认本次访问为正常用户行为，需要您协助验证。</p>'
              '<form name="authform"><input id="seccodeInput" name="c"><img id="seccodeImage" '
              'src="/antispider/util/seccode.php?tc=1"></form></div></body></html>', "content_type": HTML}, "blocked"),
    ({"body": "<html><body><div>改版了</div></body></html>", "content_type": HTML}, "failed"),
])
def test_captcha_and_changed_pages(tmp_path, fake, kw, status):
    fake.route("/weixin", {}, **kw)
    fake.route("/antispider/", {}, "antispider.html", content_type=HTML)
    run = run_crawl(_cfg(tmp_path, fake), "wechat", "discover", keywords=["北理工"])
    assert run["status"] == status, run


def test_timeline_says_why_it_cannot(tmp_path, fake):
    with pytest.raises(RoundError, match="微信内"):
        run_crawl(_cfg(tmp_path, fake), "wechat", "timeline", account="gh_bit_official")


def test_the_in_place_captcha_page_is_blocked_with_what_to_do(tmp_path):
    """HTTP 200 with the captcha instead of the results (in-process): blocked, never "no result"."""
    from scrapy.http import Request, TextResponse

    from spiders import catalog
    from spiders.base import Problem, Target

    cfg = platform_config(tmp_path, "wechat", "https://weixin.sogou.com")
    spider = catalog.spider_class("wechat")(cfg=cfg, mode="discover", targets=[Target.for_mode("discover", "北理工")],
                                            run_ids={}, round_id=0)
    page = ('<!DOCTYPE html><html><head><title>搜狗搜索</title></head><body><div class="content-box">'
            '<p class="p2">用户您好，您的访问过于频繁，为确认本次访问为正常用户行为，需要您协助验证。</p>'
            '<p class="ip-time-p">IP：203.0.113.7<br>访问时间：2026.11.23 10:12:45</p></div>'
            "<script>sendLog('verify_page');</script></body></html>")
    url = "https://weixin.sogou.com/weixin?type=1&query=x&ie=utf8&page=1"
    for parse in (spider.parse_search, spider.parse_articles):
        with pytest.raises(Problem) as e:
            list(parse(TextResponse(url=url, body=page.encode(), encoding="utf-8", status=200,
                                    request=Request(url, meta={"target": "北理工"})), keyword="北理工", page=1))
        assert e.value.status == "blocked" and "验证码" in e.value.reason
        assert "降低 platforms.wechat" in e.value.reason and "SNUID" in e.value.reason
