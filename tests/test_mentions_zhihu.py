"""Zhihu mentions (answers, articles, videos about the school), end to end on real-shaped answers:
offset pagination, an empty result, the signature/login wall."""

from __future__ import annotations

import pytest

from spiders.base import Target
from tests.fakeplatform import FIXTURES, FakePlatform
from tests.spider_helpers import platform_config
from watcher.rounds.engine import run_round
from watcher.store import Store
from watcher.store import mentions as mentions_store


@pytest.fixture
def fake():
    f = FakePlatform(FIXTURES / "zhihu_mentions")
    with f:
        yield f


def _round(cfg, keyword):
    return run_round(cfg, "zhihu", "mentions", [Target.for_mode("mentions", keyword)]).runs[0]


def test_general_search_paginates_by_offset_and_keeps_content(tmp_path, fake):
    fake.route("/api/v4/search_v3", {"t": "general", "q": "北理工", "offset": "0"}, "general_p1.json")
    fake.route("/api/v4/search_v3", {"t": "general", "q": "北理工", "offset": "4"}, "general_p2.json")
    cfg = platform_config(tmp_path, "zhihu", fake.base_url, pages=5)
    run = _round(cfg, "北理工")
    assert run.status == "ok", run
    with Store.open(cfg.db_path) as s:
        found = {m.post_id: m for m in mentions_store.run_mentions(s, run.id)}
        accounts = {a["account_id"] for a in s.query("SELECT account_id FROM accounts")}
    assert set(found) == {"answer:3300001", "article:720001", "zvideo:1500001"}
    a = found["answer:3300001"]
    assert a.title == "在北京理工大学读研是一种怎样的体验？" and a.text.startswith("在北理工读研三年")
    assert (a.likes, a.comments, a.kind) == (1520, 230, "answer")
    assert a.url == "https://www.zhihu.com/question/610001/answer/3300001"
    assert found["article:720001"].url == "https://zhuanlan.zhihu.com/p/720001"
    assert found["zvideo:1500001"].kind == "video"
    assert accounts == {"lizhi-xiaotou", "bit-zsb", "campus-vlog"}


def test_nothing_found_is_an_answer_and_the_signature_wall_is_blocked(tmp_path, fake):
    fake.route("/api/v4/search_v3", {"t": "general", "q": "京工"}, "general_empty.json")
    fake.route("/api/v4/search_v3", {"t": "general", "q": "北理工"}, status=403,
               body='{"error":{"code":40362,"message":"您当前请求存在异常，暂时限制本次访问"}}')
    cfg = platform_config(tmp_path, "zhihu", fake.base_url)
    runs = {r.target: r for r in run_round(cfg, "zhihu", "mentions", [Target.for_mode("mentions", k)
                                                                            for k in ("京工", "北理工")]).runs}
    assert runs["京工"].status == "ok" and runs["京工"].items == 0
    assert runs["北理工"].status == "blocked" and "40362" in runs["北理工"].reason
