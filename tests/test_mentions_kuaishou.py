"""Kuaishou mentions (videos about the school) in Debian's chromium, end to end on real-shaped
answers of the search page's signed ``POST /rest/v/search/feed``: a second batch fetched by
scrolling, an empty result, a captcha, the server's rate limit (``result: 2``) and a login wall."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spiders.base import Problem, Target
from spiders.browser import CHROMIUM
from spiders.items import DiscoveredAccount, Mention
from spiders.kuaishou import KuaishouSpider
from tests.fakeplatform import FIXTURES, FakePlatform
from tests.spider_helpers import platform_config
from watcher import registry
from watcher.rounds import records
from watcher.rounds.engine import run_round
from watcher.store import Store
from watcher.store import mentions as mentions_store
from watcher.store.findings import list_findings

HTML = "text/html; charset=utf-8"
API = "/rest/v/search/feed"
DIR = FIXTURES / "kuaishou_mentions"


def _answer(name: str) -> dict:
    return json.loads((DIR / name).read_text(encoding="utf-8"))


def test_parser_reads_videos_authors_and_counts(tmp_path):
    spider = KuaishouSpider(platform_config(tmp_path, "kuaishou", "https://www.kuaishou.com"), "mentions", [])
    items = list(spider.parse_mentions(_answer("search_feed.json"), "北理工"))
    mentions = [i for i in items if isinstance(i, Mention)]
    authors = {a.account_id: a for a in items if isinstance(a, DiscoveredAccount)}
    assert [m.post_id for m in mentions] == ["3xs8bug0001", "3xs8adm0002"]
    bug = mentions[0]
    # realLikeCount is exact; the shown "1.2w" is not used when it is there
    assert (bug.likes, bug.comments, bug.views) == (12034, 3456, 356000)
    assert bug.created_at == "2026-11-23T09:50:00+08:00" and bug.kind == "video"
    assert bug.url == "https://www.kuaishou.com/short-video/3xs8bug0001"
    assert (bug.author_id, bug.author_name) == ("3xeatmelon9", "理工吃瓜群众")
    # every author goes to impersonation matching, with a link to their profile; CDN avatars over https
    assert authors["3xzhaosheng8"].name == "北理工招生办"
    assert authors["3xzhaosheng8"].profile_url == "https://www.kuaishou.com/profile/3xzhaosheng8"
    assert authors["3xeatmelon9"].avatar_url.startswith("https://p4.a.yximgs.com/")
    shown = list(spider.parse_mentions(_answer("search_feed_p2.json"), "北理工"))
    assert [m.likes for m in shown if isinstance(m, Mention)] == [341]  # only likeCount: read as shown
    assert list(spider.parse_mentions(_answer("search_feed_empty.json"), "京工")) == []


@pytest.mark.parametrize("result, rate_limited, says", [
    (2, True, "限流"), (50, False, "未签名"), (400002, False, "验证码"), (109, False, "登录")])
def test_refusals_say_their_cause(tmp_path, result, rate_limited, says):
    """result 2 is the server's rate limit (MediaCrawler 071c8c0): a blocked run that says so and
    how to slow down, and halts the round — not a login wall, whose remedy is a session."""
    spider = KuaishouSpider(platform_config(tmp_path, "kuaishou", "https://www.kuaishou.com"), "mentions", [])
    with pytest.raises(Problem) as refused:
        list(spider.parse_mentions({"result": result}, "北理工"))
    p = refused.value
    assert p.status == "blocked" and p.rate_limited is rate_limited and says in p.reason
    assert f"result={result}" in p.reason
    if rate_limited:
        assert "稍后重试" in p.reason and "platforms.kuaishou.interval" in p.reason and "watcher login" not in p.reason
    else:
        assert "限流" not in p.reason


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium (/usr/bin/chromium) not installed")
def test_video_mentions_scroll_empty_captcha_and_rate_limit_in_one_round(tmp_path):
    fake = FakePlatform(DIR)
    fake.route("/search/video", {}, "search_video_page.html", content_type=HTML)
    fake.route(API, {"caver": "2"}, body_contains='"keyword":"北理工","pcursor":""', file="search_feed.json")
    fake.route(API, {"caver": "2"}, body_contains='"keyword":"北理工","pcursor":"1"', file="search_feed_p2.json")
    fake.route(API, {"caver": "2"}, body_contains='"keyword":"京工"', file="search_feed_empty.json")
    fake.route(API, {"caver": "2"}, body_contains='"keyword":"理工"', file="search_feed_captcha.json")
    fake.route(API, {"caver": "2"}, body_contains='"keyword":"北京理工大学"', file="search_feed_limited.json")
    with fake:
        cfg = platform_config(tmp_path, "kuaishou", fake.base_url, timeout=30, pages=3)
        with Store.open(cfg.db_path) as s:
            registry.import_file(s, cfg.registry_path)
        keywords = ("北理工", "京工", "理工", "北京理工大学")
        result = run_round(cfg, "kuaishou", "mentions", [Target.for_mode("mentions", k) for k in keywords])
    runs = {r.target: r for r in result.runs}
    assert runs["北理工"].status == "ok" and runs["北理工"].items > 0, runs
    assert runs["京工"].status == "ok" and runs["京工"].items == 0, runs        # Kuaishou said: no results
    assert runs["理工"].status == "blocked" and "验证码" in runs["理工"].reason, runs
    limited = runs["北京理工大学"]
    assert limited.status == "blocked" and "限流" in limited.reason and "稍后重试" in limited.reason, runs
    bodies = [json.loads(b) for path, b in fake.posted if path == API and '"北理工"' in b]
    # the second batch was asked for by the page after the reader scrolled, in the same search session
    assert [b["pcursor"] for b in bodies] == ["", "1"]
    assert bodies[1]["searchSessionId"] == "MTRfMjcxOTg2ODQ1XzE3NjM4ODA0MDAxMjNf5YyX55CG5belXzEyMw"
    assert all(q["__NS_hxfalcon"].startswith("SIG") for p, q, _ in fake.requests if p == API)
    with Store.open(cfg.db_path) as s:
        found = {m.post_id: m for m in mentions_store.run_mentions(s, runs["北理工"].id)}
        assert set(found) == {"3xs8bug0001", "3xs8adm0002", "3xs8run0003"}
        bug = found["3xs8bug0001"]
        assert (bug.likes, bug.comments, bug.views) == (12034, 3456, 356000) and bug.author_name == "理工吃瓜群众"
        assert bug.text.startswith("北理工食堂今天吃出虫子了")
        leads = {f.account_id for f in list_findings(s, kind="impersonation")}
        # the platform refused us: it cools down before the next round
        assert records.state(s, "kuaishou").cooling()
    # "北理工招生办" selling admissions places is a lead; a student is not
    assert "3xzhaosheng8" in leads and "3xeatmelon9" not in leads


@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium (/usr/bin/chromium) not installed")
def test_a_login_wall_is_blocked_with_the_session_remedy(tmp_path):
    fake = FakePlatform(DIR)
    fake.route("/search/video", {}, redirect="/passport/pc/account/login/?sid=kuaishou.server.web")
    fake.route("/passport/pc/account/login/", {}, body="<html><body>扫码登录</body></html>", content_type=HTML)
    with fake:
        cfg = platform_config(tmp_path, "kuaishou", fake.base_url, timeout=30)
        result = run_round(cfg, "kuaishou", "mentions", [Target.for_mode("mentions", "北理工")])
    run = result.runs[0]
    assert run.status == "blocked" and "登录" in run.reason and "限流" not in run.reason, run
    assert not [p for p, _, _ in fake.requests if p == API]
