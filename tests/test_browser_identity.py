"""What a platform sees from a browser spider: a browser, with the department's session.

A page whose own script calls the platform's API (as Douyin's does): the call must carry the
configured cookie and the saved session's, the descriptor's browser user agent (never Scrapy's
or HeadlessChrome's) and ``navigator.webdriver`` false — which the page's signature covers."""

import json
from pathlib import Path

import pytest

from spiders import catalog, identity
from spiders.browser import CHROMIUM
from tests.fakeplatform import FIXTURES, FakePlatform
from tests.spider_helpers import platform_config, run_crawl

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium (/usr/bin/chromium) not installed")]
SEC = "MS4wLjABAAAAbitofficial"


def test_the_page_s_own_api_call_carries_the_session_and_a_browser_identity(tmp_path):
    fake = FakePlatform(FIXTURES / "douyin")
    fake.route(f"/user/{SEC}", {}, "identity_page.html", content_type="text/html; charset=utf-8")
    fake.route("/aweme/v1/web/user/profile/other/", {}, "profile.json")
    fake.route("/aweme/v1/web/aweme/post/", {}, "posts_p2.json")
    cookies = tmp_path / "douyin-cookies.json"
    cookies.write_text(json.dumps([{"name": "ttwid", "value": "1%7Cfromfile"}]), encoding="utf-8")
    with fake:
        cfg = platform_config(tmp_path, "douyin", fake.base_url, timeout=30, cookies_file=str(cookies))
        # the session `watcher login douyin` saved, as Playwright's storage_state
        identity.write_json(identity.state_path(cfg.data_path, "douyin"), {"cookies": [
            {"name": "sessionid", "value": "sess-from-login", "domain": "127.0.0.1", "path": "/", "expires": -1,
             "httpOnly": True, "secure": False, "sameSite": "Lax"}], "origins": []})
        run = run_crawl(cfg, "douyin", "timeline", account=SEC)
    assert run["status"] == "ok", run
    calls = [(q, h) for path, q, h in fake.requests if path.startswith("/aweme/")]
    assert len(calls) == 2
    ua = catalog.get("douyin").user_agent
    for query, headers in calls:
        sent = {k.lower(): v for k, v in headers.items()}
        assert "ttwid=1%7Cfromfile" in sent["cookie"] and "sessionid=sess-from-login" in sent["cookie"]
        assert sent["user-agent"] == ua, sent
        assert query["nav_ua"] == ua, query
        assert query["webdriver"] == "false"
        assert query["lang"] == "zh-CN"
        # client hints agree with the user agent: a Chrome, not HeadlessChrome
        assert "Google Chrome" in query["brands"] and "Headless" not in query["brands"]
        assert 'v="131"' in sent["sec-ch-ua"] and "Headless" not in sent["sec-ch-ua"]
        assert not [v for v in sent.values() if "Scrapy" in v or "HeadlessChrome" in v or "Headless" in v], sent
    # the page itself was fetched by the browser too, with the same identity
    page = next(h for path, _, h in fake.requests if path == f"/user/{SEC}")
    assert page["User-Agent"] == ua
    # the profile is kept under the data dir for the next round
    assert (identity.profile_dir(cfg.data_path, "douyin") / "Default").is_dir()


class _Context:
    """What init_page asks of Playwright's BrowserContext, recorded."""

    def __init__(self) -> None:
        self.jar: dict[str, str] = {}
        self.cleared = 0
        self.scripts = 0

    async def add_init_script(self, script: str) -> None:
        self.scripts += 1

    async def add_cookies(self, cookies: list[dict]) -> None:
        self.jar.update({c["name"]: c["value"] for c in cookies})

    async def clear_cookies(self) -> None:
        self.cleared += 1
        self.jar.clear()


class _Page:
    def __init__(self, context: _Context) -> None:
        self.context = context

    async def add_init_script(self, script: str) -> None:
        pass


def test_a_session_renewed_while_a_worker_runs_replaces_the_old_one_in_its_browser(tmp_path):
    """A fleet worker re-reads a renewed session file without a restart; its open browser must
    then carry the new session, and nothing of the old login (another account's user id)."""
    import asyncio

    cfg = platform_config(tmp_path, "douyin", "https://www.douyin.com")
    state = identity.state_path(cfg.data_path, "douyin")

    def login(**cookies: str) -> None:
        identity.write_json(state, {"cookies": [{"name": k, "value": v, "domain": ".douyin.com", "path": "/"}
                                                for k, v in cookies.items()]})

    login(sessionid="old-session", uid_tt="old-account")
    spider = catalog.spider_class("douyin")(cfg, "mentions", [])
    context = _Context()
    asyncio.run(spider.init_page(_Page(context), None))
    asyncio.run(spider.init_page(_Page(context), None))  # the next page of the same session: nothing redone
    assert context.jar == {"sessionid": "old-session", "uid_tt": "old-account"} and context.cleared == 0
    login(sessionid="new-session")
    # what the worker's session check does when the file changed (watcher.distributed.worker.reload_cookies)
    spider.cookies = identity.session_values(cfg.data_path, "douyin", spider.configured_cookies)
    asyncio.run(spider.init_page(_Page(context), None))
    assert context.jar == {"sessionid": "new-session"} and context.cleared == 1
    assert context.scripts == 1  # the context's stealth script is added once, not per session
