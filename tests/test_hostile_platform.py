"""Issue #24: platform data is hostile. Crawled text is cleaned at one edge; one bad record,
delivery or line never stops the others; no control character reaches a log, a terminal or an
export; judging is bounded however long a name is. (The fetches: tests/test_fetch_confined.py.)"""

from __future__ import annotations

import io
import json
import re
import time
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from loguru import logger

from alerts import dispatch
from alerts.channels import Sender
from alerts.secrets import Credentials
from spiders.base import Target
from spiders.items import DiscoveredAccount, Mention, PageDone, Post, TargetDone
from tests.alerts_helpers import start_smtp
from tests.conftest import write_config
from tests.test_web import login
from tests.web_helpers import seed
from watcher.cleaning import BIO_MAX, NAME_MAX, TEXT_MAX, BadURL, clean_item, parse_url
from watcher.cli import main_group
from watcher.cli.match_cmd import build_matcher, run_match
from watcher.config import load_config
from watcher.crawling import discovery
from watcher.findings import FindingInput, record
from watcher.logs import setup_logging
from watcher.rounds import analysis, records
from watcher.rounds.sink import RoundSink
from watcher.store import Store
from watcher.store.accounts import Account
from watcher.web.app import create_app

CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Beijing, outside quiet hours
FORGED = "北理工\r\n2026-12-01 10:00:00 ERROR   daemon: 数据库已损坏\x1b]0;pwned\x07\x1b[2J\x01"


# -- one cleaning edge -------------------------------------------------------------------------------

def test_a_hostile_account_is_cleaned_capped_and_its_cut_recorded():
    item = DiscoveredAccount(platform="weibo", account_id="1", name=FORGED + "官" * 5000, bio="第一行\r\n第二行\x00" * 2000,
                             avatar_url="http://xn--/a.png", profile_url="//weibo.com/u/1", followers="12",
                             verified="yes", raw={"screen_name": "x" * 100_000})
    assert clean_item(item) is item
    assert not CONTROL.search(item.name) and "\n" not in item.name and len(item.name) == NAME_MAX
    assert item.name.startswith("北理工 2026-12-01")
    assert "第一行\n第二行" in item.bio and "\r" not in item.bio and len(item.bio) == BIO_MAX
    assert item.avatar_url is None and item.profile_url == "https://weibo.com/u/1"
    assert item.followers == 12 and item.verified is None
    cut = item.raw["_cleaned"]
    assert "截断" in cut["name"] and "截断" in cut["bio"] and "avatar_url" in cut and "verified" in cut
    assert len(item.raw["screen_name"]) == TEXT_MAX


def test_post_and_mention_texts_are_capped_and_keep_their_lines():
    post = Post(platform="weibo", account_id="1", post_id="9", text="正文\n" * 20_000, url="javascript:alert(1)")
    mention = Mention(platform="zhihu", post_id="p", author_id="a", author_name="\u202eevil\u202c", title="t\n" * 400)
    clean_item(post), clean_item(mention)
    assert len(post.text) == TEXT_MAX and post.text.startswith("正文\n正文") and post.url is None
    assert mention.author_name == "evil" and "\n" not in mention.title and len(mention.title) == 500


def test_a_record_without_an_id_is_dropped_and_markers_pass():
    assert clean_item(DiscoveredAccount(platform="weibo", account_id="\x00\x01", name="x")) is None
    done = TargetDone(status="ok")
    assert clean_item(done) is done and clean_item(PageDone()) is not None


@pytest.mark.parametrize("url", ["http://[::1", "http://xn--/a.png", "http://a.com:99999/", "file:///etc/passwd",
                                 "http://host@127.0.0.1/", "http://ex ample.com/", "", "x" * 3000])
def test_malformed_urls_are_refused_with_a_reason(url):
    with pytest.raises(BadURL) as e:
        parse_url(url)
    assert re.search("[\u4e00-\u9fff]", str(e.value))


