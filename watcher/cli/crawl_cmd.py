"""``watcher crawl``, ``watcher accounts``, ``watcher findings``."""

from __future__ import annotations

import sys

import click

from spiders.registry import NotImplementedPlatform
from watcher import findings as findings_mod
from watcher.cli.common import config_option, echo_json, open_store, table
from watcher.config import PLATFORM_LABELS, PLATFORMS, Config
from watcher.crawling.jobs import keywords as default_keywords
from watcher.crawling.runner import run_crawl
from watcher.store import loads, where


@click.command("crawl")
@click.argument("platform", type=click.Choice(PLATFORMS))
@click.argument("mode", type=click.Choice(["discover", "timeline", "check"]))
@click.option("--keyword", "-k", multiple=True, help="搜索关键词（discover；默认用学校的保护名称）")
@click.option("--account", "-a", help="账号ID（timeline/check）")
@click.option("--post", "-p", help="帖子ID（check）")
@config_option
def crawl_cmd(cfg: Config, platform: str, mode: str, keyword: tuple[str, ...], account: str | None,
              post: str | None) -> None:
    """手动运行一次采集：discover（仿冒发现）、timeline（账号资料与帖子）、check（确认单条帖子是否存在）。"""
    if mode in ("timeline", "check") and not account:
        raise click.UsageError("timeline/check 需要 --account")
    if mode == "check" and not post:
        raise click.UsageError("check 需要 --post")
    try:
        run = run_crawl(cfg, platform, mode, keywords=list(keyword) or default_keywords(cfg), account=account, post=post)
    except NotImplementedPlatform as e:
        click.echo(str(e), err=True)
        sys.exit(2)
    word = {"ok": "完成", "partial": "部分完成", "blocked": "受阻", "failed": "失败"}.get(run["status"], run["status"])
    click.echo(f"采集 #{run['id']} {PLATFORM_LABELS[platform]} {mode}：{word}，条目 {run['items']}"
               + (f"；原因：{run['reason']}" if run.get("reason") else ""))
    sys.exit(0 if run["status"] in ("ok", "partial") else 3)


@click.group("accounts")
def accounts_group() -> None:
    """发现的账号。"""


@accounts_group.command("list")
@click.option("--verdict", type=click.Choice(["registered", "suspect", "clear"]))
@click.option("--platform", type=click.Choice(PLATFORMS))
@click.option("--json", "as_json", is_flag=True)
@config_option
def accounts_list(cfg: Config, verdict: str | None, platform: str | None, as_json: bool) -> None:
    """列出发现的账号及判定结果。"""
    clause, params = where({"verdict": verdict, "platform": platform})
    with open_store(cfg) as store:
        rows = store.query(f"SELECT * FROM accounts{clause} ORDER BY score DESC, last_seen DESC", params)
    for r in rows:
        r["reasons"] = loads(r["reasons"], [])
    if as_json:
        echo_json(rows)
        return
    table(rows, [("platform", "平台"), ("account_id", "账号ID"), ("name", "名称"), ("verdict", "判定"),
                 ("score", "分数"), ("unit", "单位")])


@click.group("findings")
def findings_group() -> None:
    """监测发现。"""


@findings_group.command("list")
@click.option("--kind", type=click.Choice(list(findings_mod.KIND_LABELS)))
@click.option("--status", type=click.Choice(list(findings_mod.STATUS_LABELS)))
@click.option("--unit")
@click.option("--json", "as_json", is_flag=True)
@config_option
def findings_list(cfg: Config, kind: str | None, status: str | None, unit: str | None, as_json: bool) -> None:
    """列出监测发现。"""
    with open_store(cfg) as store:
        rows = findings_mod.list_findings(store, kind=kind, status=status, unit=unit)
    if as_json:
        echo_json(rows)
        return
    for r in rows:
        r["kind_label"] = findings_mod.KIND_LABELS.get(r["kind"], r["kind"])
        r["status_label"] = findings_mod.STATUS_LABELS.get(r["status"], r["status"])
    table(rows, [("id", "ID"), ("kind_label", "类型"), ("status_label", "状态"), ("unit", "单位"), ("title", "标题")])


COMMANDS = [crawl_cmd, accounts_group, findings_group]
