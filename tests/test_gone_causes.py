"""Why a post is gone, decided from each platform's own signals, and what follows from it: only
作者删除 and 平台删除或屏蔽 (or gone for a reason the platform does not say) are deletions; a
private, restricted or under-review post is its own finding, never a deletion. Parsers run
in-process on answers of the shape each platform sends."""

from __future__ import annotations

import json
import urllib.parse
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from scrapy.http import Request, TextResponse

from alerts.routing import route
from spiders import catalog
from spiders.items import PostCheck
from tests.spider_helpers import platform_config
from tests.test_watch_integrity import UID, Weibo, crawl
from watcher import registry
from watcher.store.findings import list_findings
from watcher.watch.analyze import analyse_timeline, confirm_checked_live, confirm_pending


def _spider(tmp_path: Path, platform: str) -> Any:
    return catalog.spider_class(platform)(platform_config(tmp_path, platform, "https://example.invalid"), "check", [])


def _json(url: str, body: Any, status: int = 200) -> TextResponse:
    return TextResponse(url=url, body=json.dumps(body, ensure_ascii=False).encode(), encoding="utf-8", status=status,
                        request=Request(url))


def _one(items: Any) -> PostCheck:
    checks = [i for i in items if isinstance(i, PostCheck)]
    assert len(checks) == 1, checks
    return checks[0]


MSG = "因作品权限或已被删除，无法观看，去看看其他作品吧"


@pytest.mark.parametrize("reason, cause", [
    ("status_deleted", "author_deleted"),
    ("status_self_see", "restricted"),            # was recorded as deleted: the message is the same
    ("status_audit_self_see", "restricted"),
    ("status_reviewing", "under_review"),
    ("status_audit_not_pass", "platform_removed"),
    ("copyright_foreign", "platform_removed"),     # z-mio/parse_hub_bot issue #25
    ("author_level_ban&status_audit_self_see", "platform_removed"),
    ("status_deleted&status_self_see", "author_deleted"),
    ("core_dep", "unknown"),
])
def test_douyin_decides_on_filter_reason_not_the_message(tmp_path, reason, cause):
    spider = _spider(tmp_path, "douyin")
    answer = {"status_code": 0, "aweme_detail": None, "log_pb": {"impr_id": "2026"},
              "filter_detail": {"aweme_id": "7440000000000000002", "filter_reason": reason, "detail_msg": MSG,
                                "notice": "", "icon": ""}}
    check = _one(spider.parse_detail(answer, "MS4wLjABAAAAbit", "7440000000000000002"))
    assert (check.exists, check.cause) == (False, cause) and reason in check.reason


def test_douyin_without_detail_or_filter_proves_nothing(tmp_path):
    """An unsigned detail call answers status_code 0 with no detail and no filter_detail."""
    check = _one(_spider(tmp_path, "douyin").parse_detail({"status_code": 0, "aweme_detail": None}, "s", "1"))
    assert check.exists is None and check.cause is None


@pytest.mark.parametrize("msg, cause", [
    ("抱歉，此微博已被作者删除。查看帮助：https://kefu.weibo.com/faqdetail?id=20145", "author_deleted"),
    ("该微博因违反《微博社区公约》的相关规定，已被删除。", "platform_removed"),
    ("抱歉，由于作者设置，你暂时没有这条微博的查看权限哦。", "restricted"),
    ("抱歉，作者已设置仅展示半年内微博，此微博已不可见。", "restricted"),
    ("该微博正在审核中", "under_review"),
    ("该微博不存在", "unknown"),
])
def test_weibo_tells_the_author_from_the_platform(tmp_path, msg, cause):
    url = "https://m.weibo.cn/statuses/show?id=5000000000000001"
    check = _one(_spider(tmp_path, "weibo").parse_check(_json(url, {"ok": 0, "msg": msg, "errno": "20101"}),
                                                        uid=UID, mid="5000000000000001"))
    assert (check.exists, check.cause) == (False, cause)


@pytest.mark.parametrize("code, message, cause", [
    (-404, "啥都木有", "unknown"), (62002, "稿件不可见", "restricted"), (62004, "稿件审核中", "under_review"),
    (62012, "仅UP主自己可见", "restricted"),
])
def test_bilibili_view_codes(tmp_path, code, message, cause):
    url = "https://api.bilibili.com/x/web-interface/view?bvid=BV1Ab411c7Xa"
    check = _one(_spider(tmp_path, "bilibili").parse_check(_json(url, {"code": code, "message": message, "ttl": 1}),
                                                           mid="42", bvid="BV1Ab411c7Xa"))
    assert (check.exists, check.cause) == (False, cause)


@pytest.mark.parametrize("text, cause", [
    ("作品已被作者删除", "author_deleted"), ("该作品因违规已被删除", "platform_removed"),
    ("作品审核中，请稍后再来", "under_review"), ("作者已将作品设为私密", "restricted"), ("作品不存在", "unknown"),
])
def test_kuaishou_work_page(tmp_path, text, cause):
    seen = {"url": "https://www.kuaishou.com/short-video/3xq9gone", "state": {}, "text": f"快手\n{text}\n返回首页"}
    check = _one(_spider(tmp_path, "kuaishou").parse_video(seen, "3xbit", "3xq9gone"))
    assert (check.exists, check.cause) == (False, cause)


