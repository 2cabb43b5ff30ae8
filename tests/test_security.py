"""Issue #16: the review app, the alerts and the logs, probed as an attacker and as a curious
unit reviewer would. One section per item of the issue."""

from __future__ import annotations

import io
import logging
import os
import stat
import sys
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from loguru import logger
from markdown_it import MarkdownIt

from alerts import dispatch
from alerts.channels import Sender, markdown_for_chat, plain_for_chat
from alerts.secrets import Credentials
from tests.alerts_helpers import (
    DING_SECRET,
    DING_TOKEN,
    FEISHU_HOOK,
    FEISHU_SECRET,
    WECOM_KEY,
    BotServer,
    start_smtp,
)
from tests.conftest import write_config
from tests.web_helpers import PASSWORD, csrf, seed
from watcher import timefmt
from watcher.cli import main_group
from watcher.config import load_config
from watcher.crawling.discovery import matcher_for
from watcher.findings import FindingInput, record
from watcher.matching import Candidate
from watcher.store import Store
from watcher.store import findings as stored_findings
from watcher.web import auth
from watcher.web.app import create_app

HOSTILE = "[北理工官方认证](http://evil.example/login)"
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Beijing


@pytest.fixture
def site(cfg):
    ids = seed(cfg)
    return TestClient(create_app(cfg)), ids, cfg


def _login_form(client, username, password=PASSWORD):
    token = csrf(client.get("/login").text)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token, "next": "/"},
                       follow_redirects=False)


def login(client, username):
    r = _login_form(client, username)
    assert r.status_code == 303, r.text
    return csrf(client.get("/").text)


def _audit(cfg, action):
    with Store.open(cfg.db_path) as s:
        return s.query("SELECT * FROM audit_log WHERE action = ? ORDER BY id", [action])


# -- login throttling ---------------------------------------------------------------------------


def test_passwords_are_hashed_with_argon2id_at_a_real_cost(production_hasher):
    from argon2 import Type

    assert production_hasher.type is Type.ID
    assert production_hasher.time_cost >= 3 and production_hasher.memory_cost >= 64 * 1024
    assert production_hasher.hash("口令").startswith("$argon2id$v=19$m=65536,t=3,")


def test_five_failures_lock_the_account_even_for_the_right_password(site, monkeypatch):
    client, _, cfg = site
    for _ in range(5):
        assert _login_form(client, "xcb", "wrong-password").status_code == 400
    r = _login_form(client, "xcb")
    assert r.status_code == 429 and "登录失败次数过多" in r.text and "北京时间" in r.text
    # from another address the account is still locked; another account there is not
    other = TestClient(create_app(cfg), client=("10.0.0.9", 50000))
    assert _login_form(other, "xcb").status_code == 429
    assert _login_form(other, "cs").status_code == 303
    # the lock is in the database: a restarted app still refuses
    assert _login_form(TestClient(create_app(cfg), client=("10.0.0.10", 1)), "xcb").status_code == 429
    # 15 minutes later the right password works again
    monkeypatch.setattr(auth, "clock", lambda: datetime.now(UTC) + timedelta(minutes=15, seconds=5))
    assert _login_form(client, "xcb").status_code == 303


def test_five_failures_from_one_address_lock_that_address(site):
    client, _, cfg = site
    for name in ("a1", "a2", "a3", "a4", "a5"):  # a guesser spreading over accounts
        assert _login_form(client, name, "guess-guess").status_code == 400
    r = _login_form(client, "cs")
    assert r.status_code == 429 and "登录失败次数过多" in r.text
    assert _login_form(TestClient(create_app(cfg), client=("10.0.0.7", 1)), "cs").status_code == 303


def test_failed_and_successful_logins_are_audited(site):
    client, _, cfg = site
    _login_form(client, "xcb", "wrong-password")
    login(client, "xcb")
    failed, ok = _audit(cfg, "登录失败"), _audit(cfg, "登录")
    assert [r["actor"] for r in failed] == ["xcb"] and failed[0]["target"] == "address:testclient"
    assert [r["actor"] for r in ok] == ["xcb"]
    assert "wrong-password" not in str(failed)


