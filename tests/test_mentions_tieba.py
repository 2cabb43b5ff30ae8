"""Tieba mentions (post search across forums), end to end on real-shaped pages: pagination, an
empty result, Baidu's security check."""

from __future__ import annotations

import pytest

from spiders.base import Target
from tests.fakeplatform import FIXTURES, FakePlatform
from tests.spider_helpers import platform_config
from watcher.rounds.engine import run_round
from watcher.store import Store
from watcher.store import mentions as mentions_store

HTML = "text/html; charset=utf-8"


@pytest.fixture
def fake():
    f = FakePlatform(FIXTURES / "tieba_mentions")
    with f:
        yield f


def _round(cfg, keyword):
    return run_round(cfg, "tieba", "mentions", [Target.for_mode("mentions", keyword)]).runs[0]


def test_post_search_paginates_and_keeps_forum_author_and_time(tmp_path, fake):
    fake.route("/f/search/res", {"qw": "北理工", "pn": "1"}, "res_p1.html", content_type=HTML)
    fake.route("/f/search/res", {"qw": "北理工", "pn": "2"}, "res_p2.html", content_type=HTML)
    cfg = platform_config(tmp_path, "tieba", fake.base_url, pages=5)
    run = _round(cfg, "北理工")
    assert run.status == "ok", run
    with Store.open(cfg.db_path) as s:
        found = {m.post_id: m for m in mentions_store.run_mentions(s, run.id)}
    assert set(found) == {"9100000001:150000000001", "9100000002:150000000002", "9100000003:150000000003"}
    m = found["9100000001:150000000001"]
    assert m.title == "北理工十号楼停电三天了" and m.text.startswith("宿舍停电三天了没人管")
    assert m.author_name == "住在十号楼" and m.created_at == "2026-11-23T02:20:00+00:00"
    assert m.url.endswith("/p/9100000001?pid=150000000001#150000000001")


def test_no_result_is_an_answer_and_the_security_check_is_blocked(tmp_path, fake):
    fake.route("/f/search/res", {"qw": "京工"}, "res_none.html", content_type=HTML)
    fake.route("/f/search/res", {"qw": "北理工"}, redirect="https://wappass.baidu.com/static/captcha/tuxing.html")
    cfg = platform_config(tmp_path, "tieba", fake.base_url)
    runs = {r.target: r for r in run_round(cfg, "tieba", "mentions", [Target.for_mode("mentions", k)
                                                                            for k in ("京工", "北理工")]).runs}
    assert runs["京工"].status == "ok" and runs["京工"].items == 0
    assert runs["北理工"].status == "blocked", runs
