"""``watcher report …``: the annual review report, the periodic assessment and the leaderboards."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click

from watcher.cli.common import Words, config_option, open_store
from watcher.config import Config
from watcher.reports import annual, assess, calendar, influence, render


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
@click.option("--year", type=int, default=lambda: calendar.local_today().year, show_default="今年", help="年度")
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
    click.echo(f"{year} 年度：{t.accounts} 个账号（{len(r.units)} 个单位），发帖 {t.posts}，粉丝净增长 {'未观测' if t.growth is None else t.growth}，"
               f"未提交年审的单位 {len(r.not_submitted)} 个，僵尸账号 {len(r.dormant)} 个")
    click.echo(f"XLSX：{xlsx}\nHTML：{html}")
    _pdf(html, pdf)


def _day(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value.strip().replace("/", "-"))
    except ValueError:
        raise click.BadParameter(f"{value!r} 不是日期，应为 YYYY-MM-DD", param_hint=name) from None


@report_group.command("assess")
@click.option("--from", "first", required=True, help="开始日期 YYYY-MM-DD（含）")
@click.option("--to", "last", required=True, help="结束日期 YYYY-MM-DD（含）")
@click.option("--unit", help="只考核一个单位")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="reports", show_default=True,
              help="输出目录")
@click.option("--pdf/--no-pdf", default=False, show_default=True, help="用 chromium 打印 PDF")
@config_option
def assess_cmd(cfg: Config, first: str, last: str, unit: str | None, out_dir: str, pdf: bool) -> None:
    """定期考核：账号与单位排名（权重见配置 review.weights）、通报与表彰名单。"""
    start, end = _day(first, "--from"), _day(last, "--to")
    if end < start:
        raise click.BadParameter(f"结束日期 {end} 早于开始日期 {start}", param_hint="--to")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with open_store(cfg) as store:
        r = assess.build(cfg, store, start, end, unit=unit)
    if not r.accounts:
        click.echo(f"考核期间内没有{('单位「' + unit + '」的') if unit else ''}正常账号", err=True)
        sys.exit(1)
    stem = f"考核-{start}-{end}" + (f"-{unit}" if unit else "")
    xlsx = out / f"{stem}.xlsx"
    assess.write_xlsx(r, xlsx)
    html = render.write_html(assess.render_html(r), out / f"{stem}.html")
    for u in r.units:
        mark = "通报" if u.reasons else ("表彰" if u in r.commended else "")
        click.echo(f"{u.rank:>3}. {u.unit}  {u.score:.1f} 分  {len(u.accounts)} 个账号  {mark}".rstrip())
    click.echo(f"通报 {len(r.flagged)} 个单位，表彰 {len(r.commended)} 个单位")
    click.echo(f"XLSX：{xlsx}\nHTML：{html}")
    _pdf(html, pdf)


@report_group.command("leaderboard")
@click.option("--kind", type=Words("榜单", influence.KINDS), default="week", show_default=True,
              help="week 周榜（上一个完整的周一至周日）/ month 月榜（上一个完整自然月）")
@click.option("--date", "day", default=None, help="以此日期为准（默认今天）YYYY-MM-DD")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="reports", show_default=True,
              help="输出目录")
@config_option
def leaderboard_cmd(cfg: Config, kind: str, day: str | None, out_dir: str) -> None:
    """传播指数榜单：每个平台一张榜，另有单位榜（公式见 HTML/XLSX 的“计算方法”）。"""
    when = _day(day, "--date") if day else calendar.local_today()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with open_store(cfg) as store:
        b = influence.build(cfg, store, kind, when)
    stem = f"{influence.KINDS[kind]}-{b.period.first}-{b.period.last}"
    xlsx = out / f"{stem}.xlsx"
    influence.write_xlsx(b, xlsx)
    html = render.write_html(influence.render_html(b), out / f"{stem}.html")
    click.echo(influence.summary_text(b, cfg.alerts.base_url, top=3))
    click.echo(f"XLSX：{xlsx}\nHTML：{html}")


COMMANDS = [report_group]
