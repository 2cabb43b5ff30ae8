"""Xiaohongshu mentions (notes about the school) in Debian's chromium, end to end on real-shaped
answers: the search page's own signed notes search, page 2 posted after the reader scrolls, an
empty result and a risk-control refusal (code 300012) — all in one round (one browser)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from spiders.base import Problem, Target
from spiders.browser import CHROMIUM
from spiders.xiaohongshu import XiaohongshuSpider
from tests.fakeplatform import FIXTURES, FakePlatform
from tests.spider_helpers import platform_config
from watcher import registry
from watcher.rounds.engine import run_round
from watcher.store import Store
from watcher.store import mentions as mentions_store
from watcher.store.findings import list_findings

HTML = "text/html; charset=utf-8"
API = "/api/sns/web/v1/search/notes"
DIR = FIXTURES / "xiaohongshu_mentions"


def _load(name: str) -> dict:
    return json.loads((DIR / name).read_text(encoding="utf-8"))


def test_parser_reads_notes_counts_dates_and_tokens(tmp_path):
    spider = XiaohongshuSpider(platform_config(tmp_path, "xiaohongshu", "https://www.xiaohongshu.com"), "mentions", [])
    items = list(spider.parse_mentions(_load("notes.json"), "北理工"))
    mentions = {i.post_id: i for i in items if type(i).__name__ == "Mention"}
    assert set(mentions) == {"6741a2b3000000001d03c4e5", "6740ff10000000001a02b7c8"}  # the 大家都在搜 card is none
    water = mentions["6741a2b3000000001d03c4e5"]
    assert (water.likes, water.comments, water.reposts) == (12000, 2346, 518) and water.kind == "post"
    assert water.title == "北理工宿舍楼停水三天了，后勤没人管" and water.author_name == "五号楼的猫"
    ago = datetime.now(UTC) - datetime.fromisoformat(water.created_at)
    assert timedelta(minutes=4) <= ago <= timedelta(minutes=6)           # "5分钟前"
    assert water.url == ("https://www.xiaohongshu.com/explore/6741a2b3000000001d03c4e5?xsec_token="
                         "ABxZ1kQeW9lR0nF3mT7sUoP2-v8hLcYd4Kq6jA0rN5bE%3D&xsec_source=pc_search")
    ad = mentions["6740ff10000000001a02b7c8"]
    assert ad.kind == "video" and ad.created_at.endswith("-11-20T00:00:00+08:00")
    (autumn,) = [i for i in spider.parse_mentions(_load("notes_p2.json"), "北理工") if type(i).__name__ == "Mention"]
    assert autumn.created_at.endswith("T21:30:00+08:00")                  # "编辑于 昨天 21:30"
    with pytest.raises(Problem) as refused:
        list(spider.parse_mentions(_load("notes_risk.json"), "北理工"))
    assert refused.value.status == "blocked" and "300012" in refused.value.reason


@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium (/usr/bin/chromium) not installed")
def test_note_mentions_scroll_empty_and_risk_control_in_one_round(tmp_path):
    fake = FakePlatform(DIR)
    fake.route("/search_result", {"source": "web_explore_feed"}, "search_notes_page.html", content_type=HTML)
    # A page that rendered its results in its state (no search call seen): read from there.
    fake.route("/search_result", {"keyword": "北京理工大学", "source": "web_explore_feed"}, "search_state_page.html",
               content_type=HTML)
    fake.route(API, body_contains='"keyword":"北理工","page":1,', file="notes.json")
    fake.route(API, body_contains='"keyword":"北理工","page":2,', file="notes_p2.json")
    fake.route(API, body_contains='"keyword":"京工"', file="notes_empty.json")
    fake.route(API, body_contains='"keyword":"理工"', file="notes_risk.json")
    with fake:
        cfg = platform_config(tmp_path, "xiaohongshu", fake.base_url, timeout=30, pages=3)
        with Store.open(cfg.db_path) as s:
            registry.import_file(s, cfg.registry_path)
        keywords = ("北理工", "京工", "理工", "北京理工大学")
        result = run_round(cfg, "xiaohongshu", "mentions", [Target.for_mode("mentions", k) for k in keywords])
    runs = {r.target: r for r in result.runs}
    assert runs["北理工"].status == "ok", runs
    assert runs["京工"].status == "ok" and runs["京工"].items == 0, runs
    assert runs["理工"].status == "blocked" and "300012" in runs["理工"].reason, runs
    assert runs["北京理工大学"].status == "ok", runs
    posts = [h for path, _, h in fake.requests if path == API]
    assert posts and all(h.get("x-s", "").startswith("XYW_") for h in posts)
    with Store.open(cfg.db_path) as s:
        found = {m.post_id: m for m in mentions_store.run_mentions(s, runs["北理工"].id)}
        assert set(found) == {"6741a2b3000000001d03c4e5", "6740ff10000000001a02b7c8", "673f8e9d000000001b0129ab"}
        assert found["6741a2b3000000001d03c4e5"].likes == 12000
        (seat,) = mentions_store.run_mentions(s, runs["北京理工大学"].id)
        assert seat.post_id == "6742c0de000000001e01f2a3" and (seat.likes, seat.comments) == (34000, 1021)
        assert "xsec_token=ABc1D2e3" in seat.url and seat.author_name == "图书馆常驻选手"
        leads = {f.account_id for f in list_findings(s, kind="impersonation")}
    assert "64c1d2e3000000000b00f5a6" in leads              # "北理工招生办" selling admissions material
    assert "5e8f9a0b0000000001004c3d" not in leads          # a student complaining is no impersonator
