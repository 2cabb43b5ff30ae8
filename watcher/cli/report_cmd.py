"""``watcher report …``: the annual review report, the periodic assessment and the leaderboards."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click

from watcher.cli.common import config_option, open_store
from watcher.config import Config
from watcher.reports import annual, render


@click.group("report")
def report_group() -> None:
    """报表：年度年审报告、定期考核、影响力榜单（XLSX + HTML，可打印为 PDF）。"""


def _pdf(html_path: Path, wanted: bool) -> None:
    if not wanted:
        return
    try:
        pdf = render.print_pdf(html_path, html_path.with_suffix(".pdf"))
    except render.PdfError as e:
        click.echo(f"未生成 PDF：{e}", err=True)
        return
    click.echo(f"PDF：{pdf}")


@report_group.command("annual")
@click.option("--year", type=int, default=lambda: date.today().year, show_default="今年", help="年度")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="reports", show_default=True,
              help="输出目录")
@click.option("--pdf/--no-pdf", default=True, show_default=True, help="用 chromium 打印 PDF")
@config_option
def annual_cmd(cfg: Config, year: int, out_dir: str, pdf: bool) -> None:
    """年度报告：汇总表、每单位一张表（每账号一行）和带图表的 HTML。"""
    if not 2000 <= year <= 2100:
        click.echo(f"年度 {year} 超出范围（2000–2100）", err=True)
        sys.exit(2)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with open_store(cfg) as store:
        r = annual.build(cfg, store, year)
    xlsx = out / f"年度报告-{year}.xlsx"
    annual.write_xlsx(r, xlsx)
    html = render.write_html(annual.render_html(r), out / f"年度报告-{year}.html")
    t = r.total
    click.echo(f"{year} 年度：{t.accounts} 个账号（{len(r.units)} 个单位），发帖 {t.posts}，粉丝净增长 {t.growth}，"
               f"未提交年审的单位 {len(r.not_submitted)} 个，僵尸账号 {len(r.dormant)} 个")
    click.echo(f"XLSX：{xlsx}\nHTML：{html}")
    _pdf(html, pdf)


COMMANDS = [report_group]
