import pytest
from scrapy.http import Request, TextResponse

from spiders import catalog
from spiders.base import Problem, Target
from spiders.items import ProfileSnapshot
from tests.fakeplatform import FIXTURES, FakePlatform
from tests.spider_helpers import platform_config, run_crawl
from watcher import registry
from watcher.store import Store
from watcher.store.findings import list_findings


@pytest.fixture
def fake():
    f = FakePlatform(FIXTURES / "zhihu")
    with f:
        yield f


def _cfg(tmp_path, fake):
    return platform_config(tmp_path, "zhihu", fake.base_url, pages=5)


def test_people_search_paginates_and_flags_suspects(tmp_path, fake):
    fake.route("/api/v4/search_v3", {"t": "people", "q": "北理工", "offset": "0"}, "search_p1.json")
    fake.route("/api/v4/search_v3", {"t": "people", "q": "北理工", "offset": "20"}, "search_p2.json")
    cfg = _cfg(tmp_path, fake)
    with Store.open(cfg.db_path) as s:
        registry.import_file(s, cfg.registry_path)
    run = run_crawl(cfg, "zhihu", "discover", keywords=["北理工"])
    assert run["status"] == "ok", run
    with Store.open(cfg.db_path) as s:
        acc = {a["account_id"]: a for a in s.query("SELECT * FROM accounts")}
        assert set(acc) == {"bit-official", "bit-zhaosheng-help", "orbit-lab"}   # the topic hit is not an account
        assert acc["bit-official"]["verdict"] == "registered"
        assert acc["orbit-lab"]["verdict"] == "clear" and acc["orbit-lab"]["followers"] is None
        assert [f.account_id for f in list_findings(s, kind="impersonation")] == ["bit-zhaosheng-help"]


def test_profile_from_the_people_page_and_articles(tmp_path, fake):
    """The profile is the page's own rendered state (no signature needed; MediaCrawler reads
    the creator the same way), the articles the API."""
    fake.route("/people/bit-official", {}, "people_bit-official.html", content_type="text/html; charset=utf-8")
    fake.route("/api/v4/members/bit-official/articles", {}, "articles.json")
    cfg = _cfg(tmp_path, fake)
    assert run_crawl(cfg, "zhihu", "timeline", account="bit-official")["status"] == "ok"
    with Store.open(cfg.db_path) as s:
        snap = s.one("SELECT * FROM profile_snapshots")
        assert snap["followers"] == 45012 and snap["posts_count"] == 302 and snap["name"] == "北京理工大学"
        assert snap["verified"] == 1 and snap["avatar_url"].startswith("https://picx.zhimg.com/v2-")
        assert s.scalar("SELECT COUNT(*) FROM posts") == 2
    assert not [p for p, _, _ in fake.requests if p == "/api/v4/members/bit-official"]


def _spider(tmp_path, mode, target, post=None):
    cfg = platform_config(tmp_path, "zhihu", "https://www.zhihu.com")
    return catalog.spider_class("zhihu")(cfg=cfg, mode=mode, targets=[Target.for_mode(mode, target, post)],
                                         run_ids={}, round_id=0)


def _answer(url, body, target, status=200):
    return TextResponse(url=url, body=body.encode(), encoding="utf-8", status=status,
                        request=Request(url, meta={"target": target}))


def test_the_article_list_refused_unsigned_says_so_after_the_profile(tmp_path):
    spider = _spider(tmp_path, "timeline", "bit-official")
    page = (FIXTURES / "zhihu" / "people_bit-official.html").read_text(encoding="utf-8")
    out = list(spider.parse_profile(_answer("https://www.zhihu.com/people/bit-official", page, "bit-official"),
                                    token="bit-official"))
    assert isinstance(out[0], ProfileSnapshot) and out[0].verified_reason == "北京理工大学官方账号"
    assert spider.details["pages_complete"] == 1  # so a refusal of the articles makes the run partial
    articles = next(o for o in out if isinstance(o, Request))
    refused = '{"error":{"message":"请求参数异常，请升级客户端后重试。","code":10003}}'
    with pytest.raises(Problem) as e:
        list(spider.parse_articles(_answer(articles.url, refused, "bit-official", 403), token="bit-official", page=1))
    assert e.value.status == "blocked" and "x-zse-96" in e.value.reason


@pytest.mark.parametrize("body, status, outcome", [
    ("", 404, "gone"),
    # the captcha page Zhihu serves instead of the profile
    ('<html><body><script>document.cookie="__zse_ck=001_abc";location.reload()</script></body></html>', 200,
     "blocked"),
    ("<html><body><div id='root'></div></body></html>", 200, "failed"),
])
def test_a_people_page_that_is_not_a_profile(tmp_path, body, status, outcome):
    spider = _spider(tmp_path, "timeline", "bit-official")
    response = _answer("https://www.zhihu.com/people/bit-official", body, "bit-official", status)
    if outcome == "gone":
        assert list(spider.parse_profile(response, token="bit-official"))[0].status == "gone"
        return
    with pytest.raises(Problem) as e:
        list(spider.parse_profile(response, token="bit-official"))
    assert e.value.status == outcome


@pytest.mark.parametrize("kw, words", [
    # 40362 is a temporary restriction on requests that come too often: slow down (a login does not lift it)
    ({"file": "forbidden.json", "status": 403}, ("40362", "降低采集频率")),
    # an unsigned call (MediaCrawler signs every api/v4 call with x-zse-96): a session does not lift it
    ({"body": '{"error":{"message":"请求参数异常，请升级客户端后重试。","code":10003}}', "status": 403},
     ("需要网页端签名", "10003", "仅有登录会话也无法解除")),
    ({"body": '{"error":{"message":"请登录后再进行操作","code":100,"name":"AuthenticationInvalidRequest"}}',
      "status": 401}, ("签名",)),
])
def test_forbidden_is_blocked_with_what_lifts_it(tmp_path, fake, kw, words):
    fake.route("/api/v4/search_v3", {}, **kw)
    run = run_crawl(_cfg(tmp_path, fake), "zhihu", "discover", keywords=["北理工"])
    assert run["status"] == "blocked" and all(w in run["reason"] for w in words), run


def test_article_check_reads_the_article_page(tmp_path, fake):
    fake.route("/p/650000000001", {}, "article_page.html", content_type="text/html; charset=utf-8")
    cfg = _cfg(tmp_path, fake)
    assert run_crawl(cfg, "zhihu", "check", account="bit-official", post="650000000001")["status"] == "ok"
    with Store.open(cfg.db_path) as s:
        assert s.one("SELECT exists_flag FROM post_checks")["exists_flag"] == 1
    spider = _spider(tmp_path, "check", "bit-official", "650000000002")
    gone = list(spider.parse_check(_answer("https://zhuanlan.zhihu.com/p/650000000002", "", "x", 404),
                                   token="bit-official", aid="650000000002"))
    assert gone[0].exists is False


@pytest.mark.parametrize("body, status", [
    ('{"paging":{"is_end":false},"data":[{"type":"search_result","object":{"type":"people","url_token":"bit-', "failed"),
    ("<html><body>请登录后继续</body></html>", "blocked"),
])
def test_cut_body_and_html_instead_of_json_are_never_silent(tmp_path, fake, body, status):
    fake.route("/api/v4/search_v3", {}, body=body)
    cfg = _cfg(tmp_path, fake)
    run = run_crawl(cfg, "zhihu", "discover", keywords=["北理工"])
    assert run["status"] == status, run
    with Store.open(cfg.db_path) as s:
        assert s.scalar("SELECT COUNT(*) FROM accounts") == 0
