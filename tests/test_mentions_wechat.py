"""WeChat article mentions through Sogou, end to end on real-shaped pages: pagination, an empty
result, the antispider captcha."""

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
    f = FakePlatform(FIXTURES / "wechat_mentions")
    with f:
        yield f


def _round(cfg, keyword):
    return run_round(cfg, "wechat", "mentions", [Target.for_mode("mentions", keyword)]).runs[0]


def test_article_search_paginates(tmp_path, fake):
    fake.route("/weixin", {"type": "2", "query": "北理工", "page": "1"}, "articles_p1.html", content_type=HTML)
    fake.route("/weixin", {"type": "2", "query": "北理工", "page": "2"}, "articles_p2.html", content_type=HTML)
    cfg = platform_config(tmp_path, "wechat", fake.base_url, pages=5)
    run = _round(cfg, "北理工")
    assert run.status == "ok", run
    with Store.open(cfg.db_path) as s:
        found = sorted(mentions_store.run_mentions(s, run.id), key=lambda m: m.post_id)
    assert len(found) == 3
    first = found[0]
    assert first.title == "北理工十号楼停电事件追踪" and first.text.startswith("学生反映宿舍停电三天")
    assert first.author_name == "校园观察" and first.kind == "article"
    assert first.created_at == "2026-11-28T21:06:40+00:00" and "/link?url=" in first.url


def test_no_article_is_an_answer_and_antispider_is_blocked(tmp_path, fake):
    fake.route("/weixin", {"type": "2", "query": "京工"}, "articles_none.html", content_type=HTML)
    fake.route("/weixin", {"type": "2", "query": "北理工"}, redirect="/antispider/?from=%2fweixin%3Ftype%3d2")
    cfg = platform_config(tmp_path, "wechat", fake.base_url)
    runs = {r.target: r for r in run_round(cfg, "wechat", "mentions", [Target.for_mode("mentions", k)
                                                                             for k in ("京工", "北理工")]).runs}
    assert runs["京工"].status == "ok" and runs["京工"].items == 0
    assert runs["北理工"].status == "blocked", runs
