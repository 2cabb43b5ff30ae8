import pytest

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
        assert [f["account_id"] for f in list_findings(s, kind="impersonation")] == ["bit-zhaosheng-help"]


def test_member_and_articles(tmp_path, fake):
    fake.route("/api/v4/members/bit-official", {}, "member.json")
    fake.route("/api/v4/members/bit-official/articles", {}, "articles.json")
    cfg = _cfg(tmp_path, fake)
    assert run_crawl(cfg, "zhihu", "timeline", account="bit-official")["status"] == "ok"
    with Store.open(cfg.db_path) as s:
        assert s.one("SELECT followers FROM profile_snapshots")["followers"] == 45000
        assert s.scalar("SELECT COUNT(*) FROM posts") == 2


@pytest.mark.parametrize("kw, words", [
    ({"file": "forbidden.json", "status": 403}, ("40362", "watcher login zhihu")),
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


@pytest.mark.parametrize("status, expected", [(200, 1), (404, 0)])
def test_article_check(tmp_path, fake, status, expected):
    fake.route("/api/v4/articles/650000000001", {}, body='{"id":650000000001,"title":"x"}' if status == 200
               else '{"error":{"code":4041,"message":"资源不存在"}}', status=status)
    cfg = _cfg(tmp_path, fake)
    assert run_crawl(cfg, "zhihu", "check", account="bit-official", post="650000000001")["status"] == "ok"
    with Store.open(cfg.db_path) as s:
        assert s.one("SELECT exists_flag FROM post_checks")["exists_flag"] == expected


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
