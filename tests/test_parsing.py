"""The shared parsing of counts, dates and text; spiders' parsers in-process on recorded answers."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from scrapy.http import Request, TextResponse

from spiders import catalog
from spiders.base import Target
from spiders.items import DiscoveredAccount, Post, ProfileSnapshot
from spiders.parsing import CHINA, count, html_text, https, when
from tests.fakeplatform import FIXTURES
from tests.spider_helpers import platform_config
from tests.weibo_shapes import posts, profile

NOW = datetime(2026, 11, 23, 15, 30, tzinfo=CHINA)


@pytest.mark.parametrize("text, expected", [
    ("152.3万", 1_523_000), ("1.2万", 12_000), ("1.2亿", 120_000_000), ("10w+", 100_000), ("100万+", 1_000_000),
    ("1,234", 1234), ("3.5k", 3500), (42, 42), ("0", 0), ("", None), (None, None), ("暂无", None), (True, None),
])
def test_counts_as_platforms_write_them(text, expected):
    assert count(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("刚刚", "2026-11-23T15:30:00+08:00"),
    ("5分钟前", "2026-11-23T15:25:00+08:00"),
    ("3小时前", "2026-11-23T12:30:00+08:00"),
    ("今天 09:00", "2026-11-23T09:00:00+08:00"),
    ("昨天 21:30", "2026-11-22T21:30:00+08:00"),
    ("11-20", "2026-11-20T00:00:00+08:00"),
    ("11-20 08:15", "2026-11-20T08:15:00+08:00"),
    ("12-31", "2025-12-31T00:00:00+08:00"),          # later this year would be the future: last year
    ("11月20日", "2026-11-20T00:00:00+08:00"),
    ("2025-11-20", "2025-11-20T00:00:00+08:00"),
    ("2025年3月1日 10:00", "2025-03-01T10:00:00+08:00"),
    ("Sat Nov 21 10:00:00 +0800 2026", "2026-11-21T10:00:00+08:00"),
    (1763776800, "2025-11-22T10:00:00+08:00"),
    (1763776800000, "2025-11-22T10:00:00+08:00"),
    ("2026-11-20T02:00:00Z", "2026-11-20T02:00:00+00:00"),
    # labels pages put before a date, and the region after it (Zhihu, Xiaohongshu)
    ("编辑于 2026-11-20 10:31", "2026-11-20T10:31:00+08:00"),
    ("发布于 2026-11-20 10:31", "2026-11-20T10:31:00+08:00"),
    ("编辑于 2026-11-20 10:31・IP 属地北京", "2026-11-20T10:31:00+08:00"),
    ("发布于 2026-11-18 08:02 · IP 属地广东", "2026-11-18T08:02:00+08:00"),
    ("编辑于 昨天 21:30", "2026-11-22T21:30:00+08:00"),
    ("编辑于 3天前", "2026-11-20T15:30:00+08:00"),
    ("发布于：11-20", "2026-11-20T00:00:00+08:00"),
    ("11-20 IP属地：上海", "2026-11-20T00:00:00+08:00"),
    ("编辑于", None), ("编辑于 不久以前", None),
    ("02-30", None), ("不久以前", None), ("", None),
])
def test_dates_as_platforms_write_them(text, expected):
    assert when(text, NOW) == expected


@pytest.mark.parametrize("url, expected", [
    ("//i0.hdslb.com/bfs/face/a.jpg", "https://i0.hdslb.com/bfs/face/a.jpg"),             # protocol-relative
    ("http://i1.hdslb.com/bfs/face/a.jpg", "https://i1.hdslb.com/bfs/face/a.jpg"),         # Bilibili's CDN
    ("http://p4.a.yximgs.com/uhead/AB/a_s.jpg", "https://p4.a.yximgs.com/uhead/AB/a_s.jpg"),  # Kuaishou's
    ("HTTP://wx1.sinaimg.cn/large/a.jpg", "https://wx1.sinaimg.cn/large/a.jpg"),
    ("http://p3-pc.douyinpic.com/aweme/a.jpeg?from=1", "https://p3-pc.douyinpic.com/aweme/a.jpeg?from=1"),
    ("https://i0.hdslb.com/bfs/face/a.jpg", "https://i0.hdslb.com/bfs/face/a.jpg"),
    # not a platform's CDN: kept as the site wrote it (an http-only school site, a test server)
    ("http://www.bit.edu.cn/images/logo.png", "http://www.bit.edu.cn/images/logo.png"),
    ("http://127.0.0.1:8080/a.jpg", "http://127.0.0.1:8080/a.jpg"),
    ("http://hdslb.com.evil.example/a.jpg", "http://hdslb.com.evil.example/a.jpg"),
    ("http://nothdslb.com/a.jpg", "http://nothdslb.com/a.jpg"),
    ("http://i0.hdslb.com:8080/a.jpg", "http://i0.hdslb.com:8080/a.jpg"),                 # a port says http
    ("http://[bad/a.jpg", "http://[bad/a.jpg"),
    ("", ""), (None, None),
])
def test_https_upgrades_protocol_relative_and_platform_cdn_links_only(url, expected):
    assert https(url) == expected


def test_html_text_keeps_lines_and_decodes_entities():
    assert html_text("【通知】冬运会&nbsp;开幕<br />欢迎<a href='x'>师生</a>&amp;校友") == "【通知】冬运会 开幕\n欢迎师生&校友"


def _spider(tmp_path, platform: str, mode: str, targets: list[Target]):
    cfg = platform_config(tmp_path, platform, "https://m.weibo.cn")
    return catalog.spider_class(platform)(cfg=cfg, mode=mode, targets=targets, run_ids={}, round_id=0)


def _response(url: str, body: str, target: str) -> TextResponse:
    return TextResponse(url=url, body=body.encode(), encoding="utf-8", request=Request(url, meta={"target": target}))


def test_weibo_search_parsed_in_process(tmp_path):
    spider = _spider(tmp_path, "weibo", "discover", [Target.for_mode("discover", "北理工")])
    body = (FIXTURES / "weibo" / "search_p1.json").read_text(encoding="utf-8")
    out = list(spider.parse_search(_response("https://m.weibo.cn/api/container/getIndex", body, "北理工"),
                                   keyword="北理工", page=1))
    accounts = [o for o in out if isinstance(o, DiscoveredAccount)]
    assert accounts and all(a.keyword == "北理工" for a in accounts)
    assert any(a.followers == 32000 for a in accounts)          # "3.2万"
    assert any(isinstance(o, Request) for o in out)               # the next page


def test_weibo_profile_and_posts_parsed_in_process(tmp_path):
    spider = _spider(tmp_path, "weibo", "timeline", [Target.for_mode("timeline", "5600000001")])
    out = list(spider.parse_profile(_response("https://m.weibo.cn/api/container/getIndex",
                                              profile("5600000001", "北理工测试"), "5600000001"), uid="5600000001"))
    snap = next(o for o in out if isinstance(o, ProfileSnapshot))
    assert snap.followers == 1_523_000 and "ssig=" in snap.avatar_url
    nxt = next(o for o in out if not isinstance(o, ProfileSnapshot))
    assert "containerid=1076035600000001" in nxt.url  # the profile's 微博 tab, not a guess
    items = list(spider.parse_posts(_response("https://m.weibo.cn/api/container/getIndex",
                                              posts("5600000001", ["56000000010001"]), "5600000001"),
                                    uid="5600000001", container="1076035600000001", page=1))
    post = next(o for o in items if isinstance(o, Post))
    assert post.comments == 12_000 and post.likes == 1_000_000 and post.created_at == "2026-11-22T09:00:00+08:00"
    assert "<br" not in post.text and json.loads(json.dumps(post.raw))["id"] == "56000000010001"
