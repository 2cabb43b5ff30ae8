"""``watcher crawl``, ``watcher accounts``, ``watcher findings``."""

from __future__ import annotations

import dataclasses
import sys

import click

from spiders import catalog
from spiders.base import Target
from watcher import findings as findings_mod
from watcher import platform_status
from watcher.cli.common import PLATFORM, Words, config_option, echo_json, local_time, open_store, table
from watcher.config import Config
from watcher.rounds.engine import RoundError, run_round
from watcher.rounds.plan import keywords as default_keywords
from watcher.rounds.records import STATUS_LABELS
from watcher.store import accounts as stored_accounts
from watcher.store import findings as stored_findings


@click.command("crawl")
@click.argument("platform", type=PLATFORM)
@click.argument("mode", type=Words("采集方式", {m: catalog.MODE_LABELS[m] for m in ("discover", "timeline", "check")}))
@click.option("--keyword", "-k", multiple=True, help="搜索关键词（discover；可多次给出；默认用学校的保护名称）")
@click.option("--account", "-a", multiple=True, help="账号ID（timeline/check；timeline 可多次给出，同一轮采集）")
@click.option("--post", "-p", help="帖子ID或链接（check）")
@config_option
def crawl_cmd(cfg: Config, platform: str, mode: str, keyword: tuple[str, ...], account: tuple[str, ...],
              post: str | None) -> None:
    """手动运行一轮采集：discover（仿冒发现）、timeline（账号资料与帖子）、check（确认单条帖子是否存在）。"""
    if mode in ("timeline", "check") and not account:
        raise click.UsageError("timeline/check 需要 --account")
    if mode == "check" and (not post or len(account) != 1):
        raise click.UsageError("check 需要一个 --account 和 --post")
    values = list(keyword) or default_keywords(cfg) if mode == "discover" else list(account)
    targets = [Target.for_mode(mode, v, post) for v in values]
    try:
        result = run_round(cfg, platform, mode, targets)
    except RoundError as e:
        click.echo(str(e), err=True)
        sys.exit(2)
    for run in result.runs:
        click.echo(f"  {run.target}：{STATUS_LABELS.get(run.status, run.status)}，条目 {run.items}"
                   + (f"；{run.reason}" if run.reason else ""))
    click.echo(f"采集轮次 #{result.round_id} {catalog.label(platform)} {catalog.MODE_LABELS[mode]}："
               f"{STATUS_LABELS.get(result.status, result.status)}" + (f"；{result.reason}" if result.reason else ""))
    sys.exit(0 if result.status in ("ok", "partial") else 3)


@click.group("platforms")
def platforms_group() -> None:
    """各平台：支持的采集、最近一轮、冷却。"""


