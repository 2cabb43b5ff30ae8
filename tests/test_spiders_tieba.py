
import hashlib
import json
import urllib.parse

import pytest
from scrapy.http import Request, TextResponse

from spiders import catalog
from spiders.base import Problem, Target
from spiders.items import Mention, Post
from spiders.signing import tieba as tieba_sign
from tests.fakeplatform import FIXTURES, FakePlatform
from tests.spider_helpers import platform_config, run_crawl
from watcher.rounds.engine import run_round
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


# One round checks three threads, each on its own page; none of the answers is a captcha.
THREAD_CASES = {
    "9012345601": ("<html><title>很抱歉，该贴已被删除</title><body>很抱歉，该贴已被删除。</body></html>", 200, 0),
    "9012345602": ("<html><body><h3 class='core_title_txt'>宿舍楼停电</h3><div class='j_l_post'></div></body></html>",
                   200, 1),
    "9012345603": ("", 404, 0),
}


def test_check_thread(tmp_path, fake):
    for tid, (body, status, _) in THREAD_CASES.items():
        fake.route(f"/p/{tid}", {}, body=body, status=status, content_type=HTML)
    cfg = _cfg(tmp_path, fake)
    result = run_round(cfg, "tieba", "check", [Target.for_mode("check", KW, tid) for tid in THREAD_CASES])
    runs = {r.target: r for r in result.runs}
    assert set(runs) == {f"{KW}/{tid}" for tid in THREAD_CASES}, result
    with Store.open(cfg.db_path) as s:
        for tid, (body, status, expected) in THREAD_CASES.items():
            run = runs[f"{KW}/{tid}"]
            assert run.status == "ok", (tid, status, body, run)
            rows = s.query("SELECT exists_flag FROM post_checks WHERE post_id = ? AND crawl_run_id = ?", (tid, run.id))
            assert len(rows) == 1 and rows[0]["exists_flag"] == expected, (tid, status, body, rows)


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
        found = {f.account_id for f in list_findings(s, kind="impersonation")}
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


def _signed_right(params: dict[str, str]) -> bool:
    return params.get("sign") == tieba_sign.sign(params) and params["subapp_type"] == "pc" \
        and params["_client_type"] == "20"


def test_the_2026_forum_page_is_read_through_the_signed_json_api(tmp_path, fake):
    """The PC site moved the thread list to signed JSON APIs (MediaCrawler f328ee3): with a
    session, the round calls them as the page does — sync for tbs, frs for the ids, pb per thread."""
    fake.route("/f", {}, "forum_2026_shell.html", content_type=HTML)
    fake.route("/c/s/pc/sync", {}, "pc_sync.json")
    fake.route("/c/f/frs/page_pc", {}, "frs_page_pc.json")
    for tid in ("9012345701", "9012345702"):
        fake.route("/c/f/pb/page_pc", {}, f"pb_{tid}.json", body_contains=f"kz={tid}")
    cookies = tmp_path / "tieba-cookies.json"
    cookies.write_text('{"BDUSS": "bduss-of-the-department", "STOKEN": "st0001"}', encoding="utf-8")
    cfg = platform_config(tmp_path, "tieba", fake.base_url, pages=1, cookies_file=str(cookies))
    run = run_crawl(cfg, "tieba", "timeline", account=KW)
    assert run["status"] == "ok", run
    with Store.open(cfg.db_path) as s:
        snap = s.one("SELECT * FROM profile_snapshots")
        assert snap["name"] == "北京理工大学吧" and snap["followers"] == 152312
        posts = {p["post_id"]: p for p in s.query("SELECT * FROM posts")}
    assert set(posts) == {"9012345701", "9012345702"}
    assert posts["9012345701"]["comments"] == 86
    assert posts["9012345701"]["text"].startswith("良乡校区宿舍楼今晚又停电了\n十二号楼")
    assert "@后勤集团" in posts["9012345701"]["text"]
    assert posts["9012345701"]["created_at"].startswith("2026-11-23T11:40:00")  # China time
    # every call signed as the PC client signs it, with the session's tbs and cookie
    sync = [q for p, q, _ in fake.requests if p == "/c/s/pc/sync"]
    assert len(sync) == 1 and _signed_right(sync[0])
    forms = {p: [] for p in ("/c/f/frs/page_pc", "/c/f/pb/page_pc")}
    for path, body in fake.posted:
        forms[path].append(dict(urllib.parse.parse_qsl(body, keep_blank_values=True)))
    assert len(forms["/c/f/frs/page_pc"]) == 1 and len(forms["/c/f/pb/page_pc"]) == 2
    for form in forms["/c/f/frs/page_pc"] + forms["/c/f/pb/page_pc"]:
        assert _signed_right(form) and form["tbs"] == "5f1c2a9b7e3d40a81763891234"
    assert forms["/c/f/frs/page_pc"][0]["kw"] == urllib.parse.quote(KW)
    api = [h for p, _, h in fake.requests if p.startswith("/c/")]
    assert all("BDUSS=bduss-of-the-department" in h.get("Cookie", "") for h in api)


