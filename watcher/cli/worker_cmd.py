"""``watcher worker`` (a crawl worker of the fleet) and ``watcher workers status``."""

from __future__ import annotations

import sys

import click

from watcher.cli.common import EXIT_CONFIG, PLATFORM, config_option, echo_json, table
from watcher.config import Config
from watcher.timefmt import zone_label


def _needs_redis(cfg: Config) -> None:
    if not cfg.crawl.redis_url:
        click.echo(f"配置文件 {cfg.source} 没有设置 crawl.redis_url：采集节点通过 Redis 从监测服务领取任务，"
                   "请填写 crawl.redis_url 与 crawl.key_prefix（与监测服务相同）", err=True)
        sys.exit(EXIT_CONFIG)


def _redis_error(cfg: Config, e: Exception) -> None:
    from watcher.distributed.errors import explain

    click.echo(explain(e, cfg.crawl), err=True)
    sys.exit(1)


@click.command("worker")
@config_option
@click.option("--platform", "-p", "platforms", type=PLATFORM, multiple=True,
              help="本节点采集的平台（可多次给出；默认为配置中启用的全部平台）")
@click.option("--name", default=None, help="节点名称（默认：主机名-进程号）；在 workers status 中显示")
def worker_cmd(cfg: Config, platforms: tuple[str, ...], name: str | None) -> None:
    """启动采集节点：从 Redis 领取监测服务排队的采集目标，结果送回监测服务入库。

    本节点的出口地址、登录会话（platforms.<平台>.cookies_file）与限速（rate、concurrency）
    取自本机的配置文件。SIGTERM 停止，未完成的目标退回队列。
    """
    import redis

    from watcher.distributed.worker import run_worker, worker_name

    _needs_redis(cfg)
    chosen = list(platforms) or cfg.enabled_platforms()
    if not chosen:
        click.echo("没有要采集的平台：请用 --platform 指定，或在配置的 platforms 中启用", err=True)
        sys.exit(EXIT_CONFIG)
    try:
        sys.exit(run_worker(cfg, chosen, worker_name(name)))
    except redis.RedisError as e:
        _redis_error(cfg, e)


@click.group("workers")
def workers_group() -> None:
    """查看采集节点（多主机部署，见 crawl.redis_url）。"""


@workers_group.command("status")
@config_option
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
def workers_status(cfg: Config, as_json: bool) -> None:
    """各采集节点：状态、平台、最后心跳（配置的时区）、今日请求数、出口地址今日请求/预算、登录会话、冷却中的平台。"""
    import redis

    from watcher.distributed.status import worker_rows

    _needs_redis(cfg)
    try:
        rows = worker_rows(cfg)
    except redis.RedisError as e:
        _redis_error(cfg, e)
        return
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo(f"还没有采集节点在 Redis（前缀 {cfg.crawl.key_prefix}）中报到：请在采集主机上运行 watcher worker")
        return
    table(rows, [("name", "节点"), ("host", "主机"), ("state", "状态"), ("platforms", "平台"),
                 ("last_beat", f"最后心跳（{zone_label()}）"), ("served", "今日请求"), ("exit", "出口地址"),
                 ("exit_today", "出口今日/预算"), ("sessions", "登录会话"), ("targets", "已送回目标"),
                 ("leased", "进行中"), ("cooling", "冷却中")])


COMMANDS = [worker_cmd, workers_group]