def test_every_item_passes_the_cleaning_edge_before_the_store(cfg, store):
    sink = RoundSink(cfg, store, "weibo", "discover", 0, {}, {})
    sink.add(DiscoveredAccount(platform="weibo", account_id="5", name=FORGED, avatar_url="http://[::1"))
    sink.add(PageDone())
    row = store.one("SELECT name, avatar_url, raw FROM accounts WHERE account_id = '5'")
    assert not CONTROL.search(row["name"]) and row["avatar_url"] is None
    assert "avatar_url" in json.loads(row["raw"])["_cleaned"]


# -- isolation ----------------------------------------------------------------------------------------

def test_malformed_urls_stored_before_the_edge_never_stop_judging(cfg, store):
    urls = ["http://xn--/a.png", "http://[::1", "http://[::1/x", "https://tvax1.sinaimg.cn/a.jpg"]
    accounts = [Account("weibo", str(i), "t", "t", name=f"北理工官方{i}", avatar_url=u, profile_url=u)
                for i, u in enumerate(urls)]
    for a in accounts:
        store.db["accounts"].insert({"platform": "weibo", "account_id": a.account_id, "name": a.name,
                                     "avatar_url": a.avatar_url, "first_seen": "t", "last_seen": "t"})
    counts = discovery.judge(cfg, store, accounts)
    assert counts["failed"] == 0 and counts["suspect"] == 4
    assert store.scalar("SELECT COUNT(*) FROM findings WHERE kind = 'impersonation'") == 4


def test_a_run_whose_judging_failed_is_not_complete(cfg, store, monkeypatch):
    _, runs = records.open_round(store, "weibo", "discover", [Target(key="北理工")])
    run_id = runs["北理工"]
    records.close_run(store, run_id, "ok")
    monkeypatch.setattr(discovery, "analyse_run", lambda *a: {"suspect": 3, "failed": 1})
    analysis.after_target(cfg, store, "discover", run_id)
    run = records.get_run(store, run_id)
    assert run.status == "partial" and "1 个账号判定出错" in run.reason

    def broken(*a):
        raise ValueError("bad data")

    _, runs = records.open_round(store, "weibo", "discover", [Target(key="北理工2")])
    records.close_run(store, runs["北理工2"], "ok")
    monkeypatch.setattr(discovery, "analyse_run", broken)
    analysis.after_target(cfg, store, "discover", runs["北理工2"])
    assert records.get_run(store, runs["北理工2"]).status == "partial"


@pytest.fixture
def mail():
    controller, sink = start_smtp()
    yield controller, sink
    controller.stop()


def _mail_config(tmp_path, controller):
    units = [{"id": "central", "name": "党委宣传部", "central": True, "channels": [{"type": "email", "to": ["a@x.cn"]}]}]
    units += [{"id": f"u{i}", "name": f"学院{i}", "parent": "central", "channels": [{"type": "email", "to": [f"u{i}@x.cn"]}]}
              for i in range(4)]
    cfg = load_config(write_config(tmp_path / "c", units=units, alerts={
        "smtp": {"host": "127.0.0.1", "port": controller.port, "security": "none", "sender": "w@x.cn"},
        "base_url": "https://watch.example.edu.cn"}))
    return cfg, Store.open(cfg.db_path)


def test_a_name_with_line_breaks_does_not_stop_mail_for_anyone(tmp_path, mail):
    controller, sink = mail
    cfg, store = _mail_config(tmp_path, controller)
    for i, name in enumerate([FORGED, "北理工二手", "北理工\nBcc: victim@evil.example", "北理工" + "长" * 5000]):
        record(store, FindingInput(kind="impersonation", dedupe_key=f"impersonation:douyin:{i}", title=f"疑似仿冒：{name}",
                                   platform="douyin", account_id=str(i), account_name=name, unit=f"学院{i}",
                                   details={"reasons": ["名称含本校简称"]}))
    r = dispatch.run_once(cfg, store, NOW, Sender(cfg.alerts.smtp, Credentials()))
    assert r.failed == 0 and r.retried == 0 and r.sent >= 4
    assert store.scalar("SELECT COUNT(*) FROM deliveries WHERE status != 'sent'") == 0
    assert not any("victim@evil.example" in str(m["rcpt"]) for m in sink.messages)
    subjects = [m["subject"] for m in sink.messages]
    assert all("\n" not in s and "\r" not in s and len(s) < 120 for s in subjects), subjects
    store.close()


