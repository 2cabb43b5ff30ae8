"""Issue #24, the web and operations part: the review app stays responsive and bounded under
hostile or careless input, sessions end, the client address cannot be chosen, exported CSVs are
inert, the data dir stays private and check-config names inline secrets. In-process throughout
(httpx's ASGI transport or raw ASGI calls where ordering on the event loop matters)."""

from __future__ import annotations

import asyncio
import csv
import functools
import io
import os
import stat
import sys
import threading
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from click.testing import CliRunner
from fastapi import Request
from fastapi.testclient import TestClient
from openpyxl import Workbook

from tests.conftest import EXAMPLE_REGISTRY, write_config
from tests.web_helpers import PASSWORD, csrf, seed
from watcher import registry as reg
from watcher.cli import PRIVATE_UMASK, main, main_group
from watcher.config import WebConfig, load_config
from watcher.findings import FindingInput, record
from watcher.watch.evidence import keep
from watcher.web import auth, routes
from watcher.web.app import FORM_MAX_BYTES, create_app
from watcher.web.publish import publish
from watcher.web.server import server_config

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


@pytest.fixture
def site(cfg):
    seed(cfg)
    return create_app(cfg), cfg


def _registry_csv(rows: int) -> bytes:
    """The example registry's header and first row, repeated with distinct names and IDs."""
    lines = EXAMPLE_REGISTRY.read_text(encoding="utf-8-sig").splitlines()
    header, row = lines[0], next(csv.reader([lines[1]]))
    out = io.StringIO()
    w = csv.writer(out)
    for i in range(rows):
        row[2], row[3] = f"北京理工大学{i}", str(10**9 + i)
        w.writerow(row)
    return (header + "\n" + out.getvalue()).encode()


@functools.cache
def _xlsx_with_rows(rows: int) -> bytes:
    """A small XLSX whose first sheet holds ``rows`` rows: the header made by openpyxl, the rows
    written straight into the sheet XML (repetitive, so the file stays tens of KB)."""
    wb = Workbook()
    wb.active.append(["平台", "账号名称", "账号ID", "开设单位", "级别"])
    buf = io.BytesIO()
    wb.save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    body = '<row><c t="inlineStr"><is><t>微博</t></is></c></row>' * rows  # no r="…": Excel's optional row numbers
    sheet = src.read("xl/worksheets/sheet1.xml").decode()
    sheet = sheet.replace("</sheetData>", body + "</sheetData>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as dst:
        for info in src.infolist():
            data = sheet.encode() if info.filename == "xl/worksheets/sheet1.xml" else src.read(info)
            dst.writestr(info.filename, data)
    return out.getvalue()


def _zip_bomb() -> bytes:
    """A workbook one of whose parts inflates to 200 MB of zeros (~200 KB compressed)."""
    wb = Workbook()
    buf = io.BytesIO()
    wb.save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info))
        with dst.open("xl/media/padding.bin", "w") as member:
            chunk = bytes(1024 * 1024)
            for _ in range(200):
                member.write(chunk)
    return out.getvalue()


async def _login(client: httpx.AsyncClient, username: str = "xcb") -> str:
    token = csrf((await client.get("/login")).text)
    r = await client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token, "next": "/"})
    assert r.status_code == 303, r.text
    return csrf((await client.get("/registry")).text)


class Gate:
    """Wraps a slow function: says when a call has begun and holds it until released (at most
    10 s, so a call made on the event loop delays the test rather than hanging it)."""

    def __init__(self, fn: Any) -> None:
        self.fn = fn
        self.entered = threading.Event()
        self.release = threading.Event()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.entered.set()
        self.release.wait(10)
        return self.fn(*args, **kwargs)


async def _answers_while(client: httpx.AsyncClient, gate: Gate, slow: Any) -> tuple[list[str], float]:
    """Start ``slow`` (a request that reaches ``gate``), then load a page and the stylesheet while
    it is held; the order the two finished in and how long the page took."""
    order: list[str] = []

    async def run_slow() -> httpx.Response:
        r = await slow()
        order.append("slow")
        return r

    task = asyncio.create_task(run_slow())
    assert await asyncio.to_thread(gate.entered.wait, 10)
    started = time.perf_counter()
    assert (await client.get("/login")).status_code == 200
    assert (await client.get("/static/app.css")).status_code == 200
    took = time.perf_counter() - started
    order.append("page")
    gate.release.set()
    await task
    return order, took


