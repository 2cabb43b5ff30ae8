"""A platform's proxy (``platforms.<p>.proxy``) carries that platform's crawl and nothing else."""

from __future__ import annotations

from tests.fakeplatform import FIXTURES, FakePlatform
from tests.spider_helpers import platform_config, run_crawl
from tests.weibo_shapes import serve_accounts, uid


def test_a_round_goes_through_the_platforms_proxy(tmp_path):
    # The base URL does not resolve: the answers can only come through the proxy, which sees the
    # absolute URL a client sends to an HTTP proxy.
    with FakePlatform(FIXTURES / "weibo") as proxy:
        serve_accounts(proxy, [uid(1)])
        cfg = platform_config(tmp_path, "weibo", "http://m.weibo.invalid", pages=1, proxy=proxy.base_url)
        run = run_crawl(cfg, "weibo", "timeline", account=uid(1))
    assert run["status"] == "ok", run
    assert proxy.requests and not proxy.unmatched


def test_without_the_proxy_the_same_round_cannot_connect(tmp_path):
    cfg = platform_config(tmp_path, "weibo", "http://m.weibo.invalid", pages=1)
    assert run_crawl(cfg, "weibo", "timeline", account=uid(1))["status"] == "unreachable"
