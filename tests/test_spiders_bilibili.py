"""The real Bilibili spider (wbi-signed requests) against recorded responses on 127.0.0.1."""

import base64
import hashlib
import urllib.parse

import pytest

from spiders.signing import wbi
from tests.fakeplatform import FIXTURES, FakePlatform
from tests.spider_helpers import platform_config, run_crawl, run_targets
from watcher import registry
from watcher.store import Store
from watcher.store.findings import list_findings

MID = "1880487363"
IMG, SUB = "7cd084941338484aae1ad9425b84077c", "4932caff0ff746eab6f01bf08b70ac45"


def test_wbi_matches_the_published_example():
    assert wbi.mixin_key(IMG, SUB) == "ea1db124af3c7062474693fa704f4ff8"
    signed = wbi.sign({"foo": "114", "bar": "514", "zab": 1919810}, IMG, SUB, now=1702204169)
    assert signed["w_rid"] == "8f6f2b5b3d485fe1886cec6a0be8c5d4"


def _verify(query: dict[str, str]) -> bool:
    params = {k: v for k, v in query.items() if k != "w_rid"}
    q = urllib.parse.urlencode(sorted(params.items()), quote_via=urllib.parse.quote)
    return hashlib.md5((q + wbi.mixin_key(IMG, SUB)).encode()).hexdigest() == query.get("w_rid")


@pytest.fixture
def fake():
    f = FakePlatform(FIXTURES / "bilibili")
    f.route("/x/web-interface/nav", {}, "nav.json")
    f.route("/x/frontend/finger/spi", {}, "finger_spi.json")
    with f:
        yield f


def _cfg(tmp_path, fake):
    return platform_config(tmp_path, "bilibili", fake.base_url, pages=5)


def test_discovery_signed_paginated_and_matched(tmp_path, fake):
    fake.route("/x/web-interface/wbi/search/type", {"keyword": "北理工", "page": "1"}, "search_p1.json")
    fake.route("/x/web-interface/wbi/search/type", {"keyword": "北理工", "page": "2"}, "search_p2.json")
    cfg = _cfg(tmp_path, fake)
    with Store.open(cfg.db_path) as s:
        registry.import_file(s, cfg.registry_path)
    run = run_crawl(cfg, "bilibili", "discover", keywords=["北理工"])
    assert run["status"] == "ok", run
    searches = [q for path, q, _ in fake.requests if path.endswith("/search/type")]
    assert len(searches) == 2 and all(_verify(q) and q["search_type"] == "bili_user" for q in searches)
    headers = [h for path, _, h in fake.requests if path.endswith("/search/type")][0]
    assert "buvid3=" in headers.get("Cookie", "") and headers.get("Referer", "").endswith("/")
    with Store.open(cfg.db_path) as s:
        acc = {a["account_id"]: a for a in s.query("SELECT * FROM accounts")}
        assert acc[MID]["verdict"] == "registered"
        assert acc["3546571234"]["name"] == "北理工考研交流" and acc["3546571234"]["verdict"] == "suspect"
        assert acc["3546579999"]["verdict"] == "clear" and acc["3546579999"]["bio"] == ""
        assert acc["3546571234"]["avatar_url"].startswith("https://")
        assert [f.account_id for f in list_findings(s, kind="impersonation")] == ["3546571234"]


