"""``watcher run``: the daemon."""

from __future__ import annotations

import sys

import click

from watcher import lockfile
from watcher.cli.common import config_option
from watcher.config import Config
from watcher.daemon import run_daemon
from watcher.web.server import start_in_thread

EXIT_ALREADY_RUNNING = 3


def _lock_or_exit(cfg: Config) -> lockfile.DataDirLock:
    """One daemon per data dir: a second one stops here, before it starts anything."""
    try:
        return lockfile.acquire(cfg.data_path)
    except lockfile.DataDirLocked as e:
        click.echo(f"错误：{e}", err=True)
        sys.exit(EXIT_ALREADY_RUNNING)
    except OSError as e:
        click.echo(f"错误：无法在数据目录 {cfg.data_path} 创建锁文件（{e.strerror}），请检查目录权限", err=True)
        sys.exit(1)


@click.command("run")
@config_option
def run_cmd(cfg: Config) -> None:
    """启动监测服务（定时发现、巡检、告警）。SIGTERM 停止，SIGHUP 重新加载配置。

    同一数据目录只能运行一个守护进程：第二个会拒绝启动并给出正在运行者的 PID。
    """
    with _lock_or_exit(cfg):
        # The review site rides along when configured; the daemon itself knows nothing of the web.
        web = start_in_thread(cfg) if cfg.web.with_daemon else None
        try:
            code = run_daemon(cfg.source)
        finally:
            if web is not None:
                web.stop()
    sys.exit(code)


COMMANDS = [run_cmd]