@platforms_group.command("status")
@click.option("--json", "as_json", is_flag=True)
@config_option
def platforms_status(cfg: Config, as_json: bool) -> None:
    """各平台：状况与需要做的、登录会话、最近一轮与最近成功的采集、今日请求数与新帖核查的频率；巡检间隔做不到时附估算。"""
    with open_store(cfg) as store:
        rows = platform_status.rows(cfg, store)
    if as_json:
        echo_json(rows)
        return
    for r in rows:
        r["enabled_label"] = "启用" if r["enabled"] else "未启用"
        r["last"] = (f"{local_time(r['last_started_at'])} {catalog.MODE_LABELS.get(r['last_mode'], '')}"
                     f"{STATUS_LABELS.get(r['last_status'], '')}") if r["last_round"] else "（尚无）"
        r["cooling"] = f"冷却至 {local_time(r['cooldown_until'])}" if r["cooldown_until"] else ""
        r["blocked"] = f"自 {local_time(r['blocked_since'])} 受阻 {r['blocked_rounds']} 轮" if r["blocked_since"] else ""
        r["last_ok"] = local_time(r["last_ok_at"])
        r["session"] = r["session_label"] + (f"（已用 {r['session_age']}）" if r["session_age"] else "")
        r["today"] = f"{r['requests_today']}/{r['daily_budget']}" if r["daily_budget"] else str(r["requests_today"])
        if r["login_pending"]:
            r["session"] += f"；扫码登录进行中（二维码：{platform_status.qr_png_path(cfg, r['platform'])}）"
        # Fleet mode: each worker host's own session, and the exit addresses behind the figure.
        for h in r.get("host_sessions") or []:
            r["session"] += f"；主机 {h['host']}：{h['label']}"
        if len(r.get("exits") or []) > 1:
            r["today"] += "（" + "，".join(f"{e['exit']} {e['used']}" for e in r["exits"]) + "）"
        r["todo"] = r["action"] or ""
    table(rows, [("label", "平台"), ("plain", "状况"), ("todo", "需要做的"), ("session", "登录会话"),
                 ("last", "最近一轮"), ("last_ok", "最近成功"), ("cooling", "冷却"), ("blocked", "受阻"),
                 ("today", "今日请求"), ("early_cadence_text", "新帖核查")])
    if rows and rows[0].get("fleet_error"):
        click.echo(f"多主机采集：无法读取各采集节点的数据（{rows[0]['fleet_error']}），今日请求与各主机会话暂缺")
    for r in rows:
        if r["enabled"] and r["capacity_problems"]:
            click.echo(f"\n{r['capacity']}")
            click.echo("\n".join([*(f"  无法满足：{p}" for p in r["capacity_problems"]),
                                   *(f"  可以：{a}" for a in r["capacity_advice"])]))


@click.group("accounts")
def accounts_group() -> None:
    """发现的账号。"""


@accounts_group.command("list")
@click.option("--verdict", type=Words("判定", {"registered": "已备案", "suspect": "疑似仿冒", "clear": "无关"}))
@click.option("--platform", type=PLATFORM)
@click.option("--json", "as_json", is_flag=True)
@config_option
def accounts_list(cfg: Config, verdict: str | None, platform: str | None, as_json: bool) -> None:
    """列出发现的账号及判定结果。"""
    with open_store(cfg) as store:
        rows = stored_accounts.list_discovered(store, verdict=verdict, platform=platform)
    if as_json:
        echo_json(rows)
        return
    table([dataclasses.asdict(r) for r in rows], [("platform", "平台"), ("account_id", "账号ID"), ("name", "名称"), ("verdict", "判定"),
                 ("score", "分数"), ("unit", "单位")])


@click.group("findings")
def findings_group() -> None:
    """监测发现。"""


@findings_group.command("list")
@click.option("--kind", type=Words("类型", findings_mod.KIND_LABELS))
@click.option("--status", type=Words("状态", findings_mod.STATUS_LABELS))
@click.option("--unit", help="单位：名称、id 或别名（如 计算机学院、cs）")
@click.option("--json", "as_json", is_flag=True)
@config_option
def findings_list(cfg: Config, kind: str | None, status: str | None, unit: str | None, as_json: bool) -> None:
    """列出监测发现。"""
    from watcher.web import auth

    with open_store(cfg) as store:
        if unit:  # findings carry the unit's name; people also write its id or an alias
            try:
                unit = auth.canonical_unit(cfg, store, unit)
            except auth.UserError as e:
                click.echo(f"错误：{e}", err=True)
                sys.exit(2)
        rows = stored_findings.list_findings(store, kind=kind, status=status, unit=unit)
    if as_json:
        echo_json(rows)
        return
    table([{"id": r.id, "kind": findings_mod.KIND_LABELS.get(r.kind, r.kind),
            "status": findings_mod.STATUS_LABELS.get(r.status, r.status), "unit": r.unit, "title": r.title}
           for r in rows],
          [("id", "ID"), ("kind", "类型"), ("status", "状态"), ("unit", "单位"), ("title", "标题")])


COMMANDS = [crawl_cmd, platforms_group, accounts_group, findings_group]
