import os
import subprocess
import sys
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from loguru import logger

from alerts import dispatch
from alerts.channels import Sender
from alerts.routing import route
from alerts.secrets import Credentials
from alerts.split import split_message
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
from watcher import registry
from watcher.config import load_config
from watcher.findings import FindingInput, record, set_status
from watcher.store import Store
from watcher.store.findings import Finding

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Beijing


@pytest.fixture
def smtp():
    controller, sink = start_smtp()
    yield controller, sink
    controller.stop()


@pytest.fixture
def bots():
    b = BotServer()
    yield b
    b.stop()


def _config(tmp_path, smtp, bots, **alerts):
    controller, _ = smtp
    units = [
        {"id": "central", "name": "党委宣传部", "aliases": ["宣传部"], "central": True,
         "channels": [{"type": "email", "to": ["xcb@example.edu.cn", "head@example.edu.cn"]}]},
        {"id": "cs", "name": "计算机学院", "parent": "central", "aliases": ["计算机"],
         "channels": [{"type": "dingtalk", "url": f"{bots.base}/robot/send?access_token={DING_TOKEN}",
                       "secret": DING_SECRET, "keyword": "监测"},
                      {"type": "email", "to": ["cs@example.edu.cn"]}]},
        {"id": "grad", "name": "研究生院", "parent": "central",
         "channels": [{"type": "wecom", "url": f"{bots.base}/cgi-bin/webhook/send?key={WECOM_KEY}"}]},
        {"id": "youth", "name": "校团委", "parent": "central", "policy": "digest", "digest_at": "09:00",
         "channels": [{"type": "feishu", "url": f"{bots.base}/open-apis/bot/v2/hook/{FEISHU_HOOK}", "secret": FEISHU_SECRET}]},
    ]
    path = write_config(tmp_path / "c", units=units,
                        alerts={"smtp": {"host": "127.0.0.1", "port": controller.port, "security": "none",
                                         "sender": "watcher@example.edu.cn"},
                                "base_url": "https://watch.example.edu.cn", "escalate_after_hours": 24, **alerts})
    cfg = load_config(path)
    store = Store.open(cfg.db_path)
    registry.import_file(store, cfg.registry_path)
    return cfg, store


def _imp(store, name, account_id="9001", unit=None, platform="douyin", **details):
    return record(store, FindingInput(
        kind="impersonation", dedupe_key=f"impersonation:{platform}:{account_id}", title=f"疑似仿冒：{name}",
        platform=platform, account_id=account_id, account_name=name, unit=unit,
        details={"reasons": [f"名称含本校简称「北理工」（精确）：{name}"], "profile_url": f"https://www.douyin.com/user/{account_id}", **details}))


def _sender(cfg):
    return Sender(cfg.alerts.smtp, Credentials())


def test_email_is_received_with_recipients_subject_and_chinese_body(tmp_path, smtp, bots):
    cfg, store = _config(tmp_path, smtp, bots)
    _imp(store, "北理工粉丝团")  # no unit in the name → central department, by email
    r = dispatch.run_once(cfg, store, NOW, _sender(cfg))
    assert r.sent == 1
    mail = smtp[1].messages[0]
    assert sorted(mail["rcpt"]) == ["head@example.edu.cn", "xcb@example.edu.cn"]
    assert "疑似仿冒账号" in mail["subject"] and "北理工粉丝团" in mail["subject"]
    assert "处置要求" in mail["body"] and "https://watch.example.edu.cn/findings/" in mail["body"]
    assert "https://www.douyin.com/user/9001" in mail["body"]
    row = store.one("SELECT * FROM deliveries")
    assert row["status"] == "sent" and "SMTP 已接收" in row["confirmation"]


