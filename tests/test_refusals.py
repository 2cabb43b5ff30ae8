"""Every refusal names the platform's own code and the remedy that lifts it: one test per row of the
平台拒绝代码 table in docs/crawling.md, each feeding the platform's parser (in-process) an answer of the shape
the platform sends, and the table held to the spiders' ``REFUSALS``."""

from __future__ import annotations

import importlib
import json
import re
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from scrapy.http import HtmlResponse, Request, TextResponse

from spiders import catalog
from spiders.base import Problem
from spiders.refusals import REMEDY_NAMES, remedy_text
from tests.spider_helpers import platform_config

ROOT = Path(__file__).resolve().parent.parent
HEADING = "## 平台拒绝代码与处理办法"


def readme_rows() -> list[tuple[str, str, str, str]]:
    """(platform code, refusal code, meaning, remedy) of each row of the table in docs/crawling.md."""
    text = (ROOT / "docs" / "crawling.md").read_text(encoding="utf-8")
    section = text.split(HEADING, 1)[1].split("\n#", 1)[0]
    rows = []
    by_label = {p.label: p.name for p in catalog.all_platforms()}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or cells[0] in ("平台", "") or set(cells[0]) <= {"-"}:
            continue
        code = re.fullmatch(r"`([^`]+)`", cells[1])
        assert code, f"docs/crawling.md 平台拒绝代码：代码应写在反引号中：{line}"
        rows.append((by_label[cells[0]], code[1], cells[2], cells[3]))
    return rows


def _json(url: str, body: Any, status: int = 200) -> TextResponse:
    return TextResponse(url=url, body=json.dumps(body, ensure_ascii=False).encode(), encoding="utf-8",
                        status=status, request=Request(url))


def _nil(spider: Any, item: str, kind: str = "") -> Any:
    return list(spider.parse_mentions({"status_code": 0, "data": [], "has_more": 0,
                                       "search_nil_info": {"search_nil_type": kind, "search_nil_item": item,
                                                           "text_type": 9}}, "北理工"))


def _toutiao_captcha(spider: Any, _code: str) -> Any:
    card = {"data": {"cell_type": 71, "template_key": "71-undefined", "decision_conf": json.dumps({"type": "verify"})}}
    html = (f'<html><body><script type="application/json" data-druid-card-data-id="1">'
            f"{json.dumps(card)}</script></body></html>")
    url = "https://so.toutiao.com/search?keyword=x&pd=user"
    return spider._cards(HtmlResponse(url=url, body=html.encode(), encoding="utf-8", request=Request(url)), "北理工")


def _zhihu(spider: Any, code: str) -> Any:
    url = "https://www.zhihu.com/api/v4/search_v3?t=people&q=x"
    if code == "401":
        return list(spider.parse_search(_json(url, {"error": {"message": "请先登录", "name": "ERR_UNAUTHORIZED"}}, 401),
                                        keyword="北理工", page=1))
    body = {"error": {"code": int(code), "message": "您当前请求存在异常，暂时限制本次访问。", "redirect": False}}
    return list(spider.parse_search(_json(url, body, 403), keyword="北理工", page=1))


# platform → how its parser is fed a refusal of ``code`` (answers as the platform sends them)
FEEDERS: dict[str, Callable[[Any, str], Any]] = {
    "douyin": lambda s, code: (list(s.parse_mentions({"status_code": int(code), "status_msg": "用户未登录"}, "北理工"))
                               if code.isdigit() else
                               _nil(s, "invalid_app", "params_check") if code == "params_check" else _nil(s, code)),
    "kuaishou": lambda s, code: list(s.parse_mentions({"result": int(code), "host-name": "public-bjx"}, "北理工")),
    "xiaohongshu": lambda s, code: list(s.parse_users({"code": int(code), "success": False, "msg": "访问异常", "data": {}},
                                                      "北理工")),
    "bilibili": lambda s, code: list(s.parse_search(_json("https://api.bilibili.com/x/web-interface/wbi/search/type",
                                                          {"code": int(code), "message": "请求被拦截", "ttl": 1}),
                                                    keyword="北理工", page=1)),
    "weibo": lambda s, code: list(s.parse_check(_json("https://m.weibo.cn/statuses/show?id=1",
                                                      {"ok": int(code), "msg": "请先登录"}), uid="1", mid="1")),
    "zhihu": _zhihu,
    "toutiao": _toutiao_captcha,
}