# -- 1. imports and password hashing off the event loop ---------------------------------------------


def test_site_answers_while_an_import_is_parsed(site, monkeypatch):
    app, cfg = site
    gate = Gate(reg.parse_file)
    data = _registry_csv(2000)

    async def scenario() -> tuple[list[str], float, httpx.Response]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
            token = await _login(client)
            monkeypatch.setattr(reg, "parse_file", gate)
            slow = lambda: client.post("/registry/import", data={"csrf_token": token},  # noqa: E731
                                       files={"file": ("台账.csv", data, "text/csv")})
            order, took = await _answers_while(client, gate, slow)
            page = await client.get("/registry?q=北京理工大学1999")
        return order, took, page

    order, took, page = asyncio.run(scenario())
    assert order == ["page", "slow"]  # the page did not wait for the import
    assert took < 2.0  # tens of ms; generous for a loaded test machine
    assert "已导入 台账.csv：新增 2000 条" in page.text  # and the import itself went through


def test_site_answers_while_a_password_is_checked(site, monkeypatch):
    app, _ = site

    class SlowHasher:
        def __init__(self) -> None:
            self.verify = Gate(auth._hasher.verify)

        def hash(self, password: str) -> str:
            return auth._hasher.hash(password)

    hasher = SlowHasher()
    monkeypatch.setattr(auth, "_hasher", hasher)

    async def scenario() -> tuple[list[str], float, int]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
            token = csrf((await client.get("/login")).text)
            slow = lambda: client.post("/login", data={"username": "xcb", "password": PASSWORD,  # noqa: E731
                                                       "csrf_token": token, "next": "/"})
            order, took = await _answers_while(client, hasher.verify, slow)
            return order, took, (await client.get("/", follow_redirects=False)).status_code

    order, took, dashboard = asyncio.run(scenario())
    assert order == ["page", "slow"] and took < 2.0
    assert dashboard == 200  # the login held in the worker thread still logged in


# -- 2. import caps ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, make, words", [
    ("rows.xlsx", lambda: _xlsx_with_rows(300_000), "台账超过 10000 行"),
    ("bomb.xlsx", _zip_bomb, "XLSX 文件解压后超过 32 MB"),
    ("rows.csv", lambda: _registry_csv(reg.IMPORT_MAX_ROWS + 1), "台账超过 10000 行"),
])
def test_oversized_imports_are_refused_at_once(tmp_path, name, make, words):
    data = make()
    assert len(data) < reg.IMPORT_MAX_BYTES
    path = tmp_path / name
    path.write_bytes(data)
    started = time.perf_counter()
    with pytest.raises(reg.RegistryImportError) as e:
        reg.parse_file(path)
    assert time.perf_counter() - started < 5  # minutes and gigabytes before the caps
    assert words in e.value.render() and "拆分" in e.value.render()
    assert "Error" not in e.value.render()


