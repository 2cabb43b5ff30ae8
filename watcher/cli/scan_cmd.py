"""``watcher scan`` and ``watcher period``."""

from __future__ import annotations

import sys
import time
from datetime import timedelta

import click

from watcher.cleaning import printable
from watcher.cli.common import PLATFORM, config_option, echo_json, open_store, table
from watcher.config import Config, parse_duration
from watcher.periods import active_periods
from watcher.rounds import scans
from watcher.rounds.records import reap_orphans
from watcher.store import periods as manual_periods
from watcher.store import registry as stored_registry
from watcher.store import scans as scan_requests
from watcher.timefmt import local_today


@click.command("scan")
@click.option("--discover", "only_discover", is_flag=True, help="只做仿冒发现")
@click.option("--watch", "only_watch", is_flag=True, help="只巡检备案账号")
@click.option("--mentions", "only_mentions", is_flag=True, help="只做舆情提及搜索（并随即做舆情研判）")
@click.option("--platform", type=PLATFORM, help="只扫描该平台")
@click.option("--account", help="只巡检该账号ID")
@click.option("--wait/--no-wait", default=True, help="等待扫描完成并显示进度（默认等待）")
@config_option
def scan_cmd(cfg: Config, only_discover: bool, only_watch: bool, only_mentions: bool, platform: str | None,
             account: str | None, wait: bool) -> None:
    """立即扫描（敏感期手动加密巡检）。守护进程在运行时交给它执行（几秒内开始），否则在本进程执行。"""
    if only_mentions:
        params = {"discover": False, "watch": False, "mentions": True, "platform": platform, "account": None}
    else:
        params = {"discover": not only_watch, "watch": not only_discover, "platform": platform, "account": account}
    with open_store(cfg) as store:
        reap_orphans(store)
        hint = _nothing_to_watch(cfg, store) if params["watch"] and not account else None
        rid = scans.enqueue(store, params)
    if hint:
        click.echo(hint)
    if scans.daemon_running(cfg):
        click.echo(f"已提交扫描 #{rid}，由运行中的守护进程执行。")
        if wait:
            _follow(cfg, rid)
        return
    with open_store(cfg) as store:
        req = scans.claim(store, rid)
    if req is None:
        click.echo(f"扫描 #{rid} 已被其他进程领取。")
        return
    summary = scans.execute(cfg, req, _progress_printer())
    click.echo(f"扫描 #{rid} 完成：{scans.describe(summary)}")


def _nothing_to_watch(cfg: Config, store: object) -> str | None:
    """What to do first when a scan would watch nothing: no platform enabled, or no registry."""
    if not cfg.enabled_platforms():
        return "提示：配置中没有启用任何平台（platforms.<平台>.enabled: true），本次扫描没有采集目标。"
    if stored_registry.is_empty(store):
        where = f"（配置的台账文件：{cfg.registry_path}）" if cfg.registry_path else "（配置中 registry: 指向台账文件）"
        return (f"提示：备案台账尚未导入，巡检没有目标{where}。先运行 watcher registry import -c {cfg.source} "
                "导入台账，或启动监测服务（watcher run，首次启动时自动导入）。")
    return None


def _progress_printer():
    if not sys.stdout.isatty():
        return lambda done, total, label: click.echo(f"[{done}/{total}] {label}")
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    # The bar's own escape codes go to the terminal itself (the TerminalSafe wrapper would show
    # them as text); the label, which names crawled accounts, is made printable and markup-inert.
    console = Console(file=getattr(sys.stdout, "raw_stream", sys.stdout))
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=console)
    task = None

    def update(done: int, total: int, label: str) -> None:
        nonlocal task
        label = escape(printable(label))
        if task is None:
            bar.start()
            task = bar.add_task(label, total=total)
        bar.update(task, completed=done, description=label)
        if done >= total:
            bar.stop()

    return update


def _follow(cfg: Config, rid: int) -> None:
    """Show the daemon's progress on the scan: queued, waiting for its place (a scheduled round
    yields to it), each round's targets, then the summary."""
    show = _progress_printer()
    last = None
    while True:
        with open_store(cfg) as store:
            row = scan_requests.get(store, rid)
        if row is None or row.status in ("done", "failed"):
            ok = row is not None and row.status == "done"
            click.echo(f"扫描 #{rid} {'完成' if ok else '失败'}：{scans.describe(row.summary if row else {})}")
            return
        prog = row.progress
        state = (row.status, prog.get("done"), prog.get("current"))
        if state != last:
            last = state
            if row.status == "queued":
                click.echo(f"扫描 #{rid} 排队中：守护进程几秒内开始（前面还有 {_ahead(cfg, rid)} 个手动扫描）")
            elif prog:
                show(prog.get("done", 0), prog.get("total", 0), prog.get("current", ""))
        time.sleep(1)


def _ahead(cfg: Config, rid: int) -> int:
    with open_store(cfg) as store:
        return scan_requests.ahead_of(store, rid)


@click.group("period")
def period_group() -> None:
    """敏感期：查看、手动开始、结束。"""


@period_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@config_option
def period_list(cfg: Config, as_json: bool) -> None:
    """列出当前生效的敏感期（配置中的与手动开始的）。"""
    with open_store(cfg) as store:
        periods = active_periods(cfg, store)
        manual = manual_periods.recent(store)
    rows = [{"name": p.name, "start": p.start.isoformat(), "end": p.end.isoformat(), "cadence": f"{p.cadence // 60} 分钟",
             "platforms": ",".join(p.platforms) or "全部", "source": "配置" if p.source == "config" else "手动"} for p in periods]
    if as_json:
        echo_json({"active": rows, "manual": manual})
        return
    if not rows:
        click.echo("当前不在敏感期。")
    else:
        table(rows, [("name", "名称"), ("start", "开始"), ("end", "结束"), ("cadence", "巡检间隔"),
                     ("platforms", "平台"), ("source", "来源")])


@period_group.command("start")
@click.argument("name")
@click.option("--days", default=7, show_default=True, help="持续天数")
@click.option("--cadence", default="10m", show_default=True, help="巡检间隔，如 10m")
@click.option("--platform", "platforms", multiple=True, type=PLATFORM, help="只对这些平台（默认全部）")
@config_option
def period_start(cfg: Config, name: str, days: int, cadence: str, platforms: tuple[str, ...]) -> None:
    """手动开始一个敏感期：立即提高巡检频率，告警改为即时发送。"""
    try:
        seconds = parse_duration(cadence)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--cadence") from e
    today = local_today()
    with open_store(cfg) as store:
        manual_periods.start(store, name, today.isoformat(), (today + timedelta(days=days - 1)).isoformat(),
                             list(platforms), seconds, "cli")
    click.echo(f"敏感期「{name}」已开始，至 {(today + timedelta(days=days - 1)).isoformat()}，巡检间隔 {seconds // 60} 分钟。")


@period_group.command("stop")
@click.argument("name")
@config_option
def period_stop(cfg: Config, name: str) -> None:
    """结束手动开始的敏感期。"""
    with open_store(cfg) as store:
        n = manual_periods.stop(store, name)
    if not n:
        click.echo(f"没有进行中的手动敏感期「{name}」（配置文件中的敏感期请修改配置）", err=True)
        sys.exit(1)
    click.echo(f"敏感期「{name}」已结束。")


COMMANDS = [scan_cmd, period_group]
