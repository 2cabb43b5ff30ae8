"""``watcher match``: the matcher as a JSON Lines filter, a stable contract for other tools."""

from __future__ import annotations

import json
import os
import re
import stat
import sys
from typing import IO

import click

from spiders import catalog
from watcher import registry
from watcher.cleaning import printable
from watcher.cli.common import config_option
from watcher.config import Config
from watcher.matching import Candidate, Matcher, MatchResult
from watcher.store import Store
from watcher.store.rules import name_rules

REQUIRED = ("platform", "account_id", "name")
_SURROGATE = re.compile("[\ud800-\udfff]")


def build_matcher(cfg: Config) -> Matcher:
    """Registry and reviewer-made name rules from the store when there is one, else the
    config's registry file."""
    if cfg.db_path.exists():
        with Store.open(cfg.db_path) as store:
            rows = registry.load_for_matching(cfg, store)
            rules = name_rules(store)
    else:
        rows, rules = registry.load_for_matching(cfg), []
    return Matcher.from_config(cfg, rows, rules)


def _text(obj: dict, key: str, what: str, *, ids: bool = False) -> str | None:
    """Field ``key`` as text (None when absent or null); a ValueError in Chinese naming the
    field and what it should be otherwise. IDs may be written as numbers."""
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        if _SURROGATE.search(value):  # JSON allows "\ud800"; no text can be written with it
            raise ValueError(f"字段 {key} 含无效的 Unicode 字符（孤立的代理项，如 \\ud800），请检查该行的编码")
        return value
    if ids and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    kind = {bool: "真假值", int: "数字", float: "数字", list: "列表", dict: "对象"}.get(type(value), "非文本")
    raise ValueError(f"字段 {key} 应为{what}，这里是{kind}")


def _candidate(obj: object) -> Candidate:
    if not isinstance(obj, dict):
        raise ValueError("每行应为一个 JSON 对象")
    fields = {"platform": _text(obj, "platform", "平台名称（文本，如 weibo 或 微博）"),
              "account_id": _text(obj, "account_id", "账号 ID（文本或数字）", ids=True),
              "name": _text(obj, "name", "账号名称（文本）")}
    bio = _text(obj, "bio", "简介（文本）")
    avatar = _text(obj, "avatar", "头像图片的文件路径（文本）")
    missing = [k for k, v in fields.items() if not (v or "").strip()]
    if missing:
        raise ValueError(f"缺少字段 {', '.join(missing)}")
    try:  # 微博, weibo, 新浪微博 … all name one platform; anything else is this line's error
        platform = catalog.resolve(str(fields["platform"]))
    except catalog.UnknownPlatform as e:
        raise ValueError(str(e)) from e
    return Candidate(platform, str(fields["account_id"]), str(fields["name"]), bio or "", avatar or None)


# The json module's messages (English), as the operator reads them; the column says where.
_JSON_PROBLEMS = (("Expecting value", "此处应为一个值"), ("Expecting property name", "此处应为双引号括起的字段名"),
                  ("Expecting ',' delimiter", "缺少逗号"), ("Expecting ':' delimiter", "缺少冒号"),
                  ("Unterminated string", "字符串缺少结束引号"), ("Extra data", "一个 JSON 对象之后还有多余内容"),
                  ("Invalid control character", "字符串中含未转义的控制字符"), ("Invalid \\uXXXX", "无效的 \\u 转义"),
                  ("Invalid \\escape", "无效的反斜杠转义"))


def _json_problem(msg: str) -> str:
    return next((zh for en, zh in _JSON_PROBLEMS if msg.startswith(en)), "格式错误")


CHUNK = 1000  # lines judged together from a file: batch speed, output still streams


def _chunk(source: IO[str]) -> int:
    """A file is judged in chunks; a pipe or terminal line by line, so that a tool that writes
    one line and waits for its answer gets it at once."""
    try:
        return CHUNK if stat.S_ISREG(os.fstat(source.fileno()).st_mode) else 1
    except (AttributeError, OSError, ValueError):
        return CHUNK  # an in-memory stream: all of it is already there


def _parse(line: str | bytes, lineno: int) -> object:
    """One input line as JSON; a ValueError in Chinese for anything that is not (bytes that are
    not UTF-8, nesting too deep for the parser, bad syntax). A BOM opening the input is ignored."""
    if isinstance(line, bytes):
        try:
            line = line.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ValueError(f"不是 UTF-8 编码（第 {e.start + 1} 个字节起无法解码），请把输入转为 UTF-8") from e
    if lineno == 1:
        line = line.removeprefix("\ufeff")
    try:
        return json.loads(line)
    except json.JSONDecodeError as e:
        raise ValueError(f"不是合法的 JSON（第 {e.colno} 列：{_json_problem(e.msg)}）") from e
    except RecursionError as e:
        raise ValueError("JSON 嵌套层数过多，无法解析（每行应为一个账号对象）") from e


def _why(e: BaseException) -> str:
    """What an operator reads of an error: its message in words, never a Python type name."""
    if isinstance(e, OSError):
        return f"文件无法读取：{e.strerror or '读取失败'}" + (f"（{e.filename}）" if e.filename else "")
    return printable(str(e))[:200] or "输入数据无法处理"


def run_match(matcher: Matcher, source: IO[str] | IO[bytes], out: IO[str], err: IO[str]) -> int:
    bad = 0
    chunk = _chunk(source)
    pending: list[tuple[int, dict, Candidate]] = []

    def write(obj: dict, result: MatchResult) -> None:
        r = result.to_dict()
        out.write(json.dumps({**obj, "verdict": r["verdict"], "score": r["score"], "matched": r["matched"],
                              "unit": r["unit"], "reasons": r["reasons"], "algo": r["algo"]},
                             ensure_ascii=False) + "\n")

    def flush() -> None:
        nonlocal bad
        try:
            results = matcher.match_many([c for _, _, c in pending])
        except Exception:  # noqa: BLE001 - one line must not cost the others: judge them one by one
            results = []
            for lineno, _, c in pending:
                try:
                    results.append(matcher.match(c))
                except Exception as e:  # noqa: BLE001 - reported with its line, like bad input
                    bad += 1
                    err.write(f"第 {lineno} 行：判定失败（{_why(e)}），请检查该行的字段\n")
                    results.append(None)
        for (_, obj, _), result in zip(pending, results, strict=True):
            if result is not None:
                write(obj, result)
        pending.clear()

    for lineno, line in enumerate(source, start=1):
        if not line.strip():
            continue
        try:
            obj = _parse(line, lineno)
            pending.append((lineno, obj, _candidate(obj)))  # type: ignore[arg-type]
        except (ValueError, OSError) as e:
            bad += 1
            err.write(f"第 {lineno} 行：{e}\n")
            continue
        if len(pending) >= chunk:
            flush()
            out.flush()
    flush()
    return 1 if bad else 0


@click.command("match")
@click.option("--input", "-i", "input_path", type=click.Path(allow_dash=True), default="-",
              help="JSON Lines 输入文件，默认标准输入")
@config_option
def match_cmd(cfg: Config, input_path: str) -> None:
    """判定账号是否仿冒：每行输入 {"platform","account_id","name","bio"?,"avatar"?}，
    每行输出原字段加 verdict（registered/suspect/clear）、score、matched、unit、reasons、algo。"""
    matcher = build_matcher(cfg)
    # Bytes in: a line that is not UTF-8 is that line's error, not the end of the input.
    with click.open_file(input_path, "rb") as source:
        code = run_match(matcher, source, sys.stdout, sys.stderr)
    sys.exit(code)


COMMANDS = [match_cmd]