def test_timeline_without_a_session_reads_the_user_card_and_videos(tmp_path, fake):
    """acc/info needs a session (bilibili-API-collect docs/user/info.md); without one the user
    card gives the profile, and the videos come from the signed arc/search with dm_img_*."""
    fake.route("/x/web-interface/card", {"mid": MID}, "card.json")
    fake.route("/x/space/wbi/arc/search", {"mid": MID, "pn": "1"}, "arc_p1.json")
    cfg = _cfg(tmp_path, fake)
    run = run_crawl(cfg, "bilibili", "timeline", account=MID)
    assert run["status"] == "ok", run
    with Store.open(cfg.db_path) as s:
        snap = s.one("SELECT * FROM profile_snapshots")
        assert snap["name"] == "北京理工大学" and snap["verified"] == 1 and snap["followers"] == 1523000
        # the card's http:// face on Bilibili's CDN is kept over https (spiders.parsing.https)
        assert snap["avatar_url"] == "https://i1.hdslb.com/bfs/face/7a5c2b0f3e4d.jpg" and snap["posts_count"] == 1287
        posts = {p["post_id"]: p for p in s.query("SELECT * FROM posts")}
    assert set(posts) == {"BV1Ab411c7Xa", "BV1Xy411c7Xb"}
    assert posts["BV1Ab411c7Xa"]["comments"] == 120 and posts["BV1Xy411c7Xb"]["comments"] is None
    assert not [p for p, _, _ in fake.requests if p.endswith("/acc/info")]
    card = next(q for p, q, _ in fake.requests if p == "/x/web-interface/card")
    assert "w_rid" not in card and card["photo"] == "true"
    # the space endpoints carry the WebGL parameters the page adds (bilibili-API-collect #868),
    # signed with the rest, and the device ids finger/spi gave
    space = [(q, h) for path, q, h in fake.requests if path.startswith("/x/space/wbi/")]
    assert len(space) == 1
    for query, headers in space:
        _assert_space_call(query, headers)
        assert "buvid3=9E1C5A2B-7D4F-4B11-8C3E-6F0A1D2B3C4D58231infoc" in headers["Cookie"]
        assert "buvid4=A1B2C3D4" in headers["Cookie"]
    assert [p for p, _, _ in fake.requests].count("/x/frontend/finger/spi") == 1


def _assert_space_call(query, headers):
    assert _verify(query) and query["dm_img_list"] == "[]" and query["dm_img_inter"].startswith('{"ds"')
    assert base64.b64decode(query["dm_img_str"] + "==").startswith(b"WebGL 1.0")
    assert base64.b64decode(query["dm_cover_img_str"] + "==").startswith(b"ANGLE (")
    # the same browser identity as the browser spiders: a Chrome, with client hints to match
    sent = {k.lower(): v for k, v in headers.items()}
    assert "Chrome/131" in sent["user-agent"] and 'v="131"' in sent["sec-ch-ua"]


def test_with_a_session_the_profile_comes_from_acc_info(tmp_path, fake):
    next(r for r in fake.routes if r.path == "/x/web-interface/nav").file = "nav_logged_in.json"
    fake.route("/x/space/wbi/acc/info", {"mid": MID}, "acc_info.json")
    fake.route("/x/space/wbi/arc/search", {"mid": MID, "pn": "1"}, "arc_p1.json")
    cookies = tmp_path / "bili.json"
    cookies.write_text('{"SESSDATA": "a1b2c3%2C1795400000%2Cabc12*b1", "bili_jct": "f0e1d2", "DedeUserID": "3546000001"}',
                       encoding="utf-8")
    cfg = platform_config(tmp_path, "bilibili", fake.base_url, pages=5, cookies_file=str(cookies))
    run = run_crawl(cfg, "bilibili", "timeline", account=MID)
    assert run["status"] == "ok", run
    assert [p for p, _, _ in fake.requests if p.startswith("/x/space/wbi/")] == ["/x/space/wbi/acc/info",
                                                                                  "/x/space/wbi/arc/search"]
    for query, headers in [(q, h) for p, q, h in fake.requests if p.startswith("/x/space/wbi/")]:
        _assert_space_call(query, headers)
        assert "SESSDATA=a1b2c3" in headers["Cookie"] and "buvid4=A1B2C3D4" in headers["Cookie"]
    with Store.open(cfg.db_path) as s:
        assert s.one("SELECT verified_reason FROM profile_snapshots")["verified_reason"] == "北京理工大学官方账号"


