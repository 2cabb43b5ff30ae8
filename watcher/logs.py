"""Logging: loguru to stderr (journald adds time and unit under systemd) and an optional
rotating file. Libraries that use the standard ``logging`` module (Scrapy, APScheduler, uvicorn)
are routed into loguru so there is one format and one place to look."""

from __future__ import annotations

import logging
import os
import sys

from loguru import logger

from watcher.config import LoggingConfig


class _InterceptHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        try:
            level: str | int = logger.level(record.levelname).name
        except ValueError:
            level = record.levelno
        logger.opt(depth=6, exception=record.exc_info).log(level, "{}: {}", record.name, record.getMessage())


def setup_logging(cfg: LoggingConfig | None = None, *, component: str = "watcher") -> None:
    cfg = cfg or LoggingConfig()
    logger.remove()
    under_journald = bool(os.environ.get("JOURNAL_STREAM"))
    fmt = (
        "<level>{level: <7}</level> {extra[component]}: {message}"
        if under_journald
        else "<green>{time:YYYY-MM-DD HH:mm:ss}</green> <level>{level: <7}</level> {extra[component]}: {message}"
    )
    logger.configure(extra={"component": component})
    logger.add(sys.stderr, level=cfg.level, format=fmt, colorize=sys.stderr.isatty() and not under_journald,
               backtrace=False, diagnose=False)
    if cfg.file:
        logger.add(str(cfg.file), level=cfg.level, rotation=cfg.rotation, retention=cfg.retention,
                   encoding="utf-8", enqueue=True, backtrace=False, diagnose=False,
                   format="{time:YYYY-MM-DD HH:mm:ss} {level: <7} {extra[component]}: {message}")
    logging.basicConfig(handlers=[_InterceptHandler()], level=logging.INFO, force=True)
    for noisy in ("apscheduler.executors.default", "apscheduler.scheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