def test_signed_bots_receive_json(tmp_path, smtp, bots):
    cfg, store = _config(tmp_path, smtp, bots)
    _imp(store, "北理工计算机学院学生会", "1")               # → 计算机学院: dingtalk + email
    _imp(store, "北理工研究生院招生", "2", unit="研究生院")   # → 研究生院: wecom (+ central: office words)
    r = dispatch.run_once(cfg, store, NOW, _sender(cfg))
    assert r.failed == 0 and r.retried == 0
    assert len(bots.received["dingtalk"]) == 1 and "计算机学院" in bots.received["dingtalk"][0]["markdown"]["text"]
    assert len(bots.received["wecom"]) == 1
    assert {tuple(m["rcpt"]) for m in smtp[1].messages} >= {("cs@example.edu.cn",)}
    # the office-word suspect is copied to the central department
    assert any("xcb@example.edu.cn" in m["rcpt"] and "抄送" in m["body"] for m in smtp[1].messages)


def test_feishu_signed_and_digest_policy(tmp_path, smtp, bots):
    cfg, store = _config(tmp_path, smtp, bots)
    _imp(store, "北理工团委小助手", "1", unit="校团委")
    _imp(store, "北理工团委二手群", "2", unit="校团委")
    dispatch.run_once(cfg, store, NOW, _sender(cfg))           # 10:00: digest waits for 09:00 tomorrow
    assert bots.received["feishu"] == []
    dispatch.run_once(cfg, store, NOW + timedelta(hours=23, minutes=1), _sender(cfg))
    assert len(bots.received["feishu"]) == 1
    text = bots.received["feishu"][0]["content"]["text"]
    assert "共有 2 条" in text and "小助手" in text and "二手群" in text


def test_errcode_is_retried_reported_and_never_counted_as_sent(tmp_path, smtp, bots):
    cfg, store = _config(tmp_path, smtp, bots)
    bots.fail["dingtalk"] = [{"errcode": 130101, "errmsg": "send too fast"}]
    _imp(store, "北理工计算机学院", "1")
    r = dispatch.run_once(cfg, store, NOW, _sender(cfg))
    assert r.retried == 1
    row = store.one("SELECT * FROM deliveries WHERE channel LIKE '%dingtalk'")
    assert row["status"] == "pending" and row["attempts"] == 1 and "130101" in row["last_error"]
    assert bots.received["dingtalk"] == []
    r = dispatch.run_once(cfg, store, NOW + timedelta(minutes=3), _sender(cfg))
    assert r.sent == 1
    assert store.one("SELECT status FROM deliveries WHERE channel LIKE '%dingtalk'")["status"] == "sent"


def test_restart_does_not_resend_but_a_changed_finding_is_sent_again(tmp_path, smtp, bots):
    cfg, store = _config(tmp_path, smtp, bots)
    _imp(store, "北理工粉丝团")
    dispatch.run_once(cfg, store, NOW, _sender(cfg))
    store.close()
    store = Store.open(cfg.db_path)  # a restarted daemon
    _imp(store, "北理工粉丝团")  # the same finding seen again
    dispatch.run_once(cfg, store, NOW + timedelta(minutes=5), _sender(cfg))
    assert len(smtp[1].messages) == 1
    _imp(store, "北理工粉丝团", extra="新的理由")  # content changed → revision 2
    dispatch.run_once(cfg, store, NOW + timedelta(minutes=10), _sender(cfg))
    assert len(smtp[1].messages) == 2 and "第 2 版" in smtp[1].messages[1]["body"]


def test_escalation_after_configured_hours(tmp_path, smtp, bots):
    cfg, store = _config(tmp_path, smtp, bots, escalate_after_hours=4)
    rec = _imp(store, "北理工计算机学院", "1")
    store.conn.execute("UPDATE findings SET created_at = ? WHERE id = ?", [NOW.isoformat(), rec.id])
    dispatch.run_once(cfg, store, NOW, _sender(cfg))
    assert not any("升级" in m["subject"] for m in smtp[1].messages)
    dispatch.run_once(cfg, store, NOW + timedelta(hours=3, minutes=59), _sender(cfg))
    assert not any("升级" in m["subject"] for m in smtp[1].messages)
    dispatch.run_once(cfg, store, NOW + timedelta(hours=4, minutes=1), _sender(cfg))
    esc = [m for m in smtp[1].messages if "升级" in m["subject"]]
    assert len(esc) == 1 and "xcb@example.edu.cn" in esc[0]["rcpt"] and "未复核" in esc[0]["body"]
    dispatch.run_once(cfg, store, NOW + timedelta(hours=9), _sender(cfg))
    assert len([m for m in smtp[1].messages if "升级" in m["subject"]]) == 1


