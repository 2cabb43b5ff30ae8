"""``watcher web``, ``watcher users``, ``watcher publish``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from watcher.cli.common import Words, config_option, echo_json, local_time, open_store, table
from watcher.config import Config
from watcher.store import users


@click.command("web")
@click.option("--host", help="监听地址（默认配置中的 web.host，即 127.0.0.1）")
@click.option("--port", type=int, help="端口（默认 web.port）")
@config_option
def web_cmd(cfg: Config, host: str | None, port: int | None) -> None:
    """启动复核网站（默认只监听 127.0.0.1；对外请经 nginx 反向代理并启用 HTTPS）。"""
    from watcher.logs import setup_logging
    from watcher.web.server import server

    setup_logging(cfg.logging, component="web", crashes=cfg.data_path / "crashes")
    server(cfg, host, port).run()


@click.group("users")
def users_group() -> None:
    """复核网站用户：admin（管理员）、central（宣传部复核员）、unit（单位复核员）。"""


def _refuse_password_argument(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        click.echo("为避免密码留在 shell 历史和进程列表中，不再接受 --password；"
                   "请按提示输入，或用 --password-stdin 从标准输入读取（如 printf '%s\\n' \"$PW\" | watcher users add …）", err=True)
        ctx.exit(2)


_no_password_argument = click.option("--password", hidden=True, expose_value=False, callback=_refuse_password_argument)
_password_stdin = click.option("--password-stdin", is_flag=True, help="从标准输入读取密码（一行），供脚本使用")


def _password(from_stdin: bool) -> str:
    """The password from a hidden prompt (typed twice), or the first line of stdin."""
    if from_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    return click.prompt("密码", hide_input=True, confirmation_prompt="再次输入密码")


def _fail(e: Exception) -> None:
    click.echo(str(e), err=True)
    sys.exit(2)


@users_group.command("add")
@click.argument("username")
@click.option("--role", type=Words("角色", {"admin": "管理员", "central": "宣传部复核员", "unit": "单位复核员"}), required=True)
@click.option("--unit", help="单位名称（unit 角色必填；须是配置 units 中的单位或台账中已有的单位）")
@_password_stdin
@_no_password_argument
@config_option
def users_add(cfg: Config, username: str, role: str, unit: str | None, password_stdin: bool) -> None:
    """新增用户（密码按提示输入，或 --password-stdin）。"""
    from watcher.web import auth

    with open_store(cfg) as store:
        try:
            if role == "unit":  # refuse a missing or unknown unit before asking for a password
                if not unit:
                    raise auth.UserError("单位复核员需要指定单位（--unit）")
                unit = auth.canonical_unit(cfg, store, unit)
            auth.add_user(store, username, _password(password_stdin), role, unit, cfg=cfg)
        except auth.UserError as e:
            _fail(e)
        auth.audit(store, "cli", "新增用户", username, {"role": role, "unit": unit})
    click.echo(f"已新增用户 {username}（{auth.ROLES[role]}{'，' + unit if role == 'unit' and unit else ''}）")


@users_group.command("passwd")
@click.argument("username")
@_password_stdin
@_no_password_argument
@config_option
def users_passwd(cfg: Config, username: str, password_stdin: bool) -> None:
    """修改密码（该用户所有已登录的会话随即失效）。"""
    from watcher.web import auth

    with open_store(cfg) as store:
        try:
            auth.set_password(store, username, _password(password_stdin))
        except auth.UserError as e:
            _fail(e)
        auth.audit(store, "cli", "修改密码", username)
    click.echo("密码已修改，该用户需重新登录。")


@users_group.command("role")
@click.argument("username")
@click.option("--role", type=Words("角色", {"admin": "管理员", "central": "宣传部复核员", "unit": "单位复核员"}), required=True)
@click.option("--unit", help="单位名称（unit 角色必填）")
@config_option
def users_role(cfg: Config, username: str, role: str, unit: str | None) -> None:
    """修改角色或单位（该用户所有已登录的会话随即失效）。"""
    from watcher.web import auth

    with open_store(cfg) as store:
        try:
            auth.set_role(cfg, store, username, role, unit)
        except auth.UserError as e:
            _fail(e)
        row = users.get(store, username)
        auth.audit(store, "cli", "修改角色", username, {"role": role, "unit": row.unit if row else None})
    click.echo(f"已将 {username} 改为{auth.ROLES[role]}，该用户需重新登录。")


@users_group.command("disable")
@click.argument("username")
@click.option("--enable", is_flag=True, help="重新启用")
@config_option
def users_disable(cfg: Config, username: str, enable: bool) -> None:
    """停用（或 --enable 重新启用）用户；停用立即结束其所有会话。"""
    from watcher.web import auth

    with open_store(cfg) as store:
        try:
            auth.set_disabled(store, username, not enable)
        except auth.UserError as e:
            _fail(e)
        auth.audit(store, "cli", "启用用户" if enable else "停用用户", username)
    click.echo("已启用。" if enable else "已停用。")


@users_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@config_option
def users_list(cfg: Config, as_json: bool) -> None:
    """列出用户。"""
    with open_store(cfg) as store:
        rows = [{"username": u.username, "role": u.role, "unit": u.unit, "disabled": int(u.disabled),
                 "created_at": u.created_at} for u in users.all_users(store)]
    if as_json:
        echo_json(rows)
    else:
        from watcher.web.auth import ROLES

        shown = [{**r, "role": ROLES.get(r["role"], r["role"]), "disabled": "已停用" if r["disabled"] else "",
                  "created_at": local_time(r["created_at"])} for r in rows]
        table(shown, [("username", "用户名"), ("role", "角色"), ("unit", "单位"), ("disabled", "停用"), ("created_at", "创建")])


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
