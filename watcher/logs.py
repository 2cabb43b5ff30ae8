"""Logging: loguru to stderr (journald adds time and unit under systemd) and an optional
rotating file. Libraries that use the standard ``logging`` module (Scrapy, APScheduler, uvicorn,
httpx) are routed into loguru so there is one format and one place to look.

Every line is redacted before any sink sees it, at every level: bot webhook URLs carry their
access token in the path or query (httpx logs ``HTTP Request: POST <url>`` at INFO), signing
secrets, SMTP passwords and platform cookies must never reach journald or the log file. Two
nets catch them: patterns for where secrets sit (``access_token=``, ``/hook/<token>``,
``Cookie:`` …) and the exact values registered with :func:`remember` by whoever loads them.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import sys
import tempfile
import threading
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from loguru import logger

from watcher.cleaning import printable
from watcher.config import LoggingConfig
from watcher.timefmt import local_time

_TOKEN_PARAMS = re.compile(
    r"(?i)(?<![\w-])((?:access_token|token|key|secret|sign|signature|password|passwd|pwd|sessdata|auth)=)[^&\s\"'<>]+")
_HOOK_PATH = re.compile(r"(?i)(/open-apis/bot/v2/hook/|/webhook/send\?key=|/robot/send\?access_token=|/hooks?/)[^&\s\"'<>/?]+")
# The platforms' login cookies, wherever they appear as name=value (a cookie jar's repr, a URL).
_SESSION_COOKIES = re.compile(
    r"(?<![\w.-])((?:SUB|SUBP|SESSDATA|bili_jct|DedeUserID__ckMd5|sessionid|sessionid_ss|sid_tt|sid_guard|uid_tt|"
    r"z_c0|web_session|a1|BDUSS|BDUSS_BFESS|STOKEN|passport_csrf_token|kuaishou\.server\.web_st|"
    r"kuaishou\.server\.web_ph|ttwid|odin_tt)=)[^;&\s\"'<>]+")
# Cookie and authorization headers, as text ("Cookie: a=1; b=2") or as a dict repr ('cookie': '...').
_HEADERS = re.compile(r"(?i)(\b(?:set-)?cookie|\bauthorization)([\"']?\s*[:=]\s*[\"']?)[^\"'\n]+")
_MIN_SECRET = 6

_known: set[str] = set()
_known_lock = threading.Lock()


def remember(*values: str | None) -> None:
    """Register secret values so that :func:`redact` hides them wherever they appear. Values
    shorter than 6 characters are ignored: hiding every "1234" would garble ordinary text."""
    with _known_lock:
        _known.update(v for v in values if v and len(v) >= _MIN_SECRET)


def redact(text: str) -> str:
    text = _HOOK_PATH.sub(lambda m: m.group(1) + "***", text)
    text = _TOKEN_PARAMS.sub(lambda m: m.group(1) + "***", text)
    text = _SESSION_COOKIES.sub(lambda m: m.group(1) + "***", text)
    text = _HEADERS.sub(lambda m: m.group(1) + m.group(2) + "***", text)
    with _known_lock:
        known = sorted(_known, key=len, reverse=True)
    for v in known:
        text = text.replace(v, "***")
    return text


def _redact_record(record: dict[str, Any]) -> None:
    """loguru patcher: runs once per message, before any sink formats it."""
    message = record["message"]
    exc = record["exception"]
    if exc is not None and exc.type is not None:
        # Operators read these logs: the traceback (and the exception's name) goes to a file of
        # its own, redacted, and the log line says in Chinese that it happened and where to look.
        detail = "".join(traceback.format_exception(exc.type, exc.value, exc.traceback)).rstrip()
        message += f"（程序内部错误，已跳过；详细信息供维护人员查看：{_keep_crash(message, detail)}）"
        record["exception"] = None
    record["message"] = _one_entry(redact(message))
    # Log lines show the configured zone's time, whatever the machine's own zone is.
    record["extra"]["local"] = local_time(record["time"], seconds=True)


# Where failure details go (set by :func:`setup_logging` to the data directory's ``crashes``).
_crash_dir: Path | None = None
CRASH_FILES_KEPT = 200


def crash_dir() -> Path:
    if _crash_dir is not None:
        return _crash_dir
    return Path(tempfile.gettempdir()) / f"campus-watcher-crashes-{os.getuid()}"


def _keep_crash(message: str, detail: str) -> str:
    """Write a failure's traceback to its own file (one file per distinct traceback, so a job
    failing every run rewrites one file instead of filling the disk); the file's path, or a
    note when it could not be written."""
    try:
        directory = crash_dir()
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = directory / f"{hashlib.sha1(detail.encode('utf-8', 'replace')).hexdigest()[:12]}.txt"
        text = printable(redact(f"{local_time(datetime.now(UTC), seconds=True)} {message}\n{detail}\n"))
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", errors="replace") as fh:
            fh.write(text)
        files = sorted(directory.glob("*.txt"), key=lambda f: f.stat().st_mtime)
        for old in files[:-CRASH_FILES_KEPT]:
            old.unlink(missing_ok=True)
        return str(path)
    except OSError:
        return "未能写入详情文件"


def _one_entry(message: str) -> str:
    """A message as log text that cannot pass for another entry or act on a terminal: control
    characters (escape sequences, BEL, carriage return, bidi overrides) shown as ``\\u001b``-style
    escapes, and every continuation line indented, so a crawled name carrying
    "\\n2026-12-01 10:00:00 INFO …" never starts a line of its own."""
    return printable(message.replace("\r\n", "\n")).replace("\n", "\n    ")


_original_factory = logging.getLogRecordFactory()


def _redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    """Standard-library records are redacted where they are made, so that a handler a library
    installs for itself (Scrapy adds its own) never sees a secret either."""
    record = _original_factory(*args, **kwargs)
    try:
        text = record.getMessage()
    except Exception:  # noqa: BLE001 - a malformed record is logging's to report, not ours
        return record
    record.msg, record.args = printable(redact(text)), None
    return record


# What a library's log line is about, for people: its logger's name is an internal of the library.
_SOURCES = {"apscheduler": "定时任务", "uvicorn": "网站", "httpx": "网络请求", "httpcore": "网络请求",
            "scrapy": "采集", "twisted": "采集", "playwright": "浏览器", "asyncio": "后台任务",
            "multipart": "网站", "PIL": "图片", "weasyprint": "报告", "fontTools": "报告"}


def source_label(name: str) -> str:
    return _SOURCES.get(name.split(".")[0], name)


class _InterceptHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        try:
            level: str | int = logger.level(record.levelname).name
        except ValueError:
            level = record.levelno
        logger.opt(depth=6, exception=record.exc_info).log(level, "{}：{}", source_label(record.name),
                                                           record.getMessage())


def setup_logging(cfg: LoggingConfig | None = None, *, component: str = "watcher",
                  crashes: Path | None = None) -> None:
    """``crashes``: the directory for failure details (tracebacks), the data directory's
    ``crashes`` for the long-running commands; a temporary directory when not given."""
    global _crash_dir
    cfg = cfg or LoggingConfig()
    if crashes is not None:
        _crash_dir = crashes
    logger.remove()
    under_journald = bool(os.environ.get("JOURNAL_STREAM"))
    fmt = (
        "<level>{level: <7}</level> {extra[component]}: {message}"
        if under_journald
        else "<green>{extra[local]}</green> <level>{level: <7}</level> {extra[component]}: {message}"
    )
    logger.configure(extra={"component": component}, patcher=_redact_record)
    logging.setLogRecordFactory(_redacting_factory)
    # Messages are already printable (the patcher); the CLI's TerminalSafe wrapper would escape
    # the colours themselves.
    stderr = getattr(sys.stderr, "raw_stream", sys.stderr)
    logger.add(stderr, level=cfg.level, format=fmt, colorize=stderr.isatty() and not under_journald,
               backtrace=False, diagnose=False)
    if cfg.file:
        logger.add(str(cfg.file), level=cfg.level, rotation=cfg.rotation, retention=cfg.retention,
                   encoding="utf-8", enqueue=True, backtrace=False, diagnose=False,
                   format="{extra[local]} {level: <7} {extra[component]}: {message}")
    logging.basicConfig(handlers=[_InterceptHandler()], level=logging.INFO, force=True)
    for noisy in ("apscheduler.executors.default", "apscheduler.scheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
        if not any(isinstance(f, _SchedulerWords) for f in logging.getLogger(noisy).filters):
            logging.getLogger(noisy).addFilter(_SchedulerWords())
    for name in ("uvicorn.error", "uvicorn"):
        if not any(isinstance(f, _WebServerWords) for f in logging.getLogger(name).filters):
            logging.getLogger(name).addFilter(_WebServerWords())


_LEVELS_ZH = {"WARNING": "警告", "ERROR": "错误", "CRITICAL": "严重错误"}


def setup_cli_logging() -> None:
    """For the short commands: no log lines in their output, only warnings and errors, worded
    for the operator (``警告：…``). ``run``, ``web`` and ``demo`` set up full logging instead."""
    logger.remove()
    logger.configure(extra={"component": "cli", "local": ""}, patcher=_redact_record)
    logging.setLogRecordFactory(_redacting_factory)
    logger.add(sys.stderr, level="WARNING", colorize=False, backtrace=False, diagnose=False,
               format=lambda r: _LEVELS_ZH.get(r["level"].name, r["level"].name) + "：{message}\n")
    logging.basicConfig(handlers=[_InterceptHandler()], level=logging.WARNING, force=True)


_MISSED = re.compile(r'Run time of job "(?P<name>.+?)(?: \(trigger:.*)?" was missed by (?P<late>[\d:.]+)')
_SKIPPED = "maximum number of running instances"


class _SchedulerWords(logging.Filter):
    """APScheduler's warnings, said in Chinese. A run skipped because the previous one still runs
    (``max_instances: 1``) is logged by the daemon itself (:meth:`watcher.daemon.Daemon.skipped`),
    which knows whether a round was due (a watch job polls every minute, and a poll skipped
    during a long round is no news); here its English line is dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if _SKIPPED in text:
            return False
        m = _MISSED.search(text)
        if m:
            late = m.group("late").split(".")[0]
            record.msg, record.args = (f"定时任务「{m.group('name')}」比计划时间晚了 {late}（服务繁忙或曾暂停），"
                                       "本次跳过，下次按时运行"), None
        return True


