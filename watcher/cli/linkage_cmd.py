"""``watcher linkage add|list|show``: key stories (重点稿件) and who in the matrix relayed them."""

from __future__ import annotations

import sys

import click

from spiders import catalog
from watcher.cli.common import config_option, open_store, table
from watcher.compliance import linkage
from watcher.config import Config, parse_duration
from watcher.store import compliance as stored
from watcher.timefmt import zone_label


@click.group("linkage")
def linkage_group() -> None:
    """矩阵联动：设定重点稿件，查看各单位账号的转发情况。"""


def _within(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return parse_duration(value)
    except ValueError as e:
        raise click.BadParameter(f"时限 {value!r} 无法识别（如 24h、90m、2d）：{e}", param_hint="--within") from None


@linkage_group.command("add")
@click.argument("url", metavar="帖子地址")
@click.option("--within", help="转发时限，从设定时起算，如 24h（默认见配置 compliance.linkage.within）")
@click.option("--units", help="要求转发的单位，逗号分隔（名称、id 或别名；默认全部单位）")
@click.option("--tiers", help="要求转发的账号级别，逗号分隔，如 2,3（默认见配置 compliance.linkage.tiers）")
@click.option("--title", help="稿件标题（默认取帖子的【标题】或第一行），用于识别引用标题的转载")
@click.option("--by", "actor", default="cli", show_default=True, help="记录为谁设定")
@config_option
def add_cmd(cfg: Config, url: str, within: str | None, units: str | None, tiers: str | None, title: str | None,
            actor: str) -> None:
    """把已巡检到的备案账号帖子 URL 设为重点稿件，要求各单位账号在时限内转发。"""
    tier_list = None
    if tiers:
        try:
            tier_list = [int(t) for t in tiers.replace("，", ",").split(",") if t.strip()]
        except ValueError:
            raise click.BadParameter(f"级别 {tiers!r} 应为 1、2、3 组成的列表，如 2,3", param_hint="--tiers") from None
        if not tier_list or any(t not in (1, 2, 3) for t in tier_list):
            raise click.BadParameter(f"级别 {tiers!r} 应为 1、2、3 组成的列表，如 2,3", param_hint="--tiers")
    unit_list = [u for u in (units or "").replace("，", ",").split(",") if u.strip()] or None
    with open_store(cfg) as store:
        try:
            story = linkage.add_story(cfg, store, url, within=_within(within), units=unit_list, tiers=tier_list,
                                      title=title, actor=actor)
        except linkage.LinkageError as e:
            click.echo(f"无法设定重点稿件：{e}", err=True)
            sys.exit(2)
        report = linkage.build_report(cfg, store, story)
    click.echo(f"已设定重点稿件 #{story.id}「{story.title}」：截止 {linkage.shown(story.deadline)}（{zone_label()}），"
               f"提醒时间 {linkage.shown(story.remind_at)}；应转发账号 {len(report.rows)} 个")


@linkage_group.command("list")
@config_option
def list_cmd(cfg: Config) -> None:
    """列出重点稿件（最近的在前）。"""
    with open_store(cfg) as store:
        stories = stored.list_stories(store)
        rows = []
        for s in stories:
            r = linkage.build_report(cfg, store, s)
            rows.append({"id": s.id, "title": s.title[:30], "published": linkage.shown(s.published_at),
                         "deadline": linkage.shown(s.deadline),
                         "done": f"{r.count('on_time') + r.count('late')}/{len(r.rows)}"})
    if not rows:
        click.echo("还没有重点稿件；用 watcher linkage add URL 设定")
        return
    table(rows, [("id", "编号"), ("title", "标题"), ("published", f"发布（{zone_label()}）"),
                 ("deadline", f"截止（{zone_label()}）"), ("done", "已转发/应转发")])


@linkage_group.command("show")
@click.argument("story_id", type=int, metavar="稿件编号")
@config_option
def show_cmd(cfg: Config, story_id: int) -> None:
    """该重点稿件的转发情况：各单位、各账号是否转发、何时、以何种方式，以及按单位的条形图。"""
    with open_store(cfg) as store:
        story = stored.get_story(store, story_id)
        if story is None:
            click.echo(f"没有编号为 {story_id} 的重点稿件；用 watcher linkage list 查看", err=True)
            sys.exit(1)
        r = linkage.build_report(cfg, store, story)
    zl = zone_label()
    click.echo(f"重点稿件 #{story.id}「{story.title}」")
    click.echo(f"  {story.url or ''}")
    click.echo(f"  发布 {linkage.shown(story.published_at)}，截止 {linkage.shown(story.deadline)}，"
               f"提醒 {linkage.shown(story.remind_at)}（{zl}）")
    if not r.quote_title:
        click.echo("  标题较短，引用标题不计为转发（只认转发与链接）")
    table([{"unit": row.unit, "platform": catalog.label(row.account.platform), "name": row.name,
            "status": row.status_label, "at": linkage.shown(row.relay.at) if row.relay else "",
            "how": row.relay.how_label if row.relay else "", "reminded": "是" if row.unit in r.reminded else ""}
           for row in r.rows],
          [("unit", "单位"), ("platform", "平台"), ("name", "账号"), ("status", "状态"), ("at", f"转发时间（{zl}）"),
           ("how", "方式"), ("reminded", "已提醒单位")])
    click.echo("")
    click.echo("按单位：")
    for unit, counts in r.by_unit():
        bars = "".join({"on_time": "█", "late": "▓", "pending": "░", "missing": "✗", "unobservable": "·"}[s] * k
                       for s, k in counts.items())
        parts = "，".join(f"{linkage.STATUS_LABELS[s]} {k}" for s, k in counts.items() if k)
        click.echo(f"  {unit}：{bars}  {parts}")
    click.echo("  （█ 按时转发  ▓ 逾期转发  ░ 待转发  ✗ 未转发  · 无法观测）")


COMMANDS = [linkage_group]
