"""What the HTTP spiders say they are (in-process): one identity per platform — the browser
platforms' user agent, client hints that agree with it, Chinese, and the department's session
(the saved ``watcher login`` session over ``cookies_file``) — and how each platform's own signal
says whether that session still logs us in (Bilibili ``nav`` ``isLogin``, Zhihu ``/api/v4/me``,
Tieba's ``BDUSS`` cookie)."""

import json

import pytest
from scrapy.http import Request

from spiders import catalog, identity
from spiders.base import Target
from spiders.middlewares import IdentityMiddleware
from tests.fakeplatform import FakePlatform
from tests.spider_helpers import platform_config
from watcher import sessions

HTTP = [p.name for p in catalog.all_platforms() if not p.browser and p.name != "website"]


class _Crawler:
    def __init__(self, spider):
        self.spider = spider


@pytest.mark.parametrize("platform", HTTP)
def test_every_http_request_carries_the_platform_identity_and_session(tmp_path, platform):
    cookies = tmp_path / "cookies.json"
    cookies.write_text('{"from_file": "1", "shared": "file"}', encoding="utf-8")
    cfg = platform_config(tmp_path, platform, "https://example.invalid", cookies_file=str(cookies))
    identity.write_json(identity.state_path(cfg.data_path, platform),
                        {"cookies": [{"name": "shared", "value": "login", "domain": ".example.invalid", "path": "/"}]})
    info = catalog.get(platform)
    spider = catalog.spider_class(platform)(cfg=cfg, mode=info.modes[0], targets=[Target.for_mode(info.modes[0], "x")],
                                            run_ids={}, round_id=0)
    request = Request("https://example.invalid/api")
    IdentityMiddleware(_Crawler(spider)).process_request(request)
    ua = request.headers["User-Agent"].decode()
    assert ua == info.user_agent and "Scrapy" not in ua and ua.startswith("Mozilla/5.0")
    assert ("iPhone" in ua) == info.mobile  # Weibo's API is the mobile site's
    assert request.headers["Accept-Language"].decode().startswith("zh-CN")
    if "Chrome/" in ua:
        assert request.headers["sec-ch-ua"].decode().count(ua.split("Chrome/")[1].split(".")[0]) == 2
    # the login saved by `watcher login` wins over the cookies file, which still adds its own
    assert request.cookies["shared"] == "login" and request.cookies["from_file"] == "1"




@pytest.mark.parametrize("platform, path, answer, status, state", [
    # bilibili-API-collect docs/login/login_info.md: nav answers code -101 and isLogin false without a login
    ("bilibili", "/x/web-interface/nav", {"code": 0, "data": {"isLogin": True, "mid": 3546000001, "uname": "北理工宣传部"}},
     200, "valid"),
    ("bilibili", "/x/web-interface/nav", {"code": -101, "message": "账号未登录", "data": {"isLogin": False}}, 200,
     "lapsed"),
    ("zhihu", "/api/v4/me", {"id": "8c4d6a2b1f", "url_token": "bit-xcb", "name": "北理工宣传部"}, 200, "valid"),
    ("zhihu", "/api/v4/me", {"error": {"code": 100, "message": "请求参数异常，请升级客户端后重试。"}}, 401, "lapsed"),
])
def test_a_session_is_checked_by_the_platform_s_own_signal(tmp_path, platform, path, answer, status, state):
    fake = FakePlatform(tmp_path)
    fake.route(path, {}, body=json.dumps(answer, ensure_ascii=False), status=status)
    with fake:
        cfg = platform_config(tmp_path, platform, fake.base_url)
        sessions.save(cfg, platform, {"cookies": [{"name": "SESSDATA" if platform == "bilibili" else "z_c0",
                                                   "value": "s3cr3t", "domain": "127.0.0.1", "path": "/"}]}, "qr")
        checked = sessions.check(cfg, platform)
    assert checked.state == state, checked
    sent = [h for p, _, h in fake.requests if p == path]
    assert len(sent) == 1 and "s3cr3t" in sent[0]["Cookie"] and "Scrapy" not in sent[0]["User-Agent"]


def test_tieba_s_session_is_its_bduss_cookie(tmp_path):
    cfg = platform_config(tmp_path, "tieba", "https://tieba.example.invalid")
    assert sessions.check(cfg, "tieba").state == "none"
    sessions.save(cfg, "tieba", {"cookies": [{"name": "STOKEN", "value": "x", "domain": ".baidu.com", "path": "/"}]}, "qr")
    assert sessions.check(cfg, "tieba").state == "lapsed"
    sessions.save(cfg, "tieba", {"cookies": [{"name": "BDUSS", "value": "x", "domain": ".baidu.com", "path": "/",
                                              "expires": 1.0}]}, "qr")
    lapsed = sessions.check(cfg, "tieba")
    assert lapsed.state == "lapsed" and "过期" in lapsed.detail
    sessions.save(cfg, "tieba", {"cookies": [{"name": "BDUSS", "value": "x", "domain": ".baidu.com", "path": "/",
                                              "expires": 4102444800.0}]}, "qr")
    assert sessions.check(cfg, "tieba").state == "valid"
