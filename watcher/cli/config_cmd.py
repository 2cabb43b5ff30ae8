"""``watcher check-config``."""

from __future__ import annotations

import sys

import click

from watcher import capacity
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

    最后按备案台账的账号数、每个账号的页数、平台的礼貌节奏与每日预算估算每个平台一轮巡检的请求数与
    用时；巡检间隔（或敏感期的间隔）做不到时说明原因和可行的间隔。估算不影响退出状态。
    """
    for warning in secret_warnings(cfg):
        click.echo(f"警告：{warning}", err=True)
    problems = secret_problems(cfg)
    if problems:
        click.echo(ConfigError(cfg.source or "配置", problems).render(), err=True)
        sys.exit(EXIT_CONFIG)
    counts, counted_from = capacity.registry_counts(cfg)
    estimates = capacity.estimate(cfg, counts)
    unmet = [e for e in estimates if not e.fits]
    if unmet:
        click.echo(f"配置文件 {cfg.source} 格式正确，但{'、'.join(e.label for e in unmet)}的巡检安排无法满足（见下方“巡检能力估算”）。")
    else:
        click.echo(f"配置文件 {cfg.source} 校验通过。")
    click.echo(summarize(cfg))
    if estimates:
        click.echo(f"巡检能力估算（账号数取自{counted_from}；请求数按每个账号读满 pages 页计）：")
        for e in estimates:
            click.echo("  " + e.text().replace("\n", "\n  "))
        if cfg.crawl.distributed:
            click.echo("  （已配置多主机采集：以上按一个出口地址计；每日预算与节奏按出口地址（crawl.exit_address）在 Redis 中共计，"
                       "N 个不同出口约可承担 N 倍的请求；watcher workers status 列出在线节点与各出口的用量）")
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
