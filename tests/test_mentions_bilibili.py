"""Bilibili mentions (videos about the school), end to end on real-shaped answers: signed search
with pagination, an empty result, risk control."""

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


@pytest.fixture
def fake():
    f = FakePlatform(FIXTURES / "bilibili_mentions")
    f.route("/x/web-interface/nav", {}, "nav.json")
    with f:
        yield f


def _round(cfg, keyword):
    return run_round(cfg, "bilibili", "mentions", [Target.for_mode("mentions", keyword)]).runs[0]


def test_video_mentions_paginate_signed_and_judge_authors(tmp_path, fake):
    fake.route("/x/web-interface/wbi/search/type", {"search_type": "video", "keyword": "北理工", "page": "1"}, "video_p1.json")
    fake.route("/x/web-interface/wbi/search/type", {"search_type": "video", "keyword": "北理工", "page": "2"}, "video_p2.json")
    cfg = platform_config(tmp_path, "bilibili", fake.base_url, pages=5)
    with Store.open(cfg.db_path) as s:
        registry.import_file(s, cfg.registry_path)
    run = _round(cfg, "北理工")
    assert run.status == "ok", run
    searches = [q for path, q, _ in fake.requests if path.endswith("/search/type")]
    assert [q["page"] for q in searches] == ["1", "2"] and all("w_rid" in q and "wts" in q for q in searches)
    with Store.open(cfg.db_path) as s:
        found = {m.post_id: m for m in mentions_store.run_mentions(s, run.id)}
        assert set(found) == {"BV1xx411c7A1", "BV1xx411c7A2", "BV1xx411c7A3"}
        v = found["BV1xx411c7A1"]
        assert v.title == "北理工食堂吃出虫子，窗口还骂人" and v.kind == "video"
        assert (v.views, v.comments, v.likes) == (23000, 410, 1800)
        assert v.url.endswith("/video/BV1xx411c7A1") and v.author_name == "理工吐槽君"
        assert "3461002" in {f.account_id for f in list_findings(s, kind="impersonation")}
        texts = {p.post_id: p.text for p in mentions_store.recent_posts(s, "2000-01-01")}
        assert texts["BV1xx411c7A1"] == "北理工食堂吃出虫子，窗口还骂人 实拍，太恶心了"


def test_no_videos_is_an_answer_and_risk_control_is_blocked(tmp_path, fake):
    fake.route("/x/web-interface/wbi/search/type", {"search_type": "video", "keyword": "京工"}, "video_empty.json")
    fake.route("/x/web-interface/wbi/search/type", {"search_type": "video", "keyword": "北理工"}, "risk_352.json")
    cfg = platform_config(tmp_path, "bilibili", fake.base_url)
    runs = {r.target: r for r in run_round(cfg, "bilibili", "mentions", [Target.for_mode("mentions", k)
                                                                               for k in ("京工", "北理工")]).runs}
    assert runs["京工"].status == "ok" and runs["京工"].items == 0
    assert runs["北理工"].status == "blocked" and "-352" in runs["北理工"].reason
