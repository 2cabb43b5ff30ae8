"""``watcher compliance check``: what the 错敏 checks find in a text, to tune the lists."""

from __future__ import annotations

import click

from watcher.cli.common import config_option
from watcher.compliance.checks import CHECK_LABELS, Checker
from watcher.config import Config


@click.group("compliance")
def compliance_group() -> None:
    """错敏检查：用当前配置检验文字。"""


@compliance_group.command("check")
@click.option("--text", "texts", multiple=True, required=True, help="要检验的文字（可多次给出）")
@config_option
def check_cmd(cfg: Config, texts: tuple[str, ...]) -> None:
    """用配置中的校名、领导、词表、广告模式与许可网站检验 --text 给出的文字，列出每处问题（【】标出段落）与理由。"""
    checker = Checker(cfg)
    for text in texts:
        click.echo(f"文字：{text}")
        issues = checker.check(text)
        for i in issues:
            before, after = i.surroundings(text)
            click.echo(f"  ⚠ {CHECK_LABELS[i.check]}：{before}【{i.passage}】{after}")
            click.echo(f"    {i.reason}")
        if not issues:
            click.echo("  未发现问题")


COMMANDS = [compliance_group]
