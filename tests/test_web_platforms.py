"""The 平台状态 page and ``watcher platforms status``: session state and age, last ok round,
cool-down, requests today, and the QR code of a login waiting for its scan (central only)."""

import json
from datetime import UTC, datetime, timedelta

from click.testing import CliRunner
from fastapi.testclient import TestClient

from spiders import identity
from spiders.base import Target
from tests.test_sessions import qr_modules, qr_png
from tests.web_helpers import PASSWORD, csrf
from watcher import platform_status, sessions
from watcher.cli import main_group
from watcher.rounds import records
from watcher.store import Store
from watcher.web import auth
from watcher.web.app import create_app


def _login(client, username):
    token = csrf(client.get("/login").text)
    r = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token, "next": "/"},
                    follow_redirects=False)
    assert r.status_code == 303, r.text


def _seed(cfg, tmp_path):
    with Store.open(cfg.db_path) as store:
        auth.add_user(store, "xcb", PASSWORD, "central")
        auth.add_user(store, "cs", PASSWORD, "unit", "计算机学院")
        # Bilibili: an ok round, then a refused one (cool-down)
        for status in ("ok", "blocked"):
            rid, _ = records.open_round(store, "bilibili", "discover", [Target.for_mode("discover", "北理工")])
            records.close_round(store, rid, status, "HTTP 412：访问被拒（风控）" if status == "blocked" else None, {})
            records.after_round(store, "bilibili", status, "HTTP 412：访问被拒（风控）" if status == "blocked" else None,
                                rid, refused=status == "blocked")
    for _ in range(7):
        identity.spend(cfg.data_path, "bilibili")
    # Weibo: an imported session, checked and found lapsed two days after it was saved
    cookies = tmp_path / "weibo.json"
    cookies.write_text('{"SUB": "_2A25old", "SUBP": "0033old"}', encoding="utf-8")
    sessions.import_cookies(cfg, "weibo", cookies)
    meta = identity.read_json(identity.meta_path(cfg.data_path, "weibo"))
    meta["saved_at"] = (datetime.now(UTC) - timedelta(days=2, hours=3)).isoformat(timespec="seconds")
    identity.write_json(identity.meta_path(cfg.data_path, "weibo"), meta)
    with Store.open(cfg.db_path) as store:
        sessions.note(cfg, "weibo", store, sessions.SessionStatus(
            "weibo", "lapsed", "/api/config 显示未登录（data.login = false）", meta["saved_at"], "cookies",
            datetime.now(UTC).isoformat(timespec="seconds")))


def _enable(tmp_path, *platforms):
    from tests.conftest import write_config
    from watcher.config import load_config

    return load_config(write_config(tmp_path / "enabled", platforms={p: {"enabled": True} for p in platforms}))


def test_the_page_shows_sessions_rounds_cooldown_and_requests(tmp_path):
    cfg = _enable(tmp_path, "weibo", "bilibili", "zhihu")
    _seed(cfg, tmp_path)
    client = TestClient(create_app(cfg))
    _login(client, "xcb")
    page = client.get("/platforms")
    assert page.status_code == 200, page.text
    html = page.text
    def row(label):
        return html[html.index(f"<td>{label}"):html.index("</tr>", html.index(f"<td>{label}"))]

    def plain(label):  # what the row says before its 详情
        return row(label).split("<details>")[0]

    weibo = row("微博")
    assert "登录已失效" in plain("微博") and "watcher login weibo" in plain("微博")
    assert "已失效" in weibo and "已用 2 天" in weibo
    bili = row("哔哩哔哩")
    assert "平台暂时拒绝了采集，暂停至" in plain("哔哩哔哩") and "7 / 2000" in plain("哔哩哔哩")
    # the codes are in the detail, not in the words people read first
    assert "HTTP 412" not in plain("哔哩哔哩") and "HTTP 412" in bili and "受阻：自" in bili
    assert "未登录" in row("知乎") and "登录" not in plain("知乎")  # nothing to do: it works without
    # a disabled platform needs nothing, whatever its session
    assert "需要登录" not in row("小红书") and "watcher login" not in row("小红书") and "未启用" in row("小红书")
    assert html.index("<td>知乎") < html.index("<td>小红书")  # the enabled ones first
    assert 'http-equiv="refresh"' not in html  # nothing to follow

    # the CLI says the same
    out = CliRunner().invoke(main_group, ["platforms", "status", "--config", str(cfg.source), "--json"])
    assert out.exit_code == 0, out.output
    rows = {r["platform"]: r for r in json.loads(out.output)}
    assert rows["weibo"]["session_state"] == "lapsed" and rows["weibo"]["session_age"] == "2 天"
    assert rows["bilibili"]["requests_today"] == 7 and rows["bilibili"]["cooldown_until"]
    assert rows["bilibili"]["last_ok_at"] and rows["website"]["session_label"] == "无需登录"


def test_a_waiting_qr_login_is_shown_to_central_reviewers_only(cfg, tmp_path):
    _seed(cfg, tmp_path)
    png = qr_png(qr_modules(5))
    platform_status.qr_png_path(cfg, "weibo").write_bytes(png)
    client = TestClient(create_app(cfg))
    _login(client, "xcb")
    assert client.get("/platforms/weibo/login-qr.png").status_code == 404  # no login waits
    deadline = datetime.now(UTC) + timedelta(minutes=3)
    identity.write_json(platform_status.login_marker(cfg, "weibo"),
                        {"started_at": datetime.now(UTC).isoformat(), "deadline": deadline.isoformat()})
    html = client.get("/platforms").text
    assert 'src="/platforms/weibo/login-qr.png"' in html and 'http-equiv="refresh"' in html
    qr = client.get("/platforms/weibo/login-qr.png")
    assert qr.status_code == 200 and qr.content == png and qr.headers["cache-control"] == "no-store"
    assert client.get("/platforms/nosuch/login-qr.png").status_code == 404

    unit = TestClient(create_app(cfg))
    _login(unit, "cs")
    assert unit.get("/platforms").status_code == 403
    assert unit.get("/platforms/weibo/login-qr.png").status_code == 403
    assert "平台状态" not in unit.get("/").text

    # a login whose process died: its deadline passes and the code is no longer served
    identity.write_json(platform_status.login_marker(cfg, "weibo"),
                        {"started_at": "2026-01-01T00:00:00+00:00", "deadline": "2026-01-01T00:03:00+00:00"})
    assert client.get("/platforms/weibo/login-qr.png").status_code == 404
    assert "login-qr.png" not in client.get("/platforms").text


def test_a_watch_round_that_overran_its_interval_is_shown(tmp_path):
    cfg = _enable(tmp_path, "weibo")
    with Store.open(cfg.db_path) as store:
        rid, _ = records.open_round(store, "weibo", "timeline", [Target.for_mode("timeline", "1")])
        records.close_round(store, rid, "ok", None, {"overran": {"seconds": 2100, "interval": 600,
                                                                 "advice": "可行的巡检间隔约为 1d"}})
        rows = {r["platform"]: r for r in platform_status.rows(cfg, store)}
    weibo = rows["weibo"]
    assert weibo["plain"] == "巡检超过了巡检间隔，到期的轮次被跳过"
    assert f"上一轮巡检（#{rid}）用时 35 分钟，超过巡检间隔 10 分钟" in weibo["overdue"]