def _spider(tmp_path, mode, target):
    cfg = platform_config(tmp_path, "tieba", "https://tieba.baidu.com")
    return catalog.spider_class("tieba")(cfg=cfg, mode=mode, targets=[Target.for_mode(mode, target)], run_ids={},
                                         round_id=0)


def _answer(url, body, target, status=200):
    return TextResponse(url=url, body=body.encode() if isinstance(body, str) else body, encoding="utf-8",
                        status=status, request=Request(url, meta={"target": target}))


def test_the_2026_forum_page_without_a_session_is_blocked_with_the_way_to_log_in(tmp_path):
    spider = _spider(tmp_path, "timeline", KW)
    shell = (FIXTURES / "tieba" / "forum_2026_shell.html").read_text(encoding="utf-8")
    with pytest.raises(Problem) as e:
        list(spider.parse_forum(_answer("https://tieba.baidu.com/f?kw=x", shell, KW), kw=KW, page=1))
    assert e.value.status == "blocked" and "BDUSS" in e.value.reason and "f328ee3" in e.value.reason
    assert "watcher login tieba" in e.value.reason
    # a session the platform no longer honours: sync gives no tbs, or the API says "not logged in"
    spider.cookies["BDUSS"] = "expired"
    with pytest.raises(Problem, match="没有给出 tbs"):
        list(spider.parse_sync(_answer("https://tieba.baidu.com/c/s/pc/sync",
                                       '{"no":0,"error":"success","data":{"anti":{"tbs":""}}}', KW),
                               then=spider._frs, args=(KW, 1)))
    spider.tbs = "5f1c2a9b7e3d40a81763891234"
    with pytest.raises(Problem) as e:
        list(spider.parse_frs(_answer("https://tieba.baidu.com/c/f/frs/page_pc",
                                      '{"error_code":1,"error_msg":"用户未登录或登录失败，请更换账号或重试"}', KW),
                              kw=KW, page=1))
    assert e.value.status == "blocked" and "要求登录" in e.value.reason


def test_a_forum_answer_that_lists_its_threads_needs_no_call_per_thread(tmp_path):
    spider = _spider(tmp_path, "timeline", KW)
    spider.tbs = "t"
    answer = {"error_code": 0, "forum": {"id": 123456, "name": "北京理工大学", "member_num": 152312, "tids": "1,2,"},
              "thread_list": [{"id": 9012345901, "tid": 9012345901, "title": "图书馆占座问题", "reply_num": 45,
                               "create_time": 1795405200, "abstract": [{"type": 0, "text": "期末周一座难求"}]}]}
    out = list(spider.parse_frs(_answer("https://tieba.baidu.com/c/f/frs/page_pc", json.dumps(answer), KW),
                                kw=KW, page=1))
    posts = [o for o in out if isinstance(o, Post)]
    assert [(p.post_id, p.text, p.comments) for p in posts] == [("9012345901", "图书馆占座问题\n期末周一座难求", 45)]
    assert not [o for o in out if isinstance(o, Request) and "pb/page_pc" in o.url]


