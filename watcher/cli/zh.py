"""click in Chinese: usage, help, prompts and errors.

click marks every message it shows with gettext's ``_``/``ngettext`` (imported into each of its
modules); there is no Chinese catalogue, so :func:`install` points those names at this table. A
message not in the table is shown as click wrote it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

MESSAGES: dict[str, str] = {
    "Usage:": "用法:",
    "Options": "选项",
    "Commands": "命令",
    "Positional arguments": "参数",
    "Show this message and exit.": "显示此帮助并退出。",
    "Show the version and exit.": "显示版本并退出。",
    "%(prog)s, version %(version)s": "%(prog)s，版本 %(version)s",
    "Error: {message}": "错误：{message}",
    "Try '{command} {option}' for help.": "运行 '{command} {option}' 查看帮助。",
    "No such command {name!r}.": "没有命令 {name!r}。",
    "No such option {name!r}.": "没有选项 {name!r}。",
    "Missing command.": "缺少子命令。",
    "Missing argument": "缺少参数",
    "Missing option": "缺少选项",
    "Missing parameter": "缺少参数",
    "Missing parameter: {param_name}": "缺少参数：{param_name}",
    "Missing {param_type}": "缺少{param_type}",
    "argument": "参数",
    "option": "选项",
    "parameter": "参数",
    "Invalid value for {param_hint}: {message}": "{param_hint} 的值无效：{message}",
    "Invalid value: {message}": "值无效：{message}",
    "Option {name!r} does not take a value.": "选项 {name!r} 不接受值。",
    "Argument {name!r} takes {nargs} values.": "参数 {name!r} 需要 {nargs} 个值。",
    "{value!r} is not a valid {number_type}.": "{value!r} 不是有效的{number_type}。",
    "{value!r} is not a valid UUID.": "{value!r} 不是有效的 UUID。",
    "{value!r} is not a valid boolean. Recognized values: {states}": "{value!r} 不是有效的布尔值，可用：{states}",
    "{value} is not in the range {range}.": "{value} 不在范围 {range} 内。",
    "Choose from:\n\t{choices}": "可选：\n\t{choices}",
    "{name} {filename!r} does not exist.": "{name} {filename!r} 不存在。",
    "{name} {filename!r} is a directory.": "{name} {filename!r} 是目录。",
    "{name} {filename!r} is a file.": "{name} {filename!r} 是文件。",
    "{name} {filename!r} is not readable.": "{name} {filename!r} 不可读。",
    "{name} {filename!r} is not writable.": "{name} {filename!r} 不可写。",
    "{name} {filename!r} is not executable.": "{name} {filename!r} 不可执行。",
    "Could not open file {filename!r}: {message}": "无法打开文件 {filename!r}：{message}",
    "file": "文件",
    "directory": "目录",
    "path": "路径",
    "File": "文件",
    "Directory": "目录",
    "Path": "路径",
    "Aborted!": "已取消。",
    "Repeat for confirmation": "请再输入一次确认",
    "Error: The two entered values do not match.": "错误：两次输入不一致。",
    "Error: invalid input": "错误：输入无效",
    "Do you want to continue?": "是否继续？",
    "Confirm the action without prompting.": "不提示，直接确认执行。",
    "Press any key to continue...": "按任意键继续…",
    "default: {default}": "默认：{default}",
    "env var: {var}": "环境变量：{var}",
    "required": "必填",
    "(dynamic)": "（动态）",
    "deprecated": "已弃用",
    "unknown error": "未知错误",
}

PLURALS: dict[str, str] = {
    "Got unexpected extra argument ({args})": "多余的参数（{args}）",
    "Did you mean {possibility}?": "您是想用 {possibility} 吗？",
    "Option {name!r} requires an argument.": "选项 {name!r} 需要一个值。",
    "{value!r} is not {choice}.": "{value!r} 不是 {choice}。",
    "{value!r} does not match the format {format}.": "{value!r} 不符合格式 {format}。",
    "Takes {nargs} values but 1 was given.": "需要 {nargs} 个值，但只给了 1 个。",
    "{len_type} values are required, but {len_value} was given.": "需要 {len_type} 个值，但给了 {len_value} 个。",
}
PLURALS_MANY: dict[str, str] = {
    "Got unexpected extra arguments ({args})": "多余的参数（{args}）",
    "(Did you mean one of: {possibilities}?)": "（您是想用其中之一吗：{possibilities}）",
    "Option {name!r} requires {nargs} arguments.": "选项 {name!r} 需要 {nargs} 个值。",
    "{value!r} is not one of {choices}.": "{value!r} 不是以下之一：{choices}。",
    "{value!r} does not match the formats {formats}.": "{value!r} 不符合以下任何格式：{formats}。",
    "Takes {nargs} values but {len} were given.": "需要 {nargs} 个值，但给了 {len} 个。",
    "{len_type} values are required, but {len_value} were given.": "需要 {len_type} 个值，但给了 {len_value} 个。",
}

_MODULES = ("core", "decorators", "exceptions", "formatting", "parser", "termui", "types", "utils")


def gettext(message: str) -> str:
    return MESSAGES.get(message, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    if n == 1:
        return PLURALS.get(singular, singular)
    return PLURALS_MANY.get(plural, plural)


def install() -> None:
    """Point click's message lookups at the Chinese table (idempotent)."""
    for name in _MODULES:
        module = importlib.import_module(f"click.{name}")
        replace: dict[str, Callable[..., str]] = {"_": gettext, "ngettext": ngettext}
        for attr, func in replace.items():
            if hasattr(module, attr):
                setattr(module, attr, func)
    # Number types put their name into messages and metavars untranslated.
    click_types = importlib.import_module("click.types")
    click_types.INT.name, click_types.FLOAT.name = "整数", "数字"
    # Metavars: a type's name upper-cased (TEXT, INTEGER RANGE) and an argument's own name
    # (PLATFORM ACCOUNT_ID) would be the only English left in a help page.
    click_types.STRING.name, click_types.BOOL.name, click_types.UUID.name = "文本", "是/否", "UUID"
    click_types.IntRange.name, click_types.FloatRange.name, click_types.DateTime.name = "整数", "数字", "日期时间"
    # Help columns are aligned by character count; a Chinese character takes two columns on a
    # terminal, so measure display width instead.
    formatting = importlib.import_module("click.formatting")
    formatting.term_len = _display_width
    core = importlib.import_module("click.core")
    if not getattr(core.Command.collect_usage_pieces, "_zh", False):
        core.Command.collect_usage_pieces = _usage(core.Command.collect_usage_pieces)
        core.Group.collect_usage_pieces = _usage(core.Group.collect_usage_pieces)
        core.Argument.make_metavar = _argument_metavar(core.Argument.make_metavar)