def test_reviewed_finding_is_not_escalated(tmp_path, smtp, bots):
    cfg, store = _config(tmp_path, smtp, bots, escalate_after_hours=1)
    rec = _imp(store, "北理工计算机学院", "1")
    store.conn.execute("UPDATE findings SET created_at = ? WHERE id = ?", [NOW.isoformat(), rec.id])
    set_status(store, rec.id, "false_positive", actor="tester", action="误报")
    dispatch.run_once(cfg, store, NOW + timedelta(hours=2), _sender(cfg))
    assert smtp[1].messages == []


def test_channel_that_keeps_failing_falls_back_to_email(tmp_path, smtp, bots):
    cfg, store = _config(tmp_path, smtp, bots)
    bots.fail["wecom"] = [{"errcode": 45009, "errmsg": "api freq out of limit"}] * 10
    _imp(store, "北理工研究生交流群", "3", unit="研究生院")
    t = NOW
    for _ in range(4):
        dispatch.run_once(cfg, store, t, _sender(cfg))
        t += timedelta(hours=1)
    fallback = store.one("SELECT * FROM deliveries WHERE purpose = 'fallback'")
    assert fallback is not None and fallback["status"] == "sent" and fallback["unit"] == "central"


def test_secrets_never_reach_logs_or_the_delivery_log(tmp_path, smtp, bots):
    lines = []
    sink = logger.add(lines.append, level="DEBUG")
    try:
        cfg, store = _config(tmp_path, smtp, bots)
        bots.fail["dingtalk"] = [{"errcode": 310000, "errmsg": f"sign not match {DING_TOKEN}"}]
        _imp(store, "北理工计算机学院", "1")
        dispatch.run_once(cfg, store, NOW, _sender(cfg))
    finally:
        logger.remove(sink)
    text = "".join(str(x) for x in lines) + str(store.query("SELECT last_error, confirmation FROM deliveries"))
    assert "310000" in text
    for secret in (DING_TOKEN, DING_SECRET):
        assert secret not in text


def test_quiet_hours_hold_non_critical_but_not_critical(tmp_path, smtp, bots):
    cfg, store = _config(tmp_path, smtp, bots, quiet_hours=["22:00", "07:00"])
    night = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # 23:00 in Beijing
    _imp(store, "北理工粉丝团", "1")
    record(store, FindingInput(kind="sentiment_spike", dedupe_key="spike:1", title="舆情激增", severity="critical"))
    dispatch.run_once(cfg, store, night, _sender(cfg))
    assert [m["subject"] for m in smtp[1].messages if "舆情激增" in m["subject"]]
    assert not [m for m in smtp[1].messages if "粉丝团" in m["subject"]]
    dispatch.run_once(cfg, store, night + timedelta(hours=8, minutes=1), _sender(cfg))
    assert [m for m in smtp[1].messages if "粉丝团" in m["subject"]]


def test_dingtalk_rate_limit_postpones(tmp_path, smtp, bots):
    cfg, store = _config(tmp_path, smtp, bots)
    for i in range(22):
        _imp(store, f"北理工计算机学院{i}号", str(100 + i))
    r = dispatch.run_once(cfg, store, NOW, _sender(cfg))
    assert len(bots.received["dingtalk"]) == 20 and r.postponed == 2
    dispatch.run_once(cfg, store, NOW + timedelta(seconds=61), _sender(cfg))
    assert len(bots.received["dingtalk"]) == 22


