"""The review app through HTTP (no browser): auth, roles, CSRF, input validation, publish."""

import json

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from tests.web_helpers import PASSWORD, csrf, seed
from watcher.cli import main_group
from watcher.store import Store
from watcher.web.app import create_app


@pytest.fixture
def site(cfg):
    ids = seed(cfg)
    return TestClient(create_app(cfg)), ids, cfg


def login(client, username):
    token = csrf(client.get("/login").text)
    r = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token, "next": "/"},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    return csrf(client.get("/").text)


def test_pages_need_login(site):
    client, ids, _ = site
    r = client.get("/findings", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_wrong_password_is_refused(site):
    client, _, _ = site
    token = csrf(client.get("/login").text)
    r = client.post("/login", data={"username": "xcb", "password": "nope", "csrf_token": token})
    assert r.status_code == 400 and "用户名或密码错误" in r.text


def test_dashboard_and_finding_detail(site):
    client, ids, _ = site
    login(client, "xcb")
    page = client.get("/").text
    assert "待处理发现" in page and "疑似仿冒账号" in page
    detail = client.get(f"/findings/{ids['7712345601']}").text
    assert "北理工表白墙" in detail and "名称含本校简称" in detail and "/evidence/" in detail
    edit = client.get(f"/findings/{ids['edit']}").text
    assert "运动会改为12月6日举行" in edit and 'class="add"' in edit


def test_unit_reviewer_sees_only_their_unit(site):
    client, ids, _ = site
    login(client, "cs")
    assert client.get(f"/findings/{ids['9001']}").status_code == 200        # 计算机学院's
    assert client.get(f"/findings/{ids['7712345601']}").status_code == 403  # central's
    with Store.open(site[2].db_path) as s:
        ev = s.one("SELECT id FROM evidence WHERE finding_id = ?", [ids["7712345601"]])["id"]
    assert client.get(f"/evidence/{ev}").status_code == 403
    assert "北理工表白墙" not in client.get("/findings").text
    token = csrf(client.get(f"/findings/{ids['9001']}").text)
    r = client.post(f"/findings/{ids['7712345601']}/decide", data={"action": "confirm", "csrf_token": token})
    assert r.status_code == 403
    assert client.get("/audit").status_code == 403


def test_form_without_csrf_token_is_refused(site):
    client, ids, cfg = site
    login(client, "xcb")
    r = client.post(f"/findings/{ids['9001']}/decide", data={"action": "confirm"})
    assert r.status_code == 403 and "CSRF" in r.text
    r = client.post(f"/findings/{ids['9001']}/decide", data={"action": "confirm", "csrf_token": "forged"})
    assert r.status_code == 403
    with Store.open(cfg.db_path) as s:
        assert s.one("SELECT status FROM findings WHERE id = ?", [ids["9001"]])["status"] == "open"


@pytest.mark.parametrize("data, message", [
    ({"action": "explode"}, "请选择一个处理决定"),
    ({"action": "reported"}, "举报编号"),
    ({"action": "confirm", "rule": "allow"}, "只有标记为误报"),
])
def test_bad_decision_input_gets_a_message_and_changes_nothing(site, data, message):
    client, ids, cfg = site
    token = login(client, "xcb")
    r = client.post(f"/findings/{ids['9001']}/decide", data={**data, "csrf_token": token})
    assert r.status_code == 400 and message in r.text
    with Store.open(cfg.db_path) as s:
        assert s.one("SELECT status FROM findings WHERE id = ?", [ids["9001"]])["status"] == "open"
        assert s.scalar("SELECT COUNT(*) FROM review_actions") == 0


def test_decision_is_audited(site):
    client, ids, cfg = site
    token = login(client, "xcb")
    r = client.post(f"/findings/{ids['9001']}/decide", data={"action": "reported", "reference": "JB-2026-001",
                                                              "comment": "已在抖音举报", "csrf_token": token},
                    follow_redirects=False)
    assert r.status_code == 303
    with Store.open(cfg.db_path) as s:
        assert s.one("SELECT status FROM findings WHERE id = ?", [ids["9001"]])["status"] == "reported"
        act = s.one("SELECT * FROM review_actions")
        assert (act["actor"], act["reference"]) == ("xcb", "JB-2026-001")
        assert s.one("SELECT action FROM audit_log WHERE target = ?", [f"finding:{ids['9001']}"])["action"] == "已向平台举报"
    assert "JB-2026-001" in client.get("/audit").text


def test_registry_edit_validation(site):
    client, _, cfg = site
    token = login(client, "xcb")
    r = client.post("/registry/add", data={"platform": "zhihu", "account_name": "北理工研究生会", "account_id": "bit-gsu",
                                           "unit": "研究生院", "tier": "9", "csrf_token": token})
    assert "级别" in r.text
    r = client.post("/registry/add", data={"platform": "zhihu", "account_name": "北理工研究生会", "account_id": "bit-gsu",
                                           "unit": "研究生院", "tier": "3", "csrf_token": token})
    assert "已备案" in r.text
    r = client.post("/registry/weibo/1891724861/change", data={"field": "account_name", "value": "北理工官微",
                                                                "csrf_token": token})
    assert "已记录变更备案" in r.text
    with Store.open(cfg.db_path) as s:
        assert s.scalar("SELECT COUNT(*) FROM registry_accounts WHERE account_id = 'bit-gsu'") == 1
        assert s.one("SELECT account_name FROM registry_accounts WHERE account_id = '1891724861'")["account_name"] == "北理工官微"


def test_scan_button_queues_a_request(site):
    client, _, cfg = site
    token = login(client, "xcb")
    r = client.post("/scans", data={"mode": "discover", "platform": "weibo", "csrf_token": token})
    assert r.status_code == 200 and "排队中" in r.text
    with Store.open(cfg.db_path) as s:
        assert json.loads(s.one("SELECT params FROM scan_requests")["params"])["platform"] == "weibo"
    # 仅舆情提及: a mention round on demand, nothing else
    assert "仅舆情提及" in client.get("/").text
    client.post("/scans", data={"mode": "mentions", "platform": "", "csrf_token": token})
    with Store.open(cfg.db_path) as s:
        params = json.loads(s.one("SELECT params FROM scan_requests ORDER BY id DESC LIMIT 1")["params"])
    assert (params["mentions"], params["discover"], params["watch"]) == (True, False, False)


def test_users_cli_and_publish(tmp_path, config_path):
    run = CliRunner().invoke
    assert run(main_group, ["users", "add", "ops", "--role", "admin", "--password-stdin", "--config", str(config_path)],
               input="longenough1\n").exit_code == 0
    r = run(main_group, ["users", "add", "u1", "--role", "unit", "--password-stdin", "--config", str(config_path)],
            input="longenough1\n")
    assert r.exit_code == 2 and "单位" in r.output
    assert "ops" in run(main_group, ["users", "list", "--config", str(config_path)]).output
    assert run(main_group, ["registry", "import", "--config", str(config_path)]).exit_code == 0
    out = tmp_path / "pub"
    assert run(main_group, ["publish", "--out", str(out), "--config", str(config_path)]).exit_code == 0
    data = json.loads((out / "accounts.json").read_text(encoding="utf-8"))
    assert len(data["accounts"]) == 9 and {"platform", "name", "account_id", "unit", "tier"} <= set(data["accounts"][0])
    # a closed account stays listed, as 已注销, rather than reading as "not an official account"
    assert [a["status"] for a in data["accounts"] if a["name"] == "北理工招生"] == ["已注销"]
