"""Shared pieces of the command line: the group, ``--config``, store opening, JSON output."""

from __future__ import annotations

import dataclasses
import errno
import functools
import io
import json
import sqlite3
import sys
from collections.abc import Callable
from typing import Any

import click

from watcher import __version__
from watcher.cleaning import printable
from watcher.config import Config, ConfigError, load_config
from watcher.logs import setup_cli_logging
from watcher.store import Store
from watcher.timefmt import local_time  # noqa: F401 - re-exported for the commands

EXIT_CONFIG = 2


EXIT_ENVIRONMENT = 4  # the data dir or the database cannot be used (full, read-only, locked …)


def environment_error(e: BaseException) -> str | None:
    """What an operator should read for an error of the machine rather than of the program: a
    full disk, a read-only or missing data dir, a file where a directory should be, a database
    locked longer than the wait. None for anything else (a bug, shown as one)."""
    text = str(e).lower()
    if isinstance(e, sqlite3.OperationalError):
        if "locked" in text or "busy" in text:
            return ("数据库被占用，等待超时（另一进程——守护进程、网站或另一条命令——长时间持有写锁）；"
                    "请稍后重试，或检查是否有卡住的进程")
        if "full" in text:
            return "磁盘已满，数据库无法写入：请清理数据目录所在的磁盘后重试"
        if "readonly" in text or "read-only" in text:
            return "数据库只读，无法写入：请检查数据目录及数据库文件的权限，或所在文件系统是否只读挂载"
        if "unable to open" in text or "disk i/o" in text:
            return f"无法打开数据库（{e}）：请检查数据目录是否存在、是否为目录、是否可写"
        return None
    if isinstance(e, OSError):
        where = f"：{e.filename}" if e.filename else ""
        reasons = {
            errno.ENOSPC: "磁盘已满，无法写入", errno.EDQUOT: "磁盘配额已用完，无法写入",
            errno.EROFS: "文件系统只读，无法写入", errno.EACCES: "没有权限", errno.EPERM: "没有权限",
            errno.ENOTDIR: "路径中有一段是文件而不是目录", errno.EEXIST: "已存在同名文件（此处应是目录）",
            errno.ENOENT: "路径不存在", errno.EISDIR: "这是一个目录，不是文件",
        }
        reason = reasons.get(e.errno or 0, f"系统错误（{e.strerror or e}）")
        return f"{reason}{where}；请检查配置中的 data_dir 与该目录的权限和磁盘空间"
    return None


class WatcherGroup(click.Group):
    """The top-level group: a machine problem (disk, permissions, a locked database) ends the
    command with a Chinese message and exit code 4 instead of a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:  # the reader of our output went away (… | head): nothing to say
            sys.stderr.close()
            sys.exit(1)
        except (OSError, sqlite3.Error) as e:
            message = environment_error(e)
            if message is None:
                raise
            click.echo(f"错误：{message}", err=True)
            sys.exit(EXIT_ENVIRONMENT)


class TerminalSafe(io.TextIOBase):
    """A text stream that shows control characters as ``\\u001b``-style escapes instead of
    passing them on. What the commands print comes largely from platforms (names, titles, post
    texts); an ESC in a name must not set the terminal's title or clear the screen. Line feeds
    and tabs pass; JSON output stays the same JSON (the escapes are JSON's own)."""

    def __init__(self, stream: Any) -> None:
        self.raw_stream = stream

    def write(self, text: str) -> int:
        self.raw_stream.write(printable(text))
        return len(text)

    def writable(self) -> bool:
        return True

    def flush(self) -> None:
        self.raw_stream.flush()

    def isatty(self) -> bool:
        return self.raw_stream.isatty()

    def fileno(self) -> int:
        return self.raw_stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.raw_stream, "encoding", "utf-8")

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return getattr(self.raw_stream, "errors", None)


def _terminal_safe() -> None:
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, TerminalSafe):
            setattr(sys, name, TerminalSafe(stream))


@click.group(cls=WatcherGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="campus-watcher", help="显示版本并退出。")
def main_group() -> None:
    """campus-watcher：高校新媒体账号备案监测（仿冒发现、备案账号巡检、舆情、告警、复核）。

    大多数命令需要 --config 指定配置文件（默认读取环境变量 CAMPUS_WATCHER_CONFIG、
    /etc/campus-watcher/watcher.yaml 或 ./config/watcher.yaml）。
    """
    _terminal_safe()
    setup_cli_logging()


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


def _jsonable(value: Any) -> Any:
    """The store's typed rows print as the objects of their fields; anything else as text."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return str(value)


def echo_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2, default=_jsonable))


def echo_jsonl(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, default=_jsonable))


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


class Words(click.ParamType):
    """A choice people may write in Chinese (在用) or as the code (active); the command gets the
    code. Help and errors list the Chinese words."""

    def __init__(self, name: str, labels: dict[str, str], parse: Any = None) -> None:
        self.name, self.labels, self.parse = name, labels, parse

    def get_metavar(self, param: Any, ctx: Any = None) -> str:
        return "[" + "|".join(self.labels.values()) + "]"

    def convert(self, value: Any, param: Any, ctx: Any) -> str:
        text = str(value).strip()
        if text in self.labels:
            return text
        code = next((c for c, label in self.labels.items() if label == text), None)
        if code is None and self.parse is not None:
            code = self.parse(text)
        if code not in self.labels:
            self.fail(f"{text!r} 不是有效的{self.name}，可选：{'、'.join(self.labels.values())}", param, ctx)
        return str(code)
