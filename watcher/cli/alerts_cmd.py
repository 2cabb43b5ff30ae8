"""``watcher alerts …``: delivery status, test messages, dispatch now."""

from __future__ import annotations

import dataclasses
import sys
from datetime import UTC, datetime

import click

from alerts import dispatch
from alerts.channels import DeliveryError, Outgoing, Sender
from alerts.secrets import Credentials
from watcher.cli.common import config_option, echo_json, local_time, open_store, table
from watcher.config import Config


def _sender(cfg: Config) -> Sender:
    cred = cfg.resolve_path(cfg.alerts.credentials_file) if cfg.alerts.credentials_file else None
    return Sender(cfg.alerts.smtp, Credentials(cred))


@click.group("alerts")
def alerts_group() -> None:
    """告警：发送状态、测试消息、立即发送。"""


@alerts_group.command("status")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@config_option
def status_cmd(cfg: Config, as_json: bool) -> None:
    """显示待发送与发送失败的告警。"""
    with open_store(cfg) as store:
        st = dispatch.status(store)
    if as_json:
        echo_json(st)
        return
    c = st["counts"]
    click.echo(f"已送达 {c.get('sent', 0)}，待发送 {c.get('pending', 0)}，失败 {c.get('failed', 0)}，"
               f"已免发 {c.get('suppressed', 0)}")
    if st["deliveries"]:
        rows = [{**dataclasses.asdict(d), "status": dispatch.DELIVERY_STATUS.get(d.status, d.status),
                 "next_attempt_at": local_time(d.next_attempt_at)} for d in st["deliveries"]]
        table(rows, [("id", "ID"), ("status", "状态"), ("unit", "单位"), ("channel", "渠道"),
                                 ("attempts", "尝试"), ("next_attempt_at", "下次尝试"), ("last_error", "最近错误")])



@alerts_group.command("test")
@click.argument("unit")
@config_option
def test_cmd(cfg: Config, unit: str) -> None:
    """向单位 UNIT（id、名称或别名）的每个渠道发送一条测试消息，并报告接收方的应答。"""
    u = cfg.unit(unit)
    if u is None:
        click.echo(f"配置中没有单位 {unit!r}", err=True)
        sys.exit(2)
    if not u.channels:
        click.echo(f"单位 {u.name} 没有配置告警渠道", err=True)
        sys.exit(1)
    sender = _sender(cfg)
    failed = 0
    msg = Outgoing("campus-watcher 测试消息", f"{u.name}：这是一条测试消息，收到即表示告警渠道配置正确。")
    for ch in u.channels:
        try:
            click.echo(f"{ch.type}：成功 — {sender.send(ch, msg)}")
        except DeliveryError as e:
            failed += 1
            click.echo(f"{ch.type}：失败 — {e}")
    sys.exit(1 if failed else 0)


@alerts_group.command("send")
@config_option
def send_cmd(cfg: Config) -> None:
    """立即分派并发送到期的告警（守护进程每 30 秒也会做一次）。"""
    with open_store(cfg) as store:
        r = dispatch.run_once(cfg, store, datetime.now(UTC), _sender(cfg))
    click.echo(f"送达 {r.sent}，待重试 {r.retried}，失败 {r.failed}，因限速推迟 {r.postponed}")


COMMANDS = [alerts_group]
