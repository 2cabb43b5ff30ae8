"""Douyin mentions (videos about the school) in Debian's chromium, end to end on real-shaped
answers: the search page's own signed video search, a second batch fetched by scrolling, an
empty result and Douyin's "verify_check" risk control — all in one round (one browser)."""

from __future__ import annotations

import urllib.parse
from pathlib import Path

import pytest

from spiders.base import Target
from spiders.browser import CHROMIUM, read_stream
from spiders.douyin import DouyinSpider
from tests.fakeplatform import FIXTURES, FakePlatform
from tests.spider_helpers import platform_config
from watcher import registry
from watcher.rounds.engine import run_round
from watcher.store import Store
from watcher.store import mentions as mentions_store
from watcher.store.findings import list_findings

HTML = "text/html; charset=utf-8"
API = "/aweme/v1/web/search/item/"


def _page(keyword: str) -> str:
    return "/search/" + urllib.parse.quote(keyword)


def test_parser_reads_videos_and_refuses_verify_check(tmp_path):
    import json

    from spiders.base import Problem

    cfg = platform_config(tmp_path, "douyin", "https://www.douyin.com")
    spider = DouyinSpider(cfg, "mentions", [])
    data = json.loads((FIXTURES / "douyin_mentions" / "video_search.json").read_text(encoding="utf-8"))
    items = list(spider.parse_mentions(data, "北理工"))
    mentions = [i for i in items if type(i).__name__ == "Mention"]
    assert [m.post_id for m in mentions] == ["7576000000000000001", "7576000000000000002"]
    m = mentions[0]
    assert (m.likes, m.comments, m.reposts, m.views) == (12000, 3456, 820, None)  # the web hides plays as 0
    assert m.created_at == "2026-11-23T09:50:00+08:00" and m.url == "https://www.douyin.com/video/7576000000000000001"
    assert m.author_id == "MS4wLjABAAAAeatmelon9T2xQ" and m.kind == "video"
    verify = json.loads((FIXTURES / "douyin_mentions" / "video_search_verify.json").read_text(encoding="utf-8"))
    with pytest.raises(Problem) as refused:
        list(spider.parse_mentions(verify, "理工"))
    assert refused.value.status == "blocked" and "verify_check" in refused.value.reason


def test_a_streamed_answer_is_one_answer_and_a_cut_stream_none():
    stream = (FIXTURES / "douyin_mentions" / "general_stream.txt").read_text(encoding="utf-8")
    answer = read_stream(stream)
    assert [e["aweme_info"]["aweme_id"] for e in answer["data"]] == ["7576000000000000011", "7576000000000000012"]
    assert answer["has_more"] == 1 and answer["cursor"] == 10            # from the last object
    assert read_stream(stream[: len(stream) - 40]) is None               # the last object cut
    assert read_stream("") is None


@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium (/usr/bin/chromium) not installed")
def test_video_mentions_scroll_empty_and_verify_check_in_one_round(tmp_path):
    fake = FakePlatform(FIXTURES / "douyin_mentions")
    for keyword in ("北理工", "京工", "理工"):
        fake.route(_page(keyword), {}, "search_video_page.html", content_type=HTML)
    # The 综合 tab's first screen streamed, its next batch whole.
    fake.route(_page("北京理工大学"), {}, "search_general_page.html", content_type=HTML)
    fake.route("/aweme/v1/web/general/search/stream/", {"keyword": "北京理工大学", "offset": "0"}, "general_stream.txt",
               content_type="text/plain; charset=utf-8")
    fake.route("/aweme/v1/web/general/search/single/", {"keyword": "北京理工大学", "offset": "10"},
               "general_single_p2.json")
    fake.route(API, {"keyword": "北理工", "offset": "0"}, "video_search.json")
    fake.route(API, {"keyword": "北理工", "offset": "10"}, "video_search_p2.json")
    fake.route(API, {"keyword": "京工"}, "video_search_empty.json")
    fake.route(API, {"keyword": "理工"}, "video_search_verify.json")
    with fake:
        cfg = platform_config(tmp_path, "douyin", fake.base_url, timeout=30, pages=3)
        with Store.open(cfg.db_path) as s:
            registry.import_file(s, cfg.registry_path)
        keywords = ("北理工", "京工", "理工", "北京理工大学")
        result = run_round(cfg, "douyin", "mentions", [Target.for_mode("mentions", k) for k in keywords])
    runs = {r.target: r for r in result.runs}
    assert runs["北理工"].status == "ok", runs
    assert runs["京工"].status == "ok" and runs["京工"].items == 0, runs
    assert runs["理工"].status == "blocked" and "verify_check" in runs["理工"].reason, runs
    assert runs["北京理工大学"].status == "ok", runs
    searches = [q for path, q, _ in fake.requests if path == API and q["keyword"] == "北理工"]
    # signed by the page, and the second batch asked for by the page itself after the reader scrolled
    assert [q["offset"] for q in searches] == ["0", "10"] and all(q["a_bogus"].startswith("DFSzswVO") for q in searches)
    assert searches[1]["search_id"] == "2026112310421234ABCDEF0123456789"
    with Store.open(cfg.db_path) as s:
        found = {m.post_id: m for m in mentions_store.run_mentions(s, runs["北理工"].id)}
        assert set(found) == {"7576000000000000001", "7576000000000000002", "7576000000000000003"}
        bug = found["7576000000000000001"]
        assert (bug.likes, bug.comments, bug.reposts) == (12000, 3456, 820) and bug.author_name == "理工吃瓜群众"
        assert bug.text.startswith("北理工食堂今天吃出虫子了")
        streamed = {m.post_id for m in mentions_store.run_mentions(s, runs["北京理工大学"].id)}
        assert streamed == {"7576000000000000011", "7576000000000000012", "7576000000000000013"}, runs
        leads = {f.account_id for f in list_findings(s, kind="impersonation")}
    # "北理工招生办" offering paid admissions advice is a lead; the registered account and a student are not
    assert "MS4wLjABAAAAzhaoshengban8Q" in leads
    assert not leads & {"MS4wLjABAAAAbitofficial", "MS4wLjABAAAAeatmelon9T2xQ"}