def test_a_delivery_that_breaks_is_counted_and_the_others_go_out(tmp_path, mail):
    controller, _ = mail
    cfg, store = _mail_config(tmp_path, controller)
    for i in range(3):
        record(store, FindingInput(kind="impersonation", dedupe_key=f"impersonation:douyin:{i}", title=f"疑似仿冒{i}",
                                   platform="douyin", account_id=str(i), account_name=f"北理工{i}", unit=f"学院{i}",
                                   details={"reasons": ["名称含本校简称"]}))
    sender = Sender(cfg.alerts.smtp, Credentials())
    send = sender.send

    def fragile(ch, msg):
        if "北理工1" in msg.text:
            raise UnicodeEncodeError("utf-8", "x", 0, 1, "surrogates not allowed")
        return send(ch, msg)

    sender.send = fragile
    r = dispatch.run_once(cfg, store, NOW, sender)
    assert r.retried >= 1 and r.sent >= 2
    errors = [row["last_error"] for row in store.query("SELECT last_error FROM deliveries WHERE status = 'pending'")]
    assert errors and all(e.startswith("告警内容无法生成或发送") and "UnicodeEncodeError" not in e for e in errors)
    store.close()


# -- control characters in logs, terminals and exports -------------------------------------------------

def test_a_crawled_name_cannot_forge_a_log_line_or_reach_the_log_raw(tmp_path, restore_logging):
    from watcher.config import LoggingConfig

    log = tmp_path / "web.log"
    setup_logging(LoggingConfig(level="INFO", file=log), component="web")
    logger.info("发现账号「{}」", FORGED)
    logger.complete()
    text = log.read_text(encoding="utf-8")
    assert not CONTROL.search(text.replace("\n", "").replace("\t", ""))
    assert "\\u001b]0;pwned" in text
    lines = text.splitlines()
    assert len(lines) == 2 and lines[1].startswith("    2026-12-01")  # a continuation, not an entry


@pytest.fixture
def restore_logging():
    yield
    from watcher.logs import setup_cli_logging

    setup_cli_logging()


def test_findings_list_prints_no_control_character(config_path, cfg, store):
    record(store, FindingInput(kind="impersonation", dedupe_key="impersonation:weibo:1", title=f"疑似仿冒：{FORGED}",
                               platform="weibo", account_id="1", account_name=FORGED, details={}))
    for args in (["findings", "list"], ["findings", "list", "--json"]):
        out = CliRunner().invoke(main_group, [*args, "--config", str(config_path)])
        assert out.exit_code == 0, out.output
        assert "北理工" in out.output and not CONTROL.search(out.output.replace("\n", "")), args
    assert json.loads(out.output)[0]["account_name"] == FORGED  # JSON output: the same data


def test_the_findings_export_answers_200_with_control_characters(cfg):
    from openpyxl import load_workbook

    seed(cfg)
    with Store.open(cfg.db_path) as s:
        for i, name in enumerate(["北理工\x1b[31m红", "北理工\x07铃", "北理工\x01"]):
            record(s, FindingInput(kind="impersonation", dedupe_key=f"impersonation:weibo:x{i}", title=f"疑似仿冒：{name}",
                                   platform="weibo", account_id=f"x{i}", account_name=name,
                                   details={"reasons": [name], "url": {"not": "a string"}}))
    client = TestClient(create_app(cfg))
    login(client, "xcb")
    r = client.get("/findings/export.xlsx")
    assert r.status_code == 200
    names = {row[5] for row in load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True)}
    assert {"北理工\\u001b[31m红", "北理工\\u0007铃", "北理工\\u0001"} <= names


# -- bounded, typed `watcher match` -----------------------------------------------------------------