def test_routing(tmp_path, smtp, bots):
    cfg, store = _config(tmp_path, smtp, bots)
    base = Finding(id=1, kind="impersonation", severity="warning", platform=None, account_id=None, account_name=None,
                   unit=None, title="x", details={}, dedupe_key="k", fingerprint="", revision=1, status="open",
                   crawl_run_id=None, created_at="", updated_at="")
    f = replace(base, account_name="北理工计算机学院")
    assert route(cfg, store, f).primary.id == "cs"
    f = replace(base, account_name="北理工吃货")
    assert route(cfg, store, f).primary.id == "central"
    f = replace(base, kind="deletion", unit="党委宣传部", platform="weibo", account_id="1891724861", title="删帖")
    assert route(cfg, store, f).copy_central  # tier 1
    f = replace(base, kind="edit", unit="研究生院", platform="wechat", account_id="gh_bit_grad", title="改帖")
    r = route(cfg, store, f)
    assert r.primary.id == "grad" and not r.copy_central


def test_long_digest_is_split_to_the_channel_limit():
    text = "\n".join(f"{i}. 北理工疑似仿冒账号第 {i} 条，理由很长很长很长很长" for i in range(400))
    parts = split_message(text, 4000)
    assert len(parts) > 1 and all(len(p.encode()) <= 4000 for p in parts)
    assert parts[0].endswith(f"（续 1/{len(parts)}）")
    joined = "".join(p.rsplit("\n", 1)[0] + "\n" for p in parts)
    assert "399. 北理工" in joined and "0. 北理工" in joined


def test_cli_test_and_status(tmp_path, smtp, bots):
    from click.testing import CliRunner

    from watcher.cli import main_group

    cfg, store = _config(tmp_path, smtp, bots)
    r = CliRunner().invoke(main_group, ["alerts", "test", "计算机学院", "--config", str(cfg.source)])
    assert r.exit_code == 0, r.output
    assert "dingtalk：成功" in r.output and "email：成功" in r.output
    assert bots.received["dingtalk"] and smtp[1].messages[-1]["rcpt"] == ["cs@example.edu.cn"]
    bots.fail["wecom"] = [{"errcode": 93000, "errmsg": "invalid webhook url"}]
    r = CliRunner().invoke(main_group, ["alerts", "test", "grad", "--config", str(cfg.source)])
    assert r.exit_code == 1 and "93000" in r.output and WECOM_KEY not in r.output
    r = CliRunner().invoke(main_group, ["alerts", "status", "--json", "--config", str(cfg.source)])
    assert r.exit_code == 0 and '"counts"' in r.output


def test_generic_webhook_checks_the_answer(bots):
    from alerts.channels import DeliveryError, Outgoing
    from watcher.config import ChannelConfig, SmtpConfig

    sender = Sender(SmtpConfig(), Credentials())
    ch = ChannelConfig(type="webhook", url=f"{bots.base}/hook")
    assert "已接收" in sender.send(ch, Outgoing("标题", "正文"))
    assert bots.received["webhook"][0] == {"title": "标题", "text": "正文"}
    bots.fail["webhook"] = [{"code": 7, "msg": "queue full"}]
    with pytest.raises(DeliveryError, match="code=7"):
        sender.send(ch, Outgoing("标题", "正文"))


# -- delivery claims: any number of senders send each row once ----------------------------------

NAMES = ["北理工粉丝团", "北理工吃货联盟", "北理工二手交易", "北理工表白墙", "北理工考研群", "北理工校友会", "北理工跑团"]


def _findings(store):
    for i, name in enumerate(NAMES):
        _imp(store, name, str(9000 + i))  # no unit in the name → the central department, one email each


