"""``watcher sentiment test``: which posts a rules file flags, and why."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import click

from watcher.cli.common import config_option, local_time, open_store
from watcher.config import Config, ConfigError, parse_duration
from watcher.opinion import brief
from watcher.opinion.rules import RuleError, load_rules
from watcher.sentiment import SentimentRules
from watcher.store import mentions as mentions_store


@click.group("sentiment")
def sentiment_group() -> None:
    """舆情监测：规则测试。"""


def _verdicts(rules: SentimentRules, text: str, *, explain_misses: bool) -> list[str]:
    a = rules.assess(text)
    lines = []
    for m in rules.rules.explain(text):
        if m.matched:
            lines.append(f"  ✔ {m.reason()}")
        elif explain_misses:
            lines.append(f"  ✘ {m.why_not()}")
    if a.polarity is not None:
        mark = "⚠ 负面，将生成舆情发现" if a.negative else "不生成发现"
        lines.append(f"  情感：{a.polarity.reason()} → {mark}")
    return lines


@sentiment_group.command("test")
@click.argument("rules_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--text", "texts", multiple=True, help="要检验的文字（可多次给出）")
@click.option("--since", help="检验最近一段时间内已存储的帖子，如 7d、24h")
@click.option("--all", "show_all", is_flag=True, help="--since 时也列出未命中的帖子")
@config_option
def test_cmd(cfg: Config, rules_file: Path, texts: tuple[str, ...], since: str | None, show_all: bool) -> None:
    """用规则文件 RULES_FILE 检验 --text 给出的文字，或 --since 时间内已存储的帖子，显示命中的规则组与原因。"""
    if not texts and not since:
        raise click.UsageError("请给出 --text 文字或 --since 时间范围（如 --since 7d）")
    try:
        ruleset = load_rules(rules_file)
    except RuleError as e:
        click.echo(f"规则有误：{e}", err=True)
        sys.exit(2)
    rules = SentimentRules(ruleset, tuple(cfg.sentiment.negative_words), tuple(cfg.school.others))
    click.echo(f"规则文件 {rules_file}：{len(ruleset.groups)} 个规则组（" +
               "、".join(f"{g.name}/{g.severity}" + (f"/{g.unit}" if g.unit else "") for g in ruleset.groups) + "）")
    for text in texts:
        click.echo(f"文字：{text}")
        for line in _verdicts(rules, text, explain_misses=True):
            click.echo(line)
    if since:
        try:
            seconds = parse_duration(since)
        except (ValueError, ConfigError) as e:
            raise click.BadParameter(f"时间范围 {since!r} 无法识别（如 7d、24h、30m）：{e}", param_hint="--since") from e
        start = (datetime.now(UTC) - timedelta(seconds=seconds)).isoformat()
        with open_store(cfg) as store:
            posts = mentions_store.recent_posts(store, start)
        hits = 0
        for p in posts:
            a = rules.assess(p.text)
            if not a.mentioned and not show_all:
                continue
            hits += a.mentioned
            click.echo(f"[{p.platform}] {p.post_id} {local_time(p.seen) if p.seen else ''} {p.text[:80]}")
            if p.url:
                click.echo(f"  {p.url}")
            for line in _verdicts(rules, p.text, explain_misses=show_all):
                click.echo(line)
        click.echo(f"最近 {since} 共 {len(posts)} 条帖子，命中 {hits} 条。")


def _day(value: str, what: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"日期 {value!r} 应写成 YYYY-MM-DD（北京时间的日期）", param_hint=what) from None


@click.command("sentiment")
@click.option("--from", "start", required=True, help="开始日期 YYYY-MM-DD（北京时间，含）")
@click.option("--to", "end", required=True, help="结束日期 YYYY-MM-DD（北京时间，含）")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("reports"),
              show_default=True, help="输出目录")
@config_option
def report_sentiment_cmd(cfg: Config, start: str, end: str, out_dir: Path) -> None:
    """舆情报告：每日提及（按平台，SVG 图）、负面舆情簇（链接与依据）、新仿冒线索；写出 HTML 与 XLSX（与舆情日报相同）。"""
    first, last = _day(start, "--from"), _day(end, "--to")
    if last < first:
        raise click.BadParameter(f"结束日期 {last} 早于开始日期 {first}", param_hint="--to")
    with open_store(cfg) as store:
        b = brief.build(store, first, last)
    html_path, xlsx_path = brief.write_files(b, cfg, out_dir)
    click.echo(f"{b.title}：提及 {b.total} 条，负面簇 {len(b.clusters)} 个，新仿冒线索 {len(b.leads)} 条")
    click.echo(f"HTML：{html_path}")
    click.echo(f"XLSX：{xlsx_path}")


COMMANDS = [sentiment_group]
SUBCOMMANDS = {"report": [report_sentiment_cmd]}
