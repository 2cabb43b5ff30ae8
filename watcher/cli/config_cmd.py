"""``watcher check-config``."""

from __future__ import annotations

import click

from watcher.cli.common import config_option
from watcher.config import Config, summarize


@click.command("check-config")
@config_option
def check_config(cfg: Config) -> None:
    """校验配置文件；正确则打印摘要，错误则列出每一处（键路径与期望值）并以状态 2 退出。"""
    click.echo(f"配置文件 {cfg.source} 校验通过。")
    click.echo(summarize(cfg))


COMMANDS = [check_config]
