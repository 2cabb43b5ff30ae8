"""``watcher check-config``."""

from __future__ import annotations

import sys

import click

from watcher.cli.common import EXIT_CONFIG, config_option
from watcher.config import Config, ConfigError, secret_problems, secret_warnings, summarize


@click.command("check-config")
@config_option
def check_config(cfg: Config) -> None:
    """校验配置文件；正确则打印摘要，错误则列出每一处（键路径与期望值）并以状态 2 退出。

    除格式外还检查引用的凭据：url_env、secret_env、password_env、crawl.redis_password_env 指向的
    环境变量或凭据文件中的项必须存在（请在与服务相同的环境中运行，如
    sudo -u campus-watcher env $(cat credentials.env) …）；设置了 crawl.redis_url 时试连 Redis 并报告结果。
    凭据（机器人地址、加签密钥、Redis/代理密码）直接写在同组或其他用户可读的配置文件中时给出警告。
    """
    for warning in secret_warnings(cfg):
        click.echo(f"警告：{warning}", err=True)
    problems = secret_problems(cfg)
    if problems:
        click.echo(ConfigError(cfg.source or "配置", problems).render(), err=True)
        sys.exit(EXIT_CONFIG)
    click.echo(f"配置文件 {cfg.source} 校验通过。")
    click.echo(summarize(cfg))
    if cfg.crawl.redis_url:
        click.echo(_redis_reachable(cfg))


def _redis_reachable(cfg: Config) -> str:
    """A look at the fleet's Redis. Not a failure: the daemon and the workers wait for Redis
    (a worker's unit runs check-config before it starts, and must start while Redis is away)."""
    import redis

    from watcher.distributed.errors import explain
    from watcher.distributed.keys import connect_cfg

    try:
        connect_cfg(cfg.crawl, timeout=3).ping()
    except redis.RedisError as e:
        return f"多主机采集：注意，{explain(e, cfg.crawl)}（服务会等待 Redis 恢复）"
    return f"多主机采集：Redis {cfg.crawl.redis_shown()} 可以连接，前缀 {cfg.crawl.key_prefix}"


COMMANDS = [check_config]