def test_post_search_moved_to_multsearch_is_read_from_its_cards(tmp_path):
    spider = _spider(tmp_path, "mentions", "北理工")
    shell = (FIXTURES / "tieba" / "search_2026_shell.html").read_text(encoding="utf-8")
    out = list(spider.parse_post_search(_answer("https://tieba.baidu.com/f/search/res?qw=x", shell, "北理工"),
                                        keyword="北理工", page=1))
    call = next(o for o in out if isinstance(o, Request))
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(call.url).query))
    assert call.url.split("?")[0].endswith("/mo/q/search/multsearch") and _signed_right(query)
    assert query["word"] == "北理工" and query["st"] == "1"
    body = (FIXTURES / "tieba" / "multsearch_p1.json").read_text(encoding="utf-8")
    out = list(spider.parse_multsearch(_answer(call.url, body, "北理工"), keyword="北理工", page=1))
    mentions = [o for o in out if isinstance(o, Mention)]
    assert [m.post_id for m in mentions] == ["9012345801", "9012345802"]  # the related-user card is not a post
    assert mentions[0].title == "北理工食堂涨价了？" and mentions[0].comments == 152
    assert mentions[0].author_name == "北理吃货" and mentions[0].created_at.startswith("2026-11-23T12:40:00")
    assert mentions[1].raw["forum"] == "考研"


@pytest.mark.parametrize("answer, exists", [
    ((FIXTURES / "tieba" / "pb_9012345701.json").read_text(encoding="utf-8"), True),
    ('{"error_code":4,"error_msg":"很抱歉，该贴已被删除。"}', False),
    ('{"error_code":230871,"error_msg":"服务繁忙"}', None),
])
def test_a_2026_thread_page_is_checked_through_the_signed_api(tmp_path, answer, exists):
    spider = _spider(tmp_path, "check", KW)
    shell = ('<!DOCTYPE html><html><head><title>百度贴吧</title></head><body><div id="app"></div>'
             '<script src="//tb1.bdstatic.com/tb/static-pc-pb/tb-pc-pb.1a2b.js"></script>'
             '<script>window.__pb_api = "/c/f/pb/page_pc";</script></body></html>')
    url = "https://tieba.baidu.com/p/9012345701"
    # without a session the shell proves nothing either way
    assert list(spider.parse_check(_answer(url, shell, KW), kw=KW, tid="9012345701"))[0].exists is None
    spider.cookies["BDUSS"] = "bduss"
    sync = list(spider.parse_check(_answer(url, shell, KW), kw=KW, tid="9012345701"))[0]
    assert sync.url.split("?")[0].endswith("/c/s/pc/sync")
    body = (FIXTURES / "tieba" / "pc_sync.json").read_text(encoding="utf-8")
    call = list(spider.parse_sync(_answer(sync.url, body, KW), **sync.cb_kwargs))[0]
    form = dict(urllib.parse.parse_qsl(call.body.decode(), keep_blank_values=True))
    assert call.url.endswith("/c/f/pb/page_pc") and form["kz"] == "9012345701" and _signed_right(form)
    check = list(spider.parse_pb_check(_answer(call.url, answer, KW), **call.cb_kwargs))[0]
    assert check.exists is exists


def test_the_pc_signature_is_the_md5_of_the_sorted_pairs_and_the_client_key():
    params = {"pn": "2", "kw": "%E5%8C%97", "tbs": "abc", "sign": "old", "fr": ""}
    expected = hashlib.md5(("fr=kw=%E5%8C%97pn=2tbs=abc" + tieba_sign.PC_KEY).encode()).hexdigest()
    assert tieba_sign.sign(params) == expected
    assert tieba_sign.signed({"kz": 1})["sign"] == hashlib.md5(
        ("_client_type=20kz=1subapp_type=pc" + tieba_sign.PC_KEY).encode()).hexdigest()


def test_forum_search_page_changed_fails(tmp_path, fake):
    fake.route("/f/search/fm", {}, body="<html><body><div id='new-layout'></div></body></html>", content_type=HTML)
    run = run_crawl(_cfg(tmp_path, fake), "tieba", "discover", keywords=["北理工"])
    assert run["status"] == "failed" and "改版" in run["reason"], run
