"""Toutiao mentions (articles and 微头条 about the school), end to end on real-shaped answers: the
server-rendered 资讯 search with its data cards, paginated by ``search_id``; an empty result; the
slide-captcha card served in place of the results (blocked, never "no mentions")."""

from __future__ import annotations

import pytest

from spiders.base import Target
from tests.fakeplatform import FIXTURES, FakePlatform
from tests.spider_helpers import platform_config
from watcher import registry
from watcher.rounds.engine import run_round
from watcher.store import Store
from watcher.store import mentions as mentions_store
from watcher.store.findings import list_findings

HTML = "text/html; charset=utf-8"
SID = "202611231042001234ABCD"


@pytest.fixture
def fake():
    f = FakePlatform(FIXTURES / "toutiao_mentions")
    with f:
        yield f


def test_article_mentions_paginate_keep_counts_and_judge_authors(tmp_path, fake):
    fake.route("/search", {"keyword": "北理工", "pd": "information", "page_num": "0"}, "search_info_p0.html",
               content_type=HTML)
    fake.route("/search", {"keyword": "北理工", "pd": "information", "page_num": "1", "search_id": SID},
               "search_info_p1.html", content_type=HTML)
    fake.route("/search", {"keyword": "北理工", "pd": "information", "page_num": "2"}, "search_none.html",
               content_type=HTML)
    cfg = platform_config(tmp_path, "toutiao", fake.base_url, pages=5)
    with Store.open(cfg.db_path) as s:
        registry.import_file(s, cfg.registry_path)
    run = run_round(cfg, "toutiao", "mentions", [Target.for_mode("mentions", "北理工")]).runs[0]
    assert run.status == "ok", run
    first = [q for p, q, _ in fake.requests if p == "/search"][0]
    assert first["source"] == "search_subtab_switch" and first["dvpf"] == "pc"
    assert [q["page_num"] for p, q, _ in fake.requests if p == "/search"] == ["0", "1", "2"]
    with Store.open(cfg.db_path) as s:
        found = {m.post_id: m for m in mentions_store.run_mentions(s, run.id)}
        assert set(found) == {"7575990000000000011", "7575990000000000012", "7575990000000000013",
                              "7575990000000000021"}           # the search bar and related searches are none
        water = found["7575990000000000011"]
        assert water.title == "北理工宿舍楼连续停水三天 学生吐槽后勤回应慢" and water.kind == "article"
        assert (water.comments, water.likes, water.views) == (2346, 812, 56000)
        assert water.created_at == "2026-11-22T03:13:20+00:00"
        assert water.author_id == "MS4wLjABAAAAxiaoyuanguancha" and water.author_name == "京城校园观察"
        assert water.url.startswith("https://www.toutiao.com/article/7575990000000000011/")
        ad = found["7575990000000000012"]
        assert ad.created_at == "2026-11-21T08:04:17+00:00"     # "2026-11-21 16:04:17", China time
        post = found["7575990000000000013"]
        assert post.kind == "post" and post.title == "" and post.likes == 12000 and post.reposts == 30
        assert post.text.startswith("今天去北理工中关村校区") and post.author_id == "3410000000013"
        leads = {f.account_id for f in list_findings(s, kind="impersonation")}
    assert "MS4wLjABAAAAzhaoshengzixun" in leads               # "北理工招生咨询中心" selling admissions material
    assert not leads & {"MS4wLjABAAAAxiaoyuanguancha", "3410000000013"}


def test_no_articles_is_an_answer_and_the_captcha_card_is_blocked(tmp_path, fake):
    fake.route("/search", {"keyword": "京工", "pd": "information"}, "search_none.html", content_type=HTML)
    fake.route("/search", {"keyword": "理工", "pd": "information"}, "search_info_verify.html", content_type=HTML)
    cfg = platform_config(tmp_path, "toutiao", fake.base_url)
    runs = {r.target: r for r in run_round(cfg, "toutiao", "mentions", [Target.for_mode("mentions", k)
                                                                             for k in ("京工", "理工")]).runs}
    assert runs["京工"].status == "ok" and runs["京工"].items == 0, runs
    assert runs["理工"].status == "blocked" and "滑块验证" in runs["理工"].reason, runs