# uvicorn's lines, as an operator needs them: the address the site answers on, a port already
# taken, stopping. Its start-up/shutdown chatter says nothing to them and is dropped.
_WEB_WORDS: list[tuple[re.Pattern[str], str | None]] = [
    (re.compile(r"Uvicorn running on (\S+) \(Press CTRL\+C to quit\)"), r"复核网站已启动：\1"),
    (re.compile(r"\[Errno 98\].*address \('?([^',]+)'?, (\d+)\).*"),
     r"无法在 \1:\2 上启动复核网站：端口已被占用（请停止占用它的程序，或在配置的 web.port 换一个端口）"),
    (re.compile(r"\[Errno 99\].*address \('?([^',]+)'?, (\d+)\).*"),
     r"无法在 \1:\2 上启动复核网站：本机没有这个地址（请检查配置的 web.host）"),
    (re.compile(r"\[Errno 13\].*address \('?([^',]+)'?, (\d+)\).*"),
     r"无法在 \1:\2 上启动复核网站：没有权限使用该端口（1024 以下的端口需要 root，请换 web.port）"),
    (re.compile(r"^Shutting down$"), "复核网站正在停止"),
    (re.compile(r"^Invalid HTTP request received\.?"), "收到无法识别的 HTTP 请求，已忽略"),
    (re.compile(r"^Exception in ASGI application"), "复核网站处理请求时出错"),
    (re.compile(r"^(Started|Finished) server process|^Waiting for|^Application (startup|shutdown) complete"), None),
]


class _WebServerWords(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        for pattern, words in _WEB_WORDS:
            if pattern.search(text):
                if words is None:
                    return False
                record.msg, record.args = pattern.sub(words, text), None
                return True
        return True