def test_two_threads_sending_at_once_send_each_delivery_once(tmp_path, smtp, bots):
    cfg, store = _config(tmp_path, smtp, bots)
    _findings(store)
    dispatch.plan(cfg, store, NOW)
    assert store.scalar("SELECT COUNT(*) FROM deliveries") == len(NAMES)
    start = threading.Barrier(2)
    results = []

    def sender_thread():
        with Store.open(cfg.db_path) as s:
            start.wait()
            results.append(dispatch.deliver_due(cfg, s, NOW, Sender(cfg.alerts.smtp, Credentials())))

    threads = [threading.Thread(target=sender_thread) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sum(r.sent for r in results) == len(NAMES)
    assert len(smtp[1].messages) == len(NAMES)
    assert sorted(m["subject"].split(" — ")[-1] for m in smtp[1].messages) == sorted(NAMES)
    assert store.scalar("SELECT COUNT(*) FROM deliveries WHERE status = 'sent' AND claimed_by IS NULL") == len(NAMES)


def test_two_processes_sending_at_once_send_each_delivery_once(tmp_path, smtp, bots):
    cfg, store = _config(tmp_path, smtp, bots)
    _findings(store)
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    procs = [subprocess.Popen([sys.executable, "-m", "watcher", "alerts", "send", "--config", str(cfg.source)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert len(smtp[1].messages) == len(NAMES)
    assert store.scalar("SELECT COUNT(*) FROM deliveries WHERE status = 'sent'") == len(NAMES)


def test_a_claimed_row_is_not_claimed_again_and_a_dead_senders_claim_is_recovered(tmp_path, smtp, bots):
    cfg, store = _config(tmp_path, smtp, bots)
    _findings(store)
    dispatch.plan(cfg, store, NOW)
    token, mine = dispatch.claim_due(store, NOW)          # a sender claims, then is killed -9
    assert len(mine) == len(NAMES)
    other_token, theirs = dispatch.claim_due(store, NOW)  # a second sender finds nothing to send
    assert theirs == [] and other_token != token
    r = dispatch.deliver_due(cfg, store, NOW + timedelta(minutes=5), Sender(cfg.alerts.smtp, Credentials()))
    assert r.sent == 0 and smtp[1].messages == []         # the claim is still young: maybe still sending
    r = dispatch.deliver_due(cfg, store, NOW + timedelta(minutes=11), Sender(cfg.alerts.smtp, Credentials()))
    assert r.sent == len(NAMES) and len(smtp[1].messages) == len(NAMES)
    r = dispatch.deliver_due(cfg, store, NOW + timedelta(hours=1), Sender(cfg.alerts.smtp, Credentials()))
    assert r.sent == 0 and len(smtp[1].messages) == len(NAMES)


def test_old_delivery_rows_survive_the_table_rebuild(tmp_path):
    from watcher.store import schema

    db_path = tmp_path / "old.db"
    s = Store(db_path, migrate=False)
    schema.migrate(s.db, upto={"alerts": 1})
    s.conn.execute("""INSERT INTO deliveries (id, revision, unit, channel, dedupe_key, status, attempts, created_at,
                      role, purpose, confirmation) VALUES (7, 2, 'cs', 'cs/0:email', 'k7', 'sent', 1, 'x', '责任单位',
                      'digest', 'SMTP 已接收')""")
    s.close()
    with Store.open(db_path) as s:
        row = s.one("SELECT * FROM deliveries WHERE id = 7")
        assert (row["revision"], row["status"], row["purpose"], row["confirmation"]) == (2, "sent", "digest", "SMTP 已接收")
        assert row["claimed_by"] is None
        s.conn.execute("UPDATE deliveries SET status = 'sending' WHERE id = 7")  # the new status is allowed


def test_a_cycle_of_identical_failures_is_one_log_line(tmp_path, smtp, bots):
    cfg, store = _config(tmp_path, smtp, bots)
    bots.fail["wecom"] = [{"errcode": 45009, "errmsg": "api freq out of limit"}] * 5
    for i in range(5):
        _imp(store, f"北理工研究生交流群{i}", str(30 + i), unit="研究生院")
    lines = []
    sink = logger.add(lines.append, level="WARNING", format="{message}")
    try:
        r = dispatch.run_once(cfg, store, NOW, _sender(cfg))
    finally:
        logger.remove(sink)
    assert r.retried == 5
    failures = [line for line in lines if "告警发送失败" in line]
    assert len(failures) == 1 and "失败 5 条（5 条稍后重试，0 条不再重试）" in failures[0] and "45009" in failures[0]