@pytest.mark.parametrize("code, msg, cause", [
    ("-510001", "笔记不存在", "unknown"),
    ("-510001", "当前内容无法展示", "restricted"),   # MediaCrawler xhs/exception.py: NOTE_SECRETE_FAULT
    ("-510001", "笔记违反社区规范，已被删除", "platform_removed"),
    ("-510000", "笔记审核中", "under_review"),
    ("300031", "当前笔记暂时无法浏览", None),          # hidden from this visitor (no token): proves nothing
])
def test_xiaohongshu_error_page(tmp_path, code, msg, cause):
    url = f"https://www.xiaohongshu.com/404?source=note&error_code={code}&error_msg={urllib.parse.quote(msg)}"
    check = _one(_spider(tmp_path, "xiaohongshu").parse_note({"url": url, "state": None, "text": msg}, "5f1a", "abc"))
    assert check.cause == cause and check.exists is (None if cause is None else False)


@pytest.mark.parametrize("text, cause", [
    ("该内容已被作者删除", "author_deleted"), ("内容涉嫌违规，已被删除", "platform_removed"),
    ("文章审核中", "under_review"), ("该内容不存在", "unknown"),
])
def test_toutiao_post_page(tmp_path, text, cause):
    check = _one(_spider(tmp_path, "toutiao").parse_article({"url": "https://www.toutiao.com/article/1/", "state": None,
                                                             "text": text}, "tok", "7300000000000000001"))
    assert (check.exists, check.cause) == (False, cause)


# -- what follows: deletion, hidden, severity, routing ----------------------------------------------


@pytest.fixture
def account(store, cfg, tmp_path):
    """The registered tier-1 Weibo account, crawled once; post 10 then missing from a complete crawl."""
    registry.import_file(store, cfg.registry_path)
    weibo = Weibo(tmp_path)
    t0 = datetime.now(UTC)
    analyse_timeline(cfg, store, crawl(store, weibo), fetch_avatar=weibo.fetch, now=t0)
    weibo.posts = [p for p in weibo.posts if p[0] != "10"]
    analyse_timeline(cfg, store, crawl(store, weibo), fetch_avatar=weibo.fetch, now=t0)
    assert store.one("SELECT status FROM posts WHERE post_id = '10'")["status"] == "pending"
    return t0


def _answer(cause: str | None, exists: bool | None = False) -> PostCheck:
    return PostCheck("weibo", UID, "10", exists, reason="平台答复", cause=cause)


@pytest.mark.parametrize("cause", ["restricted", "under_review"])
def test_a_private_or_reviewed_post_never_gives_a_deletion(cfg, store, account, cause):
    confirm_pending(cfg, store, "weibo", UID, lambda *_: _answer(cause), now=account)
    assert list_findings(store, kind="deletion") == []
    hidden = list_findings(store, kind="post_hidden")
    assert [(f.details["cause"], f.severity) for f in hidden] == [(cause, "info")]
    post = store.one("SELECT status, next_check_at FROM posts WHERE post_id = '10'")
    assert post["status"] == "hidden"
    # asked again a day later: still hidden is no news; then deleted by its author is a deletion
    later = datetime.fromisoformat(post["next_check_at"])
    confirm_pending(cfg, store, "weibo", UID, lambda *_: _answer(cause), now=later)
    assert len(list_findings(store, kind="post_hidden")) == 1 and list_findings(store, kind="deletion") == []
    again = datetime.fromisoformat(store.one("SELECT next_check_at FROM posts WHERE post_id = '10'")["next_check_at"])
    assert again - later > later - account            # backing off
    confirm_pending(cfg, store, "weibo", UID, lambda *_: _answer("author_deleted"), now=again)
    assert [f.details["cause"] for f in list_findings(store, kind="deletion")] == ["author_deleted"]


def test_hidden_posts_can_be_left_out_by_config(cfg, store, account):
    cfg.watch.hidden_posts = "none"
    confirm_pending(cfg, store, "weibo", UID, lambda *_: _answer("restricted"), now=account)
    assert list_findings(store, kind="post_hidden") == [] and list_findings(store, kind="deletion") == []
    assert store.one("SELECT status FROM posts WHERE post_id = '10'")["status"] == "hidden"


@pytest.mark.parametrize("cause, severity, title, copied", [
    # the platform removing a tier-1 account's post is urgent and reaches the central department
    ("platform_removed", "critical", "微博账号「北京理工大学」的帖子被平台删除或屏蔽", True),
    ("author_deleted", "info", "微博账号「北京理工大学」删除了帖子", False),   # the operator's own: routine
    ("unknown", "warning", "微博账号「北京理工大学」的帖子已被删除（原因未知）", False),
])
def test_severity_and_routing_follow_the_cause(cfg, store, account, cause, severity, title, copied):
    confirm_pending(cfg, store, "weibo", UID, lambda *_: _answer(cause), now=account)
    [f] = list_findings(store, kind="deletion")
    assert (f.severity, f.title, f.details["cause"]) == (severity, title, cause)
    assert any("删除原因" in r for r in f.details["reasons"])
    r = route(cfg, store, f)
    assert ("帖子被平台删除或屏蔽，抄送宣传部" in r.why) is copied


def test_a_direct_check_of_a_live_post_concludes_with_its_cause(cfg, store, account):
    """The early-life checks ask about live posts: gone with a cause is concluded at once."""
    gone = PostCheck("weibo", UID, "11", False, reason="该微博因违反《微博社区公约》的相关规定，已被删除。",
                     cause="platform_removed")
    private = PostCheck("weibo", UID, "12", False, reason="由于作者设置", cause="restricted")
    there = PostCheck("weibo", UID, "9", True, text="北理工通知第9号")
    counts = confirm_checked_live(cfg, store, "weibo", UID, {"11": gone, "12": private, "9": there},
                                  now=account + timedelta(minutes=15))
    assert counts == {"deleted": 1, "hidden": 1, "present": 1}
    assert [f.details["post_id"] for f in list_findings(store, kind="deletion")] == ["11"]
    status = {r["post_id"]: r["status"] for r in store.query("SELECT post_id, status FROM posts")}
    assert (status["11"], status["12"], status["9"]) == ("deleted", "hidden", "live")