def _display_width(text: str) -> int:
    from click._compat import strip_ansi
    from rich.cells import cell_len

    return cell_len(strip_ansi(text))


USAGE_PIECES = {"[OPTIONS]": "[选项]", "COMMAND [ARGS]...": "命令 [参数]...", "[COMMAND] [ARGS]...": "[命令] [参数]..."}
# Arguments by their name in the code → what the usage line calls them.
ARGUMENT_NAMES = {"platform": "平台", "account_id": "账号ID", "mode": "采集方式", "name": "名称", "path": "文件",
                  "rules_file": "规则文件", "unit": "单位", "username": "用户名", "value": "值", "post_id": "帖子ID"}


def _usage(original: Callable[..., list[str]]) -> Callable[..., list[str]]:
    def collect_usage_pieces(self: object, ctx: object) -> list[str]:
        return [USAGE_PIECES.get(piece, piece) for piece in original(self, ctx)]

    collect_usage_pieces._zh = True  # type: ignore[attr-defined]
    return collect_usage_pieces


def _argument_metavar(original: Callable[..., str]) -> Callable[..., str]:
    def make_metavar(self: object, ctx: object) -> str:
        name = getattr(self, "name", None)
        if getattr(self, "metavar", None) is None and name in ARGUMENT_NAMES:
            metavar = ARGUMENT_NAMES[name]
            if not getattr(self, "required", True):
                metavar = f"[{metavar}]"
            return metavar + ("..." if getattr(self, "nargs", 1) != 1 else "")
        return original(self, ctx)

    return make_metavar
