"""Shared pieces of the command line: the group, ``--config``, store opening, JSON output."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any

import click

from watcher import __version__
from watcher.config import Config, ConfigError, load_config
from watcher.store import Store
from watcher.timefmt import local_time  # noqa: F401 - re-exported for the commands

EXIT_CONFIG = 2


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="campus-watcher")
def main_group() -> None:
    """campus-watcher：高校新媒体账号备案监测（仿冒发现、备案账号巡检、舆情、告警、复核）。

    大多数命令需要 --config 指定配置文件（默认读取环境变量 CAMPUS_WATCHER_CONFIG、
    /etc/campus-watcher/watcher.yaml 或 ./config/watcher.yaml）。
    """


def load_or_exit(path: str | None) -> Config:
    try:
        return load_config(path)
    except ConfigError as e:
        click.echo(e.render(), err=True)
        sys.exit(EXIT_CONFIG)


def config_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """Adds ``--config`` and passes the validated Config as ``cfg``; bad config exits 2."""

    @click.option("--config", "-c", "config_path", type=click.Path(dir_okay=False), default=None,
                  envvar="CAMPUS_WATCHER_CONFIG", help="配置文件（YAML）")
    @functools.wraps(func)
    def wrapper(*args: Any, config_path: str | None, **kwargs: Any) -> Any:
        return func(*args, cfg=load_or_exit(config_path), **kwargs)

    return wrapper


def open_store(cfg: Config) -> Store:
    return Store.open(cfg.db_path)


def echo_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def echo_jsonl(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, default=str))


def table(rows: list[dict[str, Any]], columns: list[tuple[str, str]]) -> None:
    """A plain aligned table (CJK characters count double width)."""
    import unicodedata

    def width(s: str) -> int:
        return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)

    def pad(s: str, w: int) -> str:
        return s + " " * (w - width(s))

    cells = [[str(r.get(k, "") if r.get(k) is not None else "") for k, _ in columns] for r in rows]
    widths = [max([width(h)] + [width(c[i]) for c in cells]) for i, (_, h) in enumerate(columns)]
    click.echo("  ".join(pad(h, widths[i]) for i, (_, h) in enumerate(columns)).rstrip())
    for c in cells:
        click.echo("  ".join(pad(v, widths[i]) for i, v in enumerate(c)).rstrip())


class PlatformType(click.ParamType):
    """A platform by its code, its Chinese label or an alias (微博, weibo, 新浪微博 …)."""

    name = "平台"

    def convert(self, value: Any, param: Any, ctx: Any) -> str:
        from spiders import catalog

        try:
            return catalog.resolve(str(value))
        except catalog.UnknownPlatform as e:
            self.fail(str(e), param, ctx)


PLATFORM = PlatformType()
