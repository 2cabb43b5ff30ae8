"""``watcher check-config``."""

from __future__ import annotations

import sys

import click

from watcher import capacity
from watcher.cli.common import EXIT_CONFIG, config_option
from watcher.config import Config, ConfigError, secret_problems, summarize


@click.command("check-config")
@config_option
def check_config(cfg: Config) -> None:
    """校验配置文件；正确则打印摘要，错误则列出每一处（键路径与期望值）并以状态 2 退出。

    除格式外还检查引用的凭据：url_env、secret_env、password_env 指向的环境变量或凭据文件中的项
    必须存在（请在与服务相同的环境中运行，如 sudo -u campus-watcher env $(cat credentials.env) …）。

    最后按备案台账的账号数、每个账号的页数、平台的礼貌节奏与每日预算估算每个平台一轮巡检的请求数与
    用时；巡检间隔（或敏感期的间隔）做不到时说明原因和可行的间隔。估算不影响退出状态。
    """
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
            click.echo("  （已配置多主机采集：以上按一台采集节点计；每台节点有自己的出口地址、会话与每日预算，"
                       "N 台节点约可承担 N 倍的请求，watcher workers 列出在线节点）")


COMMANDS = [check_config]