def test_the_300k_row_workbook_is_refused_by_the_site(site):
    app, cfg = site
    client = TestClient(app)
    token = csrf(client.get("/login").text)
    client.post("/login", data={"username": "xcb", "password": PASSWORD, "csrf_token": token})
    token = csrf(client.get("/registry").text)
    data = _xlsx_with_rows(300_000)
    assert len(data) < 200_000  # tens of KB, as in the issue
    r = client.post("/registry/import", data={"csrf_token": token},
                    files={"file": ("大表.xlsx", data, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")})
    assert r.status_code == 200 and "台账超过 10000 行" in r.text and "未导入任何记录" in r.text


def test_cli_refuses_a_million_row_csv_at_once(tmp_path, config_path):
    path = tmp_path / "huge.csv"
    with path.open("w", encoding="utf-8") as fh:
        fh.write("平台,账号名称,账号ID,开设单位,级别\n")
        fh.write("微博,某某,1,党委宣传部,1\n" * 1_000_000)
    started = time.perf_counter()
    r = CliRunner().invoke(main_group, ["registry", "import", str(path), "--config", str(config_path)])
    assert time.perf_counter() - started < 5
    assert r.exit_code == 1 and "超过上限 10 MB" in r.output and "未导入" in r.output


# -- 3. request bodies bounded before anything is spooled -----------------------------------------


UPLOAD_HEAD = (b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n'
               b"Content-Type: text/csv\r\n\r\n")


async def _asgi(app: Any, path: str, headers: dict[str, str], body_chunks: int, chunk: int = 1024 * 1024,
                cookie: str | None = None, head: bytes = b"") -> tuple[int, dict[str, str], str, int]:
    """POST ``body_chunks`` chunks (the first starting with ``head``) to ``app`` as a raw ASGI
    call: status, headers, text, and how many body bytes the app actually took."""
    taken = 0
    sent = 0
    messages: list[dict[str, Any]] = []
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    if cookie:
        raw.append((b"cookie", f"cw_session={cookie}".encode()))
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "headers": raw,
             "client": ("203.0.113.9", 5000), "server": ("testserver", 80)}

    async def receive() -> dict[str, Any]:
        nonlocal taken, sent
        sent += 1
        body = (head if sent == 1 else b"") + b"x" * chunk
        taken += len(body)
        return {"type": "http.request", "body": body, "more_body": sent < body_chunks}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    await app(scope, receive, send)
    start = next(m for m in messages if m["type"] == "http.response.start")
    text = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body").decode()
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, text, taken


def test_a_50mb_upload_is_refused_before_it_is_read(site):
    app, _ = site
    multipart = {"content-type": "multipart/form-data; boundary=b"}
    status, headers, text, taken = asyncio.run(_asgi(app, "/registry/import",
                                                     {**multipart, "content-length": str(50 * 1024 * 1024)}, 50))
    assert status == 413 and taken == 0
    assert "超过 10 MB" in text and "已拒绝" in text
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    # Without a declared length (chunked), a stranger is turned away before the body is read.
    status, headers, _, taken = asyncio.run(_asgi(app, "/registry/import", multipart, 50))
    assert status == 303 and headers["location"].startswith("/login") and taken == 0
    # Any other form is a few fields: 256 KB at most.
    status, _, text, taken = asyncio.run(_asgi(app, "/login", {"content-type": "application/x-www-form-urlencoded"},
                                               50, chunk=64 * 1024))
    assert status == 413 and taken <= FORM_MAX_BYTES + 64 * 1024 and "超过 256 KB" in text


def test_a_signed_in_upload_stops_streaming_at_the_limit(site):
    app, _ = site
    client = TestClient(app)
    token = csrf(client.get("/login").text)
    client.post("/login", data={"username": "xcb", "password": PASSWORD, "csrf_token": token})
    cookie = client.cookies["cw_session"]
    status, headers, text, taken = asyncio.run(_asgi(app, "/registry/import",
                                                     {"content-type": "multipart/form-data; boundary=b"}, 50,
                                                     cookie=cookie, head=UPLOAD_HEAD))
    assert status == 413 and "超过 10 MB" in text and "x-frame-options" in headers
    assert taken <= routes.IMPORT_MAX_BYTES + 2 * 1024 * 1024  # stopped at the limit, not 50 MB


# -- 4. session lifetimes --------------------------------------------------------------------------


def test_session_defaults():
    assert WebConfig().session_idle == 30 * 60 and WebConfig().session_lifetime == 12 * 3600


def test_sessions_end_when_idle_and_at_their_absolute_lifetime(tmp_path, monkeypatch):
    cfg = load_config(write_config(tmp_path / "conf", web={"session_idle": "30m", "session_lifetime": "1h"}))
    seed(cfg)
    now = [T0]
    monkeypatch.setattr(auth, "clock", lambda: now[0])
    client = TestClient(create_app(cfg))

    def login() -> str:
        token = csrf(client.get("/login").text)
        assert client.post("/login", data={"username": "xcb", "password": PASSWORD, "csrf_token": token},
                           follow_redirects=False).status_code == 303
        return csrf(client.get("/rules").text)

    def at(minutes: int) -> None:
        now[0] = T0 + timedelta(minutes=minutes)

    token = login()
    at(25)  # a POST within the idle time: accepted, and it counts as activity
    r = client.post("/scans", data={"csrf_token": token, "mode": "none"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"
    at(50)
    assert client.get("/rules", follow_redirects=False).status_code == 200
    at(61)  # busy all along, but an hour after the login: over
    r = client.post("/scans", data={"csrf_token": token, "mode": "none"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    assert "登录已超过 1 小时，请重新登录" in client.get(r.headers["location"]).text
    assert client.get("/rules", follow_redirects=False).status_code == 303

    login()  # a fresh login starts a fresh hour; then 31 idle minutes end it
    at(61 + 31)
    r = client.get("/rules", follow_redirects=False)
    assert r.status_code == 303 and "已超过 30 分钟没有操作" in client.get(r.headers["location"]).text


# -- 5. X-Forwarded-For only from configured proxies ---------------------------------------------------


def _peer_seen(cfg: Any, peer: str, forwarded: str) -> str:
    config = server_config(cfg)
    config.load()

    @config.app.get("/_peer")
    def _peer(request: Request) -> str:
        return routes._client_address(request)  # the address the login throttle counts

    async def ask() -> str:
        transport = httpx.ASGITransport(app=config.loaded_app, client=(peer, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return (await client.get("/_peer", headers={"x-forwarded-for": forwarded})).json()

    return asyncio.run(ask())


def test_forwarded_for_is_believed_only_from_trusted_proxies(cfg, monkeypatch):
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "*")  # uvicorn's own setting does not widen ours
    assert _peer_seen(cfg, "127.0.0.1", "198.51.100.7") == "127.0.0.1"  # default: nobody is a proxy
    proxied = cfg.model_copy(update={"web": cfg.web.model_copy(update={"trusted_proxies": ["127.0.0.1", "10.0.0.0/8"]})})
    assert _peer_seen(proxied, "127.0.0.1", "198.51.100.7") == "198.51.100.7"
    assert _peer_seen(proxied, "10.1.2.3", "198.51.100.8") == "198.51.100.8"
    assert _peer_seen(proxied, "192.0.2.5", "198.51.100.9") == "192.0.2.5"  # a client, not a proxy


def test_trusted_proxies_must_be_addresses(tmp_path):
    from watcher.config import ConfigError

    with pytest.raises(ConfigError) as e:
        load_config(write_config(tmp_path / "c", web={"trusted_proxies": ["*"]}))
    assert "受信代理应为 IP 地址或网段" in e.value.render()


# -- 6. CSV cells that look like formulas ------------------------------------------------------------


@pytest.mark.parametrize("value", ["=HYPERLINK(\"http://evil.example\",\"北理工\")", "+86 138", "-2+3", "@SUM(A1)",
                                   "\tTab", "\rCR", "'=already", "'", "''", "'plain", "plain", "-"])
def test_csv_escape_round_trips(value):
    escaped = reg.csv_escape(value)
    assert escaped[:1] not in ("=", "+", "-", "@", "\t", "\r")
    assert reg.csv_unescape(escaped) == value


def test_registry_csv_export_is_inert_and_reimports_unchanged(cfg, config_path, store, tmp_path):
    for i, name in enumerate(["=cmd|' /C calc'!A0", "+北理工", "-北理工", "@北理工"]):
        reg.add_account(store, reg.RegistryRecord.model_validate(
            {"platform": "weibo", "account_name": name, "account_id": f"77{i}", "unit": "党委宣传部", "tier": 2,
             "purpose": f"=1+{i}"}))
    out = tmp_path / "x.csv"
    r = CliRunner().invoke(main_group, ["registry", "export", str(out), "--config", str(config_path)])
    assert r.exit_code == 0, r.output
    cells = [c for row in csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))) for c in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r") or c.startswith("-") and c != "-"]
    assert "'=cmd|' /C calc'!A0" in cells and "'=1+0" in cells
    names = {rec.account_name: rec.purpose for rec in reg.parse_file(out)}
    assert names["=cmd|' /C calc'!A0"] == "=1+0" and names["-北理工"] == "=1+2" and "@北理工" in names


# -- 7. private data dir ------------------------------------------------------------------------------


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_commands_create_data_private_whatever_the_umask(cfg, store, monkeypatch):
    old = os.umask(0o022)
    try:
        monkeypatch.setattr(sys, "argv", ["watcher", "--help"])
        with pytest.raises(SystemExit):
            main()
        assert os.umask(0o022) == PRIVATE_UMASK
        os.umask(PRIVATE_UMASK)
        fid = record(store, FindingInput(kind="impersonation", dedupe_key="k", title="t", platform="weibo",
                                         account_id="1", account_name="北理工")).id
        keep(cfg, store, fid, "screenshot", b"\x89PNG fake", ".png", url="https://m.weibo.cn/u/1",
             content_type="image/png")
        out = cfg.data_path.parent / "public"
        publish(cfg, store, out)
    finally:
        os.umask(old)
    evidence = cfg.data_path / "evidence" / str(fid)
    assert _mode(cfg.data_path / "evidence") == 0o700 and _mode(evidence) == 0o700
    assert {_mode(p) for p in evidence.iterdir()} == {0o600}
    # the public page is for everyone
    assert _mode(out) == 0o755 and _mode(out / "index.html") == 0o644


def test_an_older_loose_data_dir_is_tightened_at_start(cfg, tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("not ours to change")
    outside.chmod(0o644)
    old = os.umask(0o022)
    try:
        for rel in ("sessions/weibo/state.json", "avatars/ab.png", "evidence/3/page.html", "briefs/b.xlsx"):
            path = cfg.data_path / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("x")
        (cfg.data_path / "evidence" / "3" / "link").symlink_to(outside)
    finally:
        os.umask(old)
    assert _mode(cfg.data_path / "sessions" / "weibo" / "state.json") == 0o644
    create_app(cfg)
    for rel in ("sessions", "sessions/weibo", "avatars", "evidence", "evidence/3", "briefs"):
        assert _mode(cfg.data_path / rel) == 0o700, rel
    for rel in ("sessions/weibo/state.json", "avatars/ab.png", "evidence/3/page.html", "briefs/b.xlsx"):
        assert _mode(cfg.data_path / rel) == 0o600, rel
    assert _mode(outside) == 0o644  # a link is not followed


# -- 8. inline secrets in a readable config -------------------------------------------------------------


def test_check_config_warns_about_inline_secrets_in_a_readable_file(tmp_path):
    path = write_config(tmp_path / "conf")
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw["units"][0]["channels"].append({"type": "dingtalk", "url": "https://oapi.dingtalk.com/robot/send?access_token=t0k",
                                        "secret": "SECabc"})
    raw["crawl"] = {"redis_url": "redis://:hunter2@10.0.0.5:6379/0", "key_prefix": "bit"}
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    path.chmod(0o644)
    run = lambda: CliRunner().invoke(main_group, ["check-config", "--config", str(path)])  # noqa: E731
    r = run()
    assert r.exit_code == 0, r.output
    assert "警告：配置文件" in r.output and "权限为 644" in r.output
    for key in ("units[0].channels[1].url", "units[0].channels[1].secret", "crawl.redis_url"):
        assert key in r.output
    assert "chmod 600" in r.output and "url_env" in r.output
    assert "t0k" not in r.output and "hunter2" not in r.output and "SECabc" not in r.output
    path.chmod(0o600)
    assert "警告" not in run().output


# -- 9. every response carries the headers, a crash included --------------------------------------------


def test_an_unexpected_error_answers_a_chinese_page_with_the_headers(cfg):
    app = create_app(cfg)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals")

    r = TestClient(app).get("/boom")
    assert r.status_code == 500 and "服务器内部错误" in r.text
    assert "RuntimeError" not in r.text and "secret internals" not in r.text and "Traceback" not in r.text
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["cache-control"] == "no-store"
