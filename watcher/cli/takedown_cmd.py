"""``watcher complaint`` and ``watcher cases``: complaint packs and takedown cases (watcher.takedown)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from spiders import catalog
from watcher.cli.common import PLATFORM, config_option, echo_json, open_store, table
from watcher.config import Config
from watcher.reports.render import PdfError
from watcher.store import cases as stored_cases
from watcher.store import findings as stored_findings
from watcher.takedown import cases, pack
from watcher.timefmt import local_time


@click.command("complaint")
@click.argument("finding_id", type=int, metavar="发现编号")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="complaints", show_default=True,
              help="输出目录")
@click.option("--pdf/--no-pdf", default=False, show_default=True, help="再用 chromium 打印一份 PDF")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出结果")
@config_option
def complaint_cmd(cfg: Config, finding_id: int, out_dir: str, pdf: bool, as_json: bool) -> None:
    """为一条仿冒发现生成投诉材料包（ZIP + 可打印 HTML，可选 PDF）：平台投诉类别与入口、投诉正文、
    授权书、证据及 SHA-256 清单（sha256sum -c SHA256SUMS 校验）、官方账号台账摘录。"""
    with open_store(cfg) as store:
        try:
            p = pack.build(cfg, store, finding_id, Path(out_dir), pdf=pdf)
        except (pack.PackError, PdfError) as e:
            click.echo(f"错误：{e}", err=True)
            sys.exit(1)
    if as_json:
        echo_json(pack.summary(p))
        return
    click.echo(f"投诉类别：{p.category}（{catalog.label(p.finding.platform)}）")
    click.echo(f"证据文件 {len(p.files)} 个，校验清单：{p.folder / pack.MANIFEST}")
    click.echo(f"ZIP：{p.zip_path}\nHTML：{p.html_path}" + (f"\nPDF：{p.pdf_path}" if p.pdf_path else ""))


@click.group("cases")
def cases_group() -> None:
    """举报跟踪：已向平台举报的仿冒账号，每轮复查，平台下架后自动结案。"""


def _row(c: stored_cases.Case) -> dict:
    return {"id": c.id, "finding": c.finding_id, "platform": catalog.label(c.platform), "account": c.account_name,
            "unit": c.unit or "", "reported": local_time(c.reported_at), "deadline": c.deadline,
            "status": stored_cases.CASE_STATUSES.get(c.status, c.status),
            "removal": cases.duration(c.hours_to_removal), "previous": f"#{c.previous_id}" if c.previous_id else ""}


@cases_group.command("list")
@click.option("--status", type=click.Choice(list(stored_cases.CASE_STATUSES)),
              help="open 待下架 / removed 已下架 / withdrawn 已撤销")
@click.option("--platform", type=PLATFORM, help="只看该平台")
@click.option("--unit", help="只看该单位的案件")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@config_option
def cases_list(cfg: Config, status: str | None, platform: str | None, unit: str | None, as_json: bool) -> None:
    """列出举报案件。"""
    with open_store(cfg) as store:
        rows = stored_cases.list_cases(store, status=status, platform=platform, unit=unit)
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("没有举报案件。")
        return
    table([_row(c) for c in rows], [("id", "案件"), ("finding", "发现"), ("platform", "平台"), ("account", "账号"),
                                    ("unit", "单位"), ("reported", "举报时间"), ("deadline", "期限"),
                                    ("status", "状态"), ("removal", "下架用时"), ("previous", "前案")])


@cases_group.command("show")
@click.argument("case_id", type=int, metavar="案件编号")
@config_option
def cases_show(cfg: Config, case_id: int) -> None:
    """一个案件的经过：举报、每轮复查、下架或提醒。"""
    with open_store(cfg) as store:
        c = stored_cases.get(store, case_id)
        if c is None:
            click.echo(f"错误：没有编号为 {case_id} 的案件", err=True)
            sys.exit(1)
        events = stored_cases.events_for(store, case_id)
    r = _row(c)
    click.echo(f"案件 #{c.id}（发现 #{c.finding_id}）{r['platform']}「{c.account_name}」：{r['status']}"
               + (f"，举报后 {r['removal']}下架" if c.status == "removed" else f"，期限 {c.deadline}"))
    for e in events:
        click.echo(f"  {local_time(e.at)}  {e.note or e.kind}")


@cases_group.command("report")
@click.argument("finding_id", type=int, metavar="发现编号")
@click.option("--reference", required=True, help="平台的举报编号或回执")
@click.option("--actor", default="cli", show_default=True, help="记录为谁的操作")
@config_option
def cases_report(cfg: Config, finding_id: int, reference: str, actor: str) -> None:
    """把一条仿冒发现标记为“已向平台举报”并开始跟踪（与网站上的同一操作相同）。"""
    with open_store(cfg) as store:
        f = stored_findings.get(store, finding_id)
        if f is None:
            click.echo(f"错误：没有编号为 {finding_id} 的发现", err=True)
            sys.exit(1)
        try:
            case_id = cases.report(cfg, store, f, reference=reference.strip()[:200], actor=actor)
        except cases.CaseError as e:
            click.echo(f"错误：{e}", err=True)
            sys.exit(1)
        c = stored_cases.get(store, case_id)
    click.echo(f"已记录举报，案件 #{case_id}；{c.deadline if c else ''} 前未下架将提醒并抄送宣传部")


@cases_group.command("figures")
@click.option("--year", type=int, help="只看该年")
@click.option("--unit", help="只看该单位的案件")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@config_option
def cases_figures(cfg: Config, year: int | None, unit: str | None, as_json: bool) -> None:
    """按平台与月份：举报数、下架数、下架用时中位数与 P90、仍未下架。"""
    with open_store(cfg) as store:
        rows = cases.figures(store, unit=unit, year=year)
    if as_json:
        echo_json([r.as_dict() for r in rows])
        return
    table([{"month": r.month, "platform": r.label, "reported": r.reported, "removed": r.removed,
            "median": cases.duration(r.median), "p90": cases.duration(r.p90), "open": r.still_open} for r in rows],
          [("month", "月份"), ("platform", "平台"), ("reported", "举报"), ("removed", "下架"),
           ("median", "用时中位数"), ("p90", "用时P90"), ("open", "仍未下架")])


@cases_group.command("sweep")
@config_option
def cases_sweep(cfg: Config) -> None:
    """立即检查超期未下架（提醒一次）与下架后改名复现（守护进程每小时自动执行）。"""
    with open_store(cfg) as store:
        done = cases.sweep(cfg, store)
    click.echo(f"超期提醒 {len(done['reminded'])} 件，重新打开 {len(done['reopened'])} 件，"
               f"因发现已另行关闭而撤销 {len(done['withdrawn'])} 件")


COMMANDS = [complaint_cmd, cases_group]