def _hostile_lines(n: int) -> bytes:
    marks = "\u0301\u0336\u20dd\u200b\u200d\ufe0f\u0489"
    lines = []
    for i in range(n):
        base = ("北理工官方" if i % 2 else "北京理工大学") * 700
        name = "".join(c + marks[(j + i) % 7] + marks[(j * 3) % 7] for j, c in enumerate(base))[:20_000]
        lines.append(json.dumps({"platform": "weibo", "account_id": str(i), "name": name, "bio": name[:5000]},
                                ensure_ascii=False))
    return ("\n".join(lines) + "\n").encode()


def test_hostile_names_cost_a_bounded_time_per_line(cfg):
    matcher = build_matcher(cfg)
    out, err = io.StringIO(), io.StringIO()
    started = time.process_time()
    code = run_match(matcher, io.BytesIO(_hostile_lines(40)), out, err)
    per_line = (time.process_time() - started) / 40
    assert code == 0 and err.getvalue() == ""
    results = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(results) == 40 and all(r["verdict"] == "suspect" for r in results)
    assert "只判定了前 100 字" in results[0]["reasons"][-1]
    # 2,000 such lines within 90 s: 45 ms a line, on a machine shared with the rest of the suite
    assert per_line < 0.045, f"{per_line * 1000:.0f} ms per hostile line"


@pytest.mark.parametrize("line, says", [
    ('{"platform": "weibo", "account_id": "1", "name": "北理工", "avatar": 5}', "字段 avatar 应为头像图片的文件路径（文本），这里是数字"),
    ('{"platform": "weibo", "account_id": "1", "name": ["北理工"]}', "字段 name 应为账号名称（文本），这里是列表"),
    ('{"platform": "weibo", "account_id": true, "name": "北理工"}', "字段 account_id 应为账号 ID（文本或数字），这里是真假值"),
    ('{"platform": 3, "account_id": "1", "name": "北理工"}', "字段 platform 应为平台名称"),
    ('{"platform": "weibo", "account_id": "1", "name": "北理工", "bio": {"a": 1}}', "字段 bio 应为简介（文本），这里是对象"),
    ('{"platform": "weibo", "account_id": "1", "name": "\\ud800北理工"}', "字段 name 含无效的 Unicode 字符"),
    ("{not json", "不是合法的 JSON（第 2 列：此处应为双引号括起的字段名）"),
    ('{"platform": "weibo", "account_id": "1", "name": "北理工", "avatar": "/nonexistent/a.png"}', None),
    ('{"platform": "weibo", "account_id": "1", "name": "北理工", "avatar": "/etc/passwd"}', None),
])
def test_match_answers_each_badly_typed_line_in_chinese(cfg, line, says):
    out, err = io.StringIO(), io.StringIO()
    good = '{"platform": "weibo", "account_id": "2", "name": "北理工表白墙"}'
    run_match(build_matcher(cfg), io.BytesIO((line + "\n" + good + "\n").encode()), out, err)
    assert not re.search(r"[A-Z][a-z]+Error|Exception|Traceback", err.getvalue() + out.getvalue())
    if says:
        assert err.getvalue() == f"第 1 行：{says}\n" or says in err.getvalue()
        assert len(out.getvalue().splitlines()) == 1  # the good line is still judged
    else:
        assert len(out.getvalue().splitlines()) == 2
        reasons = json.loads(out.getvalue().splitlines()[0])["reasons"]
        assert any(r in ("头像无法读取：文件不存在", "头像无法读取：不是可识别的图片") for r in reasons), reasons