def _spider(tmp_path: Path, platform: str, mode: str = "discover") -> Any:
    cfg = platform_config(tmp_path, platform, "https://example.invalid")
    return catalog.spider_class(platform)(cfg, mode, [])


ROWS = readme_rows()


def test_the_readme_table_is_the_spiders_tables():
    listed = {(p, code) for p, code, _, _ in ROWS}
    declared = set()
    for info in catalog.all_platforms():
        table = getattr(importlib.import_module(f"spiders.{info.name}"), "REFUSALS", {})
        declared |= {(info.name, code) for code in table}
    assert listed == declared, f"docs/crawling.md 缺少：{sorted(declared - listed)}；多出：{sorted(listed - declared)}"
    for platform, code, meaning, remedy in ROWS:
        refusal = importlib.import_module(f"spiders.{platform}").REFUSALS[code]
        assert remedy.startswith(REMEDY_NAMES[refusal.remedy]), (platform, code, remedy)
        assert meaning, (platform, code)


@pytest.mark.parametrize("platform, code, meaning, remedy", ROWS, ids=[f"{p}:{c}" for p, c, _, _ in ROWS])
def test_each_refusal_code_gives_its_own_remedy(tmp_path, platform, code, meaning, remedy):
    spider = _spider(tmp_path, platform, "check" if platform == "weibo" else "mentions"
                     if platform in ("douyin", "kuaishou") else "discover")
    with pytest.raises(Problem) as refused:
        FEEDERS[platform](spider, code)
    problem = refused.value
    refusal = importlib.import_module(f"spiders.{platform}").REFUSALS[code]
    assert problem.status == "blocked"
    assert f"代码 {code}" in problem.reason and refusal.meaning in problem.reason
    assert remedy_text(spider, refusal.remedy) in problem.reason
    # a rate limit halts the round and cools the platform down; any other refusal costs its target
    assert problem.rate_limited == (refusal.remedy == "slow_down")
    others = {r for r in REMEDY_NAMES if r != refusal.remedy}
    assert not any(remedy_text(spider, r) in problem.reason for r in others)


def test_douyin_params_check_search_is_blocked_not_an_empty_result(tmp_path):
    """The unsigned search answers 200, status_code 0, no results and params_check/invalid_app:
    recorded before as ok with 0 mentions."""
    spider = _spider(tmp_path, "douyin", "mentions")
    with pytest.raises(Problem) as refused:
        _nil(spider, "invalid_app", "params_check")
    assert refused.value.status == "blocked" and "params_check" in refused.value.reason
    assert "签名" in refused.value.reason and "watcher login douyin 扫码登录" not in refused.value.reason
    # a keyword the platform restricts is an answer with no results, not a refusal
    assert _nil(spider, "hit_limit", "hit_limit") == []
    # the user search is refused the same way
    users = _spider(tmp_path / "u", "douyin", "discover")
    with pytest.raises(Problem):
        list(users.parse_users({"status_code": 0, "user_list": [],
                                "search_nil_info": {"search_nil_type": "params_check", "search_nil_item": "invalid_app"}},
                               "北理工"))


def test_xiaohongshu_300013_redirect_is_a_rate_limit_not_a_login_page(tmp_path):
    """The page sent to /website-login/error?error_code=300013 (MediaCrawler issue #522) was read
    as a login page: it is 访问频次异常, whose remedy is a slower pace."""
    spider = _spider(tmp_path, "xiaohongshu", "check")
    msg = "访问频次异常，请勿频繁操作或重启试试"
    url = ("https://www.xiaohongshu.com/website-login/error?redirectPath=https%3A%2F%2Fwww.xiaohongshu.com%2Fexplore"
           f"&error_code=300013&error_msg={urllib.parse.quote(msg)}")
    problem = spider.wall("笔记 abc", url)
    assert problem.status == "blocked" and problem.rate_limited and "300013" in problem.reason
    assert remedy_text(spider, "slow_down") in problem.reason and remedy_text(spider, "login") not in problem.reason
    # a captcha page without a code is still the login/verification wall
    other = spider.wall("笔记 abc", "https://www.xiaohongshu.com/website-login/captcha?redirectPath=%2Fexplore")
    assert other.status == "blocked" and not other.rate_limited
    # the same code on the note's error page
    with pytest.raises(Problem) as refused:
        list(spider.parse_note({"url": f"https://www.xiaohongshu.com/404?error_code=300013&error_msg={urllib.parse.quote(msg)}",
                                "state": None, "text": msg}, "u", "abc"))
    assert refused.value.rate_limited and "300013" in refused.value.reason
