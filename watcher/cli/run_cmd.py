"""``watcher run``: the daemon."""

from __future__ import annotations

import sys

import click

from watcher.cli.common import config_option
from watcher.config import Config
from watcher.daemon import run_daemon
from watcher.web.server import start_in_thread


@click.command("run")
@config_option
def run_cmd(cfg: Config) -> None:
    """启动监测服务（定时发现、巡检、告警）。SIGTERM 停止，SIGHUP 重新加载配置。"""
    # The review site rides along when configured; the daemon itself knows nothing of the web.
    web = start_in_thread(cfg) if cfg.web.with_daemon else None
    try:
        code = run_daemon(cfg.source)
    finally:
        if web is not None:
            web.stop()
    sys.exit(code)


COMMANDS = [run_cmd]
