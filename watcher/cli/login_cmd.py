"""``watcher login PLATFORM``: the department's session on a platform, by QR scan or cookies file."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from spiders import catalog
from watcher import sessions
from watcher.cli.common import PLATFORM, config_option, open_store
from watcher.config import Config


@click.command("login")
@click.argument("platform", type=PLATFORM)
@click.option("--cookies", "cookies_file", type=click.Path(dir_okay=False, path_type=Path),
              help="改为导入浏览器导出的 Cookie 文件（Netscape cookies.txt 或 JSON）")
@click.option("--timeout", default=180, show_default=True, type=click.IntRange(10, 1800), help="等待扫码的秒数")
@click.option("--png", type=click.Path(dir_okay=False, path_type=Path),
              help="二维码图片的保存位置（默认：数据目录 sessions/<平台>/login-qr.png）")
@config_option
def login_cmd(cfg: Config, platform: str, cookies_file: Path | None, timeout: int, png: Path | None) -> None:
    """登录平台账号：打开平台自己的登录页，在终端显示二维码（并保存为 PNG），扫码确认后保存会话，下一轮采集即使用它。"""
    from watcher.login import qr_login

    info = catalog.get(platform)
    if info.session is None:
        click.echo(f"{info.label}不需要登录：公开页面即可采集", err=True)
        sys.exit(2)
    try:
        if cookies_file is not None:
            sessions.import_cookies(cfg, platform, cookies_file)
            click.echo(f"已导入 {cookies_file} 中的 Cookie 作为{info.label}的登录会话")
        else:
            click.echo(f"正在打开{info.label}登录页……")
            state = qr_login(cfg, platform, echo=click.echo, timeout=timeout, png=png)
            sessions.save(cfg, platform, state, "qr")
    except sessions.SessionError as e:
        click.echo(str(e), err=True)
        sys.exit(3)
    status = sessions.check(cfg, platform)
    with open_store(cfg) as store:
        sessions.note(cfg, platform, store, status)
    label = sessions.STATE_LABELS[status.state]
    click.echo(f"{info.label}登录会话已保存；检查结果：{label}（{status.detail}）")
    if status.state == "lapsed":
        click.echo(f"平台表示该会话未登录：{info.session.loses}将无法采集；请重新扫码或导出新的 Cookie", err=True)
        sys.exit(3)


COMMANDS = [login_cmd]
