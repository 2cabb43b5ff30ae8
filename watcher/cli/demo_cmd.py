"""``watcher demo``: the whole product in a sandbox on 127.0.0.1."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from watcher.demo.mailbox import free_port


@click.command("demo")
@click.option("--port", type=int, default=None, help="复核网站端口（默认 8080，被占用时自动另选）")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="演示数据目录（默认使用临时目录并在退出时删除；指定时退出后保留）")
def demo_cmd(port: int | None, directory: Path | None) -> None:
    """启动演示环境：本地模拟平台、监测服务、告警邮箱与复核网站，全部只在本机 127.0.0.1。

    不需要配置文件，也不访问互联网。约一分钟内即可在网站上看到仿冒、删帖、改帖、改名未备案与
    舆情等发现，以及发出的告警邮件。按 Ctrl-C 结束并清理。
    """
    from watcher.demo.sandbox import run_demo

    if directory is not None and directory.exists() and any(directory.iterdir()):
        click.echo(f"错误：演示目录 {directory} 不是空目录；请换一个新目录，或不加 --dir 使用临时目录", err=True)
        sys.exit(2)
    sys.exit(run_demo(directory, port or _port(8080)))


def _port(preferred: int) -> int:
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", preferred))
        except OSError:
            return free_port()
    return preferred


COMMANDS = [demo_cmd]