# -- sessions -------------------------------------------------------------------------------


def _replay(cfg, cookie):
    """A second browser holding a copy of the session cookie."""
    thief = TestClient(create_app(cfg))
    thief.cookies.set("cw_session", cookie)
    return thief.get("/findings", follow_redirects=False)


@pytest.mark.parametrize("how", ["logout", "passwd", "disable", "role"])
def test_every_session_ends_on_logout_password_disable_and_role_change(site, config_path, how):
    client, _, cfg = site
    token = login(client, "cs")
    saved = client.cookies.get("cw_session")
    assert _replay(cfg, saved).status_code == 200
    run = CliRunner().invoke
    if how == "logout":
        client.post("/logout", data={"csrf_token": token})
    elif how == "passwd":
        r = run(main_group, ["users", "passwd", "cs", "--password-stdin", "--config", str(config_path)],
                input="another-pass-99\n")
        assert r.exit_code == 0, r.output
    elif how == "disable":
        assert run(main_group, ["users", "disable", "cs", "--config", str(config_path)]).exit_code == 0
    else:
        r = run(main_group, ["users", "role", "cs", "--role", "unit", "--unit", "研究生院", "--config", str(config_path)])
        assert r.exit_code == 0, r.output
    r = _replay(cfg, saved)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_a_forged_or_epochless_session_is_refused(site):
    client, _, cfg = site
    # The signing key never leaves the data dir, so an old-format cookie is all an attacker
    # could have: one signed before sessions carried an epoch.
    with Store.open(cfg.db_path) as s:
        assert auth.load_user(s, "xcb", None) is None
        assert auth.load_user(s, "xcb", "0") is None
        assert auth.load_user(s, "xcb", 0) is not None


# -- headers and flashes --------------------------------------------------------------------


def test_security_headers_on_every_response(site):
    client, ids, cfg = site
    responses = [client.get("/login"), client.get("/findings", follow_redirects=False), client.get("/static/app.css"),
                 client.get("/no-such-page")]
    login(client, "xcb")
    with Store.open(cfg.db_path) as s:
        ev = s.one("SELECT id FROM evidence")["id"]
    responses += [client.get("/"), client.get(f"/findings/{ids['9001']}"), client.get(f"/evidence/{ev}"),
                  client.get("/findings/999999")]
    for r in responses:
        csp = r.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp or "sandbox" in csp, r.url
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "no-referrer"
        assert "unsafe-inline" not in csp.split("script-src")[-1].split(";")[0]
    assert responses[-1].status_code == 404 and responses[2].status_code == 200


def test_hsts_only_when_the_site_is_https(cfg):
    assert "strict-transport-security" not in TestClient(create_app(cfg)).get("/login").headers
    https_cfg = cfg.model_copy(update={"web": cfg.web.model_copy(update={"secure_cookies": True})})
    assert TestClient(create_app(https_cfg)).get("/login").headers["strict-transport-security"] == "max-age=31536000"


def test_templates_have_no_inline_script_or_style():
    for tpl in (Path(__file__).parent.parent / "watcher" / "web" / "templates").glob("*.html"):
        text = tpl.read_text(encoding="utf-8")
        for bad in ("<script", "<style", "style=", " onclick=", " onload=", " oninput=", "javascript:"):
            assert bad not in text, (tpl.name, bad)