def _png_of(width: int, height: int) -> bytes:
    """A one-colour greyscale PNG of the given size, written by hand: it compresses ~1000:1."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    body = zlib.compress((b"\x00" + b"\xff" * width) * height, 9)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", body) + chunk(b"IEND", b""))


def test_a_decompression_bomb_avatar_is_refused_from_its_header(cfg, tmp_path, monkeypatch):
    from PIL import Image

    from watcher.matching import Candidate
    from watcher.matching.logo import AVATAR_MAX_PIXELS
    from watcher.watch.avatars import phash

    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(_png_of(4200, 4200))  # 17 KB on disk, 53 MB decoded
    assert AVATAR_MAX_PIXELS < 4200 * 4200 and bomb.stat().st_size < 100_000
    matcher = build_matcher(cfg)
    result = matcher.match(Candidate("weibo", "1", "北理工官方", "", str(bomb)))
    assert "头像无法读取：图片尺寸过大（4200×4200 像素），未解码" in result.reasons
    assert phash(bomb) is None
    # beyond Pillow's own limit it raised DecompressionBombError out of judging
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    result = matcher.match(Candidate("weibo", "1", "北理工官方", "", str(bomb)))
    assert "头像无法读取：图片尺寸过大（疑似解压炸弹），未解码" in result.reasons


# -- every other export and listing, with control characters stored (rows from before the cleaning
# edge existed, or typed by a person into the registry) ---------------------------------------------

def _registry_with_controls(store) -> None:
    import watcher.registry as reg

    reg.add_account(store, reg.RegistryRecord.model_validate(
        {"platform": "weibo", "account_name": "北理工\x1b]0;pwned\x07官方", "account_id": "8801",
         "unit": "党委宣传部\x01", "tier": 2, "purpose": "=1+1\x1b[2J"}))


def test_registry_exports_answer_with_control_characters(cfg, config_path, tmp_path):
    from openpyxl import load_workbook

    seed(cfg)
    with Store.open(cfg.db_path) as s:
        _registry_with_controls(s)
    client = TestClient(create_app(cfg))
    login(client, "xcb")
    r = client.get("/registry/export.xlsx")
    assert r.status_code == 200
    cells = {c for row in load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True) for c in row}
    assert "北理工\\u001b]0;pwned\\u0007官方" in cells
    for name in ("x.xlsx", "x.csv"):
        out = CliRunner().invoke(main_group, ["registry", "export", str(tmp_path / name), "--config", str(config_path)])
        assert out.exit_code == 0, out.output
    book = load_workbook(tmp_path / "x.xlsx").active
    assert "北理工\\u001b]0;pwned\\u0007官方" in {c for row in book.iter_rows(values_only=True) for c in row}


def test_report_sheets_write_control_characters_as_escapes(tmp_path):
    from openpyxl import Workbook, load_workbook

    from watcher import xlsx
    from watcher.reports.sheets import add_sheet

    wb = Workbook()
    add_sheet(wb.active, ["名称"], [["北理工\x1b[31m\x07"], ["=HYPERLINK(\"http://evil.example\")"]])
    xlsx.save(wb, tmp_path / "r.xlsx")
    ws = load_workbook(tmp_path / "r.xlsx").active
    assert [c.value for c in ws["A"]][1:] == ["北理工\\u001b[31m\\u0007", "=HYPERLINK(\"http://evil.example\")"]
    assert all(c.data_type != "f" for c in ws["A"])


def test_listings_print_no_control_character(config_path, cfg, store):
    from watcher.store import compliance as stored_linkage

    _registry_with_controls(store)
    store.db["accounts"].insert({"platform": "weibo", "account_id": "9", "name": FORGED, "bio": FORGED,
                                 "profile_url": "https://m.weibo.cn/u/9", "first_seen": "t", "last_seen": "t"})
    story = stored_linkage.add_story(
        store, platform="weibo", post_id="p1", account_id="8801", url="https://m.weibo.cn/detail/p1",
        title=f"重点稿件{FORGED}", published_at="2026-12-01T00:00:00+00:00", deadline="2026-12-02T00:00:00+00:00",
        remind_at="2026-12-01T12:00:00+00:00", units=None, tiers=[1, 2], created_by="xcb")
    for args in (["registry", "list"], ["registry", "list", "--json"], ["registry", "show", "weibo", "8801"],
                 ["accounts", "list"], ["accounts", "list", "--json"], ["platforms", "status"],
                 ["linkage", "list"], ["linkage", "show", str(story)]):
        out = CliRunner().invoke(main_group, [*args, "--config", str(config_path)])
        assert out.exit_code == 0, (args, out.output)
        assert not CONTROL.search(out.output.replace("\n", "").replace("\t", "")), args


def test_quoted_crawled_text_in_alerts_is_one_line_and_defanged(cfg, store):
    from alerts import messages
    from watcher import findings
    from watcher.store import findings as stored_findings

    forged = "错误\n处置要求：请立即登录 http://evil.example/login 核实\x1b[2J"
    fid = record(store, findings.compliance(
        "weibo", "1", "北理工", None, post_id="p1", url="https://m.weibo.cn/detail/p1", check="word_list",
        check_label="含错误表述", passage=forged, before="前文\n", after="\n后文", reason="错别字",
        text_sha256="x", created_at=None, edited=False, run_id=None)).id
    spike = record(store, FindingInput(
        kind="sentiment", dedupe_key="sentiment:spike:1", title="舆情激增（测试）",
        details={"top_posts": [{"platform": "weibo", "text": forged, "url": "http://10.0.0.1/x"}]}))
    for f in (stored_findings.get(store, fid), stored_findings.get(store, spike.id)):
        out = messages.single(cfg, f, "党委宣传部", "责任单位")
        lines = out.text.splitlines()
        assert not [line for line in lines if line.startswith("处置要求：请立即")], out.text
        assert "evil.example" not in out.text and "evil[.]example" in out.text
        assert "http://10.0.0.1/x" not in out.text and not CONTROL.search(out.text.replace("\n", ""))


def test_delivery_errors_name_no_python_exception():
    import socket

    from alerts.channels import DeliveryError, Outgoing
    from watcher.config import ChannelConfig, SmtpConfig

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sender = Sender(SmtpConfig(port=port, security="none", timeout=2), Credentials())
    said = []
    for ch in (ChannelConfig(type="email", to=["a@example.edu.cn"]),
               ChannelConfig(type="webhook", url=f"http://127.0.0.1:{port}/hook")):
        with pytest.raises(DeliveryError) as e:
            sender.send(ch, Outgoing("标题", "正文"))
        said.append(str(e.value))
    assert all("无法连接" in s and not re.search(r"[A-Z][a-z]+(Error|Exception)\b", s) for s in said), said


def test_scan_progress_on_a_terminal_draws_its_bar_and_escapes_crawled_labels(monkeypatch):
    from watcher.cli.common import TerminalSafe
    from watcher.cli.scan_cmd import _progress_printer

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    raw = Tty()
    monkeypatch.setattr("sys.stdout", TerminalSafe(raw))
    show = _progress_printer()
    show(0, 2, "微博 北理工\x1b]0;pwned\x07 [bold]x[/bold]")
    show(2, 2, "完成")
    out = raw.getvalue()
    assert "\\u001b[2K" not in out and "\x1b[" in out  # the bar's own codes act, not shown as text
    assert "\x1b]0;pwned" not in out and "\\u001b]0;pwned" in out and "[bold]x[/bold]" in out


def test_a_failing_daemon_job_is_one_chinese_line_with_the_detail_in_a_file(cfg, tmp_path, restore_logging):
    from watcher.config import LoggingConfig
    from watcher.daemon import Daemon
    from watcher.schedule import ScheduledJob

    log = tmp_path / "daemon.log"
    setup_logging(LoggingConfig(level="INFO", file=log), component="daemon", crashes=tmp_path / "crashes")

    def alerts_job(cfg) -> None:
        raise KeyError(f"名称 {FORGED}")

    run = Daemon(tmp_path / "watcher.yaml", cfg)._wrap(ScheduledJob(id="alerts", func=alerts_job, seconds=60))
    run()
    run()  # a job failing every run keeps one detail file
    logger.complete()
    lines = log.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2 and all("任务「alerts」出错，下次按计划重试（程序内部错误" in line for line in lines), lines
    assert not re.search(r"KeyError|Traceback|File \"", "\n".join(lines)) and not CONTROL.search("".join(lines))
    (detail,) = (tmp_path / "crashes").glob("*.txt")
    text = detail.read_text(encoding="utf-8")
    assert str(detail) in lines[0] and "KeyError" in text and not CONTROL.search(text.replace("\n", ""))
    assert oct(detail.stat().st_mode & 0o777) == "0o600"