def test_a_session_nav_says_is_not_logged_in_reads_the_card_and_acc_info_refusals_say_why(tmp_path):
    from scrapy.http import Request, TextResponse

    from spiders import catalog
    from spiders.base import Problem, Target

    cfg = platform_config(tmp_path, "bilibili", "https://api.bilibili.com")
    spider = catalog.spider_class("bilibili")(cfg=cfg, mode="timeline", targets=[Target.for_mode("timeline", MID)],
                                              run_ids={}, round_id=0)
    spider.cookies.update(SESSDATA="lapsed", buvid3="x")
    spider.logged_in = True
    url = "https://api.bilibili.com/x/web-interface/nav"
    nav = (FIXTURES / "bilibili" / "nav.json").read_bytes()  # isLogin: false
    out = list(spider.parse_nav(TextResponse(url=url, body=nav, encoding="utf-8", request=Request(url)),
                                then=lambda: [spider._profile(MID)]))
    assert "/x/web-interface/card?" in out[0].url and spider.logged_in is False
    # a session nav accepts, refused by acc/info as not logged in: the way to log in, not "risk control"
    spider.logged_in = True
    url = f"https://api.bilibili.com/x/space/wbi/acc/info?mid={MID}"
    with pytest.raises(Problem) as e:
        list(spider.parse_profile(TextResponse(url=url, body=b'{"code":-101,"message":"\\u8d26\\u53f7\\u672a\\u767b\\u5f55"}',
                                               encoding="utf-8", request=Request(url)), mid=MID))
    assert e.value.status == "blocked" and "需要有效的登录会话（SESSDATA）" in e.value.reason
    assert "watcher login bilibili" in e.value.reason
    url = f"https://api.bilibili.com/x/web-interface/card?mid={MID}"
    gone = list(spider.parse_card(TextResponse(url=url, body=b'{"code":-404,"message":"x","ttl":1}', encoding="utf-8",
                                               request=Request(url)), mid=MID))
    assert gone[0].status == "gone"


def test_the_device_ids_are_kept_for_the_next_rounds(tmp_path):
    """finger/spi's buvid3/buvid4 stay the platform's device ids for us, as a browser keeps them."""
    from scrapy.http import Request, TextResponse

    from spiders import catalog
    from spiders.base import Target

    cfg = platform_config(tmp_path, "bilibili", "https://api.bilibili.com")

    def spider():
        return catalog.spider_class("bilibili")(cfg=cfg, mode="timeline", targets=[Target.for_mode("timeline", MID)],
                                                run_ids={}, round_id=0)

    first = spider()
    assert "buvid3" not in first.cookies
    url = "https://api.bilibili.com/x/frontend/finger/spi"
    body = (FIXTURES / "bilibili" / "finger_spi.json").read_bytes()
    out = list(first.parse_finger(TextResponse(url=url, body=body, encoding="utf-8", request=Request(url)),
                                  then=lambda: []))
    assert out and "/x/web-interface/nav" in out[0].url
    again = spider()
    assert again.cookies["buvid3"] == "9E1C5A2B-7D4F-4B11-8C3E-6F0A1D2B3C4D58231infoc"
    assert again.cookies["buvid4"].startswith("A1B2C3D4")
    assert list(again._with_keys(lambda: []))[0].url.endswith("/x/web-interface/nav")  # no second finger/spi


def test_check(tmp_path, fake):
    """A live video and a deleted one, checked in one round as a watch round checks them."""
    videos = {"BV1Ab411c7Xa": ("view_live.json", 1), "BV1Gone11c7Xc": ("view_gone.json", 0)}
    for bvid, (file, _) in videos.items():
        fake.route("/x/web-interface/view", {"bvid": bvid}, file)
    cfg = _cfg(tmp_path, fake)
    runs = run_targets(cfg, "bilibili", "check", [MID] * len(videos), posts=list(videos))
    with Store.open(cfg.db_path) as s:
        checks = {b: s.query("SELECT crawl_run_id, exists_flag FROM post_checks WHERE post_id = ?", [b]) for b in videos}
    for bvid, (file, expected) in videos.items():
        assert runs[bvid]["status"] == "ok", (file, runs[bvid])
        assert [r["exists_flag"] for r in checks[bvid]] == [expected], (file, checks[bvid])
        assert checks[bvid][0]["crawl_run_id"] == runs[bvid]["id"], (file, checks[bvid], runs[bvid])


@pytest.mark.parametrize("kw, status, words", [
    ({"file": "risk_352.json"}, "blocked", "-352"),
    ({"body": '{"code":-412,"message":"请求被拦截"}'}, "blocked", "-412"),
    ({"body": '{"code":0,"data":{"result":[{"mid":1,'}, "failed", "JSON"),
])
def test_risk_control_and_truncation(tmp_path, fake, kw, status, words):
    fake.route("/x/web-interface/wbi/search/type", {}, **kw)
    cfg = _cfg(tmp_path, fake)
    run = run_crawl(cfg, "bilibili", "discover", keywords=["北理工"])
    assert run["status"] == status and words in run["reason"], run
