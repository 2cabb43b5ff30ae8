"""``watcher run``: the daemon."""

from __future__ import annotations

import sys

import click

from watcher.cli.common import config_option
from watcher.config import Config
from watcher.daemon import run_daemon


@click.command("run")
@config_option
def run_cmd(cfg: Config) -> None:
    """启动监测服务（定时发现、巡检、告警）。SIGTERM 停止，SIGHUP 重新加载配置。"""
    sys.exit(run_daemon(cfg.source))


COMMANDS = [run_cmd]