def test_banner_text_comes_from_the_session_never_the_query_string(site):
    client, _, cfg = site
    token = login(client, "xcb")
    page = client.get("/registry", params={"ok": "官方通知：请到 evil.example 重新登录", "error": "假错误"}).text
    assert "evil.example" not in page and "假错误" not in page
    r = client.post("/registry/add", data={"platform": "zhihu", "account_name": "北理工研究生会", "account_id": "bit-gsu",
                                           "unit": "研究生院", "tier": "3", "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/registry"
    assert "已备案「北理工研究生会」" in client.get("/registry").text
    assert "已备案" not in client.get("/registry").text  # shown once


def test_profile_link_that_is_not_http_is_not_a_link(site):
    client, _, cfg = site
    with Store.open(cfg.db_path) as s:
        fid = record(s, FindingInput(kind="impersonation", dedupe_key="impersonation:weibo:js", title="疑似仿冒：x",
                                     platform="weibo", account_id="js", account_name="北理工x",
                                     details={"profile_url": "javascript:alert(document.cookie)"})).id
    login(client, "xcb")
    page = client.get(f"/findings/{fid}").text
    assert 'href="javascript:' not in page and "未加链接" in page


# -- roles ----------------------------------------------------------------------------------


def test_unit_reviewers_name_rule_is_a_proposal_until_central_approves(site):
    client, ids, cfg = site
    token = login(client, "cs")
    r = client.post(f"/findings/{ids['9001']}/decide", data={"action": "false_positive", "rule": "other",
                                                             "comment": "是外校的", "csrf_token": token})
    assert r.status_code == 200 and "须经宣传部审批" in r.text
    with Store.open(cfg.db_path) as s:
        assert s.scalar("SELECT COUNT(*) FROM name_rules") == 0
        assert s.one("SELECT status FROM findings WHERE id = ?", [ids["9001"]])["status"] == "false_positive"
        before = matcher_for(cfg, s).match(Candidate("weibo", "x1", "北理工计算机学院招生"))
        proposal = s.one("SELECT * FROM rule_proposals")
    assert before.verdict != "clear"
    assert (proposal["proposed_by"], proposal["status"]) == ("cs", "pending")
    # the unit reviewer can neither see nor decide proposals
    assert client.get("/rules").status_code == 403
    assert client.post(f"/rules/proposals/{proposal['id']}", data={"decision": "approve", "csrf_token": token}
                       ).status_code == 403
    central = TestClient(create_app(cfg))
    ctoken = login(central, "xcb")
    assert "北理工计算机学院招生" in central.get("/rules").text
    r = central.post(f"/rules/proposals/{proposal['id']}", data={"decision": "approve", "note": "核实属实",
                                                                  "csrf_token": ctoken})
    assert "已批准" in r.text
    with Store.open(cfg.db_path) as s:
        assert s.one("SELECT kind, name FROM name_rules") == {"kind": "other", "name": "北理工计算机学院招生"}
        after = matcher_for(cfg, s).match(Candidate("weibo", "x1", "北理工计算机学院招生"))
    assert after.verdict == "clear"
    assert [a["actor"] for a in _audit(cfg, "提议名单")] == ["cs"]
    assert [a["actor"] for a in _audit(cfg, "批准名单提议")] == ["xcb"]
    # deciding twice is refused with a message
    r = central.post(f"/rules/proposals/{proposal['id']}", data={"decision": "reject", "csrf_token": ctoken})
    assert "该提议已处理" in r.text


def test_rejected_proposal_writes_no_rule(site):
    client, ids, cfg = site
    token = login(client, "cs")
    client.post(f"/findings/{ids['9001']}/decide", data={"action": "false_positive", "rule": "allow", "csrf_token": token})
    central = TestClient(create_app(cfg))
    ctoken = login(central, "xcb")
    with Store.open(cfg.db_path) as s:
        pid = s.scalar("SELECT id FROM rule_proposals")
    assert "已驳回" in central.post(f"/rules/proposals/{pid}", data={"decision": "reject", "csrf_token": ctoken}).text
    with Store.open(cfg.db_path) as s:
        assert s.scalar("SELECT COUNT(*) FROM name_rules") == 0
    assert [a["actor"] for a in _audit(cfg, "驳回名单提议")] == ["xcb"]


def test_pages_are_scoped_by_role(site):
    client, ids, cfg = site
    central = TestClient(create_app(cfg))
    ctoken = login(central, "xcb")
    r = central.post("/scans", data={"mode": "discover", "platform": "weibo", "csrf_token": ctoken}, follow_redirects=False)
    scan = r.headers["location"]
    login(client, "cs")
    assert client.get(scan).status_code == 403
    assert client.get("/audit").status_code == 403 and client.get("/rules").status_code == 403
    dashboard = client.get("/").text
    assert "采集状态" not in dashboard and "立即扫描" not in dashboard
    registry = client.get("/registry").text
    assert "计算机学院" in registry and "党委宣传部" not in registry.split("<table>")[1]


def test_unit_names_are_validated(site, config_path):
    client, _, cfg = site
    run = CliRunner().invoke
    r = run(main_group, ["users", "add", "u1", "--role", "unit", "--unit", "不存在学院", "--password-stdin",
                         "--config", str(config_path)], input="longenough1\n")
    assert r.exit_code == 2 and "没有单位「不存在学院」" in r.output and "计算机学院" in r.output
    r = run(main_group, ["users", "add", "u2", "--role", "unit", "--unit", "计算机", "--password-stdin",
                         "--config", str(config_path)], input="longenough1\n")
    assert r.exit_code == 0, r.output
    with Store.open(cfg.db_path) as s:
        assert s.scalar("SELECT COUNT(*) FROM users WHERE username = 'u1'") == 0
        assert s.one("SELECT unit FROM users WHERE username = 'u2'")["unit"] == "计算机学院"  # the alias, canonical
    r = run(main_group, ["users", "role", "cs", "--role", "unit", "--unit", "火星学院", "--config", str(config_path)])
    assert r.exit_code == 2 and "没有单位" in r.output
    token = login(client, "xcb")
    r = client.post("/registry/add", data={"platform": "zhihu", "account_name": "北理工火星", "account_id": "mars",
                                           "unit": "火星学院", "tier": "3", "csrf_token": token})
    assert "没有单位「火星学院」" in r.text
    with Store.open(cfg.db_path) as s:
        assert s.scalar("SELECT COUNT(*) FROM registry_accounts WHERE account_id = 'mars'") == 0


# -- evidence -------------------------------------------------------------------------------


def test_evidence_is_served_only_from_its_findings_folder(site):
    client, ids, cfg = site
    login(client, "xcb")
    with Store.open(cfg.db_path) as s:
        own = s.one("SELECT * FROM evidence WHERE finding_id = ?", [ids["9001"]])
        other = s.one("SELECT * FROM evidence WHERE finding_id = ?", [ids["7712345601"]])
        assert client.get(f"/evidence/{own['id']}").status_code == 200
        (cfg.data_path / "evidence" / str(ids["9001"]) / "link.png").symlink_to(cfg.data_path / "web_secret")
        for path in ("web_secret", "watcher.db", other["path"], f"evidence/{ids['9001']}/../../web_secret",
                     f"evidence/{ids['9001']}/link.png"):
            with s.transaction():
                s.conn.execute("UPDATE evidence SET path = ? WHERE id = ?", [path, own["id"]])
            r = client.get(f"/evidence/{own['id']}")
            assert r.status_code == 404, path
            assert (cfg.data_path / "web_secret").read_text().strip() not in r.text


def test_saved_pages_are_downloaded_in_a_sandbox(site):
    client, ids, cfg = site
    from watcher.watch.evidence import keep

    with Store.open(cfg.db_path) as s:
        row = keep(cfg, s, ids["9001"], "page", b"<script>alert(1)</script>", ".html", content_type="text/html")
        ev = s.scalar("SELECT id FROM evidence WHERE path = ?", [row["path"]])
    login(client, "xcb")
    r = client.get(f"/evidence/{ev}")
    assert r.status_code == 200 and r.headers["content-disposition"].startswith("attachment")
    assert "sandbox" in r.headers["content-security-policy"]


# -- alerts ---------------------------------------------------------------------------------


@pytest.fixture
def receivers():
    controller, sink = start_smtp()
    bots = BotServer()
    yield controller, sink, bots
    bots.stop()
    controller.stop()


SMTP_PASSWORD = "smtp-PASS-word-31337"
COOKIE = "SUB=_2A25cookieSECRETvalue"
BILI_COOKIE = "bilisess%2Cdata%2CSECRET"


def _alert_config(tmp_path, receivers, **logging_cfg):
    controller, _, bots = receivers
    creds = tmp_path / "credentials.env"
    creds.write_text(f"WATCHER_SMTP_PASSWORD={SMTP_PASSWORD}\n", encoding="utf-8")
    creds.chmod(0o600)
    units = [
        {"id": "central", "name": "党委宣传部", "central": True, "channels": [{"type": "email", "to": ["xcb@example.edu.cn"]}]},
        {"id": "cs", "name": "计算机学院", "parent": "central", "channels": [
            {"type": "dingtalk", "url": f"{bots.base}/robot/send?access_token={DING_TOKEN}", "secret": DING_SECRET,
             "keyword": "监测"},
            {"type": "wecom", "url": f"{bots.base}/cgi-bin/webhook/send?key={WECOM_KEY}"},
            {"type": "feishu", "url": f"{bots.base}/open-apis/bot/v2/hook/{FEISHU_HOOK}", "secret": FEISHU_SECRET},
            {"type": "webhook", "url": f"{bots.base}/hook"},
            {"type": "email", "to": ["cs@example.edu.cn"]}]},
    ]
    path = write_config(tmp_path / "c", units=units, logging=logging_cfg or {"level": "INFO"},
                        alerts={"smtp": {"host": "127.0.0.1", "port": controller.port, "security": "none",
                                         "sender": "watcher@example.edu.cn", "username": "watcher",
                                         "password_env": "WATCHER_SMTP_PASSWORD"},
                                "credentials_file": str(creds), "base_url": "https://watch.example.edu.cn"})
    cfg = load_config(path)
    return cfg, Store.open(cfg.db_path)


def _hostile(store, **details):
    return record(store, FindingInput(
        kind="impersonation", dedupe_key="impersonation:douyin:666", title=f"疑似仿冒：{HOSTILE}", platform="douyin",
        account_id="666", account_name=HOSTILE, unit="计算机学院",
        details={"reasons": [f"名称含本校简称「北理工」：{HOSTILE}"], "bio": "官方 <at user_id=\"all\">所有人</at>",
                 **details})).id


def _bodies(receivers):
    _, sink, bots = receivers
    return {"dingtalk": bots.received["dingtalk"][0]["markdown"]["text"],
            "wecom": bots.received["wecom"][0]["markdown"]["content"],
            "feishu": bots.received["feishu"][0]["content"]["text"],
            "webhook": bots.received["webhook"][0]["text"],
            "email": next(m["body"] for m in sink.messages if m["rcpt"] == ["cs@example.edu.cn"])}


def _links_in_markdown(text):
    """The links a CommonMark renderer with autolinking (like the chat clients) would make."""
    html = MarkdownIt("commonmark", {"html": True}).render(text)
    return html


def test_hostile_name_stays_text_in_every_alert_format(tmp_path, receivers, monkeypatch):
    monkeypatch.delenv("WATCHER_SMTP_PASSWORD", raising=False)
    cfg, store = _alert_config(tmp_path, receivers)
    # the local SMTP stand-in does not offer AUTH: send without logging in
    cfg.alerts.smtp.username = None
    _hostile(store, profile_url="http://evil.example/login")
    r = dispatch.run_once(cfg, store, NOW, Sender(cfg.alerts.smtp, Credentials()))
    assert r.failed == 0 and r.retried == 0, store.query("SELECT channel, last_error FROM deliveries")
    bodies = _bodies(receivers)
    for fmt, body in bodies.items():
        assert "北理工官方认证" in body, fmt
        assert "http://evil.example" not in body and "](http" not in body, fmt     # no live address, no link
        assert "hxxp://evil[.]example/login" in body.replace("［", "[").replace("］", "]"), fmt
        assert "未附链接" in body, fmt                                   # the profile link was refused
        assert "https://watch.example.edu.cn/findings/" in body, fmt     # our own link survives
    for fmt in ("dingtalk", "wecom"):
        html = _links_in_markdown(bodies[fmt])
        assert "<a " not in html and "evil.example" not in html.replace("[.]", ".").split("hxxp")[0], fmt
    for fmt in ("dingtalk", "wecom", "feishu"):
        assert "<at" not in bodies[fmt] and "[" not in bodies[fmt].replace("[.]", ""), fmt
    assert "\\[" not in bodies["email"]                                   # plain text is not markdown-escaped


def test_platform_links_survive_and_other_schemes_do_not(cfg):
    from alerts.messages import defang, safe_link

    assert safe_link(cfg, "https://m.weibo.cn/u/123") == "https://m.weibo.cn/u/123"
    assert safe_link(cfg, "https://www.douyin.com/user/9001") == "https://www.douyin.com/user/9001"
    for bad in ("javascript:alert(1)", "http://evil.example/", "https://weibo.com.evil.example/", "ftp://weibo.com/x",
                "https://weibo.com@evil.example/", "data:text/html,hi", "//weibo.com/x"):
        assert safe_link(cfg, bad) is None, bad
    assert defang(cfg, "见 www.evil.example 与 https://m.weibo.cn/u/1") == "见 www[.]evil[.]example 与 https://m.weibo.cn/u/1"
    # the markdown escape leaves live links intact and makes every other mark literal
    md = markdown_for_chat("**粗** _斜_ `码` # 题 ![图](x) <b>粗</b> https://m.weibo.cn/u/1_2")
    html = MarkdownIt("commonmark", {"html": True}).render(md)
    assert "<strong>" not in html and "<em>" not in html and "<code>" not in html and "<img" not in html
    assert "<b>" not in html and "<h1>" not in html and "https://m.weibo.cn/u/1_2" in html
    assert plain_for_chat("<at user_id=\"all\">") == "＜at user_id=\"all\"＞"


FORMULA = '=HYPERLINK("http://evil.example/login","北理工官方认证")'


class _Anchors(HTMLParser):
    """The links of an HTML page and its text, as a mail reader sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.text = ""

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.hrefs.append(dict(attrs).get("href") or "")

    def handle_data(self, data):
        self.text += data


def _hostile_leads(store):
    """Two impersonation leads as the brief lists them: a markdown-link name with a phishing
    profile address, and a name that a spreadsheet would take for a formula."""
    _hostile(store, profile_url="http://evil.example/login")
    record(store, FindingInput(kind="impersonation", dedupe_key="impersonation:weibo:667", title=f"疑似仿冒：{FORMULA}",
                               platform="weibo", account_id="667", account_name=FORMULA, unit="计算机学院",
                               details={"profile_url": "https://m.weibo.cn/u/667"}))


def test_the_review_site_and_local_platforms_are_links_only_where_we_link_to_them(cfg):
    """A crawled URL on the review site's host is live only as one of its record pages, and a
    platform served from this machine allows its own port, not every service on the host."""
    from alerts.messages import allowed_hosts, defang, safe_link

    cfg.alerts.base_url = "http://127.0.0.1:8080"
    cfg.platforms["weibo"].base_url = "http://127.0.0.1:8001"
    hosts = allowed_hosts(cfg)
    for ours in ("http://127.0.0.1:8080/findings/12", "http://127.0.0.1:8080/sentiment/clusters/3",
                 "http://127.0.0.1:8001/u/123", "https://m.weibo.cn/u/1"):
        assert safe_link(cfg, ours, hosts) == ours, ours
    for theirs in ("http://127.0.0.1:8080/logout", "http://127.0.0.1:8080/admin/users",
                   "http://127.0.0.1:8080/findings/12?next=/logout", "http://127.0.0.1:8080/registry/weibo/1/close",
                   "http://127.0.0.1:6379/", "http://127.0.0.1/", "http://127.0.0.1:8001.evil.example/"):
        assert safe_link(cfg, theirs, hosts) is None, theirs
    assert defang(cfg, "复核：http://127.0.0.1:8080/findings/7 见 http://127.0.0.1:8080/logout", hosts) == \
        "复核：http://127.0.0.1:8080/findings/7 见 hxxp://127[.]0[.]0[.]1:8080/logout"


def test_hostile_name_and_phishing_profile_stay_text_in_the_web(site):
    client, _, cfg = site
    with Store.open(cfg.db_path) as s:
        fid = _hostile(s, profile_url="http://evil.example/login")
    login(client, "xcb")
    for path in (f"/findings/{fid}", "/findings"):
        page = _Anchors()
        page.feed(client.get(path).text)
        assert HOSTILE in page.text, path                                   # shown as the odd name it is
        assert not [h for h in page.hrefs if "evil.example" in h], path     # never a link
    detail = client.get(f"/findings/{fid}").text
    assert "http://evil.example/login（不是平台或本站的 http/https 地址，未加链接）" in detail


def test_hostile_name_stays_text_in_the_sentiment_brief_mail(cfg, store):
    from watcher.opinion import brief

    _hostile_leads(store)
    today = datetime.now(UTC).astimezone(timefmt.zone()).date()
    b = brief.build(store, today, today, "daily")
    assert {lead.account_id for lead in b.leads} == {"666", "667"}
    page = _Anchors()
    page.feed(brief.render_html(b, cfg))
    assert "北理工官方认证" in page.text and "hxxp://evil[.]example/login" in page.text
    assert "http://evil.example" not in page.text                      # a mail reader autolinks bare addresses
    assert page.hrefs == ["https://m.weibo.cn/u/667"]                  # the phishing profile is not linked
    text = brief.render_text(b, cfg)
    assert "http://evil.example" not in text


def test_a_name_that_looks_like_a_formula_stays_text_in_every_workbook(cfg, store, tmp_path):
    from openpyxl import load_workbook

    from watcher.opinion import brief
    from watcher.web import listing

    _hostile_leads(store)
    today = datetime.now(UTC).astimezone(timefmt.zone()).date()
    workbooks = {"brief": brief.workbook(brief.build(store, today, today, "daily")),
                 "findings export": listing.to_xlsx(stored_findings.list_findings(store))}
    for what, data in workbooks.items():
        cells = [c for ws in load_workbook(io.BytesIO(data)).worksheets for row in ws.iter_rows() for c in row
                 if c.value == FORMULA]
        assert cells and all(c.data_type == "s" for c in cells), what


# -- logs -----------------------------------------------------------------------------------


@pytest.fixture
def restore_logging():
    factory = logging.getLogRecordFactory()
    yield
    logger.remove()
    logger.configure(patcher=lambda record: None)
    logger.add(sys.stderr)
    logging.setLogRecordFactory(factory)
    logging.basicConfig(handlers=[logging.StreamHandler()], level=logging.WARNING, force=True)


@pytest.mark.parametrize("level", ["DEBUG", "INFO"])
def test_no_secret_reaches_any_log_sink_in_a_full_alert_round(tmp_path, receivers, capsys, restore_logging,
                                                                 monkeypatch, level):
    from watcher.logs import setup_logging

    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    log_file = tmp_path / "watcher.log"
    cfg, store = _alert_config(tmp_path, receivers, level=level, file=str(log_file))
    crashes = tmp_path / "crashes"
    setup_logging(cfg.logging, component="daemon", crashes=crashes)
    _, _, bots = receivers
    bots.fail["dingtalk"] = [{"errcode": 310000, "errmsg": f"sign not match {DING_TOKEN}"}]
    _hostile(store)
    # the stand-in SMTP server refuses AUTH without TLS: the password is used and the error logged
    dispatch.run_once(cfg, store, NOW)
    dispatch.run_once(cfg, store, NOW + timedelta(minutes=5))
    # what third-party libraries log at every level, with secrets inside
    logging.getLogger("scrapy.downloadermiddlewares.cookies").debug("Sending cookies to: <GET https://m.weibo.cn>\n"
                                                                      f"Cookie: {COOKIE}")
    logging.getLogger("scrapy.core.engine").info("request headers {'Cookie': '%s'}", COOKIE)
    logging.getLogger("smtplib").warning("login failed for watcher with %s", SMTP_PASSWORD)
    logging.getLogger("spiders").debug("jar: <Cookie %s for .weibo.com/>, <Cookie SESSDATA=%s for .bilibili.com/>",
                                       COOKIE, BILI_COOKIE)
    try:
        raise RuntimeError(f"boom at {bots.base}/robot/send?access_token={DING_TOKEN}")
    except RuntimeError:
        logger.exception("dispatch crashed")
        logging.getLogger("apscheduler").exception("job raised")
    logger.remove()  # flushes the file sink's queue
    err = capsys.readouterr().err
    text = log_file.read_text(encoding="utf-8")
    assert "HTTP Request: POST" in err and "HTTP Request: POST" in text   # httpx really logged the URLs
    assert "310000" in text and "dispatch crashed" in text and "程序内部错误" in err
    # the traceback is kept for maintainers in a file of its own, never in what operators read
    assert "RuntimeError" not in err and "Traceback" not in text
    crash = "".join(f.read_text(encoding="utf-8") for f in crashes.glob("*.txt"))
    assert "RuntimeError" in crash and str(crashes) in err
    stored = str(store.query("SELECT last_error, confirmation FROM deliveries"))
    for secret in (DING_TOKEN, DING_SECRET, WECOM_KEY, FEISHU_HOOK, FEISHU_SECRET, SMTP_PASSWORD, COOKIE,
                   COOKIE.split("=", 1)[1], BILI_COOKIE):
        for name, sink in (("stderr", err), ("file", text), ("deliveries", stored), ("crashes", crash)):
            assert secret not in sink, (secret, name)


# -- files and passwords --------------------------------------------------------------------


def test_data_dir_database_and_session_key_are_private_from_the_start(cfg, monkeypatch):
    old = os.umask(0o022)
    try:
        create_app(cfg)
        with Store.open(cfg.db_path) as s:
            s.conn.execute("SELECT 1")
    finally:
        os.umask(old)
    mode = lambda p: stat.S_IMODE(p.stat().st_mode)  # noqa: E731
    assert mode(cfg.data_path) == 0o700
    for name in ("watcher.db", "watcher.db-wal", "watcher.db-shm", "web_secret"):
        path = cfg.data_path / name
        if path.exists():
            assert mode(path) == 0o600, name
    assert (cfg.data_path / "watcher.db").exists() and (cfg.data_path / "web_secret").exists()


def test_an_old_world_readable_database_is_tightened(tmp_path):
    data = tmp_path / "old"
    data.mkdir(mode=0o755)
    Store.open(data / "watcher.db").close()
    (data / "watcher.db").chmod(0o644)
    data.chmod(0o755)
    Store.open(data / "watcher.db").close()
    assert stat.S_IMODE((data / "watcher.db").stat().st_mode) == 0o600
    assert stat.S_IMODE(data.stat().st_mode) == 0o700


def test_password_never_an_argument(config_path, cfg):
    run = CliRunner().invoke
    r = run(main_group, ["users", "add", "ops", "--role", "admin", "--password", "longenough1", "--config",
                         str(config_path)])
    assert r.exit_code == 2 and "--password-stdin" in r.output
    r = run(main_group, ["users", "add", "ops", "--role", "admin", "--config", str(config_path)],
            input="longenough1\nlongenough1\n")
    assert r.exit_code == 0, r.output
    assert "longenough1" not in r.output
    r = run(main_group, ["users", "passwd", "ops", "--password-stdin", "--config", str(config_path)], input="short\n")
    assert r.exit_code == 2 and "至少 8 位" in r.output
    r = run(main_group, ["users", "passwd", "ops", "--password", "longenough2", "--config", str(config_path)])
    assert r.exit_code == 2
    with Store.open(cfg.db_path) as s:
        assert auth.login(s, "ops", "longenough1", "127.0.0.1") is not None
