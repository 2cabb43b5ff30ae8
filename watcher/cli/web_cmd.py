"""``watcher web``, ``watcher users``, ``watcher publish``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from watcher.cli.common import config_option, echo_json, open_store, table
from watcher.config import Config


@click.command("web")
@click.option("--host", help="监听地址（默认配置中的 web.host，即 127.0.0.1）")
@click.option("--port", type=int, help="端口（默认 web.port）")
@config_option
def web_cmd(cfg: Config, host: str | None, port: int | None) -> None:
    """启动复核网站（默认只监听 127.0.0.1；对外请经 nginx 反向代理并启用 HTTPS）。"""
    from watcher.logs import setup_logging
    from watcher.web.server import server

    setup_logging(cfg.logging, component="web")
    server(cfg, host, port).run()


@click.group("users")
def users_group() -> None:
    """复核网站用户：admin（管理员）、central（宣传部复核员）、unit（单位复核员）。"""


def _password(password: str | None) -> str:
    return password or click.prompt("密码", hide_input=True, confirmation_prompt=True)


@users_group.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(["admin", "central", "unit"]), required=True)
@click.option("--unit", help="单位名称（unit 角色必填，与台账/告警中的单位名称一致）")
@click.option("--password", help="密码（不给则交互输入）")
@config_option
def users_add(cfg: Config, username: str, role: str, unit: str | None, password: str | None) -> None:
    """新增用户。"""
    from watcher.web import auth

    with open_store(cfg) as store:
        try:
            auth.add_user(store, username, _password(password), role, unit)
        except auth.UserError as e:
            click.echo(str(e), err=True)
            sys.exit(2)
        auth.audit(store, "cli", "新增用户", username, {"role": role, "unit": unit})
    click.echo(f"已新增用户 {username}（{auth.ROLES[role]}）")


@users_group.command("passwd")
@click.argument("username")
@click.option("--password", help="新密码（不给则交互输入）")
@config_option
def users_passwd(cfg: Config, username: str, password: str | None) -> None:
    """修改密码。"""
    from watcher.web import auth

    with open_store(cfg) as store:
        try:
            auth.set_password(store, username, _password(password))
        except auth.UserError as e:
            click.echo(str(e), err=True)
            sys.exit(2)
        auth.audit(store, "cli", "修改密码", username)
    click.echo("密码已修改。")


@users_group.command("disable")
@click.argument("username")
@click.option("--enable", is_flag=True, help="重新启用")
@config_option
def users_disable(cfg: Config, username: str, enable: bool) -> None:
    """停用（或 --enable 重新启用）用户。"""
    from watcher.web import auth

    with open_store(cfg) as store:
        try:
            auth.set_disabled(store, username, not enable)
        except auth.UserError as e:
            click.echo(str(e), err=True)
            sys.exit(2)
        auth.audit(store, "cli", "启用用户" if enable else "停用用户", username)
    click.echo("已启用。" if enable else "已停用。")


@users_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@config_option
def users_list(cfg: Config, as_json: bool) -> None:
    """列出用户。"""
    with open_store(cfg) as store:
        rows = store.query("SELECT username, role, unit, disabled, created_at FROM users ORDER BY username")
    if as_json:
        echo_json(rows)
    else:
        table(rows, [("username", "用户名"), ("role", "角色"), ("unit", "单位"), ("disabled", "停用"), ("created_at", "创建")])


@click.command("publish")
@click.option("--out", "out", type=click.Path(file_okay=False), default="public", show_default=True)
@config_option
def publish_cmd(cfg: Config, out: str) -> None:
    """导出公示页面（index.html + accounts.json）：公开已备案账号，供公众核验是否为官方账号。"""
    from watcher.web.publish import publish

    with open_store(cfg) as store:
        n = publish(cfg, store, Path(out))
    click.echo(f"已导出 {n} 个备案账号到 {out}/index.html 与 {out}/accounts.json")


COMMANDS = [web_cmd, users_group, publish_cmd]
